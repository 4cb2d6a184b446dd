//! The sender-requirements verdict: whether what `check` saw meets Gmail's and Yahoo's
//! published rules for senders (in force since February 2024), one line per rule set, each
//! rule linked to the finding ids that block it. A pure function of the check's [`Report`]
//! (its findings, and its `checked` lines: which checks ran and whether they could tell);
//! no lookup of its own.
//!
//! Sources (as published in February 2024):
//! - Google, "Email sender guidelines" (support.google.com/a/answer/81126), *Requirements
//!   for all senders*: SPF or DKIM; valid forward and reverse DNS for the sending IPs; a TLS
//!   connection for transmitting email; messages formatted per RFC 5322; spam rate below
//!   0.3 %. *Requirements for senders of 5,000 or more messages a day*: SPF and DKIM; a
//!   DMARC record (`p=none` is enough); the From domain aligned with the SPF or the DKIM
//!   domain; one-click unsubscribe (RFC 8058) for marketing messages.
//! - Yahoo, "Sender Best Practices" (senders.yahooinc.com/best-practices), *all senders*:
//!   SPF or DKIM; valid forward and reverse DNS; RFC 5321 and RFC 5322 compliance; spam
//!   complaint rate below 0.3 %. *Bulk senders*: SPF and DKIM; a DMARC policy (`p=none` is
//!   enough); From aligned with SPF or DKIM; one-click unsubscribe. Yahoo's list names no
//!   TLS rule, so its rule sets have none.
//! - RFC 7208 (SPF), RFC 6376 (DKIM), RFC 7489 (DMARC; alignment §3.1), RFC 5322 (message
//!   format: exactly one From and one Date, §3.6; Message-ID SHOULD, §3.6.4), RFC 8058.
//!
//! Rules about the setup ([`About::Setup`]) are decided from the report: met, not met (with
//! the blocking findings), or not verifiable (the check that would decide it did not run or
//! could not tell: a DNS outage, a file not read, the daemons not looked at beneath a
//! `--root` other than `/`, the remote check that does not know the sending addresses). A
//! rule set's status is over those rules only: not met if one is not met, else not
//! verifiable if one is not verifiable, else met. Rules about the messages themselves and the
//! sending practice ([`About::Messages`]: RFC 5322 format, spam rate, one-click unsubscribe)
//! are outside what `check` reads; they are listed as such, never counted as met.

use serde::Serialize;

use super::Report;
use facts::{Decision, Facts};

mod facts;
#[cfg(test)]
mod tests;
mod text;

/// Which check made the report: of this server with its answers (`check`), or of any domain
/// from outside (`check DOMAIN`, [`super::remote`]), which sees DNS only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Server,
    Remote,
}

/// The receiver whose rules a [`RuleSet`] is. JSON: `"gmail"`, `"yahoo"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Receiver {
    Gmail,
    Yahoo,
}

/// Which senders a [`RuleSet`] binds: everyone, or bulk senders (Google: 5,000 or more
/// messages a day to Gmail addresses; Yahoo: "significant volume"), who must also meet the
/// rules for all. JSON: `"all"`, `"bulk"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Senders {
    All,
    Bulk,
}

/// A rule's (or a rule set's) result. JSON: `"met"`, `"not-met"`, `"not-verifiable"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Met,
    NotMet,
    NotVerifiable,
}

/// What a rule is about: the setup `check` reads (DNS, this server), or the messages and
/// the sending practice, which it does not read. JSON: `"setup"`, `"messages"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum About {
    Setup,
    Messages,
}

/// One rule. JSON (kebab-case): `spf-or-dkim`, `spf-and-dkim`, `dmarc`, `alignment`,
/// `ptr`, `tls`, `rfc5322`, `spam-rate`, `unsubscribe`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    /// SPF (RFC 7208) or DKIM (RFC 6376) passes for the mail domain.
    SpfOrDkim,
    /// SPF and DKIM both pass (bulk senders).
    SpfAndDkim,
    /// A DMARC record at `_dmarc.<domain>` (RFC 7489 §6.1); `p=none` is enough (bulk).
    Dmarc,
    /// The From domain aligned with the SPF or the DKIM domain (RFC 7489 §3.1; bulk). The
    /// checks evaluate SPF and DKIM at the mail domain itself (the SigningTable signs with
    /// `d=` the domain; mail from `user@domain` has it as MAIL FROM), so a pass there is an
    /// aligned pass, strict alignment included.
    Alignment,
    /// Valid forward and reverse DNS of the sending addresses: a PTR naming the hostname,
    /// which resolves back to the address (forward-confirmed, RFC 8601 §3 iprev).
    Ptr,
    /// TLS for transmitting: Postfix's outbound `smtp_tls_security_level` is `may` or
    /// stricter (postconf(5)). Gmail only.
    Tls,
    /// Messages formatted per RFC 5322 (one From, one Date, a Message-ID).
    Rfc5322,
    /// Spam rate reported in Postmaster Tools below 0.3 %.
    SpamRate,
    /// One-click unsubscribe (RFC 8058 `List-Unsubscribe-Post`) in marketing messages (bulk).
    Unsubscribe,
}

/// A finding that blocks a rule: its id and subject (as in `findings[]`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Blocker {
    pub id: &'static str,
    pub subject: String,
}

/// One rule's result. JSON: `{"rule","about","status","blocking":[{"id","subject"}],
/// "unverified":["why", …]}`: `blocking` when not met, `unverified` (why it could not be
/// told, one sentence each) when not verifiable; otherwise empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleResult {
    pub rule: Rule,
    pub about: About,
    pub status: Outcome,
    pub blocking: Vec<Blocker>,
    pub unverified: Vec<String>,
}

/// One receiver's rules for one kind of sender. JSON: `{"receiver","senders","status",
/// "rules":[…]}`; `status` counts the [`About::Setup`] rules only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleSet {
    pub receiver: Receiver,
    pub senders: Senders,
    pub status: Outcome,
    pub rules: Vec<RuleResult>,
}

/// The verdict: Gmail's and Yahoo's rule sets, for all senders and for bulk senders, in
/// that order. JSON (`check --json`'s `requirements`): an array of [`RuleSet`]. `Display`:
/// a heading, one line per rule set (`gmail (all senders): met`, `… : not met — dmarc:
/// dmarc.missing`, `… : not verifiable — ptr: …`), and one line naming the rules `check`
/// cannot see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Verdict {
    pub sets: Vec<RuleSet>,
}

/// Gmail's and Yahoo's rule sets judged on `report` ([`Verdict`]). Pure.
pub fn verdict(report: &Report, scope: Scope) -> Verdict {
    let facts = Facts { report, scope };
    let domains = facts.domains();
    let per_domain = |f: &dyn Fn(&str) -> Decision| {
        Decision::all(domains.iter().map(|d| f(d)), "no mail domain was checked")
    };
    let spf_or_dkim = per_domain(&|d| facts.spf(d).or(facts.dkim(d)));
    let spf_and_dkim = per_domain(&|d| facts.spf(d).and(facts.dkim(d)));
    let dmarc = per_domain(&|d| facts.dmarc(d));
    let ptr = facts.ptr();
    let tls = facts.tls();
    let setup = |rule, d: &Decision| result(rule, About::Setup, d.clone());
    let message = |rule, why: &str| {
        result(
            rule,
            About::Messages,
            Decision::NotVerifiable(vec![why.into()]),
        )
    };
    let rfc5322 = message(
        Rule::Rfc5322,
        "each message's own format (one From, one Date, a Message-ID): check reads no \
         message; a tester does (the Test deliverability step after a passing check)",
    );
    let spam_rate = message(
        Rule::SpamRate,
        "the rate recipients mark your mail as spam: Google Postmaster Tools shows it, \
         mailsetup cannot",
    );
    let unsubscribe = message(
        Rule::Unsubscribe,
        "a List-Unsubscribe-Post header (RFC 8058) your mailing software adds: not \
         visible to mailsetup",
    );
    let mut sets = Vec::new();
    for receiver in [Receiver::Gmail, Receiver::Yahoo] {
        let mut all = vec![setup(Rule::SpfOrDkim, &spf_or_dkim), setup(Rule::Ptr, &ptr)];
        if receiver == Receiver::Gmail {
            all.push(setup(Rule::Tls, &tls));
        }
        all.extend([rfc5322.clone(), spam_rate.clone()]);
        let mut bulk: Vec<RuleResult> = all
            .iter()
            .filter(|r| r.rule != Rule::SpfOrDkim)
            .cloned()
            .collect();
        bulk.splice(
            0..0,
            [
                setup(Rule::SpfAndDkim, &spf_and_dkim),
                setup(Rule::Dmarc, &dmarc),
                setup(Rule::Alignment, &spf_or_dkim),
            ],
        );
        bulk.push(unsubscribe.clone());
        sets.push(rule_set(receiver, Senders::All, all));
        sets.push(rule_set(receiver, Senders::Bulk, bulk));
    }
    Verdict { sets }
}

fn result(rule: Rule, about: About, d: Decision) -> RuleResult {
    let (status, blocking, unverified) = match d {
        Decision::Met => (Outcome::Met, Vec::new(), Vec::new()),
        Decision::NotMet(b) => (Outcome::NotMet, b.into_iter().collect(), Vec::new()),
        Decision::NotVerifiable(w) => (Outcome::NotVerifiable, Vec::new(), w),
    };
    RuleResult {
        rule,
        about,
        status,
        blocking,
        unverified,
    }
}

fn rule_set(receiver: Receiver, senders: Senders, rules: Vec<RuleResult>) -> RuleSet {
    let setup = || rules.iter().filter(|r| r.about == About::Setup);
    let status = if setup().any(|r| r.status == Outcome::NotMet) {
        Outcome::NotMet
    } else if setup().any(|r| r.status == Outcome::NotVerifiable) {
        Outcome::NotVerifiable
    } else {
        Outcome::Met
    };
    RuleSet {
        receiver,
        senders,
        status,
        rules,
    }
}
