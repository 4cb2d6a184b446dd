//! The wizard's vocabulary: what reaches [`super::Wizard::update`] ([`Msg`], with the
//! [`Key`]s and the [`Scan`]), what it asks the runtime to do ([`Effect`]), where a step's
//! diff stands ([`Outcome`], [`StepPlan`]), and how the wizard starts ([`Options`],
//! [`Interrupted`]). Data only.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::Step;
use crate::check::{Finding, Report};
use crate::invocation::Invocation;
use crate::plan::Plan;
use crate::plan::ServiceAction;
use crate::settings::Settings;

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
    /// The hosting provider guessed from the PTR name of `ipv4` (on this host only), which
    /// pre-fills the form's `provider` field when the answers name none.
    pub provider_guess: Option<crate::provider::Provider>,
    /// amavisd-new is installed (/etc/amavis/conf.d exists): the wizard asks `signer` and
    /// shows the Signer step only then.
    pub amavis: bool,
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
    Left,
    Right,
    PageUp,
    PageDown,
    Backspace,
    Char(char),
    CtrlC,
}

/// Everything that reaches [`super::Wizard::update`].
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
    /// `mailsetup demo`: the records were published into the demo's DNS (a line saying
    /// where and when), or why not.
    Published(Result<String, String>),
    /// `rotate` ran for `r` on the Keys step ([`Effect::Rotate`]).
    Rotated(Rotated),
    /// One second passed (spinner, countdown).
    Tick,
}

/// What a `rotate` run for the wizard said and came to.
#[derive(Debug, Clone, PartialEq)]
pub struct Rotated {
    /// It was the dry run that shows what the next `r` does.
    pub preview: bool,
    /// Everything it said (the new key, the record to publish, the servers that lag, the
    /// switch), as the command line prints it.
    pub text: String,
    /// Its exit code (0 switched or finished, 1 waiting or a dry run), or its error.
    pub result: Result<u8, String>,
    /// The selector that signs after it (a switch happened): the answers take it.
    pub selector: Option<crate::values::Selector>,
}

/// A `rotate` run the wizard asks for: the command line's own, under its screen.
#[derive(Debug, Clone, PartialEq)]
pub struct RotateRun {
    pub settings: Settings,
    /// This run's options (`--root`, `--answers`, DNS): the rotation acts on the same tree.
    pub invocation: Invocation,
    /// Only show what the next `r` does (`--dry-run`): the first `r`, and every `r` in a
    /// dry run.
    pub preview: bool,
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
    /// `mailsetup demo` only: publish the records of these settings into the demo's DNS,
    /// as an operator pastes them into a provider's panel (`p` on the records step).
    Publish(Settings),
    /// Save the answers (comments kept) for the next run.
    SaveAnswers(Settings),
    /// Run `mailsetup rotate` once, without waiting (`r` on the Keys step): start a DKIM key
    /// rotation (a new key under a new selector, its record to publish), or look whether
    /// every authoritative server serves the new record yet and switch to it when they do.
    Rotate(RotateRun),
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

/// Enter on a Verify finding jumps to the step that fixes it: a detour, and the way back.
#[derive(Debug, Clone, PartialEq)]
pub enum Detour {
    /// On the step that fixes this finding: Esc, and finishing the step (Enter after it is
    /// decided, `n`, `y` in a dry run), return to Verify instead of moving through the steps.
    Away(Finding),
    /// Back on Verify, checking again: the report says whether this finding is cleared, and
    /// the selection moves on ([`super::Wizard::update`] with [`Msg::Checked`]).
    Back(Finding),
}

/// An interrupted run that was undone before the wizard opened (the first screen says so).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interrupted {
    /// What was found and done, as `crate::host::apply::Recovered` says it.
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
    /// The options of this run, for the commands the wizard prints.
    pub invocation: Invocation,
    /// `mailsetup demo`: what the sandbox is, for the first screen; the records step then
    /// offers `p` to publish the records into the demo's DNS ([`Effect::Publish`]).
    pub demo: Option<String>,
}
