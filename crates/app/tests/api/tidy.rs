//! Keeps the rules of STYLE.md true mechanically: line and file length, a `//!` opening line on
//! every Rust file, no `unwrap()`/`expect(` outside tests, no `f64` in money code, every module
//! crate with a DESIGN.md, and the two migration trees in step.

use std::path::{Path, PathBuf};

const MAX_LINE_CHARS: usize = 120;
const MAX_FILE_LINES: usize = 800;
/// Crates whose code handles amounts of money; `f64` has no place there.
const MONEY_CRATES: &[&str] = &["kernel", "ledger", "billing", "payments", "collections"];
/// Crates that are infrastructure rather than domain modules.
const NOT_MODULES: &[&str] = &["kernel", "db", "web", "app", "testkit"];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

fn is_test_code(path: &Path) -> bool {
    let text = path.to_string_lossy();
    text.contains("/tests/") || text.ends_with("/tests.rs") || text.contains("/testkit/")
}

#[test]
fn rust_files_follow_the_style_rules() {
    let mut files = Vec::new();
    rust_files(&workspace().join("crates"), &mut files);
    assert!(files.len() > 20, "found the sources");
    let mut problems = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        let name = file.strip_prefix(workspace()).unwrap_or(file).display().to_string();
        if !text.starts_with("//!") {
            problems.push(format!("{name}: should start with a //! line saying why it exists"));
        }
        let lines = text.lines().count();
        if lines > MAX_FILE_LINES {
            problems.push(format!("{name}: {lines} lines; split it by concept (limit {MAX_FILE_LINES})"));
        }
        for (number, line) in text.lines().enumerate() {
            if line.chars().count() > MAX_LINE_CHARS {
                problems.push(format!("{name}:{}: longer than {MAX_LINE_CHARS} characters", number + 1));
            }
            if !is_test_code(file) && (line.contains(".unwrap()") || line.contains(".expect(")) {
                problems.push(format!("{name}:{}: unwrap/expect outside tests", number + 1));
            }
        }
        let crate_name = name.split('/').nth(1).unwrap_or_default();
        if MONEY_CRATES.contains(&crate_name) && !is_test_code(file) && text.contains("f64") {
            problems.push(format!("{name}: f64 in money code; use integer minor units or rust_decimal"));
        }
    }
    assert!(problems.is_empty(), "style problems:\n{}", problems.join("\n"));
}

#[test]
fn every_module_crate_has_a_design_glossary() {
    let crates =
        std::fs::read_dir(workspace().join("crates")).map(|d| d.flatten().collect::<Vec<_>>()).unwrap_or_default();
    let mut missing = Vec::new();
    for entry in crates {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !NOT_MODULES.contains(&name.as_str()) && !entry.path().join("DESIGN.md").exists() {
            missing.push(name);
        }
    }
    assert!(missing.is_empty(), "module crates without DESIGN.md: {missing:?}");
}

#[test]
fn migration_trees_hold_the_same_files() {
    let names = |backend: &str| {
        let dir = workspace().join("crates/db/migrations").join(backend);
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .map(|d| d.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        names.sort();
        names
    };
    assert!(!names("sqlite").is_empty());
    assert_eq!(names("sqlite"), names("postgres"));
}
