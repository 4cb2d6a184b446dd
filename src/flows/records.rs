//! The records to publish and what they are built from: the server's addresses and the
//! public keys of the keys on disk.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use crate::error::{Error, Result};
use crate::host::system::{self, Root};
use crate::plan::Current;
use crate::records::{self, RecordSet};
use crate::settings::Settings;
use crate::values::Domain;

/// The server's IPv4: from the answers, else detected from the interfaces.
///
/// Errors: [`Error::NoIpv4`].
pub fn server_ipv4(settings: &Settings) -> Result<Ipv4Addr> {
    settings
        .ipv4
        .or_else(system::detect_public_ipv4)
        .ok_or(Error::NoIpv4)
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
/// Errors: the state cannot be read; no IPv4 address.
pub fn record_set(root: &Root, settings: &Settings) -> Result<(RecordSet, Current)> {
    let current = Current::read(root, settings)?;
    let ipv4 = server_ipv4(settings)?;
    Ok((
        records::build(settings, ipv4, &public_keys(&current)),
        current,
    ))
}
