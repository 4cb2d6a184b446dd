//! The OpenDMARC side of the plan (answers `inbound_dmarc`): opendmarc.conf (opendmarc.conf(5),
//! OpenDMARC 1.4) and the `SOCKET=` of /etc/default/opendmarc, edited by the same lossless
//! editors as OpenDKIM's files.

use super::build::{change, existing};
use super::current::Current;
use super::{FileChange, Perms};
use crate::error::{Error, Result};
use crate::milter;
use crate::opendkim::{DefaultFile, OpendmarcConf};
use crate::settings::Settings;

/// The comment line new opendmarc.conf options are added under.
const OPENDMARC_BLOCK: &str =
    "# Added by mailsetup: judge incoming mail by its sender's DMARC policy";

fn err(file: &std::path::Path) -> impl Fn(crate::opendkim::EditError) -> Error + '_ {
    move |e| Error::Invalid {
        what: file.display().to_string(),
        reason: e.to_string(),
    }
}

/// The OpenDMARC settings mailsetup manages, in the order they are written (opendmarc.conf(5)):
/// the socket inside Postfix's chroot; `AuthservID` and `TrustedAuthservIDs` the hostname, so
/// that OpenDMARC trusts the `Authentication-Results` OpenDKIM adds (OpenDKIM's default
/// authserv-id is the hostname too); authenticated (submission) clients are not judged;
/// `SPFSelfValidate` judges SPF itself when no SPF result header is present;
/// `RejectFailures` from `dmarc_reject_failures`; `UMask 007` leaves the socket
/// group-writable for postfix (in group opendmarc), others out.
pub(super) fn opendmarc_settings(settings: &Settings) -> Vec<(&'static str, String)> {
    let host = settings.hostname.to_string();
    let yes_no = |b: bool| if b { "true" } else { "false" }.to_string();
    vec![
        ("Socket", milter::opendmarc_socket()),
        ("UMask", "007".into()),
        ("AuthservID", host.clone()),
        ("TrustedAuthservIDs", host),
        ("IgnoreAuthenticatedClients", "true".into()),
        ("SPFSelfValidate", "true".into()),
        ("RejectFailures", yes_no(settings.dmarc_reject_failures)),
    ]
}

pub(super) fn edit_opendmarc_conf(
    settings: &Settings,
    cur: &Current,
) -> Result<Option<FileChange>> {
    let text = existing(&cur.opendmarc_conf, "opendmarc")?;
    let mut conf = OpendmarcConf::parse(text);
    let entries = opendmarc_settings(settings);
    let pairs: Vec<(&str, &str)> = entries.iter().map(|(k, v)| (*k, v.as_str())).collect();
    conf.set_all(OPENDMARC_BLOCK, &pairs)
        .map_err(err(&cur.opendmarc_conf.path))?;
    Ok(change(
        &cur.opendmarc_conf,
        conf.to_string(),
        Perms::Keep,
        "judge incoming mail by its From domain's DMARC policy, on a socket inside Postfix's chroot",
    ))
}

/// /etc/default/opendmarc: only its `SOCKET=`, and only where the file exists. Debian's init
/// script passes `-p $SOCKET` only when opendmarc.conf has no `Socket` line, but cleans a
/// stale socket at `$SOCKET`: both name the same one.
pub(super) fn edit_default_file(cur: &Current) -> Result<Option<FileChange>> {
    let Some(text) = cur.default_opendmarc.text.as_deref() else {
        return Ok(None);
    };
    let mut file = DefaultFile::parse(text);
    file.set_socket(&milter::opendmarc_socket())
        .map_err(err(&cur.default_opendmarc.path))?;
    Ok(change(
        &cur.default_opendmarc,
        file.to_string(),
        Perms::Keep,
        "name the same socket as opendmarc.conf",
    ))
}
