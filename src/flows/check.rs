//! Checking everything once: this server's local checks (files, sockets, daemons) and the
//! DNS checks at every authoritative server, merged into one report, as `check`, `fix` and
//! the wizard's Verify step show it; and the milter selftest.

use super::records::{DkimKeys, local_keys, record_set_keys, server_addrs};
use crate::check::{self, CheckInput, Finding, JobResult, Report};
use crate::dns::{AuthOptions, Authority};
use crate::error::{Error, Result};
use crate::host::system::{self, Root};
use crate::plan::Current;
use crate::postfix::MainCf;
use crate::records::{self, RecordSet};
use crate::settings::Settings;
use crate::values::{Domain, InetProtocols, ServerAddrs};

/// What `check` needs: the server's identity (hostname and addresses), whether Postfix sends
/// over IPv6, and per domain the local key and the records that should be published (the
/// fixes it prints). `only`: these domains (all when empty).
pub fn input(
    settings: &Settings,
    addrs: ServerAddrs,
    set: &RecordSet,
    current: &Current,
    keys: &DkimKeys,
    only: &[Domain],
) -> CheckInput {
    let value = |zone: &Domain, name: &str| {
        set.records
            .iter()
            .find(|r| &r.zone == zone && r.name == name && r.rtype == records::Rtype::TXT)
            .map(|r| r.value.clone())
            .unwrap_or_default()
    };
    let selector = |d: &Domain| keys.selectors.get(d).unwrap_or(&settings.selector).clone();
    CheckInput {
        hostname: settings.hostname.clone(),
        ipv4: addrs.ipv4(),
        ipv6: addrs.ipv6(),
        ipv6_enabled: ipv6_enabled(settings, current),
        provider: settings.provider,
        domains: settings
            .domains
            .iter()
            .filter(|d| only.is_empty() || only.contains(d))
            .map(|d| check::DomainInput {
                domain: d.clone(),
                selector: selector(d),
                local_p: keys.p.get(d).cloned(),
                ed25519: settings
                    .ed25519
                    .as_ref()
                    .filter(|_| settings.signer != crate::values::Signer::AmavisdNew)
                    .map(|ed| check::Ed25519Input {
                        selector: ed.clone(),
                        local_p: keys.ed25519.get(d).cloned(),
                        expected: value(d, &records::dkim_name(ed)),
                    }),
                expected: check::ExpectedRecords {
                    spf: value(d, "@"),
                    dkim: value(d, &records::dkim_name(&selector(d))),
                    dmarc: value(d, "_dmarc"),
                    mta_sts: value(d, "_mta-sts"),
                    tls_rpt: value(d, "_smtp._tls"),
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

/// The DNS check's input for these settings, read from the root. Errors: as
/// [`record_set`] and [`server_addrs`].
pub fn input_for(root: &Root, settings: &Settings, only: &[Domain]) -> Result<CheckInput> {
    let (set, current, keys) = record_set_keys(root, settings)?;
    Ok(input(
        settings,
        server_addrs(root, settings)?,
        &set,
        &current,
        &keys,
        only,
    ))
}

/// The MTA-STS policy of each domain (of `only`; all when empty) when the answers manage it
/// (`mta_sts`): what the `mta-sts-policy` check fetches and compares.
pub fn sts_policies(settings: &Settings, only: &[Domain]) -> Vec<records::sts::StsPolicy> {
    settings
        .domains
        .iter()
        .filter(|d| only.is_empty() || only.contains(d))
        .filter_map(|d| records::sts::policy(settings, d))
        .collect()
}

/// The `mta-sts-policy` check of `policies` ([`check::sts_policy`]): the names resolved
/// through the authoritative servers `dns` reaches, each policy fetched over HTTPS.
pub async fn sts_policy(
    policies: &[records::sts::StsPolicy],
    dns: &AuthOptions,
    fetch: &check::sts_policy::FetchOptions,
) -> Result<Vec<JobResult>> {
    let auth = authority(dns)?;
    Ok(check::sts_policy::run(&auth, policies, fetch).await)
}

/// This server's local checks (blocking: it reads files and probes sockets).
pub fn local(root: &Root, settings: &Settings) -> Vec<JobResult> {
    crate::local::checks(&crate::local::read(root), settings)
}

/// The outbound port-25 probe of this server ([`check::port25`]): the target resolved through
/// the authoritative servers `dns` reaches, one connection of at most 5 s. The provider for
/// the fix: the answers', else guessed from the PTR name of the server's address.
pub async fn port25(
    settings: &Settings,
    target: &check::port25::Target,
    ip: Option<std::net::IpAddr>,
    dns: &AuthOptions,
) -> JobResult {
    match Authority::new(*dns) {
        Ok(auth) => {
            check::port25::run(
                &auth,
                target,
                check::port25::TIMEOUT,
                &settings.hostname,
                ip,
                settings.provider,
            )
            .await
        }
        Err(e) => {
            let g = check::port25::Gathered {
                target: target.clone(),
                resolved: Err(format!("no resolver: {e}")),
                connect: None,
                ptr_names: Vec::new(),
            };
            check::port25::result(&g, &settings.hostname, settings.provider)
        }
    }
}

/// The certificate and STARTTLS checks of this server ([`check::tls`]): main.cf's
/// certificate beneath the root, and the live listener when `options.probe` names one; the
/// MX names asked at the authoritative servers `dns` reaches.
pub async fn tls(
    root: &Root,
    input: &CheckInput,
    dns: &AuthOptions,
    options: &check::tls::Options,
) -> Vec<JobResult> {
    let auth = Authority::new(*dns).ok();
    check::tls::run(root, input, auth.as_ref(), options).await
}

/// The TLS checks' options when no option says otherwise: the system's trusted roots beneath
/// the root, and on this host (`--root /`) the probe of 127.0.0.1:25.
pub fn tls_defaults(root: &Root) -> check::tls::Options {
    check::tls::Options {
        trust: check::tls_files::system_trust(root),
        probe: root
            .is_host()
            .then(|| check::starttls::DEFAULT_TARGET.parse().ok())
            .flatten(),
    }
}

/// The local checks' results first (this server), then the DNS report.
pub fn merge(local: &[JobResult], dns: Report) -> Report {
    let mut report = Report::from_results(local);
    report.findings.extend(dns.findings);
    report.checked.extend(dns.checked);
    report
}

/// Everything, once: the local checks and the DNS checks, merged. Errors: the input cannot
/// be built (see [`input_for`]).
pub async fn everything(root: &Root, settings: &Settings, dns: &AuthOptions) -> Result<Report> {
    let input = input_for(root, settings, &[])?;
    let local = local(root, settings);
    Ok(merge(&local, check::run(&input, dns).await))
}

/// The authoritative-server client. Errors: the system resolver's configuration cannot be
/// read.
pub fn authority(dns: &AuthOptions) -> Result<Authority> {
    Authority::new(*dns).map_err(|e| Error::Invalid {
        what: "the resolver".into(),
        reason: e.to_string(),
    })
}

/// The sockets Postfix uses for OpenDKIM (main.cf `smtpd_milters`), beneath the root:
/// OpenDKIM's, then the second (Ed25519) instance's when main.cf names it.
/// Errors: main.cf names no OpenDKIM, or it cannot be read.
pub fn milter_targets(root: &Root, settings: &Settings) -> Result<Vec<crate::selftest::Target>> {
    let main_cf = system::read_file(root, system::MAIN_CF)?
        .text
        .unwrap_or_default();
    let listens = crate::local::effective_socket(&crate::local::read(root));
    let invalid = |reason| Error::Invalid {
        what: system::MAIN_CF.into(),
        reason,
    };
    let mut targets =
        vec![crate::selftest::target(root, &main_cf, listens.as_deref()).map_err(invalid)?];
    if settings.ed25519.is_some() {
        let ours = crate::milter::postfix_ed25519_milter(settings.socket);
        targets.extend(crate::selftest::ed25519_target(root, &main_cf, &ours).map_err(invalid)?);
    }
    Ok(targets)
}

/// The milter selftest: a message from each domain handed to OpenDKIM through the sockets
/// Postfix uses, its signature verified against the published key and the local key.
/// Errors: the socket, the keys or the resolver cannot be read.
pub async fn selftest(root: &Root, settings: &Settings, dns: &AuthOptions) -> Result<Report> {
    let local_p = local_keys(&Current::read(root, settings)?);
    let targets = milter_targets(root, settings)?;
    let auth = authority(dns)?;
    let results = crate::selftest::run(&targets, settings, &auth, &local_p).await;
    Ok(Report::from_results(&results))
}

/// Whether one finding fails now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// It fails: the finding as the check reports it.
    Failing(Finding),
    /// The checks that report it ran and did not report it.
    Clear,
    /// A check that reports it could not run (its line is unknown): nothing is known; the
    /// findings that say why (`dns.unverifiable`, `rbl.unknown`, …).
    Unverifiable(Vec<Finding>),
}

/// Whether finding `id` fails now: the local checks and the DNS checks (or, for a
/// `selftest.*` id, the selftest), with the report they made. Errors: what the checks need
/// cannot be read.
pub async fn verdict(
    root: &Root,
    settings: &Settings,
    id: &str,
    dns: &AuthOptions,
) -> Result<(Verdict, Report)> {
    let report = if id.starts_with("selftest.") {
        selftest(root, settings, dns).await?
    } else if id.starts_with("smtp.") {
        // the port-25 probe, to its default target (as `check` on this host); beneath
        // another root it is not this machine's network: nothing is known
        let target = check::port25::Target::default();
        let result = if root.is_host() {
            let input = input_for(root, settings, &[])?;
            let ip = input.ipv4.map(Into::into).or(input.ipv6.map(Into::into));
            port25(settings, &target, ip, dns).await
        } else {
            let g = check::port25::Gathered {
                target,
                resolved: Err(
                    "the probe tests this machine's network: it runs with --root / \
                               only (or check --port25-target/--port25-domain)"
                        .into(),
                ),
                connect: None,
                ptr_names: Vec::new(),
            };
            check::port25::result(&g, &settings.hostname, settings.provider)
        };
        Report::from_results(&[result])
    } else if check::tls::IDS.contains(&id) {
        // the certificate and STARTTLS checks, as `check` runs them without options
        let input = input_for(root, settings, &[])?;
        Report::from_results(&tls(root, &input, dns, &tls_defaults(root)).await)
    } else if id.starts_with("mta-sts.policy-") {
        // the HTTPS fetch (`check` without --offline), port 443 and the Mozilla roots
        let policies = sts_policies(settings, &[]);
        let fetch = check::sts_policy::FetchOptions::default();
        Report::from_results(&sts_policy(&policies, dns, &fetch).await?)
    } else {
        everything(root, settings, dns).await?
    };
    Ok((verdict_in(&report, id), report))
}

/// The [`Verdict`] on `id` in `report`: failing when the report has it; else unverifiable
/// when a line that reports it is unknown (every line, for an id no line is named after);
/// else clear.
pub fn verdict_in(report: &Report, id: &str) -> Verdict {
    if let Some(f) = report.findings.iter().find(|f| f.id == id) {
        return Verdict::Failing(f.clone());
    }
    let lines = reporting_lines(id);
    let named = report.checked.iter().any(|c| lines.contains(&c.check));
    let unknown = report
        .checked
        .iter()
        .any(|c| c.status == check::Status::Unknown && (!named || lines.contains(&c.check)));
    if !unknown {
        return Verdict::Clear;
    }
    let why: Vec<Finding> = report
        .findings
        .iter()
        .filter(|f| check::is_unknown(f))
        .cloned()
        .collect();
    Verdict::Unverifiable(why)
}

/// The check lines that report finding `id` (`host.a-missing` on `a` and `aaaa`,
/// `ipv6.no-ptr` on `ptr`, else the line named like the id's first part: `smtp.*` on `smtp`).
fn reporting_lines(id: &str) -> Vec<&str> {
    match id.split('.').next().unwrap_or(id) {
        "host" => vec!["a", "aaaa"],
        "ipv6" => vec!["ptr"],
        "opendkim" => vec!["opendkim", "keys", "running"],
        "postfix" | "signer" => vec!["milter", "running"],
        "mta-sts" if id.starts_with("mta-sts.policy-") => vec!["mta-sts-policy"],
        area => vec![area],
    }
}
