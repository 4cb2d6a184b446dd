//! The second OpenDKIM instance (Ed25519 dual signing, answers `algorithms`), judged from a
//! [`LocalState`] as part of the `milter` line: main.cf names it in `smtpd_milters`, it runs
//! (its PID file names a live `opendkim`), and it answers on the socket Postfix names. The
//! ids are the first instance's (`milter.not-configured`, `opendkim.not-running`,
//! `milter.socket-unreachable`), each naming `opendkim-ed25519`. Pure.

use super::{LocalState, error};
use crate::check::{Finding, ids};
use crate::host::system;
use crate::milter::{ed25519_socket, is_ed25519_entry, postfix_ed25519_milter};
use crate::postfix::{MainCf, split_list};
use crate::settings::Settings;

/// What the reader found of the second instance (on the host only; `None` elsewhere).
#[derive(Debug, Clone, Default)]
pub struct Ed25519State {
    /// Whether it runs.
    pub running: Option<bool>,
    /// Its Unix socket, when main.cf names one, looked at.
    pub socket: Option<super::socket::Probe>,
}

/// The entry of main.cf `smtpd_milters` that is the second instance, if any.
pub(crate) fn postfix_entry(main_cf: &str, ours: &str) -> Option<String> {
    let cf = MainCf::parse(main_cf);
    split_list(&cf.get("smtpd_milters").unwrap_or_default())
        .into_iter()
        .find(|e| is_ed25519_entry(e, ours))
}

/// The findings about the second instance; none unless `algorithms` has `ed25519-sha256`.
pub(super) fn findings(state: &LocalState, settings: &Settings) -> Vec<Finding> {
    if settings.ed25519.is_none() {
        return Vec::new();
    }
    let Some(main_cf) = state.main_cf.as_deref() else {
        return Vec::new();
    };
    let ours = postfix_ed25519_milter(settings.socket);
    let mut out = Vec::new();
    if postfix_entry(main_cf, &ours).is_none() {
        out.push(
            error(
                ids::MILTER_NOT_CONFIGURED,
                system::MAIN_CF,
                "smtpd_milters does not name the second OpenDKIM instance (opendkim-ed25519): \
                 mail goes out without its Ed25519 signature"
                    .into(),
            )
            .expected(format!(
                "{ours} right after OpenDKIM's entry (with {} Socket {})",
                system::ED25519_CONF,
                ed25519_socket(settings.socket)
            ))
            .fix(Some("the Milter step adds it".into())),
        );
    }
    if state.ed25519.running == Some(false) {
        out.push(
            error(
                ids::OPENDKIM_NOT_RUNNING,
                "opendkim-ed25519",
                "opendkim-ed25519 (the second OpenDKIM instance) is not running: Postfix \
                 defers mail (milter_default_action = accept lets it through unsigned by \
                 Ed25519) until it is"
                    .into(),
            )
            .fix(Some(format!(
                "start it: systemctl start opendkim-ed25519 (without systemd: \
                 /usr/sbin/opendkim -x {})",
                system::ED25519_CONF
            ))),
        );
    } else if let Some(Err(why)) = state.ed25519.socket.as_ref().map(|p| &p.connect) {
        let path = state
            .ed25519
            .socket
            .as_ref()
            .map(|p| p.path.display().to_string())
            .unwrap_or_default();
        out.push(
            error(
                ids::MILTER_SOCKET_UNREACHABLE,
                &path,
                format!("opendkim-ed25519 does not answer on {path} ({why})"),
            )
            .fix(Some(
                "restart it: systemctl restart opendkim-ed25519; its log says why \
                 (journalctl -u opendkim-ed25519 or /var/log/mail.log)"
                    .into(),
            )),
        );
    }
    out
}
