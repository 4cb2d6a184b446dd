//! The Keys step's `r`: a DKIM key rotation (`mailsetup rotate`, [`crate::rotate`]) from
//! the wizard. Each change is shown before it is made: an `r` previews what the next `r`
//! does (`rotate --dry-run`: the new key and its record, or the switch once every
//! authoritative server serves it), and the `r` after a preview does it (without waiting:
//! the servers that lag are named, and a later `r` looks again). A dry run only previews.
//! Only where the keys exist (the step is done). Pure.

use super::{Effect, Outcome, RotateRun, Rotated, Step, Wizard};

impl Wizard {
    /// Whether `r` on the Keys step rotates: its keys exist (already done, or applied).
    pub fn rotation_offered(&self) -> bool {
        self.plans
            .get(&Step::Keys)
            .is_some_and(|p| matches!(p.outcome, Outcome::AlreadyDone | Outcome::Applied { .. }))
    }

    /// `r` on the Keys step.
    pub(super) fn rotate(&mut self) -> Vec<Effect> {
        if self.busy.is_some() {
            return Vec::new();
        }
        if !self.rotation_offered() {
            self.status = Some("the keys do not exist yet: apply this step first".into());
            return Vec::new();
        }
        let Some(settings) = self.settings.clone() else {
            return Vec::new();
        };
        // the r after a preview does what it showed; any other r shows first
        let preview = self.dry_run
            || !self
                .rotation
                .as_ref()
                .is_some_and(|r| r.preview && r.result.is_ok());
        self.busy = Some(if preview {
            "rotation: looking at the keys and the nameservers".into()
        } else {
            "rotation: writing, then asking every nameserver".into()
        });
        vec![Effect::Rotate(RotateRun {
            settings,
            invocation: self.invocation.clone(),
            preview,
        })]
    }

    /// `rotate` ran: its text is shown on the Keys step; after a switch the answers name
    /// the new selector (saved with them at the end).
    pub(super) fn rotated(&mut self, r: Rotated) -> Vec<Effect> {
        self.busy = None;
        if let (Some(sel), Some(s)) = (&r.selector, &mut self.settings) {
            s.selector = sel.clone();
        }
        self.status = Some(match (&r.result, r.preview) {
            (Err(_), _) => "rotation: not done (the reason is shown)".into(),
            (Ok(_), true) if self.dry_run => "dry run: shown, nothing written".into(),
            (Ok(_), true) => "rotation: shown; press r again to do it".into(),
            (Ok(0), false) => "rotation: done; the records to keep and delete are shown".into(),
            (Ok(_), false) => {
                "rotation: waiting for the nameservers; publish the record, then r again".into()
            }
        });
        self.rotation = Some(r);
        Vec::new()
    }
}
