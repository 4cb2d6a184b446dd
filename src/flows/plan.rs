//! The plan of some parts, built on the system as it is now.

use crate::error::Result;
use crate::host::system::Root;
use crate::plan::{self, Current, Part, Plan};
use crate::settings::Settings;

/// Read the state beneath the root and plan `parts` on it.
///
/// Errors: as [`Current::read`] and [`plan::build_parts`].
pub fn of(root: &Root, settings: &Settings, parts: &[Part]) -> Result<(Current, Plan)> {
    let current = Current::read(root, settings)?;
    let plan = plan::build_parts(settings, &current, parts)?;
    Ok((current, plan))
}

/// The plan of a wizard step's part and of the earlier parts it needs that still have
/// changes pending (a step the operator skipped comes back in this step's diff:
/// [`plan::with_earlier_prerequisites`]).
///
/// Errors: as [`of`].
pub fn of_step(root: &Root, settings: &Settings, part: Part) -> Result<(Current, Plan)> {
    let current = Current::read(root, settings)?;
    let parts = plan::with_earlier_prerequisites(settings, &current, part)?;
    let plan = plan::build_parts(settings, &current, &parts)?;
    Ok((current, plan))
}
