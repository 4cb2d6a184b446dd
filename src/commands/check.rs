//! `mailsetup check`: the check's input from the answers and the local state
//! ([`crate::flows::check`]), the checks (once, or `--watch`ing), the report printed; with
//! `--state`, only what changed since the last run ([`super::check_state`]).

use std::io::{IsTerminal, Write};
use std::time::Duration;

use super::{check_state, domains, load_settings};
use crate::check::port25::Target;
use crate::check::remote::RemoteInput;
use crate::check::requirements::{self, Scope};
use crate::check::watch::{Event, WatchOptions, watch};
use crate::check::{self, Report, report};
use crate::cli::{CheckArgs, Cli, DnsArgs};
use crate::dns::{AuthOptions, Nameserver};
use crate::error::{Error, Result};
use crate::flows;
use crate::host::system::Root;
use crate::invocation::Invocation;
use crate::values::{Domain, Selector};
use crate::wizard::Step;

/// Run the check; Ok(exit code): 0 nothing wrong, 1 findings, 3 only could not verify.
/// With DOMAIN arguments, the remote check of those domains ([`remote`]), answers or not.
pub(super) fn run(root: &Root, cli: &Cli, args: &CheckArgs) -> Result<u8> {
    if !args.domains.is_empty() {
        return remote(cli, args);
    }
    let settings = load_settings(root, cli)?;
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
    let stored = check_state::start(args)?;
    let input = flows::check::input_for(root, &settings, &only)?;
    let rt = super::runtime()?;
    let tty = std::io::stdout().is_terminal();
    let color = crate::output::color(false);
    let mut local = flows::check::local(root, &settings);
    let probe = port25_target(root, cli, args)?;
    let (tls, note) = tls_options(root, cli, args, &rt)?;
    let dns = if args.watch {
        let w = WatchOptions {
            interval: Duration::from_secs(args.interval),
            timeout: Duration::from_secs(args.timeout),
        };
        rt.block_on(watch(&input, &options, &w, |e| show(e, args.json, tty)))
    } else {
        rt.block_on(check::run(&input, &options))
    };
    // a state this user may not read (root's 0700 state directory) is no rotation to report
    let rotations = flows::rotate::state(root).unwrap_or_default();
    local.extend(rt.block_on(flows::rotate::findings(
        &rotations,
        &only,
        &options,
        std::time::SystemTime::now(),
    )));
    if let Some(target) = probe {
        let ip = input.ipv4.map(Into::into).or(input.ipv6.map(Into::into));
        local.push(rt.block_on(flows::check::port25(&settings, &target, ip, &options)));
    }
    local.extend(rt.block_on(flows::check::tls(root, &input, &options, &tls)));
    let mut report = flows::check::merge(&local, dns);
    let policies = flows::check::sts_policies(&settings, &only);
    if !cli.offline && !policies.is_empty() {
        let fetch = fetch_options(args)?;
        let results = rt.block_on(flows::check::sts_policy(&policies, &options, &fetch))?;
        report
            .findings
            .extend(results.iter().flat_map(|r| r.findings.clone()));
        report
            .checked
            .extend(results.into_iter().map(|r| r.checked));
    }
    let requirements = requirements::verdict(&report, Scope::Server);
    if let Some(stored) = stored {
        if let Some(note) = note {
            notln!("note: {note}");
        }
        let host = &settings.hostname;
        return check_state::finish(stored, &report, &requirements, host, cli, args);
    }
    print_check(&report, &requirements, args.json, color, &cli.invocation());
    if let Some(note) = note {
        notln!("note: {note}");
    }
    if !args.json && report.verdict() == check::Verdict::Pass && !crate::output::quiet() {
        sayln!("\nNext:");
        say!("{}", report::deliverability(&cli.invocation()));
    }
    Ok(report.exit_code())
}

/// The outbound port-25 probe's target, when it runs: never with `--offline`; with
/// `--port25-target` or `--port25-domain`, that; else on this host (`--root /`) the default
/// (the MX of gmail.com). A `--root DIR` tree is another machine's files (a lab, a test):
/// the network of this one says nothing about it. Errors: a bad option value.
fn port25_target(root: &Root, cli: &Cli, args: &CheckArgs) -> Result<Option<Target>> {
    if cli.offline {
        return Ok(None);
    }
    if let Some(t) = &args.port25_target {
        return Target::parse_host(t)
            .map(Some)
            .map_err(|reason| Error::Invalid {
                what: format!("--port25-target {t:?}"),
                reason,
            });
    }
    if let Some(d) = &args.port25_domain {
        return Domain::parse(d)
            .map(|d| Some(Target::MxOf(d)))
            .map_err(|rule| Error::Invalid {
                what: format!("--port25-domain {d:?}"),
                reason: rule.to_string(),
            });
    }
    Ok(root.is_host().then(Target::default))
}

/// The TLS checks' options: `--tls-ca`, else the system's roots beneath the root; the probe
/// of `--starttls-target` (resolved by the system resolver), else of 127.0.0.1:25 on this
/// host. With the note to print when the probe does not run. Errors: a bad option value.
fn tls_options(
    root: &Root,
    cli: &Cli,
    args: &CheckArgs,
    rt: &tokio::runtime::Runtime,
) -> Result<(check::tls::Options, Option<String>)> {
    let mut options = flows::check::tls_defaults(root);
    if let Some(ca) = &args.tls_ca {
        let trust = check::tls_files::file_trust(ca).map_err(|reason| Error::Invalid {
            what: format!("--tls-ca {}", ca.display()),
            reason: format!("{reason} (give a PEM file of CA certificates)"),
        })?;
        options.trust = Ok(trust);
    }
    let Some(t) = &args.starttls_target else {
        let note = options.probe.is_none().then(|| {
            "the STARTTLS probe of port 25 tests this machine's listener: it runs with --root / (or --starttls-target HOST:PORT)"
                .to_string()
        });
        return Ok((options, note));
    };
    let what = || format!("--starttls-target {t:?}");
    let Ok(Target::Host { host, port }) = Target::parse_host(t) else {
        return Err(Error::Invalid {
            what: what(),
            reason: "is not HOST[:PORT] ([IPv6]:PORT for an IPv6 address with a port)".into(),
        });
    };
    let addr = rt
        .block_on(tokio::net::lookup_host((host.as_str(), port)))
        .ok()
        .and_then(|mut a| a.next())
        .ok_or_else(|| Error::Invalid {
            what: what(),
            reason: format!("{host} does not resolve to an address"),
        })?;
    if cli.offline && !addr.ip().is_loopback() {
        options.probe = None;
        let note = format!("--offline: the STARTTLS probe of {addr} (beyond loopback) did not run");
        return Ok((options, Some(note)));
    }
    options.probe = Some(addr);
    Ok((options, None))
}

/// How the MTA-STS policy is fetched: `--mta-sts-port`, the roots of `--tls-ca`. Errors:
/// the `--tls-ca` file cannot be read or holds no certificate.
fn fetch_options(args: &CheckArgs) -> Result<check::sts_policy::FetchOptions> {
    let mut fetch = check::sts_policy::FetchOptions {
        port: args.mta_sts_port,
        ..Default::default()
    };
    if let Some(path) = &args.tls_ca {
        fetch.extra_roots =
            check::sts_policy::read_roots(path).map_err(|reason| Error::Invalid {
                what: format!("--tls-ca {}", path.display()),
                reason: format!("{reason}; give a PEM file of CA certificates"),
            })?;
    }
    Ok(fetch)
}

/// `check DOMAIN… [--selector S]…`: the remote check, no answers file read.
fn remote(cli: &Cli, args: &CheckArgs) -> Result<u8> {
    let domains = args
        .domains
        .iter()
        .map(|d| {
            Domain::parse(d).map_err(|rule| Error::Invalid {
                what: format!("the domain {d:?}"),
                reason: rule.to_string(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let selectors = args
        .selector
        .iter()
        .map(|s| {
            Selector::parse(s).map_err(|rule| Error::Invalid {
                what: format!("--selector {s:?}"),
                reason: rule.to_string(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let options = dns_options(&cli.dns)?;
    let input = RemoteInput { domains, selectors };
    let report = super::runtime()?.block_on(check::remote::run(&input, &options));
    let requirements = requirements::verdict(&report, Scope::Remote);
    // no `mailsetup fix` lines: the wizard repairs this server, not someone's domain
    if args.json {
        sayln!("{}", report::to_json_with(&report, &requirements));
    } else {
        let color = crate::output::color(false);
        say!("{}", report::to_human_with(&report, color, &|_| None));
        say_requirements(&requirements);
    }
    Ok(report.exit_code())
}

/// The DNS options of the command line. Errors: a `--nameserver` that is not `IP[:PORT]`.
pub(super) fn dns_options(args: &DnsArgs) -> Result<AuthOptions> {
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

/// The report, as JSON or for people; a finding a wizard step repairs gets its `mailsetup
/// fix <id>` line, with the options of this run (`invocation`).
pub(super) fn print(report: &Report, json: bool, color: bool, invocation: &Invocation) {
    if json {
        sayln!("{}", report::to_json(report));
    } else {
        let repair = |id: &str| repair(id, invocation);
        say!("{}", report::to_human_with(report, color, &repair));
    }
}

/// `check`'s output: [`print`], with the sender-requirements verdict, in the JSON
/// (`requirements`) or after the report for people.
fn print_check(
    report: &Report,
    requirements: &requirements::Verdict,
    json: bool,
    color: bool,
    invocation: &Invocation,
) {
    if json {
        sayln!("{}", report::to_json_with(report, requirements));
    } else {
        print(report, false, color, invocation);
        say_requirements(requirements);
    }
}

/// The verdict's lines after a blank line (not with `-q`: they add no exit condition), each
/// sanitized as the report is (a subject may come from DNS, e.g. an MX host).
fn say_requirements(requirements: &requirements::Verdict) {
    if !crate::output::quiet() {
        say!("\n");
        for line in requirements.to_string().lines() {
            sayln!("{}", crate::dns::sanitize(line));
        }
    }
}

/// `mailsetup … fix <id>` for a finding whose cause a wizard step repairs on this server;
/// `mailsetup … rotate` for one a key rotation repairs (or finishes).
fn repair(id: &str, invocation: &Invocation) -> Option<String> {
    if matches!(
        id,
        crate::check::ids::DKIM_WEAK_KEY | crate::check::ids::DKIM_ROTATION_PENDING
    ) {
        return Some(invocation.command("rotate"));
    }
    Step::for_finding(id)
        .and_then(Step::part)
        .map(|_| invocation.command(&format!("fix {id}")))
}

/// Progress of `--watch` on stderr (stdout keeps only the final report): one line per
/// round, and on a terminal a countdown rewritten in place.
fn show(event: Event<'_>, _json: bool, tty: bool) {
    if crate::output::quiet() {
        return;
    }
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
