//! The command line (clap): global options and subcommands. Parsing only; [`crate::commands`]
//! carries them out.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// Set up Postfix + OpenDKIM signing and the DNS records that make mail pass SPF, DKIM and DMARC.
///
/// Exit codes: 0 ok, 1 findings or pending changes, 2 error.
#[derive(Debug, Parser)]
#[command(name = "mailsetup", version)]
pub struct Cli {
    /// Resolve every system path beneath DIR (tests use a temporary tree); with a DIR other than
    /// `/`, no service, user or group of the host is touched.
    #[arg(long, global = true, value_name = "DIR", default_value = "/")]
    pub root: PathBuf,

    /// The answers file (TOML): hostname, IPs, domains, selector, …
    #[arg(long, global = true, value_name = "FILE")]
    pub answers: Option<PathBuf>,

    /// Do not ask for confirmation before applying.
    #[arg(long, global = true)]
    pub yes: bool,

    /// Show what would change; write nothing.
    #[arg(long, global = true)]
    pub dry_run: bool,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate the answers, show the changes as diffs, and apply them (with backups).
    Apply,
    /// Show the changes as diffs and write nothing (the same as `apply --dry-run`).
    Plan,
    /// Print the DNS records to publish for every domain.
    Records {
        #[arg(long, value_enum, default_value_t = Format::Zone)]
        format: Format,
        /// Only this domain's zone (repeatable).
        #[arg(long, value_name = "DOMAIN")]
        domain: Vec<String>,
    },
    /// Check through live DNS that the records are published and right.
    Check {
        /// Ask this DNS server (IP[:PORT]) instead of the system resolver.
        #[arg(long, value_name = "IP[:PORT]")]
        nameserver: Option<String>,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
        /// Only this domain (repeatable).
        #[arg(long, value_name = "DOMAIN")]
        domain: Vec<String>,
    },
    /// Restore every file the last apply changed, byte-identical with owner and mode.
    Rollback {
        /// Restore even files edited by hand since that apply (their edits are lost).
        #[arg(long)]
        force: bool,
    },
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
