//! `mailsetup check`, DNS side: what to check ([`CheckInput`]), the result ([`Report`] of
//! [`Finding`]s and [`Checked`] lines) and the run ([`run`]).
//!
//! Every (check, subject) pair is one job; all jobs run concurrently. Each check is a module
//! of the same shape: `gather` (async) makes its DNS lookups and returns what they
//! returned, per authoritative server where that matters (a `Gathered` struct, or
//! `observe::Seen` for one record); `judge` is a pure function of that and the input that
//! returns the findings, unit-tested without a DNS server. The checks: `host` (A/AAAA),
//! `ptr`, `rbl`, `ns`, `dkim`, `spf`, `dmarc`, `mx`, `sts` (the `mta-sts` and `tls-rpt`
//! records); [`jobs`] runs them. The HTTPS fetch of the MTA-STS policy is not a DNS check:
//! [`sts_policy`], run by the caller (off with `--offline`). [`remote`] runs the
//! same gathers and judges for any domain, without answers (`check DOMAIN`).
//! [`requirements`] judges a report against Gmail's and Yahoo's sender requirements.
//!
//! Each record is read from every authoritative server of its zone
//! ([`crate::dns::Authority`]): the newest zone's answer is judged, and servers that serve
//! something else are reported (`dns.ns-disagree`, [`observe`]). A failed lookup never
//! becomes a failed check: it becomes a [`ids::DNS_UNVERIFIABLE`] warning and the check's
//! status is [`Status::Unknown`]. The expected record texts come in with the input
//! ([`ExpectedRecords`]); this module compares, it does not compose records.

pub mod changes;
mod dkim;
mod dkim_text;
#[cfg(test)]
mod dkim_text_tests;
mod dmarc;
mod dmarc_text;
#[cfg(test)]
mod fixtures;
mod host;
mod jobs;
mod mx;
mod ns;
mod observe;
pub mod port25;
mod ptr;
mod rbl;
pub mod remote;
pub mod report;
pub mod requirements;
mod spf;
mod spf_tree;
pub mod starttls;
mod sts;
pub mod sts_policy;
mod sts_text;
pub mod tls;
pub mod tls_cert;
pub mod tls_files;
pub(crate) mod txt;
pub mod watch;

use std::net::{Ipv4Addr, Ipv6Addr};

use serde::Serialize;

use crate::dns::{AuthOptions, Authority, LookupError};
use crate::values::{Domain, Selector};
use jobs::{Job, jobs};

pub mod ids;

/// How bad a finding is. JSON: `"error"`, `"warning"`, `"info"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
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

/// One check that was run. `check` is one of `a`, `aaaa`, `ptr`, `rbl` (subject: the
/// hostname, the hostname, the IP, the IP) and `ns`, `dkim`, `spf`, `dmarc`, `mx` (subject:
/// the mail domain; in the [`remote`] check, `a` is about an MX host and `dkim` has the
/// subject `<selector>._domainkey.<domain>`). `check` of this host adds `smtp` (subject `port 25
/// → <target>`: the outbound port-25 probe, [`port25`]) under the hostname.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Checked {
    pub check: &'static str,
    pub subject: String,
    pub status: Status,
    /// The heading it is shown under: the hostname for this server's checks, else the mail
    /// domain. Not in the JSON.
    #[serde(skip)]
    pub group: String,
}

/// Everything `check` found. JSON ([`report::to_json`]):
/// `{"findings":[{"id","severity","subject","message","found","expected","fix"}],
///   "checked":[{"check","subject","status"}],"verdict":"pass|fail|unverifiable"}`, absent
/// values as `null`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub findings: Vec<Finding>,
    pub checked: Vec<Checked>,
}

/// `check`'s exit code when the only problems are checks that could not run
/// ([`Verdict::Unverifiable`]): a DNS outage, a file this user may not read.
pub const EXIT_UNVERIFIABLE: u8 = 3;

/// A report's overall result: `check --json`'s `verdict` and its exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// No error or warning finding (exit 0).
    Pass,
    /// An error or warning finding about the domain or this server (exit 1).
    Fail,
    /// Every error or warning finding says a check could not run ([`is_unknown`]:
    /// `dns.unverifiable`, `local.unreadable`): nothing was proven either way (exit 3).
    Unverifiable,
}

impl Verdict {
    pub fn exit_code(self) -> u8 {
        match self {
            Verdict::Pass => 0,
            Verdict::Fail => 1,
            Verdict::Unverifiable => EXIT_UNVERIFIABLE,
        }
    }
}

impl Report {
    /// Pass, fail, or unverifiable ([`Verdict`]): info findings never count.
    pub fn verdict(&self) -> Verdict {
        let mut bad = self
            .findings
            .iter()
            .filter(|f| matches!(f.severity, Severity::Error | Severity::Warning))
            .peekable();
        if bad.peek().is_none() {
            Verdict::Pass
        } else if bad.all(is_unknown) {
            Verdict::Unverifiable
        } else {
            Verdict::Fail
        }
    }

    /// Process exit code: 0 pass, 1 fail, 3 unverifiable ([`Report::verdict`]).
    pub fn exit_code(&self) -> u8 {
        self.verdict().exit_code()
    }

    /// The report of these job results, in order.
    pub fn from_results(results: &[JobResult]) -> Report {
        Report {
            findings: results.iter().flat_map(|r| r.findings.clone()).collect(),
            checked: results.iter().map(|r| r.checked.clone()).collect(),
        }
    }
}

/// The outcome of one job: its line and its findings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobResult {
    pub checked: Checked,
    pub findings: Vec<Finding>,
}

impl JobResult {
    /// Whether this check needs another look: it has an error or warning finding.
    pub fn needs_recheck(&self) -> bool {
        self.findings
            .iter()
            .any(|f| matches!(f.severity, Severity::Error | Severity::Warning))
    }
}

/// The record texts mailsetup tells the user to publish (the one-string values, unsplit),
/// e.g. `v=spf1 ip4:192.0.2.25 ~all`. An empty string means "unknown": no fix is offered.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExpectedRecords {
    pub spf: String,
    pub dkim: String,
    pub dmarc: String,
    /// `v=STSv1; id=…` when the answers manage MTA-STS; "" when not (then its absence is no
    /// finding).
    pub mta_sts: String,
    /// `v=TLSRPTv1; rua=…` when the answers manage TLS-RPT; "" when not.
    pub tls_rpt: String,
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
    /// With Ed25519 signing on (answers `algorithms`): the second key record, at its own
    /// selector, checked like the RSA one (RFC 8463).
    pub ed25519: Option<Ed25519Input>,
}

/// The Ed25519 key record of a domain (RFC 8463 §4.2): `v=DKIM1; k=ed25519; p=<44 chars>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ed25519Input {
    pub selector: Selector,
    /// Base64 of the local key's raw 32 bytes (44 characters), `None` without a key yet.
    pub local_p: Option<String>,
    /// The record to publish (the one-string value; "" when unknown: no fix).
    pub expected: String,
}

/// What to check: this host and the domains it sends for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckInput {
    /// The server's hostname (myhostname, HELO name, target of MX and PTR).
    pub hostname: Domain,
    /// The server's public IPv4, when it has one: then the hostname's A, its PTR, the
    /// blocklists and SPF are checked for it.
    pub ipv4: Option<Ipv4Addr>,
    /// The server's public IPv6, when it has one: the hostname's AAAA and the blocklists; its
    /// PTR and SPF as mail is sent from it (below). One of the two at least, in practice
    /// (`values::ServerAddrs`); with neither, no check of this server's addresses runs.
    pub ipv6: Option<Ipv6Addr>,
    /// Whether Postfix may send over IPv6 (`inet_protocols` is `all`, `ipv6` or both,
    /// postconf(5)); then the IPv6 address needs its PTR (`ipv6.no-ptr`). Without an IPv4
    /// the IPv6 address is the one mail leaves from, and it is checked regardless.
    pub ipv6_enabled: bool,
    /// The hosting provider the answers name (`provider`): the PTR findings' fix then gives
    /// its procedure; `None`: guessed from the PTR name where obvious.
    pub provider: Option<crate::provider::Provider>,
    pub domains: Vec<DomainInput>,
}

/// Run every check, concurrently, asking the authoritative servers found through
/// `options.first_hop`. Never fails: lookups that fail become `dns.unverifiable` findings.
/// Worst case about 4 s per chain of dependent lookups (2 s timeout, one retry).
pub async fn run(input: &CheckInput, options: &AuthOptions) -> Report {
    match Authority::new(*options) {
        Ok(auth) => run_with(input, &auth).await,
        Err(e) => unverifiable_run(input, options, &e),
    }
}

/// [`run`] with an [`Authority`] built by the caller (e.g. shared across `--watch` rounds).
pub async fn run_with(input: &CheckInput, auth: &Authority) -> Report {
    Report::from_results(&run_jobs(input, auth, |_, _| true).await)
}

/// The jobs for which `only(check, subject)` holds, run concurrently, in report order.
pub async fn run_jobs(
    input: &CheckInput,
    auth: &Authority,
    only: impl Fn(&str, &str) -> bool,
) -> Vec<JobResult> {
    let jobs: Vec<Job<'_>> = jobs(input)
        .into_iter()
        .filter(|j| only(j.check(), &j.subject(input)))
        .collect();
    // one run: the blocklists' test entries are asked once, whatever the number of jobs
    let points = rbl::TestPoints::default();
    let results = crate::dns::join_all(
        jobs.iter()
            .map(|job| job.run(input, auth, &points))
            .collect(),
    )
    .await;
    jobs.iter()
        .zip(results)
        .map(|(job, findings)| JobResult {
            checked: Checked {
                check: job.check(),
                subject: job.subject(input),
                status: status(&findings),
                group: job.group(input),
            },
            findings,
        })
        .collect()
}

/// The report when no resolver could be built: every check unknown, one finding.
fn unverifiable_run(input: &CheckInput, options: &AuthOptions, e: &LookupError) -> Report {
    let finding = Finding {
        id: ids::DNS_UNVERIFIABLE,
        severity: Severity::Warning,
        subject: input.hostname.to_string(),
        message: format!("could not verify any DNS record: {e}"),
        found: None,
        expected: None,
        fix: Some(format!(
            "make {} usable (or pass --nameserver IP[:PORT]), then run the check again",
            options.first_hop
        )),
    };
    let checked = jobs(input)
        .iter()
        .map(|job| Checked {
            check: job.check(),
            subject: job.subject(input),
            status: Status::Unknown,
            group: job.group(input),
        })
        .collect();
    Report {
        findings: vec![finding],
        checked,
    }
}

/// Whether the finding says the evidence could not be had (a failed lookup, a blocklist
/// that could not say, a port-25 target that could not be resolved): its check's status is
/// then unknown, never a pass.
pub fn is_unknown(f: &Finding) -> bool {
    [
        ids::DNS_UNVERIFIABLE,
        ids::RBL_UNKNOWN,
        ids::LOCAL_UNREADABLE,
        ids::SMTP_PORT25_UNKNOWN,
    ]
    .contains(&f.id)
}

/// A check's status from its findings: any error → fail; else a failed lookup → unknown;
/// else any warning → warn; else pass (info findings do not change it).
pub(crate) fn status(findings: &[Finding]) -> Status {
    if findings.iter().any(|f| f.severity == Severity::Error) {
        Status::Fail
    } else if findings.iter().any(is_unknown) {
        Status::Unknown
    } else if findings.iter().any(|f| f.severity == Severity::Warning) {
        Status::Warn
    } else {
        Status::Pass
    }
}

impl Finding {
    /// A finding with no found/expected/fix.
    pub(crate) fn new(
        id: &'static str,
        severity: Severity,
        subject: &str,
        message: String,
    ) -> Finding {
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

    pub(crate) fn found(mut self, found: impl Into<String>) -> Finding {
        self.found = Some(found.into());
        self
    }

    pub(crate) fn expected(mut self, expected: impl Into<String>) -> Finding {
        self.expected = Some(expected.into()).filter(|s: &String| !s.is_empty());
        self
    }

    pub(crate) fn fix(mut self, fix: Option<String>) -> Finding {
        self.fix = fix;
        self
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
        assert_eq!(r.exit_code(), 3);
        assert_eq!(r.verdict(), Verdict::Unverifiable);
        r.findings.push(f(ids::LOCAL_UNREADABLE, Severity::Warning));
        assert_eq!(r.exit_code(), 3);
        r.findings.push(f(ids::DKIM_MISSING, Severity::Error));
        assert_eq!(
            r.exit_code(),
            1,
            "a real failure beside an outage is a failure"
        );
        r.findings = vec![f(ids::DKIM_MISSING, Severity::Error)];
        assert_eq!(r.exit_code(), 1);
        assert_eq!(r.verdict(), Verdict::Fail);
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
            ipv4: Some(Ipv4Addr::new(192, 0, 2, 25)),
            ipv6: Some("2001:db8::25".parse().unwrap()),
            ipv6_enabled: true,
            provider: None,
            domains: vec![DomainInput {
                domain: Domain::parse("example.org").unwrap(),
                selector: Selector::parse("mail").unwrap(),
                local_p: None,
                ed25519: None,
                expected: ExpectedRecords::default(),
            }],
        };
        let e = LookupError::Config("no nameservers".into());
        let options = AuthOptions::new(crate::dns::Nameserver::System);
        let r = unverifiable_run(&input, &options, &e);
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
                ("rbl", "192.0.2.25"),
                ("rbl", "2001:db8::25"),
                ("ns", "example.org"),
                ("dkim", "example.org"),
                ("spf", "example.org"),
                ("dmarc", "example.org"),
                ("mx", "example.org"),
                ("mta-sts", "example.org"),
                ("tls-rpt", "example.org"),
            ]
        );
        assert!(r.checked.iter().all(|c| c.status == Status::Unknown));
        assert_eq!(r.exit_code(), EXIT_UNVERIFIABLE);
    }
}
