//! The reference sections of docs/resources/*.md and docs/data-sources/*.md are what
//! `cargo run --bin amlauth-docs` generates from the provider's schemas: CI fails when a
//! schema changed and the docs were not regenerated, when a resource or data source has no
//! page, or when a page lacks the generated sections' markers.

use std::process::Command;

#[test]
fn committed_docs_match_the_schemas() {
    let out = Command::new(env!("CARGO_BIN_EXE_amlauth-docs"))
        .arg("--check")
        .output()
        .expect("run amlauth-docs --check");
    assert!(
        out.status.success(),
        "the docs differ from what the schemas generate; run `cargo run --bin amlauth-docs` and \
         commit the result.\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A page without its markers, a missing page and a stale section are each reported, naming
/// the file; nothing is written in check mode.
#[test]
fn check_names_the_page_that_is_wrong() {
    let root = env!("CARGO_MANIFEST_DIR");
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::copy(format!("{root}/docs/index.md"), dir.path().join("index.md")).expect("copy");
    for sub in ["resources", "data-sources"] {
        std::fs::create_dir_all(dir.path().join(sub)).expect("mkdir");
        for e in std::fs::read_dir(format!("{root}/docs/{sub}")).expect("docs dir") {
            let e = e.expect("entry");
            std::fs::copy(e.path(), dir.path().join(sub).join(e.file_name())).expect("copy");
        }
    }
    let run = || {
        let out = Command::new(env!("CARGO_BIN_EXE_amlauth-docs"))
            .arg("--check")
            .arg(dir.path())
            .output()
            .expect("run amlauth-docs");
        (
            out.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    };
    assert!(run().0, "the copy starts up to date: {}", run().1);

    // A stale generated line: reported as a diff of that page.
    let acr = dir.path().join("resources/acr_admin.md");
    let text = std::fs::read_to_string(&acr).expect("read");
    let stale = text.replace("- `enabled` - (Required)", "- `enabled` - (Optional)");
    assert_ne!(stale, text, "the page lists `enabled` as generated");
    std::fs::write(&acr, &stale).expect("write");
    let (ok, out) = run();
    assert!(!ok, "{out}");
    assert!(
        out.contains("acr_admin.md") && out.contains("-- `enabled` - (Optional)"),
        "{out}"
    );
    assert!(out.contains("+- `enabled` - (Required)"), "{out}");
    assert_eq!(
        std::fs::read_to_string(&acr).expect("read"),
        stale,
        "check writes nothing"
    );

    // Markers removed: the error names the file and the section.
    std::fs::write(&acr, text.replace("<!-- generated:timeouts:begin -->", "")).expect("write");
    let (ok, out) = run();
    assert!(!ok, "{out}");
    assert!(out.contains("acr_admin.md: no timeouts markers"), "{out}");

    // A page missing: the error names the file to create.
    std::fs::remove_file(&acr).expect("remove");
    let (ok, out) = run();
    assert!(!ok, "{out}");
    assert!(
        out.contains("acr_admin.md is missing") && out.contains("amlauth_acr_admin"),
        "{out}"
    );
}
