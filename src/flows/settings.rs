//! The settings a run works from: the answers file given with `--answers`, else the answers
//! the wizard saved beneath the root ([`super::SAVED_ANSWERS`]), validated into [`Settings`].

use std::path::Path;

use crate::answers;
use crate::error::{Error, Result};
use crate::host::system::Root;
use crate::settings::Settings;

/// Read and validate the answers file `path`.
///
/// Errors: the file cannot be read ([`Error::AnswersRead`]); an answer breaks its rule (the
/// error names the key and the rule).
pub fn from_file(path: &Path) -> Result<Settings> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::AnswersRead {
        path: path.into(),
        source,
    })?;
    Ok(answers::parse(&text)?)
}

/// `given`, else the answers saved by the last wizard run beneath the root, else none.
///
/// Errors: as [`from_file`]; the saved file cannot be read or is invalid.
pub fn given_or_saved(root: &Root, given: Option<&Path>) -> Result<Option<Settings>> {
    given_or_saved_said(root, given, |_| {})
}

/// [`given_or_saved`], calling `read` with the file's real path (the saved one beneath the
/// root) once it is found and before it is parsed, so that the caller can say which file an
/// error is about.
pub fn given_or_saved_said(
    root: &Root,
    given: Option<&Path>,
    read: impl FnOnce(&Path),
) -> Result<Option<Settings>> {
    if let Some(path) = given {
        read(path);
        return from_file(path).map(Some);
    }
    match crate::host::system::read_file(root, super::SAVED_ANSWERS)?.text {
        Some(text) => {
            read(&root.path(super::SAVED_ANSWERS));
            Ok(Some(answers::parse(&text)?))
        }
        None => Ok(None),
    }
}
