//! A DKIM key rotation's edges, shared by `rotate` and `check`: its state read from beneath
//! the root ([`crate::rotate::STATE_FILE`]), the new records asked at every authoritative
//! server, and the `dkim.rotation-pending` findings `check` reports.

use std::time::SystemTime;

use crate::check::{Checked, Finding, JobResult, Severity, Status, ids};
use crate::dns::{AuthOptions, Authority};
use crate::error::{Error, Result};
use crate::host::system::{self, Root};
use crate::rotate::{self, Rotation, STATE_FILE, State};
use crate::values::Domain;

/// The rotations in progress (none when the file does not exist). Errors: it cannot be
/// read or is not a rotation state (the error says to move it away).
pub fn state(root: &Root) -> Result<State> {
    match system::read_file(root, STATE_FILE)?.text {
        None => Ok(State::default()),
        Some(t) => State::parse(&t).map_err(|reason| Error::Invalid {
            what: root.path(STATE_FILE).display().to_string(),
            reason: format!(
                "{reason}; move it away to forget the rotation in progress (the keys stay)"
            ),
        }),
    }
}

/// Per rotation in `waiting` whose new record some authoritative server does not serve with
/// the new `p=` yet: its domain and those servers (`ns2.example.org (192.0.2.2): nothing`).
/// Empty: every server serves every new record. A new [`Authority`] each call, so server
/// lists and serials are read afresh.
pub async fn lagging(waiting: &[Rotation], options: &AuthOptions) -> Vec<(String, Vec<String>)> {
    let auth = match Authority::new(*options) {
        Ok(a) => a,
        Err(e) => {
            return waiting
                .iter()
                .map(|r| (r.domain.clone(), vec![format!("no resolver: {e}")]))
                .collect();
        }
    };
    let mut out = Vec::new();
    for r in waiting {
        let servers = match auth
            .observe(&r.new_name(), crate::dns::auth::ask::txt)
            .await
        {
            Err(e) => vec![format!("the zone's nameservers ({e})")],
            Ok(o) => rotate::lagging(
                o.zone.servers.iter().zip(&o.answers).map(|(s, a)| {
                    (
                        s.to_string(),
                        a.as_ref()
                            .map(|a| a.records.clone())
                            .map_err(ToString::to_string),
                    )
                }),
                &r.new_p,
            ),
        };
        if !servers.is_empty() {
            out.push((r.domain.clone(), servers));
        }
    }
    out
}

/// `check`'s view of the rotations of `domains` (all when empty): a warning per domain whose
/// new record is not served everywhere yet (the servers in `found`), an info per domain
/// switched and waiting for `rotate --finish`.
pub async fn findings(
    state: &State,
    domains: &[Domain],
    options: &AuthOptions,
    now: SystemTime,
) -> Vec<JobResult> {
    let mine = |r: &&Rotation| domains.is_empty() || domains.iter().any(|d| d.as_str() == r.domain);
    let waiting: Vec<Rotation> = state
        .rotations
        .iter()
        .filter(mine)
        .filter(|r| r.switched.is_none() && !r.new_p.is_empty())
        .cloned()
        .collect();
    let lag = lagging(&waiting, options).await;
    let mut out = Vec::new();
    for r in state.rotations.iter().filter(mine) {
        let checked = |status| Checked {
            check: "dkim-rotation",
            subject: r.domain.clone(),
            status,
            group: r.domain.clone(),
        };
        let finding = match r.switched {
            None => {
                let Some((_, servers)) = lag.iter().find(|(d, _)| d == &r.domain) else {
                    out.push(JobResult {
                        checked: checked(Status::Pass),
                        findings: vec![Finding::new(
                            ids::DKIM_ROTATION_PENDING,
                            Severity::Info,
                            &r.domain,
                            format!(
                                "every nameserver serves {}: `mailsetup rotate` switches \
                                 OpenDKIM to it",
                                r.new_name()
                            ),
                        )],
                    });
                    continue;
                };
                Finding::new(
                    ids::DKIM_ROTATION_PENDING,
                    Severity::Warning,
                    &r.domain,
                    format!(
                        "a key rotation from {} to {} waits for the new record at {} \
                         nameserver(s); the old key keeps signing",
                        r.old_selector,
                        r.new_selector,
                        servers.len()
                    ),
                )
                .found(servers.join("\n"))
                .expected(crate::records::dkim_value(&r.new_p))
                .fix(Some(format!(
                    "publish {} at every nameserver of the zone, then run `mailsetup rotate` \
                     (it resumes this rotation)",
                    r.new_name()
                )))
            }
            Some(_) => {
                let at = r.removable_at().unwrap_or(now);
                let when = if at > now {
                    format!("after {}", crate::host::apply::record::utc_human(at))
                } else {
                    "now".into()
                };
                Finding::new(
                    ids::DKIM_ROTATION_PENDING,
                    Severity::Info,
                    &r.domain,
                    format!(
                        "OpenDKIM signs with {}; the old key of {} waits for `mailsetup rotate \
                         --finish`, and its record may be deleted {when}",
                        r.new_selector, r.old_selector
                    ),
                )
            }
        };
        let status = if finding.severity == Severity::Warning {
            Status::Warn
        } else {
            Status::Pass
        };
        out.push(JobResult {
            checked: checked(status),
            findings: vec![finding],
        });
    }
    out
}
