//! Which parts a part's change needs live to work, and the parts a run must bring along.
//!
//! Each step edits one [`Part`], but the parts only work together: Postfix's milter entry
//! names the socket OpenDKIM's configuration makes it listen on; opendkim.conf names the
//! KeyTable and SigningTable; the KeyTable names the keys. A run that applies one part and
//! leaves the part it needs pending leaves a new error behind (the Milter step alone on a
//! stock tree points Postfix at a socket nothing listens on: `milter.socket-mismatch`).
//! So `fix` brings the pending parts a part needs into the same run, shown in its diff, and
//! `apply` refuses to apply a part whose pending prerequisite was declined. Pure.

use super::{Current, Part, build_parts};
use crate::error::{Error, Result};
use crate::settings::Settings;

impl Part {
    /// The parts whose changes this part's change needs to work: the Milter entry needs
    /// OpenDKIM listening on its socket (the OpenDKIM configuration); that configuration
    /// needs the tables it names (OpenDKIM does not start without them) and the keys the
    /// KeyTable names; the tables need the configuration that reads them (`refile:`) and the
    /// keys; the keys need the KeyTable that names them; inbound DMARC needs OpenDKIM wired
    /// in (it judges the DKIM results OpenDKIM adds, and goes after it in `smtpd_milters`).
    /// `main.cf` `inet_protocols` needs nothing.
    pub fn needs(self) -> &'static [Part] {
        match self {
            Part::Identity => &[],
            Part::Milter => &[Part::Opendkim],
            Part::Opendkim => &[Part::Tables, Part::Keys],
            Part::Tables => &[Part::Opendkim, Part::Keys],
            Part::Keys => &[Part::Tables],
            Part::InboundSpf => &[],
            // one signer: turning amavisd-new's signing off needs OpenDKIM wired in, and
            // keeping amavisd-new as the signer needs OpenDKIM taken out of main.cf
            Part::Signer => &[Part::Milter],
            Part::InboundDmarc => &[Part::Milter],
            Part::Tls => &[],
        }
    }

    /// The part's name as its wizard step is titled.
    pub fn title(self) -> &'static str {
        match self {
            Part::Identity => "inet_protocols",
            Part::Opendkim => "OpenDKIM configuration",
            Part::Milter => "Milter wiring",
            Part::Tables => "Tables",
            Part::Keys => "Keys",
            Part::InboundSpf => "Inbound SPF",
            Part::Signer => "Signer",
            Part::InboundDmarc => "Inbound DMARC",
            Part::Tls => "TLS",
        }
    }
}

/// `parts` and every part they need, transitively, that has changes pending on `cur`, in
/// [`Part::ALL`] order. A needed part with nothing to change is left out (it already works).
///
/// Errors: as [`build_parts`].
pub fn with_prerequisites(settings: &Settings, cur: &Current, parts: &[Part]) -> Result<Vec<Part>> {
    pending_needs(settings, cur, parts, |_| true)
}

/// `part` and the parts before it in [`Part::ALL`] that it needs, directly or through
/// another such part, that have changes pending on `cur`, in [`Part::ALL`] order. The
/// wizard walks the parts in that order: a later prerequisite gets its own step (which
/// cannot be skipped once this part is applied), while an earlier one the operator skipped
/// is brought into this step's diff. Errors: as [`build_parts`].
pub fn with_earlier_prerequisites(
    settings: &Settings,
    cur: &Current,
    part: Part,
) -> Result<Vec<Part>> {
    let at = |p: &Part| Part::ALL.iter().position(|q| q == p);
    pending_needs(settings, cur, &[part], |need| at(need) < at(&part))
}

/// `parts` and the parts they need, followed through [`Part::needs`] to the parts `follow`
/// allows that have changes pending on `cur`, in [`Part::ALL`] order.
fn pending_needs(
    settings: &Settings,
    cur: &Current,
    parts: &[Part],
    follow: impl Fn(&Part) -> bool,
) -> Result<Vec<Part>> {
    let mut chosen: Vec<Part> = parts.to_vec();
    let mut todo: Vec<Part> = parts.to_vec();
    while let Some(part) = todo.pop() {
        // inbound DMARC off: the part plans nothing, so it needs nothing either
        let off = part == Part::InboundDmarc && !settings.inbound_dmarc;
        let needs: &[Part] = if off { &[] } else { part.needs() };
        for need in needs {
            if follow(need)
                && !chosen.contains(need)
                && !build_parts(settings, cur, &[*need])?.is_empty()
            {
                chosen.push(*need);
                todo.push(*need);
            }
        }
    }
    Ok(Part::ALL
        .iter()
        .copied()
        .filter(|p| chosen.contains(p))
        .collect())
}

/// Refuse a selection that applies a part while a part it needs, with changes pending on
/// `cur`, is left out (declined, or not offered).
///
/// Errors: [`Error::Refused`], naming both parts and what to do.
pub fn check_selection(settings: &Settings, cur: &Current, accepted: &[Part]) -> Result<()> {
    for part in accepted {
        for need in with_prerequisites(settings, cur, &[*part])? {
            if !accepted.contains(&need) {
                return Err(Error::Refused(format!(
                    "the {} step needs the {} step, whose changes are pending and were not \
                     accepted: applied alone it would leave the set-up broken (e.g. Postfix \
                     pointed at a socket OpenDKIM does not listen on); nothing was changed\n  \
                     fix: accept both steps, or decline both",
                    part.title(),
                    need.title()
                )));
            }
        }
    }
    Ok(())
}
