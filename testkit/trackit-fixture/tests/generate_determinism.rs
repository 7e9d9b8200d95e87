//! Two runs with the same arguments give the same content (a digest of every row of every table and view),
//! and a different seed gives different content.

mod generate_support;

use generate_support::{content_digests, files_under, gen_into, open};
use trackit_fixture::generate::{AttachMode, TextMode};

#[test]
fn same_arguments_same_content() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let c = tempfile::tempdir().unwrap();
    gen_into(a.path(), 600, 9, AttachMode::Share, TextMode::Varchar);
    gen_into(b.path(), 600, 9, AttachMode::Share, TextMode::Varchar);
    gen_into(c.path(), 600, 10, AttachMode::Share, TextMode::Varchar);
    let da = content_digests(&open(a.path()));
    let db = content_digests(&open(b.path()));
    let dc = content_digests(&open(c.path()));
    assert!(da.len() >= 21, "every table and the view are digested");
    assert_eq!(da, db, "same seed, same rows");
    let tasks = |d: &[(String, String)]| d.iter().find(|x| x.0 == "dbo.TASKS").unwrap().1.clone();
    assert_ne!(tasks(&da), tasks(&dc), "another seed, other rows");
    for name in ["truth.json", "admins.json"] {
        assert_eq!(
            std::fs::read(a.path().join(name)).unwrap(),
            std::fs::read(b.path().join(name)).unwrap(),
            "{name}"
        );
    }
    let files_a = files_under(&a.path().join("attachments"));
    assert_eq!(files_a, files_under(&b.path().join("attachments")));
    for f in files_a.iter().take(50) {
        let ra = std::fs::read(a.path().join("attachments").join(f)).unwrap();
        let rb = std::fs::read(b.path().join("attachments").join(f)).unwrap();
        assert_eq!(ra, rb, "{}", f.display());
    }
}

#[test]
fn regenerating_into_the_same_directory_replaces_it() {
    let a = tempfile::tempdir().unwrap();
    gen_into(a.path(), 300, 3, AttachMode::Share, TextMode::Varchar);
    let first = content_digests(&open(a.path()));
    let files = files_under(&a.path().join("attachments"));
    gen_into(a.path(), 300, 3, AttachMode::Share, TextMode::Varchar);
    assert_eq!(first, content_digests(&open(a.path())));
    assert_eq!(files, files_under(&a.path().join("attachments")));
}
