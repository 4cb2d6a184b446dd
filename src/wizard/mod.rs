//! The wizard as a state machine: [`Wizard::update`] takes a [`Msg`] (a key, or the result
//! of an effect) and returns the [`Effect`]s to run. It does no I/O: reading the system,
//! planning, applying, key generation, DNS and the clipboard are effects that the runtime
//! (`crate::tui`) runs and answers with another message. The view only reads the state.
//!
//! Keys (a contract): Enter accept / next, Esc back, Tab / Shift-Tab next / previous field,
//! ← → a form field's choices, ↑ ↓ and PgUp/PgDn scroll, `y` apply the diff shown, `n` skip it, `c` copy, `s` save
//! the records, `p` publish them (`mailsetup demo` only), `r` re-check (Verify) or rotate the DKIM key (Keys, shown first), `?` help, `q` quit (asks first when something is half-applied), Ctrl-C quit.
//!
//! This file owns the state ([`Wizard`]), its start and [`Wizard::goto`] (showing a step
//! with the effects that fill it). The rest, by seam: `types` (messages, effects,
//! outcomes, options), `update` (the dispatch of [`Msg`] and the results of the scan, the
//! install and the undo), `keys` (keys: the global ones, then each step's), `diff` (the
//! steps that show a diff: y / n, the plan and apply results, Tab's choices), `verify` (the
//! Verify screen: the selected finding, the checks and their re-check countdown),
//! `rotate` (the Keys step's `r`: a DKIM key rotation, previewed first), `services` (the service actions of the applied steps, restarted once at the summary),
//! [`form`] (the identity form) and [`step`] (the steps in order).

mod diff;
pub mod form;
mod keys;
mod rotate;
mod services;
pub mod step;
mod types;
mod update;
mod verify;

use std::collections::BTreeMap;

use crate::check::{Finding, Report};
use crate::invocation::Invocation;
use crate::plan::ServiceAction;
use crate::settings::Settings;
pub use form::Form;
pub use step::Step;
pub use types::{
    Detour, Effect, Interrupted, Key, Msg, Options, Outcome, RotateRun, Rotated, Scan, StepPlan,
};

// the tests (tests.rs) name these through `use super::*`
#[cfg(test)]
use crate::{
    plan::Plan,
    values::{InetProtocols, MilterSocket, Port},
};

/// The TCP port the OpenDKIM step offers (OpenDKIM's customary 8891).
pub const DEFAULT_INET_PORT: u16 = 8891;

/// Seconds between re-checks on the Verify screen.
pub const RECHECK_SECONDS: u32 = 10;

/// The whole state of the wizard.
#[derive(Debug, Clone, PartialEq)]
pub struct Wizard {
    pub step: Step,
    pub dry_run: bool,
    pub settings: Option<Settings>,
    pub scan: Option<Scan>,
    pub form: Form,
    pub plans: BTreeMap<Step, StepPlan>,
    pub records: Option<String>,
    pub report: Option<Report>,
    /// The finding selected on the Verify screen (Enter jumps to its step).
    pub selected: Option<usize>,
    /// A jump from Verify to the step that fixes a finding, until Verify has checked again.
    pub detour: Option<Detour>,
    /// Seconds until the next DNS re-check on the Verify screen.
    pub recheck_in: Option<u32>,
    /// The finding `mailsetup fix <id>` was opened for.
    pub fixing: Option<Finding>,
    pub scroll: u16,
    /// A background job is running: what it is.
    pub busy: Option<String>,
    pub status: Option<String>,
    pub help: bool,
    pub confirm_quit: bool,
    pub ticks: u64,
    pub done: bool,
    /// Service actions of the applied steps, not yet performed.
    pub pending_services: Vec<ServiceAction>,
    /// What the restart at the summary did.
    pub restarted: Option<Result<Vec<String>, String>>,
    /// IPv6 readiness (AAAA and PTR), looked up on the inet_protocols step.
    pub readiness: Option<Report>,
    /// The selftest after the restart at the summary.
    pub selftest: Option<Report>,
    /// The interrupted run undone before the wizard opened, shown on the first screen.
    pub interrupted: Option<Interrupted>,
    /// The options of this run (`--root`, `--answers`, DNS), for the commands it prints.
    pub invocation: Invocation,
    /// `mailsetup demo`: what the sandbox is (the first screen says it); `p` on the records
    /// step publishes them into the demo's DNS.
    pub demo: Option<String>,
    /// The last `rotate` run of the Keys step's `r`: what it said, and whether the next `r`
    /// runs it for real (after a preview) or previews again.
    pub rotation: Option<Rotated>,
}

impl Wizard {
    /// The initial state and the effects to start with (the scan).
    pub fn new(options: Options) -> (Wizard, Vec<Effect>) {
        let (step, fixing) = match options.fix {
            Some((step, finding)) => (step, Some(finding)),
            None => (Step::Scan, None),
        };
        let w = Wizard {
            step: Step::Scan,
            dry_run: options.dry_run,
            form: Form::new(options.answers.as_ref(), None, None, None),
            settings: options.answers,
            scan: None,
            plans: BTreeMap::new(),
            records: None,
            report: None,
            selected: None,
            detour: None,
            recheck_in: None,
            fixing,
            scroll: 0,
            busy: Some("reading the system".into()),
            status: None,
            help: false,
            confirm_quit: false,
            ticks: 0,
            done: false,
            pending_services: Vec::new(),
            restarted: None,
            readiness: None,
            selftest: None,
            interrupted: options.interrupted,
            invocation: options.invocation,
            demo: options.demo,
            rotation: None,
        };
        let mut w = w;
        let mut effects = vec![Effect::Scan];
        if step != Step::Scan && w.settings.is_some() {
            effects.extend(w.goto(step));
        }
        (w, effects)
    }

    /// Whether any step was applied and the summary is not reached yet.
    pub fn half_applied(&self) -> bool {
        self.step != Step::Summary
            && self
                .plans
                .values()
                .any(|p| matches!(p.outcome, Outcome::Applied { .. }))
    }

    /// Whether Esc and finishing this step return to Verify (a [`Detour`] away from it).
    pub fn returns_to_verify(&self) -> bool {
        matches!(self.detour, Some(Detour::Away(_)))
    }

    /// Where Esc goes: back to Verify from a detour, else the step before (past a step
    /// this server does not need, [`Wizard::shown`]).
    pub(crate) fn back(&self) -> Step {
        if self.returns_to_verify() {
            Step::Verify
        } else {
            let mut s = self.step.prev();
            while !self.shown(s) && s.prev() != s {
                s = s.prev();
            }
            s
        }
    }

    /// Where finishing `step` goes: back to Verify from a detour, else the next step (past
    /// a step this server does not need, [`Wizard::shown`]).
    pub(crate) fn onward(&self, step: Step) -> Step {
        if self.returns_to_verify() {
            Step::Verify
        } else {
            let mut s = step.next();
            while !self.shown(s) && s.next() != s {
                s = s.next();
            }
            s
        }
    }

    /// `N/M` for `step`: its number among the steps the walk shows ([`Wizard::shown`];
    /// the scan is 0), and the last one's.
    pub fn numbered(&self, step: Step) -> String {
        step.numbered(self.shown(Step::Signer))
    }

    /// Whether the walk shows `step`: the Signer step only where amavisd-new is installed
    /// (the scan says so), or the answers make it the signer; a `fix` goes to it anyway.
    pub(crate) fn shown(&self, step: Step) -> bool {
        step != Step::Signer
            || self.scan.as_ref().is_some_and(|s| s.amavis)
            || self
                .settings
                .as_ref()
                .is_some_and(|s| s.signer == crate::values::Signer::AmavisdNew)
    }

    /// `mailsetup … COMMAND` with the options of this run.
    pub fn command(&self, args: &str) -> String {
        self.invocation.command(args)
    }

    /// `mailsetup … check` for the records to publish: with the answers given, or else with
    /// those the wizard saves for the next run (`saved`, beneath the root; a dry run saves
    /// nothing, and `check` then needs `--answers` added).
    pub fn check_command(&self, saved: &str) -> String {
        self.saved_invocation(saved).command("check")
    }

    /// This run's options, naming the answers as [`Wizard::check_command`] does.
    pub fn saved_invocation(&self, saved: &str) -> Invocation {
        if self.dry_run {
            self.invocation.clone()
        } else {
            self.invocation
                .or_answers(self.invocation.beneath_root(saved))
        }
    }

    /// The undo offered for the earlier steps of an interrupted wizard run, if any.
    pub fn undo_offered(&self) -> Option<&str> {
        self.interrupted
            .as_ref()
            .filter(|i| i.earlier > 0)
            .and_then(|i| i.session.as_deref())
    }

    /// Show `step`, with the effects that fill it.
    pub fn goto(&mut self, step: Step) -> Vec<Effect> {
        self.detour = match (self.detour.take(), step) {
            // back from a detour: Verify checks again, and then selects anew
            (Some(Detour::Away(f)), Step::Verify) => {
                self.selected = None;
                Some(Detour::Back(f))
            }
            (Some(Detour::Back(f)), Step::Verify) => Some(Detour::Back(f)),
            (Some(Detour::Away(f)), _) => Some(Detour::Away(f)),
            (_, _) => None,
        };
        self.step = step;
        self.scroll = 0;
        self.status = None;
        let Some(settings) = self.settings.clone() else {
            if step > Step::Identity {
                self.step = Step::Identity;
            }
            return Vec::new();
        };
        let mut effects = Vec::new();
        if step == Step::InetProtocols && settings.ipv6.is_some() && self.readiness.is_none() {
            effects.push(Effect::Readiness(settings.clone()));
        }
        if step.part().is_some() {
            let decided = self
                .plans
                .get(&step)
                .is_some_and(|p| !matches!(p.outcome, Outcome::Pending | Outcome::AlreadyDone));
            if decided {
                return effects;
            }
            self.busy = Some(format!("planning: {}", step.title()));
            effects.push(Effect::Plan(step, settings));
            return effects;
        }
        match step {
            Step::Records => {
                self.busy = Some("composing the records".into());
                vec![Effect::Records(settings)]
            }
            Step::Verify => self.check(),
            Step::Summary if !self.pending_services.is_empty() && !self.dry_run => {
                self.busy = Some("restarting the services".into());
                vec![Effect::Restart(std::mem::take(&mut self.pending_services))]
            }
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests;
