//! The `running` check line (on the host only), judged from a [`LocalState`]: postfix and
//! opendkim run, and Postfix listens with the IP versions and interfaces main.cf asks for
//! (a change there needs a stop and start, not a reload). Pure.

use super::{LocalState, error, listeners};
use crate::check::{Finding, ids};
use crate::postfix::MainCf;

/// The findings of the `running` line, in report order; `None` when the daemons were not
/// looked at (beneath a test root).
pub(super) fn findings(state: &LocalState) -> Option<Vec<Finding>> {
    let (postfix, opendkim) = state.running?;
    let mut findings = Vec::new();
    if postfix {
        findings.extend(restart_pending(state));
    }
    if !opendkim {
        findings.push(not_running(ids::OPENDKIM_NOT_RUNNING, "opendkim"));
    }
    if !postfix {
        findings.push(not_running(ids::POSTFIX_NOT_RUNNING, "postfix"));
    }
    Some(findings)
}

/// `postfix.restart-pending`: main.cf's inet_protocols asks for IP versions the running
/// Postfix does not listen with, or listens with versions it no longer asks for.
fn restart_pending(state: &LocalState) -> Option<Finding> {
    let cf = MainCf::parse(state.main_cf.as_deref()?);
    let value = |name| cf.get(name).unwrap_or_else(|| "all".into());
    let why = listeners::pending(
        state.smtp_listeners.as_ref()?,
        &value("inet_protocols"),
        &value("inet_interfaces"),
    )?;
    Some(
        error(
            ids::POSTFIX_RESTART_PENDING,
            "postfix, opendkim",
            format!(
                "{why}: it was changed and Postfix only reloaded, which ignores \
                 inet_protocols and inet_interfaces"
            ),
        )
        .fix(Some(
            "stop and start Postfix: postfix stop && postfix start (systemctl restart postfix \
             with systemd)"
                .into(),
        )),
    )
}

/// `postfix.not-running` / `opendkim.not-running` for `service`.
fn not_running(id: &'static str, service: &str) -> Finding {
    error(
        id,
        "postfix, opendkim",
        format!("{service} is not running: no mail is signed (or sent) until it is"),
    )
    .fix(Some(format!(
        "start it: /etc/init.d/{service} start (systemctl start {service} with systemd)"
    )))
}
