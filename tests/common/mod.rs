//! Helpers shared by the integration tests that drive the binary.

use assert_cmd::Command;
use std::path::Path;

/// Runs `steplog summary -f json ARGS` in `dir`; it must succeed. Returns stdout.
pub fn summary_json(dir: &Path, args: &[&str]) -> String {
    let out = Command::cargo_bin("steplog")
        .unwrap()
        .current_dir(dir)
        .arg("summary")
        .args(["-f", "json"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}
