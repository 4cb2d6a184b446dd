//! `mailsetup demo [--yes] [--keep DIR]`: the whole flow in a sandbox ([`crate::demo`]).
//! With `--yes`, without a screen: apply every step beneath the sandbox, publish the records
//! `records` computes into the demo's DNS, check them there; exit 0 only when every check
//! passes. Without it, the wizard on the sandbox, where `p` on the DNS records step publishes.

use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::Launch;
use crate::check::{self, Status};
use crate::cli::{Cli, Command, DnsArgs};
use crate::demo::Sandbox;
use crate::demo::dns::DemoDns;
use crate::error::{Error, Result};
use crate::flows;
use crate::host::system::Root;
use crate::records::render;
use crate::settings::Settings;

pub(super) fn run(cli: &Cli, keep: Option<&Path>) -> Result<Launch> {
    refuse_host_options(cli)?;
    // without a terminal (a script, CI, the README's first line in a pipe) the demo runs
    // as `--yes` does: nothing in the sandbox needs a confirmation to be trusted
    let terminal = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    let screen = terminal && !cli.yes;
    if !screen && !cli.yes {
        warnln!("mailsetup demo: no terminal for the wizard: running it without a screen (--yes)");
    }
    let started = Instant::now();
    let sandbox = Sandbox::create(keep)?;
    let settings = flows::settings::from_file(&sandbox.answers())?;
    let dns = DemoDns::start(&settings)?;
    let sub = sandbox_cli(!screen, &sandbox, &dns, Command::Apply { json: false });
    if screen {
        return Ok(wizard(sandbox, dns, settings, &sub));
    }
    let code = without_screen(&sandbox, &dns, &settings, &sub)?;
    let seconds = started.elapsed().as_secs_f64();
    if code == 0 {
        sayln!("\ndemo: every check passes ({seconds:.1} s)");
    } else {
        sayln!("\ndemo: some checks do not pass ({seconds:.1} s)");
    }
    farewell(&sandbox);
    Ok(Launch::Exit(code))
}

/// `--root`, `--answers` and the DNS options name the host's things: the demo has its own.
fn refuse_host_options(cli: &Cli) -> Result<()> {
    let given = [
        (cli.root != Path::new("/"), "--root"),
        (cli.answers.is_some(), "--answers"),
        (cli.dns.nameserver.is_some(), "--nameserver"),
        (cli.dns.authoritative_port != 53, "--authoritative-port"),
        (cli.dry_run, "--dry-run"),
    ];
    match given.iter().find(|(set, _)| *set) {
        Some((_, option)) => Err(Error::Invalid {
            what: format!("mailsetup demo {option}"),
            reason: "the demo makes its own tree, answers and DNS servers, and writes only in \
                     its sandbox; run it without this option"
                .into(),
        }),
        None => Ok(()),
    }
}

/// The command line of a run on the sandbox: its root, its answers, its DNS servers; `yes`:
/// without a screen.
fn sandbox_cli(yes: bool, sandbox: &Sandbox, dns: &DemoDns, command: Command) -> Cli {
    Cli {
        root: sandbox.dir().to_path_buf(),
        answers: Some(sandbox.answers()),
        yes,
        dry_run: false,
        // -q and -v are global (crate::output), set from the demo's own command line
        quiet: false,
        verbose: false,
        // the sandbox is not this machine: no probe of the outside world
        offline: true,
        dns: DnsArgs {
            nameserver: Some(dns.first_hop().to_string()),
            authoritative_port: dns.port(),
        },
        command: Some(command),
    }
}

/// The first lines: what the sandbox is.
fn intro(sandbox: &Sandbox, dns: &DemoDns) -> String {
    let servers: Vec<String> = dns.addresses().iter().map(|ip| ip.to_string()).collect();
    format!(
        "a demo sandbox in {}: Debian 12's stock files (embedded in mailsetup), answers for \
         example.org and example.net, and DNS servers {} (port {}) for its zones. Nothing \
         outside it is touched; it is {} at exit.",
        sandbox.dir().display(),
        servers.join(" and "),
        dns.port(),
        if sandbox.kept() { "kept" } else { "removed" }
    )
}

/// apply, publish, check; Ok(0) when every check passes.
fn without_screen(sandbox: &Sandbox, dns: &DemoDns, settings: &Settings, sub: &Cli) -> Result<u8> {
    let root = sandbox.root();
    sayln!("mailsetup demo: {}\n", intro(sandbox, dns));
    if !nix::unistd::geteuid().is_root() {
        sayln!(
            "not root: the sandbox's opendkim and postfix users are you (only root can give a \
             file to another user); the directories root must own stay yours, which apply \
             reports as changes that remain\n"
        );
    }
    sayln!(
        "packages: on a server, `apt-get install -y postfix opendkim opendkim-tools` comes \
         first; the sandbox holds their stock files, nothing is installed\n"
    );
    sayln!("── apply (as `mailsetup apply --yes`) ──");
    let applied = super::apply_cmd::run(&root, sub, false)?;
    if applied != 0 {
        sayln!("demo: apply did not apply every step");
        return Ok(1);
    }
    sayln!(
        "selftest: on a server, a test message from each domain goes through OpenDKIM's \
         socket now; no OpenDKIM runs in the sandbox, so it is not sent\n"
    );
    sayln!("── records (as `mailsetup records`) ──");
    let (set, _) = flows::records::record_set(&root, settings)?;
    say!("{}", render::zone(&set));
    let (serial, texts) = dns.publish(&set, Duration::ZERO)?;
    sayln!(
        "\npublished: every record above, the PTR included, into the sandbox's zones ({}) at \
         both nameservers, SOA serial {serial}\n",
        texts
            .iter()
            .map(|(o, _)| o.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    sandbox.keep_zones(&texts)?;
    sayln!("── check (as `mailsetup check`) ──");
    let report = check_now(&root, settings, dns)?;
    super::check::print(&report, false, false, &sub.invocation());
    let all_pass = !report.checked.is_empty()
        && report.checked.iter().all(|c| c.status == Status::Pass)
        && report.exit_code() == 0;
    Ok(u8::from(!all_pass))
}

/// The whole check (local and DNS) against the demo's servers.
fn check_now(root: &Root, settings: &Settings, dns: &DemoDns) -> Result<check::Report> {
    let input = flows::check::input_for(root, settings, &[])?;
    let local = flows::check::local(root, settings);
    let rt = super::runtime()?;
    let report = rt.block_on(check::run(&input, &dns.options()));
    Ok(flows::check::merge(&local, report))
}

/// The last lines: where the kept tree is and how to look at it.
fn farewell(sandbox: &Sandbox) {
    if !sandbox.kept() {
        sayln!("the sandbox was removed; `mailsetup demo --keep DIR` leaves it in DIR");
        return;
    }
    let dir = sandbox.dir().display();
    let answers = sandbox.answers();
    sayln!(
        "the sandbox is kept in {dir}: the files as applied (`ls -lR {dir}/etc`), the published \
         zones in {dir}/demo-zones/, and\n  mailsetup --root {dir} --answers {} plan\n\
         \x20 mailsetup --root {dir} --answers {} records\n(its DNS servers stopped with the \
         demo, so `check` there asks the system resolver)",
        answers.display(),
        answers.display()
    );
}

/// The wizard on the sandbox: the demo's DNS in its context (`p` publishes), the notice on
/// its first screen.
fn wizard(sandbox: Sandbox, dns: DemoDns, settings: Settings, sub: &Cli) -> Launch {
    let notice = intro(&sandbox, &dns);
    let options = crate::wizard::Options {
        answers: Some(settings),
        invocation: sub.invocation(),
        demo: Some(notice),
        ..crate::wizard::Options::default()
    };
    let ctx = flows::Context {
        root: sandbox.root(),
        dns: dns.options(),
        session: Some(flows::session()),
        demo: Some(Arc::new(crate::demo::Demo { dns, sandbox })),
        rotate: Some(super::rotate_for_wizard),
    };
    Launch::Wizard(Box::new(options), ctx)
}
