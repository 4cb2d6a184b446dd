//! One record as the world sees it, gathered once and judged without DNS.
//!
//! Gather: [`seen`] asks every authoritative server of the record's zone and the first hop,
//! and keeps what each said ([`Seen`]). Judge: [`best_answer`] (pure) picks the answer to
//! judge the record by and turns what the servers say about each other into findings:
//! `dns.ns-disagree` (servers serve different data), `dns.unverifiable` (a server could not
//! be asked) and `dns.propagating` (a recursive resolver still has an older answer cached,
//! with the time by which every cache has expired it). Also the display helpers every
//! judge uses ([`show`], [`absence`]) and [`Expect`], a TXT check's expected value and fix.

use std::fmt::Display;
use std::time::{SystemTime, UNIX_EPOCH};

use super::txt::txt_fix;
use super::{Finding, Severity, ids};
use crate::dns::auth::Ask;
use crate::dns::{Answer, Authority, LookupError, Nameserver, Observed, sanitize};

/// What was gathered about one name and type: every authoritative server's answer (in
/// [`Observed`]), or why the zone or its servers could not be found.
#[derive(Debug, Clone)]
pub(super) struct Seen<T> {
    pub observed: Result<Observed<T>, LookupError>,
    /// The first hop, named in the fix of a `dns.unverifiable` finding.
    pub first_hop: Nameserver,
    /// When the servers had answered, Unix seconds; `dns.propagating` counts from it.
    pub at: u64,
}

impl<T: Ord + Clone> Seen<T> {
    /// The answer to judge by ([`Observed::best`]); `None` when no server answered.
    pub(super) fn best(&self) -> Option<&Answer<T>> {
        self.observed.as_ref().ok()?.best().ok()
    }

    /// The apex of the zone the name is in, when the zone was found.
    pub(super) fn apex(&self) -> Option<&str> {
        Some(self.observed.as_ref().ok()?.zone.apex.as_str())
    }
}

/// Gather: `name` asked with `ask` at every authoritative server of its zone and at the
/// first hop. Never fails: a failure is kept in [`Seen::observed`].
pub(super) async fn seen<T>(auth: &Authority, name: &str, ask: Ask<T>) -> Seen<T> {
    let observed = auth.observe(name, ask).await;
    Seen {
        observed,
        first_hop: auth.options().first_hop,
        at: now_unix(),
    }
}

/// Judge what the servers said about one record. `what` names the record in messages
/// (`the DKIM record mail._domainkey.example.org (TXT)`).
///
/// Ok: the answer to judge by (the newest serial's, [`Observed::best`]) and the findings
/// about the servers: `dns.ns-disagree`, a `dns.unverifiable` per server that failed (a
/// lame one excepted: the `ns` check reports it), `dns.propagating`. Err: one
/// `dns.unverifiable` finding: the zone could not be found or no server answered (a
/// timeout, SERVFAIL, REFUSED …); nothing is known about the record.
pub(super) fn best_answer<'s, T: Ord + Clone + Display>(
    subject: &str,
    what: &str,
    seen: &'s Seen<T>,
) -> Result<(&'s Answer<T>, Vec<Finding>), Vec<Finding>> {
    let unverifiable = |why: String| vec![unverifiable(subject, what, &why, &seen.first_hop)];
    let observed = match &seen.observed {
        Ok(o) => o,
        Err(e) => return Err(unverifiable(e.to_string())),
    };
    let best = match observed.best() {
        Ok(best) => best,
        Err(e) => return Err(unverifiable(e.to_string())),
    };
    let mut findings = Vec::new();
    findings.extend(disagreement(subject, what, observed));
    for (server, e) in observed.failed() {
        let why = format!("{server} did not answer ({e})");
        findings.push(self::unverifiable(subject, what, &why, &seen.first_hop));
    }
    findings.extend(propagation(subject, what, observed, seen.at));
    Ok((best, findings))
}

/// How a check's own findings about one TXT record read: the subject, the expected value and
/// its fix in both forms ([`txt_fix`]).
pub(super) struct Expect<'a> {
    subject: &'a str,
    expected: &'a str,
    pub fix: Option<String>,
}

impl<'a> Expect<'a> {
    /// The TXT record at `name` in the zone `apex` should be `expected` (the one-string
    /// value; "" when unknown: no fix).
    pub(super) fn txt(
        subject: &'a str,
        name: &str,
        expected: &'a str,
        apex: Option<&str>,
    ) -> Expect<'a> {
        Expect {
            subject,
            expected,
            fix: txt_fix(name, expected, apex),
        }
    }

    /// A finding with this record's expected value and fix.
    pub(super) fn finding(&self, id: &'static str, severity: Severity, message: String) -> Finding {
        Finding::new(id, severity, self.subject, message)
            .expected(self.expected)
            .fix(self.fix.clone())
    }
}

/// `could not verify <what>: <why>`, a warning, whose fix names the first hop.
pub(super) fn unverifiable(
    subject: &str,
    what: &str,
    why: &str,
    first_hop: &Nameserver,
) -> Finding {
    Finding::new(
        ids::DNS_UNVERIFIABLE,
        Severity::Warning,
        subject,
        format!("could not verify {what}: {why}"),
    )
    .fix(Some(format!(
        "check that {first_hop} and the zone's nameservers answer, then run the check again"
    )))
}

/// `dns.ns-disagree` when some authoritative servers serve other data than the newest.
fn disagreement<T: Ord + Clone + Display>(
    subject: &str,
    what: &str,
    o: &Observed<T>,
) -> Option<Finding> {
    let lagging = o.disagreeing();
    if lagging.is_empty() {
        return None;
    }
    let best_i = o.best_index()?;
    let best = o.answers[best_i].as_ref().ok()?;
    let line = |server: &crate::dns::ZoneServer, answer: &Answer<T>| {
        let i = o.zone.servers.iter().position(|s| s == server);
        let serial = match i.map(|i| &o.serials[i]) {
            Some(Ok(s)) => format!("serial {s}"),
            _ => "serial unknown".into(),
        };
        format!("{server}, {serial}: {}", show(answer))
    };
    let names: Vec<String> = lagging.iter().map(|(s, _)| s.to_string()).collect();
    let found: Vec<String> = lagging.iter().map(|(s, a)| line(s, a)).collect();
    Some(
        Finding::new(
            ids::DNS_NS_DISAGREE,
            Severity::Warning,
            subject,
            format!(
                "the authoritative servers of {} disagree on {what}: {} of {} serve \
                 something else than the newest zone",
                o.zone.apex,
                lagging.len(),
                o.answers.len()
            ),
        )
        .found(found.join("\n"))
        .expected(line(&o.zone.servers[best_i], best))
        .fix(Some(format!(
            "wait until {} has loaded the newest zone (a secondary follows its primary \
             after NOTIFY or at the SOA refresh interval); if it stays behind, repair the \
             zone transfer from the primary or remove it from the NS records",
            names.join(", ")
        ))),
    )
}

/// `dns.propagating` (info) when the first hop still answers something else than the
/// authoritative servers: when its cache runs out, with the TTL it reports.
fn propagation<T: Ord + Clone + Display>(
    subject: &str,
    what: &str,
    o: &Observed<T>,
    now: u64,
) -> Option<Finding> {
    let seen = o.first_hop_differs()?;
    let best = o.best().ok()?;
    // A recursive resolver reports the time left in its cache; an authoritative first hop
    // (a lab) reports the full TTL. For an absence, RFC 2308 §5 caps it at the SOA minimum.
    let ttl = if seen.is_empty() && seen.ttl == 0 {
        o.zone.negative_ttl
    } else {
        seen.ttl
    };
    let until = clock(now + u64::from(ttl));
    let message = if seen.is_empty() {
        format!(
            "{what} is published, but resolvers that looked it up before still have \"no \
             such record\" cached for up to {ttl} s (the zone's negative TTL, RFC 2308 §5): \
             visible everywhere by about {until}"
        )
    } else {
        format!(
            "{what} has changed, but resolvers that looked it up before may serve the old \
             value for up to {ttl} s (its TTL): visible everywhere by about {until}"
        )
    };
    Some(
        Finding::new(ids::DNS_PROPAGATING, Severity::Info, subject, message)
            .found(format!("the first-hop resolver: {}", show(seen)))
            .expected(show(best)),
    )
}

/// The records of an answer for display, sanitized, one per line; or why there are none.
pub(super) fn show<T: Display>(answer: &Answer<T>) -> String {
    match answer.absent {
        Some(why) => format!("nothing ({why})"),
        None => answer
            .records
            .iter()
            .map(|r| sanitize(&r.to_string()))
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

/// The reason an answer is empty, for messages ("" when it is not).
pub(super) fn absence<T>(answer: &Answer<T>) -> String {
    answer.absent.map(|a| a.to_string()).unwrap_or_default()
}

fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// `HH:MM UTC` of a Unix time, rounded up to the next minute.
pub(super) fn clock(unix: u64) -> String {
    let minutes = unix.div_ceil(60);
    format!("{:02}:{:02} UTC", (minutes / 60) % 24, minutes % 60)
}

#[cfg(test)]
#[path = "observe_tests.rs"]
mod tests;
