use super::*;
use std::path::Path;

fn parse(text: &str) -> Result<PipelineConfig, ConfigError> {
    PipelineConfig::parse(text, Path::new("pipeline.toml"))
}

#[test]
fn empty_file_gives_defaults() {
    let config = parse("").unwrap();
    assert_eq!(config, PipelineConfig::default());
    assert_eq!(config.intercom.api_version, "2.16");
}

#[test]
fn the_shipped_pipeline_toml_parses() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../pipeline.toml");
    let config = PipelineConfig::load(&path).unwrap();
    assert_eq!(config.intercom.token_env, "INTERCOM_TOKEN");
}

#[test]
fn unknown_key_names_the_key_and_line() {
    let err = parse("[extract]\npage_rows = 10\nmystery_knob = 1\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("mystery_knob"), "{err}");
    assert!(err.contains("line 3"), "{err}");
}

#[test]
fn wrong_type_names_the_key() {
    let err = parse("[intercom]\nworkers = \"four\"\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("workers") || err.contains("line 2"), "{err}");
}

#[test]
fn inline_secrets_are_refused_with_the_env_key_to_use() {
    let err = parse("[source]\npassword = \"hunter2\"\n").unwrap_err();
    assert!(
        matches!(&err, ConfigError::InlineSecret { key, line: 2, hint: "password_env", .. } if key == "source.password")
    );
    assert!(!err.to_string().contains("hunter2"));
    let err = parse("[intercom]\ntoken = \"dG9r\"\n").unwrap_err();
    assert!(matches!(
        err,
        ConfigError::InlineSecret {
            hint: "token_env",
            ..
        }
    ));
    let err = parse("[source]\nconnection_string = \"server=x;Password=p\"\n").unwrap_err();
    assert!(matches!(err, ConfigError::InlineSecret { line: 2, .. }));
}

#[test]
fn semantic_problems_are_all_reported() {
    let err =
        parse("[intercom]\nworkers = 0\nrequests_per_minute = 0\n[load]\nphases = [\"bogus\"]\n")
            .unwrap_err();
    let ConfigError::Rejected { problems, .. } = err else {
        panic!("expected Rejected, got {err}")
    };
    assert_eq!(problems.len(), 3, "{problems:?}");
}

#[test]
fn digest_ignores_connection_details() {
    let a = parse("[source]\nconnection_string = \"server=a\"\n").unwrap();
    let b = parse("[source]\nconnection_string = \"server=b\"\n").unwrap();
    assert_eq!(a.digest(), b.digest());
    let c = parse("[extract]\npage_rows = 7\n").unwrap();
    assert_ne!(a.digest(), c.digest());
}

#[test]
fn window_tickets_and_keyless_cell_max_bytes_are_keys_with_the_cli_defaults() {
    let config = parse("").unwrap();
    assert_eq!(config.transform.window_tickets, DEFAULT_WINDOW_TICKETS);
    assert_eq!(DEFAULT_WINDOW_TICKETS, 10_000);
    assert_eq!(
        config.extract.keyless_cell_max_bytes,
        DEFAULT_KEYLESS_CELL_MAX_BYTES
    );
    assert_eq!(DEFAULT_KEYLESS_CELL_MAX_BYTES, 32 << 20);
    let config =
        parse("[transform]\nwindow_tickets = 50\n[extract]\nkeyless_cell_max_bytes = 1024\n")
            .unwrap();
    assert_eq!(config.transform.window_tickets, 50);
    assert_eq!(config.extract.keyless_cell_max_bytes, 1024);
    // The shipped file states the defaults.
    let shipped =
        PipelineConfig::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../pipeline.toml"))
            .unwrap();
    assert_eq!(shipped.transform.window_tickets, DEFAULT_WINDOW_TICKETS);
    assert_eq!(
        shipped.extract.keyless_cell_max_bytes,
        DEFAULT_KEYLESS_CELL_MAX_BYTES
    );
    let err = parse("[transform]\nwindow_ticket = 5\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("window_ticket"), "{err}");
}

/// The problems `parse` rejects `text` with (empty when it parses).
fn rejected(text: &str) -> Vec<String> {
    match parse(text) {
        Ok(_) => Vec::new(),
        Err(ConfigError::Rejected { problems, .. }) => problems,
        Err(e) => panic!("not a rejection: {e}"),
    }
}

#[test]
fn zero_sizes_and_timeouts_are_refused() {
    let problems = rejected(
        "[transform]\nwindow_tickets = 0\n[extract]\nkeyless_cell_max_bytes = 0\n[intercom]\ntimeout_seconds = 0\n",
    );
    assert_eq!(
        problems,
        [
            "extract.keyless_cell_max_bytes must be at least 1",
            "transform.window_tickets must be at least 1",
            "intercom.timeout_seconds must be at least 1",
        ]
    );
}

#[test]
fn base_url_must_be_one_scheme_and_a_host() {
    let problems = |url: &str| rejected(&format!("[intercom]\nbase_url = {url:?}\n"));
    for good in [
        "https://api.intercom.io",
        "http://127.0.0.1:8080",
        "http://[::1]:8080",
        "http://[::1]",
        "https://proxy.example.com/intercom",
    ] {
        assert_eq!(problems(good), Vec::<String>::new(), "{good}");
    }
    for (bad, why) in [
        (
            "http://http://127.0.0.1:8080",
            "needs one scheme and a host",
        ),
        (
            "ftp://api.intercom.io",
            "must start with http:// or https://",
        ),
        ("https://", "needs one scheme and a host"),
        (
            "http://127.0.0.1:80x",
            "the port after the host must be a number",
        ),
        (
            "https://api.intercom.io/?x=1",
            "must not hold spaces, a query",
        ),
    ] {
        let found = problems(bad);
        assert_eq!(found.len(), 1, "{bad}: {found:?}");
        assert!(
            found[0].starts_with(&format!("intercom.base_url {bad:?}: {why}")),
            "{bad}: {found:?}"
        );
    }
}
