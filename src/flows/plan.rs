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
