//! `mailsetup check`, DNS side: what to check ([`CheckInput`]), the result ([`Report`] of
//! [`Finding`]s and [`Checked`] lines) and the run ([`run`]).
//!
//! Every (check, subject) pair is one job; all jobs run concurrently, each doing its own lookups.
//! A failed lookup never becomes a failed check: it becomes a [`ids::DNS_UNVERIFIABLE`]
//! warning and the check's status is [`Status::Unknown`]. The expected record texts come in
//! with the input ([`ExpectedRecords`]); this module compares, it does not compose records.

mod domain;
mod host;
mod jobs;
pub mod report;
mod txt;

use std::net::{Ipv4Addr, Ipv6Addr};

use serde::Serialize;

use crate::dns::{Dns, LookupError, Nameserver};
use crate::values::{Domain, Selector};
use jobs::{jobs, join_all};

/// Finding ids: a public contract (scripts match on them in `--json` output).
pub mod ids {
    /// No TXT record at `<selector>._domainkey.<domain>`.
    pub const DKIM_MISSING: &str = "dkim.missing";
    /// The published `p=` differs from the local key's (RFC 6376 §3.6.1), or is revoked.
    pub const DKIM_KEY_MISMATCH: &str = "dkim.key-mismatch";
    /// The DKIM record is not a valid key record: no `p=`, `v=` not `DKIM1`, a broken
    /// tag-list, or several TXT records at the selector.
    pub const DKIM_SYNTAX: &str = "dkim.syntax";
    /// No `v=spf1` TXT record at the domain (RFC 7208 §4.5).
    pub const SPF_MISSING: &str = "spf.missing";
    /// More than one `v=spf1` record: permerror for every receiver (RFC 7208 §4.5).
    pub const SPF_MULTIPLE: &str = "spf.multiple";
    /// SPF evaluation for the server's IPv4 (or IPv6) is not `pass`.
    pub const SPF_IP_NOT_PERMITTED: &str = "spf.ip-not-permitted";
    /// No `v=DMARC1` TXT record at `_dmarc.<domain>` (RFC 7489 §6.1).
    pub const DMARC_MISSING: &str = "dmarc.missing";
    /// More than one DMARC record: receivers apply no policy (RFC 7489 §6.6.3).
    pub const DMARC_MULTIPLE: &str = "dmarc.multiple";
    /// The DMARC record does not parse, or has no `p=` (RFC 7489 §6.3).
    pub const DMARC_SYNTAX: &str = "dmarc.syntax";
    /// The domain has no MX record.
    pub const MX_MISSING: &str = "mx.missing";
    /// No MX target of the domain is this host.
    pub const MX_NOT_THIS_HOST: &str = "mx.not-this-host";
    /// The hostname has no A (or, with an IPv6 address, no AAAA) record. The `subject` is
    /// the hostname; the `Checked` line is `a` or `aaaa`.
    pub const HOST_A_MISSING: &str = "host.a-missing";
    /// The hostname's A (AAAA) records do not include the server's IPv4 (IPv6).
    pub const HOST_A_MISMATCH: &str = "host.a-mismatch";
    /// The server's IP has no PTR record.
    pub const PTR_MISSING: &str = "ptr.missing";
    /// The server's IP has PTR records, none of them the hostname. (The forward half of
    /// forward-confirmed reverse DNS, hostname → IP, is reported as `host.a-*`.)
    pub const PTR_MISMATCH: &str = "ptr.mismatch";
    /// A lookup failed (timeout, SERVFAIL, REFUSED, network): the record state is unknown.
    pub const DNS_UNVERIFIABLE: &str = "dns.unverifiable";
}

/// How bad a finding is. JSON: `"error"`, `"warning"`, `"info"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

/// The result of one check. JSON: `"pass"`, `"fail"`, `"warn"`, `"unknown"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Fail,
    Warn,
    /// A lookup failed; nothing is known about the record.
    Unknown,
}

/// One problem, with what was found, what is expected and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// One of [`ids`].
    pub id: &'static str,
    pub severity: Severity,
    /// The mail domain, the hostname, or the IP address the check is about.
    pub subject: String,
    /// One sentence; DNS-derived parts are [`sanitize`](crate::dns::sanitize)d.
    pub message: String,
    /// The published value (sanitized); several records are separated by `\n`.
    pub found: Option<String>,
    pub expected: Option<String>,
    /// The record to publish in zone-file syntax, or what to ask the provider for.
    pub fix: Option<String>,
}

/// One check that was run. `check` is one of `a`, `aaaa`, `ptr` (subject: the hostname, the
/// hostname, the IP) and `dkim`, `spf`, `dmarc`, `mx` (subject: the mail domain).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Checked {
    pub check: &'static str,
    pub subject: String,
    pub status: Status,
}

/// Everything `check` found. JSON (serde):
/// `{"findings":[{"id","severity","subject","message","found","expected","fix"}],
///   "checked":[{"check","subject","status"}]}`, absent values as `null`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub findings: Vec<Finding>,
    pub checked: Vec<Checked>,
}

impl Report {
    /// Process exit code: 0 when there is no error or warning finding, 1 otherwise
    /// (a `dns.unverifiable` warning counts: nothing was proven).
    pub fn exit_code(&self) -> u8 {
        let bad = self
            .findings
            .iter()
            .any(|f| matches!(f.severity, Severity::Error | Severity::Warning));
        u8::from(bad)
    }
}

/// The record texts mailsetup tells the user to publish (the one-string values, unsplit),
/// e.g. `v=spf1 ip4:192.0.2.25 ~all`. An empty string means "unknown": no fix is offered.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExpectedRecords {
    pub spf: String,
    pub dkim: String,
    pub dmarc: String,
}

/// One mail domain to check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainInput {
    pub domain: Domain,
    pub selector: Selector,
    /// Base64 DER SubjectPublicKeyInfo of the local key (the DKIM `p=`), `None` if there is
    /// no key yet; then the DKIM check only checks the record's syntax.
    pub local_p: Option<String>,
    pub expected: ExpectedRecords,
}

/// What to check: this host and the domains it sends for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckInput {
    /// The server's hostname (myhostname, HELO name, target of MX and PTR).
    pub hostname: Domain,
    pub ipv4: Ipv4Addr,
    pub ipv6: Option<Ipv6Addr>,
    pub domains: Vec<DomainInput>,
}

/// Run every check against `ns`, concurrently. Never fails: lookups that fail become
/// `dns.unverifiable` findings. Worst case about 4 s per lookup chain (2 s timeout, one
/// retry; SPF evaluation follows `include:`s one after another).
pub async fn run(input: &CheckInput, ns: &Nameserver) -> Report {
    match Dns::new(ns) {
        Ok(dns) => run_with(input, &dns).await,
        Err(e) => unverifiable_run(input, ns, &e),
    }
}

/// [`run`] with a resolver built by the caller (e.g. with a shorter timeout).
pub async fn run_with(input: &CheckInput, dns: &Dns) -> Report {
    let jobs = jobs(input);
    let results = join_all(jobs.iter().map(|job| job.run(input, dns)).collect()).await;
    let mut report = Report {
        findings: Vec::new(),
        checked: Vec::new(),
    };
    for (job, findings) in jobs.iter().zip(results) {
        report.checked.push(Checked {
            check: job.check(),
            subject: job.subject(input),
            status: status(&findings),
        });
        report.findings.extend(findings);
    }
    report
}

/// The report when no resolver could be built: every check unknown, one finding.
fn unverifiable_run(input: &CheckInput, ns: &Nameserver, e: &LookupError) -> Report {
    let finding = Finding {
        id: ids::DNS_UNVERIFIABLE,
        severity: Severity::Warning,
        subject: input.hostname.to_string(),
        message: format!("could not verify any DNS record: {e}"),
        found: None,
        expected: None,
        fix: Some(format!(
            "make {ns} usable (or pass --nameserver IP[:PORT]), then run the check again"
        )),
    };
    let checked = jobs(input)
        .iter()
        .map(|job| Checked {
            check: job.check(),
            subject: job.subject(input),
            status: Status::Unknown,
        })
        .collect();
    Report {
        findings: vec![finding],
        checked,
    }
}

/// A check's status from its findings: any error → fail; else a failed lookup → unknown;
/// else any warning → warn; else pass (info findings do not change it).
fn status(findings: &[Finding]) -> Status {
    if findings.iter().any(|f| f.severity == Severity::Error) {
        Status::Fail
    } else if findings.iter().any(|f| f.id == ids::DNS_UNVERIFIABLE) {
        Status::Unknown
    } else if findings.iter().any(|f| f.severity == Severity::Warning) {
        Status::Warn
    } else {
        Status::Pass
    }
}

impl Finding {
    /// A finding with no found/expected/fix.
    fn new(id: &'static str, severity: Severity, subject: &str, message: String) -> Finding {
        Finding {
            id,
            severity,
            subject: subject.to_string(),
            message,
            found: None,
            expected: None,
            fix: None,
        }
    }

    fn found(mut self, found: impl Into<String>) -> Finding {
        self.found = Some(found.into());
        self
    }

    fn expected(mut self, expected: impl Into<String>) -> Finding {
        self.expected = Some(expected.into()).filter(|s: &String| !s.is_empty());
        self
    }

    fn fix(mut self, fix: Option<String>) -> Finding {
        self.fix = fix;
        self
    }

    /// `could not verify <what>: <error>` as a warning.
    fn unverifiable(subject: &str, what: &str, e: &impl std::fmt::Display, dns: &Dns) -> Finding {
        Finding::new(
            ids::DNS_UNVERIFIABLE,
            Severity::Warning,
            subject,
            format!("could not verify {what}: {e}"),
        )
        .fix(Some(format!(
            "check that {} answers, then run the check again",
            dns.nameserver()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(id: &'static str, severity: Severity) -> Finding {
        Finding::new(id, severity, "example.org", String::new())
    }

    #[test]
    fn status_precedence() {
        assert_eq!(status(&[]), Status::Pass);
        assert_eq!(status(&[f("x", Severity::Info)]), Status::Pass);
        assert_eq!(
            status(&[f(ids::MX_MISSING, Severity::Warning)]),
            Status::Warn
        );
        let unverifiable = f(ids::DNS_UNVERIFIABLE, Severity::Warning);
        assert_eq!(status(std::slice::from_ref(&unverifiable)), Status::Unknown);
        let warn = f(ids::MX_MISSING, Severity::Warning);
        assert_eq!(status(&[warn, unverifiable.clone()]), Status::Unknown);
        let err = f(ids::SPF_IP_NOT_PERMITTED, Severity::Error);
        assert_eq!(status(&[unverifiable, err]), Status::Fail);
    }

    #[test]
    fn exit_code_counts_errors_and_warnings_only() {
        let mut r = Report {
            findings: vec![f("x", Severity::Info)],
            checked: vec![],
        };
        assert_eq!(r.exit_code(), 0);
        r.findings.push(f(ids::DNS_UNVERIFIABLE, Severity::Warning));
        assert_eq!(r.exit_code(), 1);
        r.findings = vec![f(ids::DKIM_MISSING, Severity::Error)];
        assert_eq!(r.exit_code(), 1);
    }

    #[test]
    fn empty_expected_is_none() {
        assert_eq!(f("x", Severity::Info).expected("").expected, None);
        assert_eq!(
            f("x", Severity::Info)
                .expected("v=spf1 -all")
                .expected
                .as_deref(),
            Some("v=spf1 -all")
        );
    }

    #[test]
    fn resolver_failure_makes_every_check_unknown() {
        let input = CheckInput {
            hostname: Domain::parse("mail.example.org").unwrap(),
            ipv4: Ipv4Addr::new(192, 0, 2, 25),
            ipv6: Some("2001:db8::25".parse().unwrap()),
            domains: vec![DomainInput {
                domain: Domain::parse("example.org").unwrap(),
                selector: Selector::parse("mail").unwrap(),
                local_p: None,
                expected: ExpectedRecords::default(),
            }],
        };
        let e = LookupError::Config("no nameservers".into());
        let r = unverifiable_run(&input, &Nameserver::System, &e);
        assert_eq!(r.findings.len(), 1);
        assert_eq!(r.findings[0].id, ids::DNS_UNVERIFIABLE);
        assert!(r.findings[0].message.contains("no nameservers"));
        let checks: Vec<(&str, &str)> = r
            .checked
            .iter()
            .map(|c| (c.check, c.subject.as_str()))
            .collect();
        assert_eq!(
            checks,
            [
                ("a", "mail.example.org"),
                ("aaaa", "mail.example.org"),
                ("ptr", "192.0.2.25"),
                ("ptr", "2001:db8::25"),
                ("dkim", "example.org"),
                ("spf", "example.org"),
                ("dmarc", "example.org"),
                ("mx", "example.org"),
            ]
        );
        assert!(r.checked.iter().all(|c| c.status == Status::Unknown));
        assert_eq!(r.exit_code(), 1);
    }
}
