//! Bundle round trip and every verification error, produced by real damage to a real bundle.

use proptest::prelude::*;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use ti_shared::bundle::{Bundle, BundleError, BundleKind, BundleWriter, Producer};

fn producer() -> Producer {
    Producer {
        name: "test".into(),
        version: "0".into(),
    }
}

fn temp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// A small bundle with a JSON file, a data file, a nested file and a blob.
fn small_bundle(root: &Path, config_digest: &str) -> String {
    let writer = BundleWriter::create(root, BundleKind::Extract, producer()).unwrap();
    writer
        .write_json("inventory.json", &serde_json::json!({"objects": [1, 2, 3]}))
        .unwrap();
    writer
        .write_bytes(
            "tables/dbo.^T^A^S^K^S/part-00000.parquet",
            b"not really parquet",
            Some(3),
        )
        .unwrap();
    writer
        .write_bytes("report/extract.md", "# résumé\n".as_bytes(), None)
        .unwrap();
    writer.add_blob(b"attachment bytes").unwrap();
    writer.set_config_digest(config_digest);
    writer.finish().unwrap().bundle_id
}

#[test]
fn round_trip_with_a_file_over_64_mib_written_in_chunks() {
    let dir = temp();
    let root = dir.path().join("b");
    let writer = BundleWriter::create(&root, BundleKind::Load, producer()).unwrap();
    let mut sink = writer.create_file("big/blob.bin").unwrap();
    let chunk: Vec<u8> = (0..(1 << 20)).map(|i| (i % 251) as u8).collect();
    let mut expected = blake3::Hasher::new();
    for _ in 0..65 {
        sink.write_all(&chunk).unwrap();
        expected.update(&chunk);
    }
    sink.write_all(b"tail").unwrap();
    expected.update(b"tail");
    let entry = writer.commit(sink, None).unwrap();
    assert_eq!(entry.bytes, 65 * (1 << 20) + 4);
    assert_eq!(entry.blake3, expected.finalize().to_hex().to_string());
    writer
        .write_bytes("records/01-data_attribute.ndjson", b"{}\n", Some(1))
        .unwrap();
    writer.set_parent("parent-id");
    writer.set_migration_id("mig-1");
    let manifest = writer.finish().unwrap();

    let bundle = Bundle::open(&root).unwrap();
    assert_eq!(bundle.id(), manifest.bundle_id);
    assert_eq!(bundle.manifest().files.len(), 2);
    assert_eq!(bundle.summary().bytes, 65 * (1 << 20) + 4 + 3);
    assert_eq!(
        bundle
            .entry("records/01-data_attribute.ndjson")
            .unwrap()
            .rows,
        Some(1)
    );
    assert_eq!(bundle.manifest().migration_id.as_deref(), Some("mig-1"));
}

#[test]
fn blobs_are_content_addressed_and_deduplicated() {
    let dir = temp();
    let writer = BundleWriter::create(dir.path(), BundleKind::Extract, producer()).unwrap();
    let a = writer.add_blob(b"same").unwrap();
    let b = writer.add_blob_from(&b"same"[..]).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.blake3, blake3::hash(b"same").to_hex().to_string());
    writer.finish().unwrap();
    let bundle = Bundle::open(dir.path()).unwrap();
    assert_eq!(bundle.manifest().files.len(), 1);
    assert!(bundle.blob_path(&a.blake3).unwrap().ends_with(format!(
        "blobs/{}/{}",
        &a.blake3[..2],
        a.blake3
    )));
}

#[test]
fn same_content_gives_the_same_bundle_id_whatever_the_time_and_config() {
    let dir = temp();
    let first = small_bundle(&dir.path().join("one"), "config-a");
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let second = small_bundle(&dir.path().join("two"), "config-b");
    assert_eq!(first, second);
    let one = Bundle::open(dir.path().join("one")).unwrap();
    let two = Bundle::open(dir.path().join("two")).unwrap();
    assert_ne!(
        one.manifest().seal,
        two.manifest().seal,
        "provenance differs, so the seal does"
    );
}

fn damaged(damage: impl FnOnce(&Path)) -> (PathBuf, BundleError, tempfile::TempDir) {
    let dir = temp();
    let root = dir.path().join("b");
    small_bundle(&root, "c");
    damage(&root);
    let err = Bundle::open(&root).unwrap_err();
    (root, err, dir)
}

const DATA: &str = "tables/dbo.^T^A^S^K^S/part-00000.parquet";

#[test]
fn flipped_byte_is_a_hash_mismatch_naming_the_file() {
    let (_, err, _d) = damaged(|root| {
        let path = root.join(DATA);
        let mut bytes = fs::read(&path).unwrap();
        bytes[3] ^= 0x01;
        fs::write(path, bytes).unwrap();
    });
    assert!(
        matches!(&err, BundleError::HashMismatch { path, .. } if path == DATA),
        "{err}"
    );
    assert!(err.to_string().contains(DATA));
    assert!(err.is_verification_failure());
}

#[test]
fn truncated_file_is_a_size_mismatch() {
    let (_, err, _d) = damaged(|root| {
        let f = fs::OpenOptions::new()
            .write(true)
            .open(root.join("inventory.json"))
            .unwrap();
        f.set_len(5).unwrap();
    });
    assert!(
        matches!(&err, BundleError::SizeMismatch { path, actual: 5, .. } if path == "inventory.json"),
        "{err}"
    );
}

#[test]
fn deleted_file_is_missing() {
    let (_, err, _d) = damaged(|root| fs::remove_file(root.join("report/extract.md")).unwrap());
    assert!(
        matches!(&err, BundleError::MissingFile { path, .. } if path == "report/extract.md"),
        "{err}"
    );
}

#[test]
fn added_file_is_unlisted() {
    let (_, err, _d) = damaged(|root| fs::write(root.join("tables/extra.parquet"), b"x").unwrap());
    assert!(
        matches!(&err, BundleError::UnlistedFile { path, .. } if path == "tables/extra.parquet"),
        "{err}"
    );
}

#[test]
fn deleted_manifest_is_an_incomplete_bundle() {
    let (root, err, _d) = damaged(|root| fs::remove_file(root.join("manifest.json")).unwrap());
    assert!(
        matches!(&err, BundleError::Incomplete { bundle } if *bundle == root),
        "{err}"
    );
    assert!(err.to_string().contains("manifest.json"));
}

fn edit_manifest(root: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
    let path = root.join("manifest.json");
    let mut value: serde_json::Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
    edit(&mut value);
    fs::write(path, serde_json::to_vec_pretty(&value).unwrap()).unwrap();
}

#[test]
fn edited_content_field_breaks_the_bundle_id() {
    let (_, err, _d) = damaged(|root| edit_manifest(root, |m| m["files"][0]["rows"] = 99.into()));
    assert!(
        matches!(
            err,
            BundleError::ManifestEdited {
                field: "bundle_id",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn edited_provenance_field_breaks_the_seal() {
    let (_, err, _d) =
        damaged(|root| edit_manifest(root, |m| m["created_at"] = "2001-01-01T00:00:00Z".into()));
    assert!(
        matches!(err, BundleError::ManifestEdited { field: "seal", .. }),
        "{err}"
    );
}

#[test]
fn unknown_format_version_is_refused() {
    let (_, err, _d) = damaged(|root| edit_manifest(root, |m| m["format_version"] = 2.into()));
    assert!(
        matches!(err, BundleError::UnknownFormat { version: 2, .. }),
        "{err}"
    );
}

#[test]
fn garbage_manifest_is_unreadable() {
    let (_, err, _d) = damaged(|root| {
        fs::write(
            root.join("manifest.json"),
            b"{\"format\": \"ti-bundle\", \"format_version\": 1",
        )
        .unwrap()
    });
    assert!(
        matches!(err, BundleError::ManifestUnreadable { .. }),
        "{err}"
    );
}

#[test]
fn writer_refuses_a_non_empty_directory_and_unsafe_paths() {
    let dir = temp();
    fs::write(dir.path().join("old.txt"), b"x").unwrap();
    assert!(matches!(
        BundleWriter::create(dir.path(), BundleKind::Extract, producer()),
        Err(BundleError::NotEmpty { .. })
    ));
    let fresh = dir.path().join("new");
    let writer = BundleWriter::create(&fresh, BundleKind::Extract, producer()).unwrap();
    for bad in ["../escape", "/abs", "a//b", "a\\b", "manifest.json", "c:/x"] {
        assert!(
            matches!(
                writer.create_file(bad),
                Err(BundleError::InvalidPath { .. })
            ),
            "{bad}"
        );
    }
}

#[test]
fn a_crash_before_finish_leaves_an_incomplete_bundle_and_reopen_continues_it() {
    let dir = temp();
    let root = dir.path().join("b");
    let complete_id = small_bundle(&dir.path().join("reference"), "c");
    {
        let writer = BundleWriter::create(&root, BundleKind::Extract, producer()).unwrap();
        writer
            .write_json("inventory.json", &serde_json::json!({"objects": [1, 2, 3]}))
            .unwrap();
        let mut half = writer.create_file(DATA).unwrap();
        half.write_all(b"half").unwrap();
        // crash: neither the half file nor the bundle is finished
    }
    assert!(matches!(
        Bundle::open(&root),
        Err(BundleError::Incomplete { .. })
    ));
    let writer = BundleWriter::reopen(&root, BundleKind::Extract, producer()).unwrap();
    assert!(writer.contains("inventory.json"));
    assert!(!writer.contains(DATA));
    writer
        .write_bytes(DATA, b"not really parquet", Some(3))
        .unwrap();
    writer
        .write_bytes("report/extract.md", "# résumé\n".as_bytes(), None)
        .unwrap();
    writer.add_blob(b"attachment bytes").unwrap();
    assert_eq!(writer.finish().unwrap().bundle_id, complete_id);
    Bundle::open(&root).unwrap();
}

#[test]
fn a_bundle_written_by_an_independent_script_verifies() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/write_bundle.py");
    let probe = std::process::Command::new("python3")
        .args(["-c", "import blake3"])
        .output();
    if !matches!(&probe, Ok(o) if o.status.success()) {
        println!("SKIPPED: python3 with the blake3 module is not installed (.ci/run installs it)");
        return;
    }
    let dir = temp();
    let root = dir.path().join("py");
    let status = std::process::Command::new("python3")
        .arg(&script)
        .arg(&root)
        .status()
        .unwrap();
    assert!(status.success());
    let bundle = Bundle::open(&root).unwrap();
    assert_eq!(bundle.manifest().files.len(), 2);
    assert_eq!(bundle.manifest().producer.name, "write_bundle.py");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn flipping_any_single_byte_of_any_file_fails_verification(file_pick in 0usize..64, offset_pick in 0usize..4096, bit in 0u8..8) {
        let dir = temp();
        let root = dir.path().join("b");
        small_bundle(&root, "c");
        let mut files: Vec<PathBuf> = Vec::new();
        let mut stack = vec![root.clone()];
        while let Some(d) = stack.pop() {
            for e in fs::read_dir(d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() { stack.push(p) } else { files.push(p) }
            }
        }
        files.sort();
        let target = &files[file_pick % files.len()];
        let mut bytes = fs::read(target).unwrap();
        let at = offset_pick % bytes.len();
        bytes[at] ^= 1 << bit;
        fs::write(target, &bytes).unwrap();
        prop_assert!(Bundle::open(&root).is_err(), "flip in {} at {} went unnoticed", target.display(), at);
    }
}

#[test]
fn a_bundle_of_the_other_kind_is_refused_by_name() {
    let dir = temp();
    small_bundle(dir.path(), "c");
    let err = Bundle::open_kind(dir.path(), BundleKind::Load).unwrap_err();
    assert!(
        matches!(
            err,
            BundleError::WrongKind {
                expected: "a load",
                found: "an extract",
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(ti_shared::cli::exit_code_for_bundle_error(&err), 2);
    let bundle = Bundle::open_kind(dir.path(), BundleKind::Extract).unwrap();
    assert!(matches!(
        bundle.open_file("records/01-data_attribute.ndjson"),
        Err(BundleError::NotInBundle { .. })
    ));
}

#[test]
fn a_path_that_is_not_a_directory_is_not_found_not_incomplete() {
    let dir = temp();
    let missing = dir.path().join("no-such-bundle");
    let err = Bundle::open(&missing).unwrap_err();
    assert!(matches!(err, BundleError::NotFound { .. }), "{err}");
    assert!(err.to_string().contains("no such directory"), "{err}");
    assert_eq!(ti_shared::cli::exit_code_for_bundle_error(&err), 2);
    let not_empty = BundleError::NotEmpty { bundle: missing };
    assert_eq!(ti_shared::cli::exit_code_for_bundle_error(&not_empty), 2);
}

#[test]
fn a_resealed_manifest_listing_a_file_twice_does_not_verify() {
    let (_, err, _d) = damaged(|root| {
        let path = root.join("manifest.json");
        let mut manifest: ti_shared::bundle::Manifest =
            serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
        let mut twin = manifest.files[0].clone();
        twin.blake3 = "0".repeat(64);
        manifest.files.push(twin);
        manifest.seal_now();
        fs::write(path, serde_json::to_vec_pretty(&manifest).unwrap()).unwrap();
    });
    assert!(
        matches!(&err, BundleError::ManifestUnreadable { reason, .. } if reason.contains("listed twice")),
        "{err}"
    );
}

#[test]
fn a_blob_whose_bytes_were_replaced_and_resealed_does_not_verify() {
    let (_, err, _d) = damaged(|root| {
        let path = root.join("manifest.json");
        let mut manifest: ti_shared::bundle::Manifest =
            serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
        let entry = manifest
            .files
            .iter_mut()
            .find(|f| f.path.starts_with("blobs/"))
            .unwrap();
        let other = b"another attachment";
        fs::write(root.join(&entry.path), other).unwrap();
        entry.bytes = other.len() as u64;
        entry.blake3 = blake3::hash(other).to_hex().to_string();
        manifest.seal_now();
        fs::write(path, serde_json::to_vec_pretty(&manifest).unwrap()).unwrap();
    });
    assert!(
        matches!(&err, BundleError::InvalidPath { path, .. } if path.starts_with("blobs/")),
        "{err}"
    );
    assert!(err.to_string().contains("content replaced"), "{err}");
}
