//! `docs/reference.md` is `rnnc::reference::markdown()`, with a row for every declaration.
//! `RNNC_BLESS=1 cargo test --test it reference` rewrites it.

use std::path::PathBuf;

fn path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/reference.md")
}

fn blessing() -> bool {
    std::env::var("RNNC_BLESS").as_deref() == Ok("1")
}

#[test]
fn reference_md_is_generated_from_the_declarations() {
    let want = rnnc::reference::markdown();
    if blessing() {
        std::fs::write(path(), &want).expect("write docs/reference.md");
        return;
    }
    let have = std::fs::read_to_string(path()).unwrap_or_default();
    if have != want {
        let line = have
            .lines()
            .zip(want.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| have.lines().count().min(want.lines().count()));
        panic!(
            "docs/reference.md is out of date (first difference at line {}); regenerate it with \
             `RNNC_BLESS=1 cargo test --test it reference`",
            line + 1
        );
    }
}

#[test]
fn reference_md_has_a_row_for_every_declaration() {
    // While blessing, the file is being rewritten by the other test: check what it gets.
    let md = if blessing() {
        rnnc::reference::markdown()
    } else {
        std::fs::read_to_string(path()).expect("docs/reference.md")
    };
    assert_eq!(rnnc::reference::missing_rows(&md), Vec::<String>::new());
    assert!(rnnc::reference::missing_rows("").len() > 100);
}
