//! The Verify screen: the finding selected with the arrows (Enter jumps to the step that
//! fixes it, or on to the summary without one), the checks (`r`, and on arrival), their
//! report, and the re-check every [`RECHECK_SECONDS`] while something fails. Pure.

use super::{Effect, Key, RECHECK_SECONDS, Step, Wizard};
use crate::check::Report;

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

    /// Enter: to the selected finding's step, or to the summary; `r` checks again.
    pub(super) fn verify_key(&mut self, key: Key) -> Vec<Effect> {
        match key {
            Key::Enter => match self.selected_step() {
                Some(step) => self.goto(step),
                None => self.goto(Step::Summary),
            },
            Key::Char('r') if self.busy.is_none() => self.check(),
            _ => Vec::new(),
        }
    }

    /// The step that fixes the selected finding on the Verify screen.
    fn selected_step(&self) -> Option<Step> {
        let f = self.report.as_ref()?.findings.get(self.selected?)?;
        Step::for_finding(f.id)
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

    /// The report arrived: count down to the next check while something fails.
    pub(super) fn checked(&mut self, report: Report) -> Vec<Effect> {
        self.busy = None;
        self.recheck_in = (report.exit_code() != 0).then_some(RECHECK_SECONDS);
        if report.exit_code() == 0 {
            self.status = Some("every check passes".into());
        }
        self.selected = self.selected.filter(|i| *i < report.findings.len());
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
