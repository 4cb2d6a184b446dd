//! The command line (clap): global options and subcommands. Parsing only; [`crate::commands`]
//! carries them out.

use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::invocation::Invocation;

/// Set up Postfix + OpenDKIM signing and the DNS records that make mail pass SPF, DKIM and DMARC.
///
/// Exit codes: 0 ok, 1 findings or pending changes, 2 error, 3 (check, fix) could not verify:
/// the only problems are checks that could not run (a DNS outage).
#[derive(Debug, Parser)]
#[command(name = "mailsetup", version)]
pub struct Cli {
    /// Resolve every system path beneath DIR (tests use a temporary tree); with a DIR other than
    /// `/`, no service, user or group of the host is touched.
    #[arg(long, global = true, value_name = "DIR", default_value = "/")]
    pub root: PathBuf,

    /// The answers file (TOML): hostname, IPs, domains, selector, …; by default the one the
    /// wizard saved, /etc/mailsetup/answers.toml (beneath --root).
    #[arg(long, global = true, value_name = "FILE")]
    pub answers: Option<PathBuf>,

    /// Do not ask for confirmation before applying.
    #[arg(long, global = true)]
    pub yes: bool,

    /// Show what would change; write nothing.
    #[arg(long, global = true)]
    pub dry_run: bool,

    /// Say only errors and the final result.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Also show each command run and each DNS query (with its server and time), on stderr.
    #[arg(short, long, global = true)]
    pub verbose: bool,

    /// Make no connection to the outside world other than the DNS queries the checks are
    /// about: today that turns off `check`'s outbound port-25 probe (the `smtp` line), a
    /// STARTTLS probe of a target beyond loopback (the probe of 127.0.0.1:25 still runs), and
    /// the HTTPS fetch of the MTA-STS policy (the `mta-sts-policy` line).
    #[arg(long, global = true)]
    pub offline: bool,

    #[command(flatten)]
    pub dns: DnsArgs,

    #[command(subcommand)]
    pub command: Option<Command>,
}

impl Cli {
    /// The options a printed command must repeat: `--root` unless `/`, `--answers`, and
    /// the DNS options when given; the paths made absolute (against the working directory),
    /// so the command works from anywhere.
    pub fn invocation(&self) -> Invocation {
        let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
        Invocation {
            root: (self.root != Path::new("/")).then(|| absolute(&self.root)),
            answers: self.answers.as_deref().map(absolute),
            nameserver: self.dns.nameserver.clone(),
            authoritative_port: (self.dns.authoritative_port != DEFAULT_AUTHORITATIVE_PORT)
                .then_some(self.dns.authoritative_port),
        }
    }
}

/// DNS's own port, `--authoritative-port`'s default.
const DEFAULT_AUTHORITATIVE_PORT: u16 = 53;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate the answers, show the changes as diffs, and apply them (with backups).
    Apply {
        /// Print what was applied as JSON on stdout (`changed`, each change, the services);
        /// needs --yes. Everything else goes to stderr.
        #[arg(long)]
        json: bool,
    },
    /// Show the changes as diffs and write nothing (the same as `apply --dry-run`).
    Plan {
        /// Print the changes as JSON on stdout (`changed`: whether anything is pending).
        #[arg(long)]
        json: bool,
    },
    /// Print the DNS records to publish for every domain.
    Records {
        #[arg(long, value_enum, default_value_t = Format::Zone)]
        format: Format,
        /// The same as --format json.
        #[arg(long, conflicts_with = "format")]
        json: bool,
        /// Only this domain's zone (repeatable).
        #[arg(long, value_name = "DOMAIN")]
        domain: Vec<String>,
        /// Merge the records of several servers that sign the same domains, one FILE per
        /// host: its `mailsetup records --json` output, or its answers file (whose DKIM
        /// records are then listed as unknown). One SPF record per domain with every host's
        /// addresses, one DKIM record per host's selector, MX, A/AAAA and PTR of every host.
        /// The local answers are not read.
        #[arg(long, value_name = "FILE", num_args = 1..)]
        fleet: Vec<PathBuf>,
    },
    /// Check through live DNS, at every authoritative server, that the records are published
    /// and right; say what is wrong and how to fix it, and whether Gmail's and Yahoo's sender
    /// requirements are met.
    Check(CheckArgs),
    /// Open the wizard at the step that repairs a failing check (ID as `check` prints it,
    /// e.g. ipv6.no-ptr), with the finding shown.
    Fix {
        /// The finding id.
        id: String,
    },
    /// Hand a test message from each signing domain to OpenDKIM through the socket Postfix
    /// uses, and verify the signature against the published key and the local key. Writes
    /// nothing; the message never enters Postfix (unless --via-postfix).
    Selftest {
        /// Print the result as JSON (the shape of `check --json`).
        #[arg(long)]
        json: bool,
        /// Send real messages through Postfix instead, by SMTP on 127.0.0.1:25 and by
        /// sendmail, from postmaster@ each domain to --to; a local mailbox is read back and
        /// the messages verified as delivered.
        #[arg(long, requires = "to")]
        via_postfix: bool,
        /// The recipient for --via-postfix (e.g. root@localhost, or an address at another
        /// provider, whose headers then show the result).
        #[arg(long, value_name = "ADDRESS", requires = "via_postfix")]
        to: Option<String>,
        /// With --via-postfix to a local mailbox: how long to wait for delivery.
        #[arg(long, value_name = "SECONDS", default_value_t = 30, requires = "via_postfix", value_parser = clap::value_parser!(u64).range(0..=3600))]
        wait: u64,
    },
    /// Try it: the whole flow in a sandbox (Debian 12's stock files, two example domains, an
    /// in-process DNS server with two nameservers per zone); nothing outside it is touched.
    /// With --yes: apply, publish the records, check them, without a screen.
    Demo {
        /// Leave the sandbox in DIR (new or empty) instead of removing it at exit.
        #[arg(long, value_name = "DIR")]
        keep: Option<PathBuf>,
    },
    /// Restore every file the last apply changed, byte-identical with owner and mode.
    Rollback {
        /// Restore even files edited by hand since that apply (their edits are lost).
        #[arg(long)]
        force: bool,
    },
    /// Rotate the DKIM key: a new selector and key (the old one keeps signing), its record
    /// printed; wait until every authoritative server serves it; then switch KeyTable and
    /// SigningTable to it in one transaction and restart OpenDKIM. Run it again to resume.
    Rotate(RotateArgs),
    /// Write the man page and the shell completions into DIR (for the Debian package: see
    /// install.sh). Hidden: not a command for operators.
    #[command(hide = true)]
    Generate {
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
}

/// How the DNS checks (`check`, `fix`, the wizard's Verify step) reach DNS.
#[derive(Debug, Args)]
pub struct DnsArgs {
    /// Find zones and nameserver addresses through this DNS server (IP[:PORT]) instead of
    /// the system resolver. The records themselves are always read from every
    /// authoritative server of their zone.
    #[arg(long, global = true, value_name = "IP[:PORT]")]
    pub nameserver: Option<String>,
    /// Ask the authoritative servers on this port instead of 53: for a lab or test whose
    /// nameservers listen elsewhere (e.g. BIND on 127.0.0.1:5353).
    #[arg(long, global = true, value_name = "PORT", default_value_t = DEFAULT_AUTHORITATIVE_PORT, value_parser = clap::value_parser!(u16).range(1..))]
    pub authoritative_port: u16,
}

/// `mailsetup rotate` options.
#[derive(Debug, Args)]
pub struct RotateArgs {
    /// Only this domain (repeatable); by default every domain of the answers file.
    #[arg(long, value_name = "DOMAIN")]
    pub domain: Vec<String>,
    /// The new selector (default: the answers' selector when it is not the one signing now,
    /// else sYYYYMM of today).
    #[arg(long, value_name = "S")]
    pub selector: Option<String>,
    /// Days the old record stays published after the switch.
    #[arg(long, value_name = "DAYS", default_value_t = crate::rotate::DEFAULT_KEEP_OLD_DAYS, value_parser = clap::value_parser!(u32).range(0..=365))]
    pub keep_old: u32,
    /// End a switched rotation: check nothing signs with the old selector, retire the old
    /// key, and print the record to delete.
    #[arg(long, conflicts_with_all = ["selector"])]
    pub finish: bool,
    /// Seconds between DNS rounds while waiting for the new record.
    #[arg(long, value_name = "SECONDS", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub interval: u64,
    /// Give up waiting after this many seconds (exit 1; the rotation is kept: run again to
    /// resume it).
    #[arg(long, value_name = "SECONDS", default_value_t = 900, value_parser = clap::value_parser!(u64).range(0..=86400))]
    pub timeout: u64,
}

/// `mailsetup check` options.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Check these domains remotely, as anyone can (NS, MX and its hosts' addresses, SPF
    /// for the MX hosts, DMARC, DKIM, blocklists), without the answers file.
    #[arg(value_name = "DOMAIN")]
    pub domains: Vec<String>,
    /// With DOMAIN: the DKIM selector to check (repeatable); without, common selectors are
    /// tried and those found reported.
    #[arg(long, value_name = "S", requires = "domains")]
    pub selector: Vec<String>,
    /// Print the result as JSON (see the README for the shape).
    #[arg(long)]
    pub json: bool,
    /// Only this domain (repeatable); by default every domain of the answers file.
    #[arg(long, value_name = "DOMAIN", conflicts_with = "domains")]
    pub domain: Vec<String>,
    /// Re-check what fails every --interval seconds until all passes (exit 0) or --timeout
    /// (exit 1).
    #[arg(long, conflicts_with = "domains")]
    pub watch: bool,
    /// Seconds between re-checks with --watch.
    #[arg(long, value_name = "SECONDS", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub interval: u64,
    /// Give up watching after this many seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 900, value_parser = clap::value_parser!(u64).range(1..=86400))]
    pub timeout: u64,
    /// The outbound port-25 probe (the `smtp` line, with `--root /` or when a --port25-*
    /// option is given; off with --offline) connects to the most preferred MX of this domain
    /// (default: gmail.com), found through DNS; 5 s timeout.
    #[arg(long, value_name = "DOMAIN", conflicts_with_all = ["domains", "port25_target"])]
    pub port25_domain: Option<String>,
    /// The port-25 probe connects to this host instead (a name resolved through DNS, or an
    /// IP address; PORT 25 by default, `[IPv6]:PORT` for an IPv6 address with a port).
    #[arg(long, value_name = "HOST[:PORT]", conflicts_with = "domains")]
    pub port25_target: Option<String>,
    /// The live STARTTLS probe (a `tls` line: EHLO, STARTTLS, the TLS handshake, the
    /// certificate served) connects to this listener; by default 127.0.0.1:25 with `--root
    /// /`, none beneath another root. With --offline, loopback targets only.
    #[arg(long, value_name = "HOST[:PORT]", conflicts_with = "domains")]
    pub starttls_target: Option<String>,
    /// Trust the CA certificates of this PEM file: the server certificate checks verify chains
    /// against them instead of the system's roots (/etc/ssl/certs/ca-certificates.crt beneath
    /// --root); the MTA-STS policy's web server is verified against them besides the Mozilla
    /// roots. For a private CA, a lab, a test.
    #[arg(long, value_name = "FILE", conflicts_with = "domains")]
    pub tls_ca: Option<PathBuf>,
    /// Fetch the MTA-STS policy (with `mta_sts` in the answers; off with --offline) from this
    /// port instead of 443: for a lab or test whose web server listens elsewhere.
    #[arg(long, value_name = "PORT", default_value_t = 443, value_parser = clap::value_parser!(u16).range(1..), conflicts_with = "domains")]
    pub mta_sts_port: u16,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// BIND zone-file lines.
    Zone,
    /// One block per record with the value as one string, for web DNS panels.
    Table,
    /// JSON for scripts.
    Json,
}
