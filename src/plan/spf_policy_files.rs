//! The Inbound SPF part of the plan ([`crate::inbound_spf`]): the policyd-spf service in
//! master.cf and its wiring in main.cf, both through the lossless editors, planned only when
//! the answers ask for it (`inbound_spf = true`).

use super::build::{change, existing};
use super::current::Current;
use super::{Perms, Plan};
use crate::error::{Error, Result};
use crate::inbound_spf::{self as spf, ServiceState};
use crate::paths::FileState;
use crate::postfix::{MainCf, MasterCf};

/// Adds the service to master.cf (an existing `policyd-spf unix` entry is adopted as it is;
/// one that runs another user or program gets a note, see `spf-policy.service-mismatch`)
/// and wires it into main.cf ([`spf::wire`]), on top of a main.cf change the plan already
/// holds (one change per file). Postfix is reloaded after (the plan's services).
///
/// Errors: the package is not installed (no [`spf::PROGRAM`] or no [`spf::USER`] beneath the
/// root: install it first), main.cf or master.cf missing, an edit refused.
pub(super) fn plan(cur: &Current, plan: &mut Plan) -> Result<()> {
    if cur.accounts.user(spf::USER).is_none() {
        return Err(Error::MissingUser {
            user: spf::USER,
            package: spf::PACKAGE,
        });
    }
    if !cur.policyd_spf {
        return Err(Error::Invalid {
            what: spf::PROGRAM.into(),
            reason: format!(
                "the SPF policy agent is not installed, and inbound_spf = true needs it\n  \
                 fix: apt-get install {}",
                spf::PACKAGE
            ),
        });
    }
    let master_text = existing(&cur.master_cf, "postfix")?;
    let mut master = MasterCf::parse(master_text);
    spf::add_service(&mut master).map_err(edit_err(&cur.master_cf))?;
    if let ServiceState::Other {
        line,
        command,
        user,
        program,
    } = spf::service(&master)
    {
        plan.notes.push(format!(
            "master.cf line {line} defines the policyd-spf service with command {command}, \
             user={} and program {}, not spawn, user={} and {}: mailsetup leaves the \
             operator's entry as it is (`mailsetup check` reports spf-policy.service-mismatch)",
            user.as_deref().unwrap_or("(none)"),
            program.as_deref().unwrap_or("(none)"),
            spf::USER,
            spf::PROGRAM
        ));
    }
    plan.files.extend(change(
        &cur.master_cf,
        master.to_string(),
        Perms::Keep,
        "run the SPF policy agent (policyd-spf) as a Postfix spawn service",
    ));
    // main.cf: on top of what the other parts already change in it
    let planned = plan.files.iter().position(|f| f.path == cur.main_cf.path);
    let text = match planned {
        Some(i) => plan.files[i].after.clone(),
        None => existing(&cur.main_cf, "postfix")?.to_string(),
    };
    let mut cf = MainCf::parse(&text);
    spf::wire(&mut cf).map_err(edit_err(&cur.main_cf))?;
    let after = cf.to_string();
    if let crate::inbound_spf::Wiring::Before = spf::wiring(cf.get(spf::RESTRICTIONS).as_deref()) {
        plan.notes.push(format!(
            "main.cf {} asks the SPF policy agent before reject_unauth_destination; that is \
             the operator's order and is left as it is (`mailsetup check` reports \
             spf-policy.order, with how to move it)",
            spf::RESTRICTIONS
        ));
    }
    match planned {
        Some(i) => {
            plan.files[i].after = after;
            plan.files[i].why = format!(
                "{}; ask the SPF policy agent about incoming mail",
                plan.files[i].why
            );
        }
        None => plan.files.extend(change(
            &cur.main_cf,
            after,
            Perms::Keep,
            "ask the SPF policy agent (policyd-spf) about incoming mail, after the relay control",
        )),
    }
    Ok(())
}

fn edit_err(file: &FileState) -> impl Fn(crate::postfix::EditError) -> Error + '_ {
    move |e| Error::Invalid {
        what: file.path.display().to_string(),
        reason: e.to_string(),
    }
}
