//! `check --watch`: after a full run, re-check only the items that still have an error or
//! warning, at the authoritative servers, every `interval`, until none is left (the
//! records are published) or `timeout` has passed. The display is the caller's: it gets
//! an [`Event`] per round and per second of waiting.

use std::time::{Duration, Instant};

use super::{CheckInput, JobResult, Report, run_jobs};
use crate::dns::{AuthOptions, Authority};

/// How often and how long to watch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WatchOptions {
    /// Time between the end of one round and the start of the next.
    pub interval: Duration,
    /// Give up when this much time has passed since the start.
    pub timeout: Duration,
}

/// What the display is told.
#[derive(Debug)]
pub enum Event<'a> {
    /// A round finished: the whole report so far and how many checks still fail.
    Round {
        round: usize,
        report: &'a Report,
        pending: usize,
    },
    /// Waiting: the next round starts in `next_in`; `left` until the timeout.
    Waiting { next_in: Duration, left: Duration },
}

/// Watch until every check passes (the report's exit code is then 0) or the timeout; the
/// last report is returned. A new [`Authority`] per round, so zone serials and server
/// lists are read afresh. Errors building the resolver end the watch with that report.
pub async fn watch(
    input: &CheckInput,
    options: &AuthOptions,
    watch: &WatchOptions,
    mut show: impl FnMut(Event<'_>),
) -> Report {
    let start = Instant::now();
    let mut results: Vec<JobResult> = Vec::new();
    let mut round = 0;
    loop {
        round += 1;
        let auth = match Authority::new(*options) {
            Ok(auth) => auth,
            Err(_) => return super::run(input, options).await,
        };
        let pending: Vec<(String, String)> = results
            .iter()
            .filter(|r| r.needs_recheck())
            .map(|r| (r.checked.check.to_string(), r.checked.subject.clone()))
            .collect();
        let fresh = if round == 1 {
            run_jobs(input, &auth, |_, _| true).await
        } else {
            let wanted = |c: &str, s: &str| pending.iter().any(|(pc, ps)| pc == c && ps == s);
            run_jobs(input, &auth, wanted).await
        };
        merge(&mut results, fresh);
        let report = Report::from_results(&results);
        let pending = results.iter().filter(|r| r.needs_recheck()).count();
        show(Event::Round {
            round,
            report: &report,
            pending,
        });
        if pending == 0 {
            return report;
        }
        let elapsed = start.elapsed();
        if elapsed >= watch.timeout {
            return report;
        }
        let wait = watch.interval.min(watch.timeout - elapsed);
        let until = Instant::now() + wait;
        loop {
            let now = Instant::now();
            if now >= until {
                break;
            }
            let next_in = until - now;
            show(Event::Waiting {
                next_in,
                left: watch.timeout.saturating_sub(start.elapsed()),
            });
            tokio::time::sleep(next_in.min(Duration::from_secs(1))).await;
        }
    }
}

/// Replace the results of the same (check, subject) by `fresh` ones; keep the order.
pub fn merge(results: &mut Vec<JobResult>, fresh: Vec<JobResult>) {
    for new in fresh {
        let same = |r: &&mut JobResult| {
            r.checked.check == new.checked.check && r.checked.subject == new.checked.subject
        };
        match results.iter_mut().find(same) {
            Some(slot) => *slot = new,
            None => results.push(new),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Checked, Finding, Severity, Status, ids};
    use super::*;

    fn result(check: &'static str, subject: &str, failing: bool) -> JobResult {
        let findings = if failing {
            vec![Finding::new(
                ids::DKIM_MISSING,
                Severity::Error,
                subject,
                "x".into(),
            )]
        } else {
            vec![]
        };
        JobResult {
            checked: Checked {
                check,
                subject: subject.into(),
                status: if failing { Status::Fail } else { Status::Pass },
                group: subject.into(),
            },
            findings,
        }
    }

    #[test]
    fn merge_replaces_in_place_and_keeps_order() {
        let mut results = vec![
            result("a", "h", false),
            result("dkim", "example.org", true),
            result("spf", "example.org", true),
        ];
        merge(&mut results, vec![result("dkim", "example.org", false)]);
        let order: Vec<(&str, bool)> = results
            .iter()
            .map(|r| (r.checked.check, r.needs_recheck()))
            .collect();
        assert_eq!(order, [("a", false), ("dkim", false), ("spf", true)]);
    }

    #[test]
    fn info_findings_do_not_need_a_recheck() {
        let mut r = result("dmarc", "example.org", false);
        r.findings.push(Finding::new(
            ids::DMARC_MONITOR_ONLY,
            Severity::Info,
            "example.org",
            "p=none".into(),
        ));
        assert!(!r.needs_recheck());
    }
}
