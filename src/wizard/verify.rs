//! The Verify screen: the finding selected with the arrows (Enter jumps to the step that
//! fixes it, a [`Detour`] that Esc or finishing the step ends back here; or on to the
//! summary without one), the checks (`r`, and on arrival), their report, and the re-check
//! every [`RECHECK_SECONDS`] while something fails. Pure.

use super::{Detour, Effect, Key, Outcome, RECHECK_SECONDS, Step, Wizard};
use crate::check::{Finding, Report, Severity};

impl Wizard {
    /// Move the selection by `by`'s sign: down from none selects the first, up from the
    /// first selects none.
    pub(super) fn select(&mut self, by: i32) {
        let n = self.report.as_ref().map_or(0, |r| r.findings.len());
        self.selected = match (self.selected, by.signum()) {
            (_, _) if n == 0 => None,
            (None, 1) => Some(0),
            (Some(i), 1) => Some((i + 1).min(n - 1)),
            (Some(0), -1) => None,
            (Some(i), -1) => Some(i - 1),
            (s, _) => s,
        };
    }

    /// Enter: to the selected finding's step (remembering the way back; a step skipped
    /// before is planned and offered again), or to the summary; `r` checks again.
    pub(super) fn verify_key(&mut self, key: Key) -> Vec<Effect> {
        match key {
            Key::Enter => match self.selected_finding().cloned() {
                Some(f) => match Step::for_finding(f.id) {
                    // a DNS finding no step edits: Verify itself, checking again
                    Some(Step::Verify) => self.goto(Step::Verify),
                    Some(step) => {
                        let id = f.id;
                        // skipped before (or only shown, in a dry run): offered again
                        let undecided = matches!(
                            self.plans.get(&step).map(|p| &p.outcome),
                            Some(Outcome::Skipped | Outcome::WouldApply)
                        );
                        if undecided {
                            self.plans.remove(&step);
                        }
                        self.detour = Some(Detour::Away(f));
                        let effects = self.goto(step);
                        self.status = Some(format!(
                            "from Verify, for {id}: Enter or Esc goes back to Verify"
                        ));
                        effects
                    }
                    None => self.goto(Step::Summary),
                },
                None => self.goto(Step::Summary),
            },
            Key::Char('r') if self.busy.is_none() => self.check(),
            _ => Vec::new(),
        }
    }

    /// The finding selected on the Verify screen.
    fn selected_finding(&self) -> Option<&Finding> {
        self.report.as_ref()?.findings.get(self.selected?)
    }

    /// Ask every authoritative server (and the local checks) again.
    pub(super) fn check(&mut self) -> Vec<Effect> {
        let Some(settings) = self.settings.clone() else {
            return Vec::new();
        };
        self.busy = Some("asking every authoritative server".into());
        self.recheck_in = None;
        vec![Effect::Check(settings)]
    }

    /// The report arrived: count down to the next check while something fails. The
    /// selection stays on the same finding (by id and subject) while it is listed. Back from
    /// a detour, it moves on: to the first finding that another step repairs (what the step
    /// just visited left failing, it does not repair), or to none (Enter then goes on to the
    /// summary); the status says whether the finding visited is cleared.
    pub(super) fn checked(&mut self, report: Report) -> Vec<Effect> {
        self.busy = None;
        self.recheck_in = (report.exit_code() != 0).then_some(RECHECK_SECONDS);
        if report.exit_code() == 0 {
            self.status = Some("every check passes".into());
        }
        self.selected = match self.detour.take() {
            Some(Detour::Back(visited)) if self.step == Step::Verify => {
                self.status = Some(back_from(&visited, &report));
                // what the step just visited still leaves failing, it does not repair
                let visited_step = Step::for_finding(visited.id);
                report
                    .findings
                    .iter()
                    .position(|f| repairable(f) && Step::for_finding(f.id) != visited_step)
            }
            detour => {
                self.detour = detour;
                let kept = self.selected_finding().cloned();
                kept.and_then(|k| report.findings.iter().position(|f| same(f, &k)))
            }
        };
        self.report = Some(report);
        Vec::new()
    }

    /// One second: the spinner, and on Verify the countdown to the next check.
    pub(super) fn tick(&mut self) -> Vec<Effect> {
        self.ticks += 1;
        if self.step != Step::Verify || self.busy.is_some() {
            return Vec::new();
        }
        match self.recheck_in {
            Some(0) | Some(1) => self.check(),
            Some(n) => {
                self.recheck_in = Some(n - 1);
                Vec::new()
            }
            None => Vec::new(),
        }
    }
}

/// The same finding: the same id about the same subject.
fn same(a: &Finding, b: &Finding) -> bool {
    a.id == b.id && a.subject == b.subject
}

/// A failing finding (not a note) that a step repairs: where Enter is worth a jump.
fn repairable(f: &Finding) -> bool {
    f.severity != Severity::Info && Step::for_finding(f.id).is_some_and(|s| s != Step::Verify)
}

/// The status line back on Verify: whether the finding visited is cleared.
fn back_from(visited: &Finding, report: &Report) -> String {
    let id = visited.id;
    let subject = &visited.subject;
    if report.findings.iter().any(|f| same(f, visited)) {
        format!("{id} ({subject}) still fails")
    } else if report.exit_code() == 0 {
        format!("{id} ({subject}) is cleared; every check passes")
    } else {
        format!("{id} ({subject}) is cleared")
    }
}
