//! Keys: the global ones first (Ctrl-C, the quit confirmation, the help, `?`, `q`, Esc,
//! scrolling), then each step's own (the scan's install and undo, the identity form, the
//! Keys step's rotation, the records' copy and save, the summary's Enter). The diff steps' keys are in `diff`, the
//! Verify screen's in `verify`. Pure: state in, effects out.

use super::{Effect, Key, Step, Wizard};

impl Wizard {
    /// A key: Ctrl-C, the quit confirmation and the help first, then the keys every screen
    /// shares (`?`, `q`, Esc, scrolling; not while typing on the form), then the step's.
    pub(super) fn key(&mut self, key: Key) -> Vec<Effect> {
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
                let back = self.back();
                self.goto(back)
            }
            Key::Up => self.scroll(-1),
            Key::Down => self.scroll(1),
            Key::PageUp => self.scroll(-10),
            Key::PageDown => self.scroll(10),
            _ => self.step_key(key),
        }
    }

    /// Quit, saving the answers (not in a dry run).
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

    /// Up / Down / PgUp / PgDn: the field on the form, the finding on Verify, else the body.
    fn scroll(&mut self, by: i32) -> Vec<Effect> {
        if self.step == Step::Identity {
            if by < 0 {
                self.form.prev();
            } else {
                self.form.next();
            }
        } else if self.step == Step::Verify {
            self.select(by);
        } else {
            self.scroll = (i32::from(self.scroll) + by).max(0) as u16;
        }
        Vec::new()
    }

    /// The keys of the step shown (after the global ones).
    fn step_key(&mut self, key: Key) -> Vec<Effect> {
        match self.step {
            Step::Scan => match key {
                Key::Enter => self.goto(Step::Identity),
                Key::Char('y') => self.install(),
                Key::Char('u') => self.undo_session(),
                _ => Vec::new(),
            },
            Step::Identity => self.identity_key(key),
            Step::InetProtocols if key == Key::Tab => self.cycle_inet_protocols(),
            Step::Opendkim if key == Key::Tab => self.cycle_socket(),
            Step::Keys if key == Key::Char('r') => self.rotate(),
            step if step.part().is_some() => self.diff_key(step, key),
            Step::Records => self.records_key(key),
            Step::Verify => self.verify_key(key),
            Step::Summary => match key {
                Key::Enter => self.quit(),
                _ => Vec::new(),
            },
            _ => Vec::new(),
        }
    }

    /// The identity form: Tab / Shift-Tab between fields, typing, ← → through a field's
    /// choices, and Enter to check the answers (new answers drop the plans and records made
    /// from the old ones).
    fn identity_key(&mut self, key: Key) -> Vec<Effect> {
        match key {
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
            Key::Left | Key::Right => {
                self.form.choose(if key == Key::Left { -1 } else { 1 });
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
        }
    }

    /// The records: copy, save (not in a dry run), publish (the demo only), Enter on to
    /// Verify.
    fn records_key(&mut self, key: Key) -> Vec<Effect> {
        match (key, &self.records) {
            (Key::Enter, _) => self.goto(Step::Verify),
            (Key::Char('p'), Some(_)) if self.demo.is_some() => match &self.settings {
                Some(s) => {
                    self.busy = Some("publishing the records".into());
                    vec![Effect::Publish(s.clone())]
                }
                None => Vec::new(),
            },
            (Key::Char('c'), Some(text)) => vec![Effect::Copy(text.clone())],
            (Key::Char('s'), Some(_)) if self.dry_run => {
                self.status = Some("dry run: nothing is saved".into());
                Vec::new()
            }
            (Key::Char('s'), Some(text)) => vec![Effect::SaveRecords(text.clone())],
            _ => Vec::new(),
        }
    }

    /// `y` on the scan: install the missing packages (only said in a dry run).
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

    /// `u` on the scan: undo the earlier steps of the interrupted run, when offered.
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
}
