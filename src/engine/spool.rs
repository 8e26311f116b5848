//! Inputs that must be read twice but can be read only once (standard input), saved to a
//! temporary file first.

use super::Error;
use crate::input::InputSpec;

/// The inputs with standard input replaced by a temporary copy of it, and the guard that
/// deletes the copy when dropped. Reports still call it `-`.
pub(super) fn stdin(
    inputs: &[InputSpec],
) -> Result<(Vec<InputSpec>, Option<tempfile::TempPath>), Error> {
    if !inputs.contains(&InputSpec::Stdin) {
        return Ok((inputs.to_vec(), None));
    }
    let spool = || -> std::io::Result<tempfile::TempPath> {
        let mut file = tempfile::NamedTempFile::new()?;
        std::io::copy(&mut std::io::stdin().lock(), file.as_file_mut())?;
        Ok(file.into_temp_path())
    };
    let path = spool().map_err(|source| Error::Spool {
        path: InputSpec::Stdin.name(),
        source,
    })?;
    let specs = inputs
        .iter()
        .map(|s| match s {
            InputSpec::Stdin => InputSpec::Path(path.to_path_buf()),
            other => other.clone(),
        })
        .collect();
    Ok((specs, Some(path)))
}
