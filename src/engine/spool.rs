//! Inputs that must be read twice but can be read only once (standard input, a FIFO, a
//! device), saved to a temporary file first.

use super::Error;
use crate::input::InputSpec;

/// The inputs with every one that cannot be read twice (standard input, and paths that are
/// not regular files) replaced by a temporary copy, and the guards that delete the copies
/// when dropped. Reports still call them by their names.
pub(super) fn once_only(
    inputs: &[InputSpec],
) -> Result<(Vec<InputSpec>, Vec<tempfile::TempPath>), Error> {
    let mut specs = Vec::with_capacity(inputs.len());
    let mut guards = Vec::new();
    for spec in inputs {
        let once = match spec {
            InputSpec::Stdin => true,
            InputSpec::Path(p) => std::fs::metadata(p).is_ok_and(|m| !m.is_file()),
        };
        if !once {
            specs.push(spec.clone());
            continue;
        }
        let spool = || -> std::io::Result<tempfile::TempPath> {
            let mut file = tempfile::NamedTempFile::new()?;
            match spec {
                InputSpec::Stdin => {
                    std::io::copy(&mut std::io::stdin().lock(), file.as_file_mut())?;
                }
                InputSpec::Path(p) => {
                    std::io::copy(&mut std::fs::File::open(p)?, file.as_file_mut())?;
                }
            }
            Ok(file.into_temp_path())
        };
        let path = spool().map_err(|source| Error::Spool {
            path: spec.name(),
            source,
        })?;
        specs.push(InputSpec::Path(path.to_path_buf()));
        guards.push(path);
    }
    Ok((specs, guards))
}
