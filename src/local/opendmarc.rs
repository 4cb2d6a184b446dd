//! The `opendmarc` check line (answers `inbound_dmarc` only), judged from a [`LocalState`]:
//! OpenDMARC is installed, named in `smtpd_milters` after OpenDKIM (it judges the DKIM result
//! OpenDKIM adds), on the socket OpenDMARC listens on, which Postfix's chrooted smtpd can
//! reach and open ([`socket`], the checks OpenDKIM's socket has), and (on the host) it runs.
//! Pure.

use super::{LocalState, effective_socket, error, socket};
use crate::check::{Finding, ids};
use crate::host::system;
use crate::milter::{
    is_opendkim_entry, is_opendmarc_entry, opendmarc_socket, postfix_dmarc_milter, postfix_form_of,
};
use crate::opendkim::{DefaultFile, OpendmarcConf};
use crate::postfix::{MainCf, split_list};

/// What the checks read of OpenDMARC.
#[derive(Debug, Clone, Default)]
pub struct DmarcState {
    /// /etc/opendmarc.conf (`None`: absent, the package is not installed).
    pub conf: Option<String>,
    /// /etc/default/opendmarc.
    pub default_file: Option<String>,
    /// Whether an opendmarc process runs; on the host only.
    pub running: Option<bool>,
    /// The Unix socket Postfix names for OpenDMARC, looked at (on the host only).
    pub socket: Option<socket::Probe>,
}

const SUBJECT: &str = system::OPENDMARC_CONF;

/// The socket OpenDMARC listens on, and where that comes from: opendmarc.conf `Socket`, else
/// /etc/default/opendmarc `SOCKET` (`$RUNDIR` expanded), which Debian's init script passes
/// as `-p` only when opendmarc.conf has no `Socket` line (`awk '$1 == "Socket"'`).
pub fn listens(d: &DmarcState) -> Option<(String, &'static str)> {
    let conf = d.conf.as_deref().map(OpendmarcConf::parse);
    let by_init_script = d.conf.as_deref().is_some_and(|t| {
        t.lines()
            .any(|l| l.split_whitespace().next() == Some("Socket"))
    });
    if let Some(s) = conf
        .as_ref()
        .and_then(|c| c.get("Socket"))
        .filter(|_| by_init_script)
    {
        return Some((s.to_string(), "Socket in /etc/opendmarc.conf"));
    }
    d.default_file
        .as_deref()
        .map(DefaultFile::parse)
        .and_then(|f| f.socket_expanded())
        .map(|s| (s, "SOCKET in /etc/default/opendmarc"))
        .or_else(|| {
            conf.and_then(|c| c.get("Socket").map(str::to_string))
                .map(|s| (s, "Socket in /etc/opendmarc.conf"))
        })
}

/// The OpenDMARC entry of main.cf `smtpd_milters`, if any.
pub(crate) fn postfix_entry(state: &LocalState) -> Option<String> {
    let cf = MainCf::parse(state.main_cf.as_deref()?);
    let now = listens(&state.opendmarc).map(|(s, _)| s);
    split_list(&cf.get("smtpd_milters").unwrap_or_default())
        .into_iter()
        .find(|e| is_opendmarc_entry(e, now.as_deref()))
}

/// The findings of the `opendmarc` line, in report order.
pub(super) fn findings(state: &LocalState) -> Vec<Finding> {
    let d = &state.opendmarc;
    if d.conf.is_none() {
        return vec![
            error(
                ids::OPENDMARC_PACKAGE_MISSING,
                SUBJECT,
                "there is no /etc/opendmarc.conf: is opendmarc installed? inbound_dmarc needs it"
                    .into(),
            )
            .fix(Some(
                "apt-get install opendmarc, then mailsetup fix opendmarc.not-configured".into(),
            )),
        ];
    }
    let mut out = Vec::new();
    if let Some(main_cf) = state.main_cf.as_deref() {
        out.extend(wiring(state, main_cf));
    }
    if d.running == Some(false) {
        out.push(
            error(
                ids::OPENDMARC_NOT_RUNNING,
                SUBJECT,
                "opendmarc is not running: incoming mail is accepted without a DMARC verdict"
                    .into(),
            )
            .fix(Some(
                "start it: /etc/init.d/opendmarc start (systemctl start opendmarc with systemd)"
                    .into(),
            )),
        );
    }
    out
}

/// Named in smtpd_milters, after OpenDKIM, on OpenDMARC's socket, reachable by Postfix.
fn wiring(state: &LocalState, main_cf: &str) -> Vec<Finding> {
    let cf = MainCf::parse(main_cf);
    let smtpd = cf.get("smtpd_milters").unwrap_or_default();
    let items = split_list(&smtpd);
    let now = listens(&state.opendmarc);
    let is_dmarc = |e: &str| is_opendmarc_entry(e, now.as_ref().map(|(s, _)| s.as_str()));
    let expected = format!(
        "{} after OpenDKIM's entry (with opendmarc.conf Socket {})",
        postfix_dmarc_milter(),
        opendmarc_socket()
    );
    let Some(at) = items.iter().position(|e| is_dmarc(e)) else {
        return vec![
            error(
                ids::OPENDMARC_NOT_CONFIGURED,
                system::MAIN_CF,
                "smtpd_milters does not name OpenDMARC: incoming mail is not judged by DMARC"
                    .into(),
            )
            .found(format!("smtpd_milters = {smtpd}"))
            .expected(expected)
            .fix(Some("the Inbound DMARC step adds it".into())),
        ];
    };
    let entry = items[at].clone();
    let mut out = Vec::new();
    let dkim_listens = effective_socket(state);
    if let Some(dkim) = items
        .iter()
        .position(|e| is_opendkim_entry(e, dkim_listens.as_deref()))
        .filter(|&d| d > at)
    {
        out.push(
            error(
                ids::OPENDMARC_ORDER,
                system::MAIN_CF,
                format!(
                    "smtpd_milters names OpenDMARC ({entry}) before OpenDKIM ({}): DMARC is \
                     judged before the signature is verified, so DKIM never counts",
                    items[dkim]
                ),
            )
            .found(format!("smtpd_milters = {smtpd}"))
            .expected(expected.clone())
            .fix(Some(
                "the Inbound DMARC step moves OpenDMARC after OpenDKIM".into(),
            )),
        );
    }
    if let Some((socket, source)) = &now
        && let Some(listened) = postfix_form_of(socket)
    {
        let norm = |s: &str| s.trim().replacen("unix:", "local:", 1);
        if norm(&entry) != norm(&listened) {
            out.push(
                error(
                    ids::OPENDMARC_SOCKET_MISMATCH,
                    system::MAIN_CF,
                    format!(
                        "Postfix talks to OpenDMARC at {entry}, but OpenDMARC listens on \
                         {socket} ({source})"
                    ),
                )
                .found(entry.clone())
                .expected(expected)
                .fix(Some(
                    "the Inbound DMARC step names one socket on both sides".into(),
                )),
            );
            return out;
        }
    }
    out.extend(reachability(state, &entry));
    out
}

/// `opendmarc.socket-unreachable` / `opendmarc.socket-permission`, as for OpenDKIM's socket.
fn reachability(state: &LocalState, entry: &str) -> Vec<Finding> {
    let Some(path) = socket::unix_path(entry) else {
        return Vec::new();
    };
    let chrooted = super::milter::chrooted_smtpd(state);
    if !path.starts_with(system::QUEUE_DIR) && !chrooted.is_empty() {
        return vec![
            error(
                ids::OPENDMARC_SOCKET_UNREACHABLE,
                system::MAIN_CF,
                format!(
                    "Postfix names OpenDMARC's socket {}, outside {}, but smtpd runs \
                     chrooted there (master.cf: {}): it cannot reach the socket",
                    path.display(),
                    system::QUEUE_DIR,
                    chrooted.join(", ")
                ),
            )
            .expected(postfix_dmarc_milter())
            .fix(Some(
                "the Inbound DMARC step puts the socket inside the chroot".into(),
            )),
        ];
    }
    let Some(probe) = &state.opendmarc.socket else {
        return Vec::new();
    };
    if let Err(why) = &probe.connect {
        return vec![
            error(
                ids::OPENDMARC_SOCKET_UNREACHABLE,
                system::MAIN_CF,
                format!(
                    "nothing answers on OpenDMARC's socket {} ({why}): is OpenDMARC running, \
                     with this socket?",
                    probe.path.display()
                ),
            )
            .fix(Some("start OpenDMARC (/etc/init.d/opendmarc start)".into())),
        ];
    }
    socket::denied(probe, &state.accounts, "postfix")
        .map(|why| {
            vec![
                error(ids::OPENDMARC_SOCKET_PERMISSION, system::MAIN_CF, why).fix(Some(
                    "the Inbound DMARC step adds postfix to group opendmarc and sets \
                     OpenDMARC's UMask 007"
                        .into(),
                )),
            ]
        })
        .unwrap_or_default()
}
