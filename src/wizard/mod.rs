//! The wizard as a state machine: [`Wizard::update`] takes a [`Msg`] (a key, or the result
//! of an effect) and returns the [`Effect`]s to run. It does no I/O: reading the system,
//! planning, applying, key generation, DNS and the clipboard are effects that the runtime
//! (`crate::tui`) runs and answers with another message. The view only reads the state.
//!
//! Keys (a contract): Enter accept / next, Esc back, Tab / Shift-Tab next / previous field,
//! arrows and PgUp/PgDn scroll, `y` apply the diff shown, `n` skip it, `c` copy, `s` save
//! the records, `?` help, `q` quit (asks first when something is half-applied), Ctrl-C quit.

pub mod form;
pub mod step;

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr};

use crate::check::{Finding, Report};
use crate::plan::Plan;
use crate::services::{Service, ServiceAction, Verb};
use crate::settings::Settings;
use crate::values::{InetProtocols, MilterSocket, Port};
pub use form::Form;
pub use step::Step;

/// What the scan found on the system (the result of [`Effect::Scan`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scan {
    /// `PRETTY_NAME` of /etc/os-release.
    pub distribution: String,
    pub is_root: bool,
    /// Debian packages that are needed and not installed.
    pub missing_packages: Vec<String>,
    /// Current settings found: (`main.cf myhostname`, value), …
    pub found: Vec<(String, String)>,
    /// Existing private keys.
    pub keys: Vec<String>,
    pub hostname: Option<String>,
    pub ipv4: Option<Ipv4Addr>,
    pub ipv6: Option<Ipv6Addr>,
}

/// A key, as the runtime translates it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Enter,
    Esc,
    Tab,
    BackTab,
    Up,
    Down,
    PageUp,
    PageDown,
    Backspace,
    Char(char),
    CtrlC,
}

/// Everything that reaches [`Wizard::update`].
#[derive(Debug, Clone, PartialEq)]
pub enum Msg {
    Key(Key),
    Scanned(Scan),
    Planned(Step, Result<Plan, String>),
    Applied(Step, Result<Vec<String>, String>),
    Installed(Result<String, String>),
    /// The records to publish, as text (zone form, then one-string form, then PTR).
    Records(Result<String, String>),
    Checked(Report),
    /// The AAAA of the hostname and the PTR of the server's IPv6, for the inet_protocols step.
    Readiness(Report),
    /// The selftest's report (`selftest.*` findings).
    SelfTested(Report),
    /// The earlier steps of an interrupted wizard run were undone (a line saying what), or
    /// why not.
    SessionUndone(Result<String, String>),
    /// The services were restarted (the lines say what was done) or one failed.
    Restarted(Result<Vec<String>, String>),
    /// A copy, save or other side job finished: a line for the status bar.
    Done(String),
    /// One second passed (spinner, countdown).
    Tick,
}

/// What the runtime must do.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Scan,
    /// `apt-get install -y <packages>` (only on confirmation, never in a dry run).
    Install(Vec<String>),
    /// Build the plan of this step's part from `settings` and the system as it is now.
    Plan(Step, Settings),
    /// Write this plan (never in a dry run). Its service actions are recorded, not
    /// performed: [`Effect::Restart`] does them once, at the summary.
    Apply(Step, Plan),
    /// Restart or reload the services the applied steps need (step 9, "reload").
    Restart(Vec<ServiceAction>),
    /// After the restart: a test message from each domain through OpenDKIM, verified
    /// against the published key (`mailsetup selftest`).
    Selftest(Settings),
    Records(Settings),
    Check(Settings),
    /// Look up the hostname's AAAA and the IPv6 address's PTR (step 2's IPv6 readiness).
    Readiness(Settings),
    /// Put the text on the clipboard (OSC 52, works over SSH).
    Copy(String),
    SaveRecords(String),
    /// Save the answers (comments kept) for the next run.
    SaveAnswers(Settings),
    /// Undo every applied step of this earlier wizard run (`mailsetup rollback`, for that
    /// run only): never in a dry run.
    UndoSession(String),
    Quit,
}

/// Where a step's diff stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Shown; waiting for `y` or `n`.
    Pending,
    /// The files already match.
    AlreadyDone,
    Applying,
    /// Applied; the lines say what was done. `verified`: the step's plan is empty afterwards.
    Applied {
        lines: Vec<String>,
        verified: Option<bool>,
    },
    /// Dry run: would have been applied.
    WouldApply,
    Skipped,
    Failed(String),
}

/// A step's plan and what became of it.
#[derive(Debug, Clone, PartialEq)]
pub struct StepPlan {
    pub plan: Plan,
    pub outcome: Outcome,
}

/// An interrupted run that was undone before the wizard opened (the first screen says so).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interrupted {
    /// What was found and done, as `crate::apply::Recovered` says it.
    pub notice: String,
    /// The wizard run (session) the interrupted step belonged to, and how many of its
    /// earlier steps stay applied: the wizard offers to undo them too (`u`) or to go on.
    pub session: Option<String>,
    pub earlier: usize,
}

/// How the wizard starts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Options {
    pub dry_run: bool,
    /// Pre-filled answers (`--answers` or the saved answers file).
    pub answers: Option<Settings>,
    /// `mailsetup fix <id>`: open at this step with this finding shown.
    pub fix: Option<(Step, Finding)>,
    /// An interrupted run recovered before the wizard opened.
    pub interrupted: Option<Interrupted>,
}

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

    /// Handle one message; returns the effects to run.
    pub fn update(&mut self, msg: Msg) -> Vec<Effect> {
        match msg {
            Msg::Key(key) => self.key(key),
            Msg::Scanned(scan) => {
                self.busy = None;
                if self.settings.is_none() {
                    self.form = Form::new(None, scan.hostname.as_deref(), scan.ipv4, scan.ipv6);
                }
                self.scan = Some(scan);
                Vec::new()
            }
            Msg::Installed(result) => {
                self.busy = None;
                self.status = Some(match result {
                    Ok(line) => line,
                    Err(e) => format!("install failed: {e}"),
                });
                vec![Effect::Scan]
            }
            Msg::Planned(step, result) => self.planned(step, result),
            Msg::Applied(step, result) => self.applied(step, result),
            Msg::Records(result) => {
                self.busy = None;
                match result {
                    Ok(text) => self.records = Some(text),
                    Err(e) => self.status = Some(format!("cannot show the records: {e}")),
                }
                Vec::new()
            }
            Msg::Checked(report) => {
                self.busy = None;
                self.recheck_in = (report.exit_code() != 0).then_some(RECHECK_SECONDS);
                if report.exit_code() == 0 {
                    self.status = Some("every check passes".into());
                }
                self.selected = self.selected.filter(|i| *i < report.findings.len());
                self.report = Some(report);
                Vec::new()
            }
            Msg::Readiness(report) => {
                self.readiness = Some(report);
                Vec::new()
            }
            Msg::Restarted(result) => {
                self.busy = None;
                let ok = result.is_ok();
                self.restarted = Some(result);
                // the last step: prove that mail is signed with the published key
                match (&self.settings, ok) {
                    (Some(s), true) => {
                        self.busy = Some("selftest: signing a test message".into());
                        vec![Effect::Selftest(s.clone())]
                    }
                    _ => Vec::new(),
                }
            }
            Msg::SelfTested(report) => {
                self.busy = None;
                self.selftest = Some(report);
                Vec::new()
            }
            Msg::SessionUndone(result) => {
                self.busy = None;
                self.status = Some(match result {
                    Ok(line) => {
                        if let Some(i) = &mut self.interrupted {
                            i.earlier = 0;
                        }
                        line
                    }
                    Err(e) => format!("not undone: {e}"),
                });
                Vec::new()
            }
            Msg::Done(line) => {
                self.status = Some(line);
                Vec::new()
            }
            Msg::Tick => self.tick(),
        }
    }

    fn tick(&mut self) -> Vec<Effect> {
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

    fn key(&mut self, key: Key) -> Vec<Effect> {
        if key == Key::CtrlC {
            return self.quit();
        }
        if self.confirm_quit {
            return match key {
                Key::Char('y') => self.quit(),
                _ => {
                    self.confirm_quit = false;
                    Vec::new()
                }
            };
        }
        if self.help {
            self.help = false;
            return Vec::new();
        }
        let typing = self.step == Step::Identity;
        match key {
            Key::Char('?') if !typing => {
                self.help = true;
                Vec::new()
            }
            Key::Char('q') if !typing => {
                if self.half_applied() {
                    self.confirm_quit = true;
                    Vec::new()
                } else {
                    self.quit()
                }
            }
            Key::Esc => {
                let back = self.step.prev();
                self.goto(back)
            }
            Key::Up => self.scroll(-1),
            Key::Down => self.scroll(1),
            Key::PageUp => self.scroll(-10),
            Key::PageDown => self.scroll(10),
            _ => self.step_key(key),
        }
    }

    fn quit(&mut self) -> Vec<Effect> {
        self.done = true;
        let mut effects = Vec::new();
        if !self.dry_run
            && let Some(s) = &self.settings
        {
            effects.push(Effect::SaveAnswers(s.clone()));
        }
        effects.push(Effect::Quit);
        effects
    }

    fn scroll(&mut self, by: i32) -> Vec<Effect> {
        if self.step == Step::Identity {
            if by < 0 {
                self.form.prev();
            } else {
                self.form.next();
            }
        } else if self.step == Step::Verify {
            let n = self.report.as_ref().map_or(0, |r| r.findings.len());
            self.selected = match (self.selected, by.signum()) {
                (_, _) if n == 0 => None,
                (None, 1) => Some(0),
                (Some(i), 1) => Some((i + 1).min(n - 1)),
                (Some(0), -1) => None,
                (Some(i), -1) => Some(i - 1),
                (s, _) => s,
            };
        } else {
            self.scroll = (i32::from(self.scroll) + by).max(0) as u16;
        }
        Vec::new()
    }

    fn step_key(&mut self, key: Key) -> Vec<Effect> {
        match self.step {
            Step::Scan => match key {
                Key::Enter => self.goto(Step::Identity),
                Key::Char('y') => self.install(),
                Key::Char('u') => self.undo_session(),
                _ => Vec::new(),
            },
            Step::Identity => match key {
                Key::Tab => {
                    self.form.next();
                    Vec::new()
                }
                Key::BackTab => {
                    self.form.prev();
                    Vec::new()
                }
                Key::Backspace => {
                    self.form.backspace();
                    Vec::new()
                }
                Key::Char(c) => {
                    self.form.input(c);
                    Vec::new()
                }
                Key::Enter => match self.form.settings(self.settings.as_ref()) {
                    Some(s) => {
                        if self.settings.as_ref() != Some(&s) {
                            self.plans.clear();
                            self.records = None;
                            self.readiness = None;
                        }
                        self.settings = Some(s);
                        self.goto(Step::InetProtocols)
                    }
                    None => {
                        self.status = Some("fix the fields marked ✗".into());
                        Vec::new()
                    }
                },
                _ => Vec::new(),
            },
            Step::InetProtocols if key == Key::Tab => self.cycle_inet_protocols(),
            Step::Opendkim if key == Key::Tab => self.cycle_socket(),
            step if step.part().is_some() => self.diff_key(step, key),
            Step::Records => match (key, &self.records) {
                (Key::Enter, _) => self.goto(Step::Verify),
                (Key::Char('c'), Some(text)) => vec![Effect::Copy(text.clone())],
                (Key::Char('s'), Some(_)) if self.dry_run => {
                    self.status = Some("dry run: nothing is saved".into());
                    Vec::new()
                }
                (Key::Char('s'), Some(text)) => vec![Effect::SaveRecords(text.clone())],
                _ => Vec::new(),
            },
            Step::Verify => match key {
                Key::Enter => match self.selected_step() {
                    Some(step) => self.goto(step),
                    None => self.goto(Step::Summary),
                },
                Key::Char('r') if self.busy.is_none() => self.check(),
                _ => Vec::new(),
            },
            Step::Summary => match key {
                Key::Enter => self.quit(),
                _ => Vec::new(),
            },
            _ => Vec::new(),
        }
    }

    /// The step that fixes the selected finding on the Verify screen.
    fn selected_step(&self) -> Option<Step> {
        let f = self.report.as_ref()?.findings.get(self.selected?)?;
        Step::for_finding(f.id)
    }

    /// The undo offered for the earlier steps of an interrupted wizard run, if any.
    pub fn undo_offered(&self) -> Option<&str> {
        self.interrupted
            .as_ref()
            .filter(|i| i.earlier > 0)
            .and_then(|i| i.session.as_deref())
    }

    fn undo_session(&mut self) -> Vec<Effect> {
        let Some(session) = self.undo_offered().map(str::to_string) else {
            return Vec::new();
        };
        if self.dry_run {
            self.status = Some("dry run: nothing is undone".into());
            return Vec::new();
        }
        self.busy = Some("undoing the earlier steps of the interrupted run".into());
        vec![Effect::UndoSession(session)]
    }

    fn install(&mut self) -> Vec<Effect> {
        let Some(scan) = &self.scan else {
            return Vec::new();
        };
        if scan.missing_packages.is_empty() {
            return Vec::new();
        }
        if self.dry_run {
            self.status = Some(format!(
                "dry run: would run apt-get install -y {}",
                scan.missing_packages.join(" ")
            ));
            return Vec::new();
        }
        self.busy = Some("installing packages".into());
        vec![Effect::Install(scan.missing_packages.clone())]
    }

    fn cycle_inet_protocols(&mut self) -> Vec<Effect> {
        let Some(s) = &mut self.settings else {
            return Vec::new();
        };
        s.inet_protocols = match s.inet_protocols {
            InetProtocols::Ipv4 => InetProtocols::All,
            InetProtocols::All => InetProtocols::Ipv6,
            InetProtocols::Ipv6 => InetProtocols::Ipv4,
        };
        self.plans.remove(&Step::InetProtocols);
        self.goto(Step::InetProtocols)
    }

    /// The socket choice of the OpenDKIM step: the Unix socket inside Postfix's chroot, or
    /// TCP on 127.0.0.1:8891 (opendkim.conf(5) `Socket`). Only before the step is applied;
    /// the milter step then names the same socket.
    fn cycle_socket(&mut self) -> Vec<Effect> {
        let applied = self
            .plans
            .get(&Step::Opendkim)
            .is_some_and(|p| matches!(p.outcome, Outcome::Applied { .. } | Outcome::Applying));
        let Some(s) = &mut self.settings else {
            return Vec::new();
        };
        if applied {
            self.status = Some("already applied: the socket is chosen".into());
            return Vec::new();
        }
        s.socket = match s.socket {
            MilterSocket::Local => match Port::new(DEFAULT_INET_PORT) {
                Ok(port) => MilterSocket::Inet(port),
                Err(_) => MilterSocket::Local,
            },
            MilterSocket::Inet(_) => MilterSocket::Local,
        };
        self.plans.remove(&Step::Opendkim);
        self.plans.remove(&Step::Milter);
        self.goto(Step::Opendkim)
    }

    /// Keys on a step that shows a diff.
    fn diff_key(&mut self, step: Step, key: Key) -> Vec<Effect> {
        let Some(p) = self.plans.get_mut(&step) else {
            return Vec::new();
        };
        match (key, &p.outcome) {
            (Key::Char('y'), Outcome::Pending | Outcome::Failed(_)) => {
                if self.dry_run {
                    p.outcome = Outcome::WouldApply;
                    let next = step.next();
                    return self.goto(next);
                }
                p.outcome = Outcome::Applying;
                self.busy = Some(format!("applying: {}", step.title()));
                vec![Effect::Apply(step, p.plan.clone())]
            }
            (Key::Char('n'), Outcome::Pending | Outcome::Failed(_)) => {
                p.outcome = Outcome::Skipped;
                let next = step.next();
                self.goto(next)
            }
            (Key::Enter, Outcome::Pending) => {
                self.status = Some("press y to apply this change, or n to skip it".into());
                Vec::new()
            }
            (Key::Enter, Outcome::Applying) => Vec::new(),
            (Key::Enter, _) => {
                let next = step.next();
                self.goto(next)
            }
            _ => Vec::new(),
        }
    }

    /// Show `step`, with the effects that fill it.
    pub fn goto(&mut self, step: Step) -> Vec<Effect> {
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

    fn check(&mut self) -> Vec<Effect> {
        let Some(settings) = self.settings.clone() else {
            return Vec::new();
        };
        self.busy = Some("asking every authoritative server".into());
        self.recheck_in = None;
        vec![Effect::Check(settings)]
    }

    fn planned(&mut self, step: Step, result: Result<Plan, String>) -> Vec<Effect> {
        self.busy = None;
        let plan = match result {
            Ok(plan) => plan,
            Err(e) => {
                self.status = Some(format!("cannot plan {}: {e}", step.title()));
                return Vec::new();
            }
        };
        match self.plans.get_mut(&step) {
            // the re-plan after an apply: empty means the step is done
            Some(StepPlan {
                outcome: Outcome::Applied { verified, .. },
                ..
            }) => {
                *verified = Some(plan.is_empty());
                self.status = Some(if plan.is_empty() {
                    format!("{}: done, the files now match", step.title())
                } else {
                    format!("{}: changes remain after applying", step.title())
                });
            }
            _ => {
                let outcome = if plan.is_empty() {
                    Outcome::AlreadyDone
                } else {
                    Outcome::Pending
                };
                self.plans.insert(step, StepPlan { plan, outcome });
            }
        }
        Vec::new()
    }

    fn applied(&mut self, step: Step, result: Result<Vec<String>, String>) -> Vec<Effect> {
        self.busy = None;
        let Some(p) = self.plans.get_mut(&step) else {
            return Vec::new();
        };
        match result {
            Ok(lines) => {
                let actions = p.plan.services.clone();
                p.outcome = Outcome::Applied {
                    lines,
                    verified: None,
                };
                for action in actions {
                    merge_service(&mut self.pending_services, action);
                }
                match &self.settings {
                    Some(s) => vec![Effect::Plan(step, s.clone())],
                    None => Vec::new(),
                }
            }
            Err(e) => {
                self.status = Some(format!("not applied: {e}"));
                p.outcome = Outcome::Failed(e);
                Vec::new()
            }
        }
    }
}

/// Add `action` to `pending`, once per service; a restart outranks a reload.
fn merge_service(pending: &mut Vec<ServiceAction>, action: ServiceAction) {
    match pending.iter_mut().find(|a| a.service == action.service) {
        Some(a) if a.verb == Verb::Reload && action.verb == Verb::Restart => *a = action,
        Some(_) => {}
        None => pending.push(action),
    }
    // OpenDKIM first, so its socket exists when Postfix comes back
    pending.sort_by_key(|a| a.service != Service::Opendkim);
}

#[cfg(test)]
mod tests;
