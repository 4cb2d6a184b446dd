//! The `spf-policy` check line (with `inbound_spf = true` only), judged from a
//! [`LocalState`]: the SPF policy agent (postfix-policyd-spf-python, [`crate::inbound_spf`])
//! is installed with its user, master.cf runs it as the `policyd-spf` spawn service, and
//! main.cf `smtpd_recipient_restrictions` asks it after the relay control. Pure.
//!
//! `fix` repairs a missing service and a missing wiring (the Inbound SPF step); the package,
//! an operator's own service entry and an operator's order are the operator's: their
//! findings print what to do instead.

use super::{LocalState, error};
use crate::check::{Finding, Severity, ids};
use crate::host::system;
use crate::inbound_spf::{self as spf, ServiceState, Wiring};
use crate::postfix::{MainCf, MasterCf};

/// The findings of the `spf-policy` line, in report order: package, user, service, wiring.
pub(super) fn findings(state: &LocalState) -> Vec<Finding> {
    let mut out = Vec::new();
    let install = Some(format!("apt-get install {}", spf::PACKAGE));
    if !state.policyd_spf {
        out.push(
            error(
                ids::SPF_POLICY_PACKAGE_MISSING,
                spf::PROGRAM,
                format!(
                    "{} does not exist: the SPF policy agent ({}) is not installed, so \
                     Postfix cannot check the SPF of incoming mail",
                    spf::PROGRAM,
                    spf::PACKAGE
                ),
            )
            .expected(spf::PROGRAM)
            .fix(install.clone()),
        );
    }
    if state.accounts.user(spf::USER).is_none() {
        out.push(
            error(
                ids::SPF_POLICY_USER_MISSING,
                spf::USER,
                format!(
                    "the system user {} does not exist: spawn(8) cannot run the SPF policy \
                     agent as it (the package {} creates it)",
                    spf::USER,
                    spf::PACKAGE
                ),
            )
            .expected(format!("user {}", spf::USER))
            .fix(install),
        );
    }
    let entry = format!("{}\n{}", spf::ENTRY, spf::ENTRY_ARGS);
    match state.master_cf.as_deref().map(MasterCf::parse) {
        None => {}
        Some(master) => match spf::service(&master) {
            ServiceState::Ours => {}
            ServiceState::Missing => out.push(
                error(
                    ids::SPF_POLICY_SERVICE_MISSING,
                    system::MASTER_CF,
                    "master.cf has no policyd-spf service: Postfix cannot reach the SPF \
                     policy agent (mail it asks about is deferred)"
                        .into(),
                )
                .expected(entry.clone())
                .fix(Some(format!("add to master.cf:\n{entry}"))),
            ),
            ServiceState::Other {
                line,
                command,
                user,
                program,
            } => out.push(
                Finding::new(
                    ids::SPF_POLICY_SERVICE_MISMATCH,
                    Severity::Warning,
                    system::MASTER_CF,
                    format!(
                        "master.cf line {line} runs the policyd-spf service as command \
                         {command}, user={}, program {}: not the SPF policy agent as its \
                         package installs it; mailsetup leaves the operator's entry alone",
                        user.as_deref().unwrap_or("(none)"),
                        program.as_deref().unwrap_or("(none)")
                    ),
                )
                .found(format!(
                    "{command} user={} argv={}",
                    user.as_deref().unwrap_or(""),
                    program.as_deref().unwrap_or("")
                ))
                .expected(entry.clone())
                .fix(Some(format!(
                    "edit the entry at master.cf line {line} to read:\n{entry}\nthen: \
                     postfix reload"
                ))),
            ),
        },
    }
    let list = state
        .main_cf
        .as_deref()
        .and_then(|t| MainCf::parse(t).get(spf::RESTRICTIONS));
    match spf::wiring(list.as_deref()) {
        Wiring::Wired => {}
        Wiring::Absent => out.push(
            error(
                ids::SPF_POLICY_NOT_WIRED,
                system::MAIN_CF,
                format!(
                    "main.cf {} does not ask the SPF policy agent: incoming mail is not \
                     SPF-checked",
                    spf::RESTRICTIONS
                ),
            )
            .found(list.clone().unwrap_or_else(|| "(not set)".into()))
            .expected(format!("{} after reject_unauth_destination", spf::CHECK))
            .fix(Some(format!(
                "add {} to {} after reject_unauth_destination",
                spf::CHECK,
                spf::RESTRICTIONS
            ))),
        ),
        Wiring::Before => out.push(
            Finding::new(
                ids::SPF_POLICY_ORDER,
                Severity::Warning,
                system::MAIN_CF,
                format!(
                    "main.cf {} asks the SPF policy agent before reject_unauth_destination: \
                     mail this server must refuse as relaying is checked (and may get the \
                     agent's answer) first",
                    spf::RESTRICTIONS
                ),
            )
            .found(list.clone().unwrap_or_default())
            .expected(format!("{} after reject_unauth_destination", spf::CHECK))
            .fix(Some(format!(
                "in main.cf {}, move `{}` after reject_unauth_destination (mailsetup does \
                 not reorder the operator's restrictions), then: postfix reload",
                spf::RESTRICTIONS,
                spf::CHECK
            ))),
        ),
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::host::accounts::Accounts;

    const WIRED: &str = "smtpd_recipient_restrictions = permit_mynetworks, \
                         reject_unauth_destination, check_policy_service unix:private/policyd-spf\n";
    const SERVICE: &str = "policyd-spf unix - n n - 0 spawn\n  user=policyd-spf \
                           argv=/usr/bin/policyd-spf\n";

    fn installed(main_cf: &str, master_cf: &str) -> LocalState {
        LocalState {
            main_cf: Some(main_cf.into()),
            master_cf: Some(master_cf.into()),
            accounts: Accounts::parse(
                "policyd-spf:x:105:109::/home/policyd-spf:/usr/sbin/nologin\n",
                "policyd-spf:x:109:\n",
            ),
            policyd_spf: true,
            ..LocalState::default()
        }
    }

    fn ids_of(state: &LocalState) -> Vec<&'static str> {
        findings(state).iter().map(|f| f.id).collect()
    }

    #[test]
    fn a_wired_agent_passes() {
        assert_eq!(ids_of(&installed(WIRED, SERVICE)), Vec::<&str>::new());
    }

    #[test]
    fn each_missing_piece_is_its_own_finding() {
        assert_eq!(
            ids_of(&installed(WIRED, "smtp inet n - y - - smtpd\n")),
            [ids::SPF_POLICY_SERVICE_MISSING]
        );
        assert_eq!(
            ids_of(&installed("myhostname = a.example\n", SERVICE)),
            [ids::SPF_POLICY_NOT_WIRED]
        );
        let mut state = installed(WIRED, SERVICE);
        state.policyd_spf = false;
        state.accounts = Accounts::default();
        let found = findings(&state);
        assert_eq!(
            found.iter().map(|f| f.id).collect::<Vec<_>>(),
            [
                ids::SPF_POLICY_PACKAGE_MISSING,
                ids::SPF_POLICY_USER_MISSING
            ]
        );
        assert!(
            found
                .iter()
                .all(|f| f.fix.as_deref() == Some("apt-get install postfix-policyd-spf-python"))
        );
    }

    #[test]
    fn the_operators_order_and_entry_are_findings_with_instructions() {
        let early = "smtpd_recipient_restrictions = check_policy_service \
                     unix:private/policyd-spf, permit_mynetworks, reject_unauth_destination\n";
        let found = findings(&installed(early, SERVICE));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].id, ids::SPF_POLICY_ORDER);
        assert!(
            found[0]
                .fix
                .as_deref()
                .unwrap()
                .contains("move `check_policy_service"),
            "{:?}",
            found[0].fix
        );
        let theirs = "policyd-spf unix - n n - 0 spawn\n  user=nobody argv=/usr/bin/policyd-spf\n";
        let found = findings(&installed(WIRED, theirs));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].id, ids::SPF_POLICY_SERVICE_MISMATCH);
        assert_eq!(
            found[0].found.as_deref(),
            Some("spawn user=nobody argv=/usr/bin/policyd-spf")
        );
    }
}
