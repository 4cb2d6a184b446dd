//! The evidence for each rule of [`super::verdict`]: which findings block it (by id, the
//! TLS step's id by its string, `tls.outbound-off`) and which `checked` lines must have run and
//! told; and [`Decision`], met / not met / not verifiable, combined with `and` and `or`.

use std::collections::BTreeSet;

use super::super::{Checked, Finding, Report, Status, ids, is_unknown};
use super::{Blocker, Scope};

/// Findings that make SPF fail or permerror for the domain (RFC 7208 §4.6, §4.5, §4.6.4).
/// `spf.permissive-all` is not one: SPF still passes (for everyone), a problem of its own.
const SPF_BLOCKERS: &[&str] = &[
    ids::SPF_MISSING,
    ids::SPF_MULTIPLE,
    ids::SPF_SYNTAX,
    ids::SPF_IP_NOT_PERMITTED,
    ids::SPF_TOO_MANY_LOOKUPS,
    ids::SPF_TOO_MANY_VOID_LOOKUPS,
];
/// Findings that make the published DKIM key fail verification (RFC 6376 §3.6, §6.1.2).
/// `dkim.weak-key` (shorter than 2048 bits) is not one: a 1024-bit key still verifies, and
/// Google's guidelines accept it.
const DKIM_RECORD_BLOCKERS: &[&str] = &[
    ids::DKIM_MISSING,
    ids::DKIM_SYNTAX,
    ids::DKIM_KEY_MISMATCH,
    ids::DKIM_PASTE_ERROR,
];
/// Findings that say this server's mail leaves unsigned or with a signature that fails.
const SIGNING_BLOCKERS: &[&str] = &[
    ids::MILTER_NOT_CONFIGURED,
    ids::MILTER_NON_SMTPD_MISSING,
    ids::MILTER_SOCKET_MISMATCH,
    ids::MILTER_SOCKET_UNREACHABLE,
    ids::MILTER_SOCKET_PERMISSION,
    ids::OPENDKIM_SIGNING_TABLE_NO_REFILE,
    ids::OPENDKIM_SIGNING_TABLE_MISSING_DOMAIN,
    ids::OPENDKIM_KEY_MISSING,
    ids::OPENDKIM_KEY_INSECURE,
    ids::OPENDKIM_CONFIG_INVALID,
    ids::OPENDKIM_NOT_RUNNING,
    ids::POSTFIX_NOT_RUNNING,
    ids::SELFTEST_UNSIGNED,
    ids::SELFTEST_DKIM_FAIL_PUBLISHED,
    ids::SELFTEST_DKIM_FAIL_LOCAL,
];
/// The local lines that judge signing (src/local): `milter` is always there when the local
/// checks ran; `opendkim` and `keys` unless amavisd-new signs; `running` with `--root /`.
const SIGNING_LINES: &[&str] = &["milter", "opendkim", "keys", "running"];
/// Findings that the DMARC record is absent or unusable (RFC 7489 §6.6.3).
const DMARC_BLOCKERS: &[&str] = &[ids::DMARC_MISSING, ids::DMARC_MULTIPLE, ids::DMARC_SYNTAX];
/// Findings that forward or reverse DNS of the sending addresses is wrong.
const PTR_BLOCKERS: &[&str] = &[
    ids::PTR_MISSING,
    ids::PTR_MISMATCH,
    ids::IPV6_NO_PTR,
    ids::HOST_A_MISSING,
    ids::HOST_A_MISMATCH,
];
/// The finding that outbound TLS is off (`smtp_tls_security_level` `none` or empty): the
/// TLS step's id.
const TLS_BLOCKERS: &[&str] = &[ids::TLS_OUTBOUND_OFF];
/// The check line that reads Postfix's outbound TLS settings: the TLS step's local check,
/// `tls` with subject main.cf. Only this one decides the rule: the other `tls` lines (the
/// certificate, inbound STARTTLS) say nothing about outbound.
const TLS_LINE: (&str, &str) = ("tls", crate::host::system::MAIN_CF);

/// A decision and its evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Decision {
    Met,
    NotMet(BTreeSet<Blocker>),
    NotVerifiable(Vec<String>),
}

impl Decision {
    /// Both hold: not met if either is not met, else not verifiable if either is.
    pub(super) fn and(self, other: Decision) -> Decision {
        match (self, other) {
            (Decision::NotMet(mut a), Decision::NotMet(b)) => {
                a.extend(b);
                Decision::NotMet(a)
            }
            (d @ Decision::NotMet(_), _) | (_, d @ Decision::NotMet(_)) => d,
            (Decision::NotVerifiable(mut a), Decision::NotVerifiable(b)) => {
                a.extend(b.into_iter().filter(|w| !a.contains(w)).collect::<Vec<_>>());
                Decision::NotVerifiable(a)
            }
            (d @ Decision::NotVerifiable(_), _) | (_, d @ Decision::NotVerifiable(_)) => d,
            (Decision::Met, Decision::Met) => Decision::Met,
        }
    }

    /// Either holds: met if either is met, else not verifiable if either is, else not met.
    pub(super) fn or(self, other: Decision) -> Decision {
        match (self, other) {
            (Decision::Met, _) | (_, Decision::Met) => Decision::Met,
            (Decision::NotMet(mut a), Decision::NotMet(b)) => {
                a.extend(b);
                Decision::NotMet(a)
            }
            (Decision::NotVerifiable(a), Decision::NotMet(_))
            | (Decision::NotMet(_), Decision::NotVerifiable(a)) => Decision::NotVerifiable(a),
            (a, b) => a.and(b),
        }
    }

    pub(super) fn all(decisions: impl IntoIterator<Item = Decision>, none: &str) -> Decision {
        decisions
            .into_iter()
            .reduce(Decision::and)
            .unwrap_or_else(|| Decision::NotVerifiable(vec![none.to_string()]))
    }
}

/// The report, read for the rules.
pub(super) struct Facts<'a> {
    pub(super) report: &'a Report,
    pub(super) scope: Scope,
}

impl Facts<'_> {
    /// The mail domains checked: the groups of the `spf` lines, in order.
    pub(super) fn domains(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for c in self.report.checked.iter().filter(|c| c.check == "spf") {
            if !out.contains(&c.group) {
                out.push(c.group.clone());
            }
        }
        out
    }

    /// The findings with one of `ids`, about `subject` (any subject when `None`).
    fn blockers(&self, ids: &[&str], subject: Option<&str>) -> BTreeSet<Blocker> {
        self.report
            .findings
            .iter()
            .filter(|f| ids.contains(&f.id) && subject.is_none_or(|s| f.subject == s))
            .map(|f| Blocker {
                id: f.id,
                subject: f.subject.clone(),
            })
            .collect()
    }

    /// Why the lines `lines` are unknown: their could-not-tell findings (`dns.unverifiable`
    /// …), as `id (subject)`; the line itself when none is about its subject.
    fn unknown(&self, lines: &[&Checked]) -> Vec<String> {
        let mut why = Vec::new();
        for c in lines.iter().filter(|c| c.status == Status::Unknown) {
            let found: Vec<&Finding> = self
                .report
                .findings
                .iter()
                .filter(|f| is_unknown(f) && (f.subject == c.subject || f.subject == c.group))
                .collect();
            let mut texts: Vec<String> = found
                .iter()
                .map(|f| format!("{} ({})", f.id, f.subject))
                .collect();
            if texts.is_empty() {
                texts.push(format!(
                    "the {} check of {} could not tell",
                    c.check, c.subject
                ));
            }
            for t in texts {
                if !why.contains(&t) {
                    why.push(t);
                }
            }
        }
        why
    }

    /// A DNS-record rule of domain `d` decided by its `check` line: not met when a finding
    /// in `blocking` is about `d`; else not verifiable when the line is unknown (or did not
    /// run); else met.
    fn line(&self, d: &str, check: &str, blocking: &[&str]) -> Decision {
        let lines: Vec<&Checked> = self
            .report
            .checked
            .iter()
            .filter(|c| c.check == check && c.group == d)
            .collect();
        if lines.is_empty() {
            return Decision::NotVerifiable(vec![format!("no {check} check of {d} ran")]);
        }
        let blockers = self.blockers(blocking, Some(d));
        if !blockers.is_empty() {
            return Decision::NotMet(blockers);
        }
        match self.unknown(&lines) {
            why if why.is_empty() => Decision::Met,
            why => Decision::NotVerifiable(why),
        }
    }

    pub(super) fn spf(&self, d: &str) -> Decision {
        self.line(d, "spf", SPF_BLOCKERS)
    }

    /// A usable DMARC record at `_dmarc.<d>`; any policy, `p=none` included.
    pub(super) fn dmarc(&self, d: &str) -> Decision {
        self.line(d, "dmarc", DMARC_BLOCKERS)
    }

    /// DKIM of domain `d`: the published key (the `dkim` line), and, for this server, that
    /// it signs ([`Facts::signing`]). The remote check asks several selectors: one that
    /// passes is enough; none found at the common ones (`dkim.no-selector`) says nothing.
    pub(super) fn dkim(&self, d: &str) -> Decision {
        match self.scope {
            Scope::Server => self
                .line(d, "dkim", DKIM_RECORD_BLOCKERS)
                .and(self.signing()),
            Scope::Remote => {
                let lines: Vec<&Checked> = self
                    .report
                    .checked
                    .iter()
                    .filter(|c| c.check == "dkim" && c.group == d)
                    .collect();
                let no_selector = self
                    .report
                    .findings
                    .iter()
                    .any(|f| f.id == ids::DKIM_NO_SELECTOR && f.subject == d);
                if no_selector {
                    return Decision::NotVerifiable(vec![format!(
                        "no DKIM key at the common selectors of {d}: name the selector \
                         (--selector S)"
                    )]);
                }
                if lines
                    .iter()
                    .any(|c| matches!(c.status, Status::Pass | Status::Warn))
                {
                    return Decision::Met;
                }
                self.line(d, "dkim", DKIM_RECORD_BLOCKERS)
            }
        }
    }

    /// This server signs its mail: the local lines ran and could read their files, no
    /// finding says mail leaves unsigned, and the daemons were looked at (`running`, with
    /// `--root /` only).
    fn signing(&self) -> Decision {
        let lines: Vec<&Checked> = self
            .report
            .checked
            .iter()
            .filter(|c| SIGNING_LINES.contains(&c.check))
            .collect();
        if !lines.iter().any(|c| c.check == "milter") {
            return Decision::NotVerifiable(vec![
                "this server's Postfix and OpenDKIM files were not checked".into(),
            ]);
        }
        let blockers = self.blockers(SIGNING_BLOCKERS, None);
        if !blockers.is_empty() {
            return Decision::NotMet(blockers);
        }
        let why = self.unknown(&lines);
        if !why.is_empty() {
            return Decision::NotVerifiable(why);
        }
        if !lines.iter().any(|c| c.check == "running") {
            return Decision::NotVerifiable(vec![
                "whether Postfix and OpenDKIM run and sign is checked with --root / only".into(),
            ]);
        }
        Decision::Met
    }

    /// Forward and reverse DNS of the sending addresses (`ptr` lines, and the hostname's
    /// `a`/`aaaa`). The remote check does not know the sending addresses.
    pub(super) fn ptr(&self) -> Decision {
        if self.scope == Scope::Remote {
            return Decision::NotVerifiable(vec![
                "the sending addresses are not in DNS: run mailsetup check on the server \
                 that sends"
                    .into(),
            ]);
        }
        let lines: Vec<&Checked> = self
            .report
            .checked
            .iter()
            .filter(|c| matches!(c.check, "ptr" | "a" | "aaaa"))
            .collect();
        if !lines.iter().any(|c| c.check == "ptr") {
            return Decision::NotVerifiable(vec![
                "no PTR check ran: the answers give no address of this server".into(),
            ]);
        }
        let blockers = self.blockers(PTR_BLOCKERS, None);
        if !blockers.is_empty() {
            return Decision::NotMet(blockers);
        }
        match self.unknown(&lines) {
            why if why.is_empty() => Decision::Met,
            why => Decision::NotVerifiable(why),
        }
    }

    /// Outbound TLS: the TLS step's check of `smtp_tls_security_level`.
    pub(super) fn tls(&self) -> Decision {
        if self.scope == Scope::Remote {
            return Decision::NotVerifiable(vec![
                "outbound TLS is a setting of the sending server, not visible in DNS".into(),
            ]);
        }
        let lines: Vec<&Checked> = self
            .report
            .checked
            .iter()
            .filter(|c| (c.check, c.subject.as_str()) == TLS_LINE)
            .collect();
        let blockers = self.blockers(TLS_BLOCKERS, None);
        if !blockers.is_empty() {
            return Decision::NotMet(blockers);
        }
        if lines.is_empty() {
            return Decision::NotVerifiable(vec![
                "no check of Postfix's outbound TLS, smtp_tls_security_level, ran".into(),
            ]);
        }
        match self.unknown(&lines) {
            why if why.is_empty() => Decision::Met,
            why => Decision::NotVerifiable(why),
        }
    }
}
