//! The verdict as text: one line per rule set (`gmail (all senders): met`, `… : not met —
//! dmarc: dmarc.missing (example.org)`), under a heading, and the rules `check` cannot see.

use std::fmt;

use super::{About, Outcome, Receiver, Rule, RuleSet, Senders, Verdict};

impl Receiver {
    fn name(self) -> &'static str {
        match self {
            Receiver::Gmail => "gmail",
            Receiver::Yahoo => "yahoo",
        }
    }
}

impl Senders {
    fn name(self) -> &'static str {
        match self {
            Senders::All => "all senders",
            Senders::Bulk => "bulk senders",
        }
    }
}

impl Outcome {
    fn name(self) -> &'static str {
        match self {
            Outcome::Met => "met",
            Outcome::NotMet => "not met",
            Outcome::NotVerifiable => "not verifiable",
        }
    }
}

impl Rule {
    /// The rule's id as in the JSON (`spf-or-dkim`, …).
    pub fn id(self) -> &'static str {
        match self {
            Rule::SpfOrDkim => "spf-or-dkim",
            Rule::SpfAndDkim => "spf-and-dkim",
            Rule::Dmarc => "dmarc",
            Rule::Alignment => "alignment",
            Rule::Ptr => "ptr",
            Rule::Tls => "tls",
            Rule::Rfc5322 => "rfc5322",
            Rule::SpamRate => "spam-rate",
            Rule::Unsubscribe => "unsubscribe",
        }
    }
}

impl fmt::Display for RuleSet {
    /// `gmail (all senders): met`; `gmail (bulk senders): not met — dmarc: dmarc.missing
    /// (example.org); tls: not verifiable: no check … ran`: each setup rule not met or not
    /// verifiable, with its blocking ids (and subjects) or why it could not be told.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}): {}",
            self.receiver.name(),
            self.senders.name(),
            self.status.name()
        )?;
        let open: Vec<String> = self
            .rules
            .iter()
            .filter(|r| r.about == About::Setup && r.status != Outcome::Met)
            .map(|r| match r.status {
                Outcome::NotMet => format!(
                    "{}: {}",
                    r.rule.id(),
                    r.blocking
                        .iter()
                        .map(|b| format!("{} ({})", b.id, b.subject))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                _ if self.status == Outcome::NotMet => {
                    format!(
                        "{}: not verifiable: {}",
                        r.rule.id(),
                        r.unverified.join("; ")
                    )
                }
                _ => format!("{}: {}", r.rule.id(), r.unverified.join("; ")),
            })
            .collect();
        if !open.is_empty() {
            write!(f, " — {}", open.join("; "))?;
        }
        Ok(())
    }
}

impl fmt::Display for Verdict {
    /// The heading, one line per rule set, and the rules about the messages that no check
    /// reads.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Sender requirements (Gmail, Yahoo; February 2024):")?;
        for set in &self.sets {
            writeln!(f, "  {set}")?;
        }
        let mut outside: Vec<&'static str> = Vec::new();
        for r in self.sets.iter().flat_map(|s| &s.rules) {
            if r.about == About::Messages && !outside.contains(&r.rule.id()) {
                outside.push(r.rule.id());
            }
        }
        if !outside.is_empty() {
            writeln!(
                f,
                "  not verifiable by check, yours to keep: {} (RFC 5322 format of each \
                 message; spam rate below 0.3 %; bulk: one-click unsubscribe)",
                outside.join(", ")
            )?;
        }
        Ok(())
    }
}
