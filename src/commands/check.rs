//! `mailsetup check`: build the [`CheckInput`] from the answers and the local state, run
//! the checks (once, or `--watch`ing), print the report.

use std::io::{IsTerminal, Write};
use std::net::Ipv4Addr;
use std::time::Duration;

use super::{domains, load_settings, record_set, server_ipv4};
use crate::check::watch::{Event, WatchOptions, watch};
use crate::check::{self, CheckInput, Report, report};
use crate::cli::{CheckArgs, Cli, DnsArgs};
use crate::dns::{AuthOptions, Nameserver};
use crate::error::{Error, Result};
use crate::plan::Current;
use crate::postfix::MainCf;
use crate::records::{self, RecordSet};
use crate::settings::Settings;
use crate::system::Root;
use crate::values::{Domain, InetProtocols};
use crate::wizard::Step;

/// Run the check; Ok(exit code): 0 nothing wrong, 1 findings.
pub(super) fn run(root: &Root, cli: &Cli, args: &CheckArgs) -> Result<u8> {
    let settings = load_settings(cli)?;
    let only = domains(&args.domain)?;
    if let Some(d) = only.iter().find(|d| !settings.domains.contains(d)) {
        return Err(Error::Invalid {
            what: format!("--domain {d}"),
            reason: format!(
                "is not one of the answers file's domains ({}); add it there first",
                settings
                    .domains
                    .iter()
                    .map(Domain::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        });
    }
    let options = dns_options(&cli.dns)?;
    let (set, current) = record_set(root, &settings)?;
    let input = check_input(&settings, server_ipv4(&settings)?, &set, &current, &only);
    let rt = super::runtime()?;
    let tty = std::io::stdout().is_terminal();
    let color = tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let local = crate::local::checks(&crate::local::read(root), &settings);
    let dns = if args.watch {
        let w = WatchOptions {
            interval: Duration::from_secs(args.interval),
            timeout: Duration::from_secs(args.timeout),
        };
        rt.block_on(watch(&input, &options, &w, |e| show(e, args.json, tty)))
    } else {
        rt.block_on(check::run(&input, &options))
    };
    let report = with_local(&local, dns);
    print(&report, args.json, color);
    Ok(report.exit_code())
}

/// The local checks' results first (this server), then the DNS report.
pub(crate) fn with_local(local: &[check::JobResult], dns: Report) -> Report {
    let mut report = Report::from_results(local);
    report.findings.extend(dns.findings);
    report.checked.extend(dns.checked);
    report
}

/// The DNS options of the command line. Errors: a `--nameserver` that is not `IP[:PORT]`.
pub(crate) fn dns_options(args: &DnsArgs) -> Result<AuthOptions> {
    let first_hop = match &args.nameserver {
        Some(s) => Nameserver::parse(s).map_err(|rule| Error::Invalid {
            what: format!("--nameserver {s:?}"),
            reason: rule.to_string(),
        })?,
        None => Nameserver::System,
    };
    let mut options = AuthOptions::new(first_hop);
    options.port = args.authoritative_port;
    Ok(options)
}

pub(super) fn print(report: &Report, json: bool, color: bool) {
    if json {
        sayln!("{}", report::to_json(report));
    } else {
        say!("{}", report::to_human_with(report, color, &repair));
    }
}

/// `mailsetup fix <id>` for a finding whose cause a wizard step repairs on this server.
fn repair(id: &str) -> Option<String> {
    Step::for_finding(id)
        .and_then(Step::part)
        .map(|_| format!("mailsetup fix {id}"))
}

/// Progress of `--watch` on stderr (stdout keeps only the final report): one line per
/// round, and on a terminal a countdown rewritten in place.
fn show(event: Event<'_>, _json: bool, tty: bool) {
    let mut err = std::io::stderr();
    match event {
        Event::Round { round, pending, .. } => {
            let line = if pending == 0 {
                format!("round {round}: every check passes")
            } else {
                format!("round {round}: {pending} check(s) still failing")
            };
            let _ = writeln!(err, "{}{line}", if tty { "\r\x1b[K" } else { "" });
        }
        Event::Waiting { next_in, left } if tty => {
            let _ = write!(
                err,
                "\r\x1b[Kre-checking in {} s (giving up in {} s)",
                next_in.as_secs_f64().ceil(),
                left.as_secs()
            );
            let _ = err.flush();
        }
        Event::Waiting { .. } => {}
    }
}

/// What `check` needs: the server's identity, whether Postfix sends over IPv6, and per
/// domain the local key and the records that should be published (the fixes it prints).
pub(crate) fn check_input(
    settings: &Settings,
    ipv4: Ipv4Addr,
    set: &RecordSet,
    current: &Current,
    only: &[Domain],
) -> CheckInput {
    let value = |zone: &Domain, name: &str| {
        set.records
            .iter()
            .find(|r| &r.zone == zone && r.name == name && r.rtype == records::Rtype::TXT)
            .map(|r| r.value.clone())
            .unwrap_or_default()
    };
    let dkim = records::dkim_name(&settings.selector);
    CheckInput {
        hostname: settings.hostname.clone(),
        ipv4,
        ipv6: settings.ipv6,
        ipv6_enabled: ipv6_enabled(settings, current),
        domains: settings
            .domains
            .iter()
            .filter(|d| only.is_empty() || only.contains(d))
            .map(|d| check::DomainInput {
                domain: d.clone(),
                selector: settings.selector.clone(),
                local_p: current
                    .keys
                    .get(d)
                    .and_then(|k| k.public.as_ref())
                    .map(|p| p.p.clone()),
                expected: check::ExpectedRecords {
                    spf: value(d, "@"),
                    dkim: value(d, &dkim),
                    dmarc: value(d, "_dmarc"),
                },
            })
            .collect(),
    }
}

/// Whether Postfix may send over IPv6: `inet_protocols` in main.cf as it is now (postconf(5):
/// `all` or a list with `ipv6`; Postfix ≥ 3.0 defaults to `all`), else the answers' value.
fn ipv6_enabled(settings: &Settings, current: &Current) -> bool {
    match current.main_cf.text.as_deref() {
        Some(text) => MainCf::parse(text)
            .get("inet_protocols")
            .unwrap_or_else(|| "all".into())
            .split(|c: char| c == ',' || c.is_whitespace())
            .any(|p| p == "all" || p == "ipv6"),
        None => settings.inet_protocols != InetProtocols::Ipv4,
    }
}
