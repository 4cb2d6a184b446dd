//! The dispatch of [`Msg`]: each message goes to the seam that owns it (keys, the diff
//! steps, Verify, the services), and the results that belong to no step screen are handled
//! here: the scan, the install, the records, the readiness, the selftest and the undo of an
//! interrupted run. Pure: state in, effects out.

use super::{Effect, Form, Msg, Scan, Wizard};
use crate::values::Signer;

impl Wizard {
    /// Handle one message; returns the effects to run (none of them run here).
    pub fn update(&mut self, msg: Msg) -> Vec<Effect> {
        match msg {
            Msg::Key(key) => self.key(key),
            Msg::Scanned(scan) => self.scanned(scan),
            Msg::Installed(result) => self.installed(result),
            Msg::Planned(step, result) => self.planned(step, result),
            Msg::Applied(step, result) => self.applied(step, result),
            Msg::Records(result) => self.composed(result),
            Msg::Checked(report) => self.checked(report),
            Msg::Readiness(report) => {
                self.readiness = Some(report);
                Vec::new()
            }
            Msg::Restarted(result) => self.services_restarted(result),
            Msg::SelfTested(report) => {
                self.busy = None;
                self.selftest = Some(report);
                Vec::new()
            }
            Msg::SessionUndone(result) => self.session_undone(result),
            Msg::Done(line) => {
                self.status = Some(line);
                Vec::new()
            }
            Msg::Published(result) => {
                self.busy = None;
                self.status = Some(result.unwrap_or_else(|e| format!("not published: {e}")));
                Vec::new()
            }
            Msg::Rotated(r) => self.rotated(r),
            Msg::Tick => self.tick(),
        }
    }

    /// The scan: the form starts from what it found, unless answers were given.
    fn scanned(&mut self, scan: Scan) -> Vec<Effect> {
        self.busy = None;
        if self.settings.is_none() {
            self.form = Form::new(None, scan.hostname.as_deref(), scan.ipv4, scan.ipv6);
        }
        if let Some(p) = scan.provider_guess {
            self.form.guess_provider(p);
        }
        if scan.amavis
            || self
                .settings
                .as_ref()
                .is_some_and(|s| s.signer == Signer::AmavisdNew)
        {
            self.form.ask_signer(self.settings.as_ref());
        }
        self.scan = Some(scan);
        Vec::new()
    }

    /// The packages were installed (or not): say so, and scan again.
    fn installed(&mut self, result: Result<String, String>) -> Vec<Effect> {
        self.busy = None;
        self.status = Some(match result {
            Ok(line) => line,
            Err(e) => format!("install failed: {e}"),
        });
        vec![Effect::Scan]
    }

    /// The records to publish were composed (or why not).
    fn composed(&mut self, result: Result<String, String>) -> Vec<Effect> {
        self.busy = None;
        match result {
            Ok(text) => self.records = Some(text),
            Err(e) => self.status = Some(format!("cannot show the records: {e}")),
        }
        Vec::new()
    }

    /// The earlier steps of the interrupted run were undone: nothing is offered any more.
    fn session_undone(&mut self, result: Result<String, String>) -> Vec<Effect> {
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
}
