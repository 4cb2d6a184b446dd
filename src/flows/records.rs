//! The records to publish and what they are built from: the server's addresses and the
//! public keys of the keys on disk.

use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::host::system::{self, Root};
use crate::plan::Current;
use crate::records::{self, RecordSet};
use crate::settings::Settings;
use crate::values::{Domain, ServerAddrs};

/// The server's addresses: the answers' `ipv4` and `ipv6`, whichever are given (either alone
/// is enough). Only when neither is given is an IPv4 detected from the interfaces: an answers
/// file that names an IPv6 only describes an IPv6-only server, and an IPv4 the machine happens
/// to have (a NAT, a management network) is not added to its SPF and A records. Beneath a
/// `--root` other than `/` the host's interfaces are not the tree's, so nothing is detected
/// (as the wizard's scan).
///
/// Errors: [`Error::NoServerAddress`].
pub fn server_addrs(root: &Root, settings: &Settings) -> Result<ServerAddrs> {
    let detected = || {
        root.is_host()
            .then(system::detect_public_ipv4)
            .flatten()
            .map(ServerAddrs::V4)
    };
    ServerAddrs::new(settings.ipv4, settings.ipv6)
        .or_else(detected)
        .ok_or(Error::NoServerAddress)
}

/// The `p=` of each domain's key on disk (domains without a readable key are left out).
pub fn public_keys(current: &Current) -> BTreeMap<Domain, String> {
    current
        .keys
        .iter()
        .filter_map(|(d, k)| k.public.as_ref().map(|p| (d.clone(), p.p.clone())))
        .collect()
}

/// The records for these settings and the state they were built from.
///
/// Errors: the state cannot be read; no address (see [`server_addrs`]).
pub fn record_set(root: &Root, settings: &Settings) -> Result<(RecordSet, Current)> {
    let current = Current::read(root, settings)?;
    let addrs = server_addrs(root, settings)?;
    Ok((
        records::build(settings, addrs, &public_keys(&current)),
        current,
    ))
}
