//! One record as the world sees it: [`lookup`] asks every authoritative server and the first
//! hop, and turns what they say about each other into findings: `dns.ns-disagree` (servers
//! serve different data), `dns.unverifiable` (a server could not be asked) and
//! `dns.propagating` (a recursive resolver still has an older answer cached, with the time
//! by which every cache has expired it).

use std::fmt::Display;
use std::time::{SystemTime, UNIX_EPOCH};

use super::txt::txt_fix;
use super::{Finding, Severity, ids};
use crate::dns::auth::{Ask, ask};
use crate::dns::{Answer, Authority, Observed, sanitize};

/// `name` at every authoritative server of its zone. `what` names the record in messages
/// (`the DKIM record mail._domainkey.example.org (TXT)`).
///
/// Ok: the answer to judge by (the newest serial's) and the findings about the servers.
/// Err: a `dns.unverifiable` finding: no server could be asked.
pub(super) async fn lookup<T: Ord + Clone + Display>(
    auth: &Authority,
    subject: &str,
    what: &str,
    name: &str,
    ask: Ask<T>,
) -> Result<(Answer<T>, Vec<Finding>), Vec<Finding>> {
    let observed = match auth.observe(name, ask).await {
        Ok(o) => o,
        Err(e) => return Err(vec![unverifiable(subject, what, &e.to_string(), auth)]),
    };
    let best = match observed.best() {
        Ok(best) => best.clone(),
        Err(e) => return Err(vec![unverifiable(subject, what, &e.to_string(), auth)]),
    };
    let mut findings = Vec::new();
    findings.extend(disagreement(subject, what, &observed));
    for (server, e) in observed.failed() {
        let why = format!("{server} did not answer ({e})");
        findings.push(unverifiable(subject, what, &why, auth));
    }
    findings.extend(propagation(subject, what, &observed, now_unix()));
    Ok((best, findings))
}

/// How a check's own findings about one TXT record read: the subject, the expected value and
/// its fix in both forms ([`txt_fix`]).
pub(super) struct Expect<'a> {
    subject: &'a str,
    expected: &'a str,
    pub fix: Option<String>,
}

impl Expect<'_> {
    /// A finding with this record's expected value and fix.
    pub(super) fn finding(&self, id: &'static str, severity: Severity, message: String) -> Finding {
        Finding::new(id, severity, self.subject, message)
            .expected(self.expected)
            .fix(self.fix.clone())
    }
}

/// [`lookup`] of the TXT record at `name`, with the [`Expect`] for the findings about it:
/// `expected` is the one-string value to publish there ("" when unknown: no fix).
pub(super) async fn txt_record<'a>(
    auth: &Authority,
    subject: &'a str,
    what: &str,
    name: &str,
    expected: &'a str,
) -> Result<(Answer<String>, Vec<Finding>, Expect<'a>), Vec<Finding>> {
    let (answer, findings) = lookup(auth, subject, what, name, ask::txt).await?;
    let apex = auth.zone_of(name).await.ok().map(|z| z.apex.clone());
    let fix = txt_fix(name, expected, apex.as_deref());
    let expect = Expect {
        subject,
        expected,
        fix,
    };
    Ok((answer, findings, expect))
}

/// `could not verify <what>: <why>`, a warning.
pub(super) fn unverifiable(subject: &str, what: &str, why: &str, auth: &Authority) -> Finding {
    Finding::new(
        ids::DNS_UNVERIFIABLE,
        Severity::Warning,
        subject,
        format!("could not verify {what}: {why}"),
    )
    .fix(Some(format!(
        "check that {} and the zone's nameservers answer, then run the check again",
        auth.options().first_hop
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
mod tests {
    use super::*;

    #[test]
    fn clock_rounds_up_to_the_minute() {
        assert_eq!(clock(0), "00:00 UTC");
        assert_eq!(clock(1), "00:01 UTC");
        assert_eq!(clock(86_400 + 3_600 * 13 + 60 * 7), "13:07 UTC");
        assert_eq!(clock(3_600 * 23 + 60 * 59 + 30), "00:00 UTC");
    }
}
