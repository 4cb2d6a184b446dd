//! The service actions of the applied steps: merged once per service (a restart outranks a
//! reload; OpenDKIM first), performed once at the summary ([`super::Wizard::goto`] asks
//! for the restart), then the selftest proves that mail is signed. Pure.

use super::{Effect, Wizard};
use crate::plan::{ServiceAction, Verb};

impl Wizard {
    /// The services were restarted (or one failed): then the selftest, when it worked.
    pub(super) fn services_restarted(
        &mut self,
        result: Result<Vec<String>, String>,
    ) -> Vec<Effect> {
        self.busy = None;
        let ok = result.is_ok();
        self.restarted = Some(result);
        // the last step: prove that mail is signed with the published key (beneath a --root
        // no OpenDKIM runs: only said)
        if ok && self.invocation.root.is_some() {
            self.status = Some(
                "selftest: would hand a test message from each domain to OpenDKIM on Postfix's \
                 socket (not done: --root is not /)"
                    .into(),
            );
            return Vec::new();
        }
        match (&self.settings, ok) {
            (Some(s), true) => {
                self.busy = Some("selftest: signing a test message".into());
                vec![Effect::Selftest(s.clone())]
            }
            _ => Vec::new(),
        }
    }
}

/// Add `action` to `pending`, once per service; a restart outranks a reload.
pub(super) fn merge_service(pending: &mut Vec<ServiceAction>, action: ServiceAction) {
    match pending.iter_mut().find(|a| a.service == action.service) {
        Some(a) if a.verb == Verb::Reload && action.verb == Verb::Restart => *a = action,
        Some(_) => {}
        None => pending.push(action),
    }
    // the milters first, so their sockets exist when Postfix comes back
    pending.sort_by_key(|a| a.service.start_rank());
}
