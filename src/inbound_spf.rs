//! Inbound SPF with Debian's policy agent, postfix-policyd-spf-python (policyd-spf(1),
//! policyd-spf.conf(5)): Postfix asks the agent about every recipient of mail from outside,
//! and the agent rejects mail whose sender domain's SPF record does not permit the client
//! (RFC 7208 §8.4 `fail` → `550 5.7.23`) and adds `Received-SPF:` to the rest.
//!
//! The wiring, as the package's README.Debian gives it:
//! - master.cf: `policyd-spf unix - n n - 0 spawn` with `user=policyd-spf
//!   argv=/usr/bin/policyd-spf` (spawn(8): the agent runs as its own user, one process per
//!   connection, no process limit);
//! - main.cf: `policyd-spf_time_limit = 3600` (spawn(8) kills an agent after
//!   `$service_time_limit`, 1000s by default: a long SMTP session would lose it), and
//!   `check_policy_service unix:private/policyd-spf` in `smtpd_recipient_restrictions`
//!   after `reject_unauth_destination` (SMTPD_POLICY_README: otherwise the agent is asked,
//!   and its `PREPEND` accepted, for relay attempts that must be refused).
//!
//! Pure: what the files say, and the edit that wires the agent. `crate::plan` plans it,
//! `crate::local` judges it.

use crate::postfix::{Change, EditError, MainCf, MasterCf, split_list};

/// The master.cf service name, and the socket `private/policyd-spf` Postfix reaches it on.
pub const SERVICE: &str = "policyd-spf";
/// The system user the package creates; the agent runs as it.
pub const USER: &str = "policyd-spf";
/// The agent's program, installed by the package.
pub const PROGRAM: &str = "/usr/bin/policyd-spf";
/// The Debian package.
pub const PACKAGE: &str = "postfix-policyd-spf-python";
/// The master.cf entry's first line (master(5)): a private unix socket, run privileged
/// (spawn(8) switches to `user=` itself), not chrooted (the agent reads /etc and resolves
/// DNS), no wakeup, no process limit, spawn(8).
pub const ENTRY: &str = "policyd-spf unix - n n - 0 spawn";
/// Its continuation line: spawn(8) `user=` and `argv=`.
pub const ENTRY_ARGS: &str = "  user=policyd-spf argv=/usr/bin/policyd-spf";
/// main.cf: spawn(8)'s time limit for the agent (`<service>_time_limit`), and its value.
pub const TIME_LIMIT: (&str, &str) = ("policyd-spf_time_limit", "3600");
/// The restriction list the check goes in (postconf(5)).
pub const RESTRICTIONS: &str = "smtpd_recipient_restrictions";
/// The restriction that asks the agent.
pub const CHECK: &str = "check_policy_service unix:private/policyd-spf";
/// `smtpd_recipient_restrictions` when main.cf has none (Debian's stock main.cf: relay
/// control is in `smtpd_relay_restrictions`, which Postfix evaluates first and which stays
/// as it is): this server's own clients (`mynetworks`, SASL) are permitted before the
/// agent is asked, so their mail is not SPF-checked; `reject_unauth_destination` repeats
/// the relay rule so that the check stays behind it, as SMTPD_POLICY_README asks.
pub const NEW_RESTRICTIONS: &str = "permit_mynetworks, permit_sasl_authenticated, \
                                    reject_unauth_destination, check_policy_service \
                                    unix:private/policyd-spf";

/// The restrictions that refuse relaying; the check goes after the last of them.
const RELAY_CONTROL: [&str; 2] = ["reject_unauth_destination", "defer_unauth_destination"];

/// What master.cf says about the agent's service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceState {
    /// No `policyd-spf unix` entry.
    Missing,
    /// The entry runs spawn(8) as [`USER`] with [`PROGRAM`] (its other fields and arguments
    /// are the operator's).
    Ours,
    /// The entry is there but runs something else: the command, `user=` and program found
    /// (`None`: not given).
    Other {
        line: usize,
        command: String,
        user: Option<String>,
        program: Option<String>,
    },
}

/// The `policyd-spf unix` entry of master.cf, judged.
pub fn service(master: &MasterCf) -> ServiceState {
    let Some(svc) = master.service(SERVICE, "unix") else {
        return ServiceState::Missing;
    };
    let arg = |key: &str| {
        svc.args()
            .iter()
            .find_map(|a| a.strip_prefix(key))
            .map(|v| v.split_whitespace().next().unwrap_or_default().to_string())
    };
    let (user, program) = (arg("user="), arg("argv="));
    if svc.command() == "spawn"
        && user.as_deref() == Some(USER)
        && program.as_deref() == Some(PROGRAM)
    {
        ServiceState::Ours
    } else {
        ServiceState::Other {
            line: svc.line(),
            command: svc.command().to_string(),
            user,
            program,
        }
    }
}

/// Where `smtpd_recipient_restrictions` asks the agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wiring {
    /// The list does not ask it (or main.cf has no list).
    Absent,
    /// It asks it after the relay control (`reject_unauth_destination`), or the list has
    /// no relay control (that is then `smtpd_relay_restrictions`', evaluated first).
    Wired,
    /// It asks it before `reject_unauth_destination`: relay attempts reach the agent.
    Before,
}

/// Where `restrictions` (the list's value, `None` when main.cf does not set it) asks the
/// agent: `check_policy_service unix:private/policyd-spf`, or `private/policyd-spf`
/// without the `unix:` (postconf(5) check_policy_service: a bare path is a UNIX socket).
pub fn wiring(restrictions: Option<&str>) -> Wiring {
    let words = restrictions.map(split_list).unwrap_or_default();
    let check = words.windows(2).position(|w| {
        w[0] == "check_policy_service"
            && (w[1] == "unix:private/policyd-spf" || w[1] == "private/policyd-spf")
    });
    let relay = words
        .iter()
        .rposition(|w| RELAY_CONTROL.contains(&w.as_str()));
    match (check, relay) {
        (None, _) => Wiring::Absent,
        (Some(c), Some(r)) if c < r => Wiring::Before,
        _ => Wiring::Wired,
    }
}

/// Wires the agent into main.cf: the time limit, and [`CHECK`] in
/// `smtpd_recipient_restrictions` after its last `reject_unauth_destination` (or
/// `defer_unauth_destination`), else after its last entry; the whole of
/// [`NEW_RESTRICTIONS`] when main.cf sets no list. A list that asks the agent already
/// is left as it is, also when it asks it too early ([`Wiring::Before`]: the operator's
/// order, a finding for `check`, not an edit). The operator's entries stay, in their order,
/// and every byte but the inserted ones ([`MainCf::insert_in_list`]).
///
/// # Errors
/// As [`MainCf::set`] and [`MainCf::insert_in_list`] (a list that would not read back).
pub fn wire(cf: &mut MainCf) -> Result<Change, EditError> {
    let time = cf.set(TIME_LIMIT.0, TIME_LIMIT.1)?;
    let list = cf.get(RESTRICTIONS);
    let wired = match wiring(list.as_deref()) {
        Wiring::Wired | Wiring::Before => Change::Unchanged,
        Wiring::Absent if list.as_deref().is_none_or(|l| l.trim().is_empty()) => {
            cf.set(RESTRICTIONS, NEW_RESTRICTIONS)?
        }
        Wiring::Absent => {
            let words = list.as_deref().map(split_list).unwrap_or_default();
            let anchor = words
                .iter()
                .rev()
                .find(|w| RELAY_CONTROL.contains(&w.as_str()));
            cf.insert_in_list(RESTRICTIONS, anchor.map(String::as_str), CHECK)?
        }
    };
    Ok(if time.is_change() || wired.is_change() {
        Change::Rewritten
    } else {
        Change::Unchanged
    })
}

/// Adds the agent's entry ([`ENTRY`], [`ENTRY_ARGS`]) to master.cf unless an entry of that
/// name is there: that one is adopted as it is ([`service`] says whether it is ours).
///
/// # Errors
/// As [`MasterCf::append_entry`].
pub fn add_service(master: &mut MasterCf) -> Result<Change, EditError> {
    if service(master) != ServiceState::Missing {
        return Ok(Change::Unchanged);
    }
    master.append_entry(ENTRY, &[ENTRY_ARGS])?;
    Ok(Change::Added)
}

#[cfg(test)]
mod tests;
