//! `--attachments blob` and `--text nvarchar`.

mod generate_support;

use generate_support::{gen_into, int, json, open};
use trackit_fixture::generate::{AttachMode, TextMode};

#[test]
fn blob_mode_stores_bytes_and_unrepresentable_names() {
    let tmp = tempfile::tempdir().unwrap();
    gen_into(tmp.path(), 400, 5, AttachMode::Blob, TextMode::Varchar);
    let conn = open(tmp.path());
    assert!(
        !tmp.path().join("attachments").exists(),
        "no files in blob mode"
    );
    let att = "\"dbo.Attachments\"";
    assert_eq!(
        int(
            &conn,
            &format!("SELECT COUNT(*) FROM {att} WHERE StoredPath IS NOT NULL")
        ),
        0
    );
    assert_eq!(
        int(
            &conn,
            &format!(
                "SELECT COUNT(*) FROM {att} WHERE Content IS NOT NULL AND length(Content) <> SizeBytes"
            )
        ),
        0
    );
    assert_eq!(
        int(
            &conn,
            &format!("SELECT COUNT(*) FROM {att} WHERE FileName LIKE '%/%'")
        ),
        1
    );
    assert_eq!(
        int(
            &conn,
            &format!("SELECT COUNT(*) FROM {att} WHERE length(CAST(FileName AS BLOB)) > 255")
        ),
        1
    );
    let zero_blobs = int(
        &conn,
        &format!("SELECT COUNT(*) FROM {att} WHERE typeof(Content) = 'blob' AND SizeBytes = 0"),
    );
    assert!(zero_blobs > 0, "zero-length BLOBs, not NULL");
    let truth = json(tmp.path(), "truth.json");
    let missing = int(
        &conn,
        &format!("SELECT COUNT(*) FROM {att} WHERE Content IS NULL"),
    );
    assert_eq!(
        truth["source"]["attachments"]["missing_on_disk"].as_i64(),
        Some(missing)
    );
    assert_eq!(
        truth["source"]["attachments"]["files_on_disk"].as_i64(),
        Some(0)
    );
    assert!(truth["source"]["sentinels"]["attach_blob_only_names"].is_array());
}

#[test]
fn nvarchar_mode_keeps_unicode_and_the_lone_surrogate() {
    let tmp = tempfile::tempdir().unwrap();
    gen_into(tmp.path(), 300, 5, AttachMode::Share, TextMode::Nvarchar);
    let conn = open(tmp.path());
    let ty = |obj: &str, col: &str| -> String {
        conn.query_row(
            "SELECT data_type FROM _ti_columns WHERE object_name = ?1 AND column_name = ?2",
            [obj, col],
            |r| r.get(0),
        )
        .unwrap()
    };
    assert_eq!(ty("TASKS", "TASK"), "nvarchar");
    assert_eq!(ty("TASKS", "DESCRIPT"), "ntext");
    assert_eq!(ty("TaskNote", "NoteText"), "ntext");
    let body: String = conn
        .query_row(
            "SELECT DESCRIPT FROM \"dbo.TASKS\" WHERE WOID = 57",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(body.contains('😀'));
    let name: String = conn
        .query_row(
            "SELECT FullName FROM \"dbo.HDUsers\" WHERE UserId = 1017",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(name, "李雷");
    let blob: Vec<u8> = conn
        .query_row(
            "SELECT NoteText FROM \"dbo.TaskNote\" WHERE woid = 95 AND typeof(NoteText) = 'blob'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        blob.windows(2).any(|w| w == [0x3D, 0xD8]),
        "raw UTF-16LE with a lone high surrogate"
    );
    let truth = json(tmp.path(), "truth.json");
    assert_eq!(
        truth["source"]["dirty"]["note_lone_surrogate"].as_i64(),
        Some(1)
    );
}
