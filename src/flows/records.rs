//! The records to publish and what they are built from: the server's addresses and the
//! public keys of the keys on disk.

use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::host::system::{self, Root};
use crate::plan::Current;
use crate::records::{self, RecordSet};
use crate::settings::Settings;
use crate::values::{Domain, Selector, ServerAddrs, Signer};

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

/// The `p=` of each domain's keys on disk, RSA and (with Ed25519 on) Ed25519: what the
/// selftest verifies the signatures against.
pub fn local_keys(current: &Current) -> crate::selftest::LocalKeys {
    crate::selftest::LocalKeys {
        rsa: public_keys(current),
        ed25519: current
            .ed_keys
            .iter()
            .filter_map(|(d, k)| k.public.as_ref().map(|p| (d.clone(), p.p.clone())))
            .collect(),
    }
}

/// The DKIM key each signing domain signs with: its selector and `p=` value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DkimKeys {
    pub p: BTreeMap<Domain, String>,
    /// Domains whose selector is not the answers' (amavisd-new's keys).
    pub selectors: BTreeMap<Domain, Selector>,
    /// With `ed25519-sha256` in `algorithms`: the `p=` of each domain's Ed25519 key on disk,
    /// published at the answers' `ed25519_selector` (domains without one are left out).
    pub ed25519: BTreeMap<Domain, String>,
}

/// The keys that sign: OpenDKIM's on disk ([`public_keys`]) with the answers' selector; with
/// `signer = "amavisd-new"`, amavisd-new's. On the host those are what `amavisd showkeys`
/// prints (it reads the live configuration, amavisd(8)); beneath another root, or when
/// showkeys cannot be run, the `dkim_key(...)` calls of the root's conf.d and the PEM files
/// they name, read through the fence ([`crate::plan::AmavisState`]).
pub fn dkim_keys(root: &Root, settings: &Settings, current: &Current) -> DkimKeys {
    if settings.signer != Signer::AmavisdNew {
        return DkimKeys {
            p: public_keys(current),
            selectors: BTreeMap::new(),
            ed25519: local_keys(current).ed25519,
        };
    }
    let mut keys = DkimKeys::default();
    let shown = if root.is_host() {
        crate::host::probe::amavis_showkeys()
    } else {
        None
    };
    let declared: Vec<(Domain, String, String)> = match shown {
        Some(shown) => shown
            .into_iter()
            .filter_map(|k| {
                let d = settings
                    .domains
                    .iter()
                    .find(|d| d.as_str().eq_ignore_ascii_case(&k.domain))?;
                Some((d.clone(), k.selector, k.p))
            })
            .collect(),
        None => current
            .amavis
            .keys
            .iter()
            .filter_map(|(d, k)| {
                let p = k.public.as_ref().ok()?.p.clone();
                Some((d.clone(), k.selector.clone(), p))
            })
            .collect(),
    };
    for (domain, selector, p) in declared {
        let Ok(selector) = Selector::parse(&selector) else {
            continue;
        };
        if keys.p.contains_key(&domain) {
            continue; // the first key declared for a domain signs (README.dkim)
        }
        keys.p.insert(domain.clone(), p);
        keys.selectors.insert(domain, selector);
    }
    keys
}

/// The records for these settings and the state they were built from.
///
/// Errors: the state cannot be read; no address (see [`server_addrs`]).
pub fn record_set(root: &Root, settings: &Settings) -> Result<(RecordSet, Current)> {
    let (set, current, _) = record_set_keys(root, settings)?;
    Ok((set, current))
}

/// [`record_set`], and the keys the DKIM records were built from. Errors: as [`record_set`].
pub fn record_set_keys(root: &Root, settings: &Settings) -> Result<(RecordSet, Current, DkimKeys)> {
    let current = Current::read(root, settings)?;
    let addrs = server_addrs(root, settings)?;
    let keys = dkim_keys(root, settings, &current);
    let mut set = records::build_with_selectors(settings, addrs, &keys.p, &keys.selectors);
    if settings.signer != Signer::AmavisdNew {
        records::add_ed25519(&mut set, settings, &keys.ed25519);
    }
    Ok((set, current, keys))
}
