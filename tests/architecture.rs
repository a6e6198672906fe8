//! docs/ARCHITECTURE.md and README's layout describe the code, so they must move with it: every
//! path they name exists, and their crate lists are the workspace's crates. A renamed module
//! fails here instead of leaving a reader at a dead end.

use gpubom_testkit::source::rust_files;
use std::collections::BTreeSet;
use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The top-level entries of the repository a path in the docs may start with.
const TOP_LEVEL: &[&str] = &[
    "crates/",
    "src/",
    "tests/",
    "scripts/",
    "docs/",
    "policies/",
    "schemas/",
    "advisories/",
    "demo/",
    "fuzz/",
    ".ci/",
    ".github/",
    "Cargo.toml",
    "README.md",
    "action.yml",
    "deny.toml",
];

/// Backticked spans that name a repository path: those starting with a top-level entry, and
/// Rust files named relative to their crate (`report/waived.rs`). Other spans with a slash
/// (`linux/amd64`, `index.json` inside an image) are about images, not this repository.
fn named_paths(markdown: &str) -> BTreeSet<String> {
    markdown
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|span| !span.contains(['<', '*', ' ', '{', ':', '=']))
        .filter(|span| TOP_LEVEL.iter().any(|t| span.starts_with(t)) || span.ends_with(".rs"))
        .map(str::to_string)
        .collect()
}

/// A path from the root must exist as written; a Rust file named relative to its crate must
/// end some file's path under `crates/`, `src/` or `tests/`.
fn exists(path: &str) -> bool {
    if TOP_LEVEL.iter().any(|t| path.starts_with(t)) {
        return root().join(path).exists();
    }
    ["crates", "src", "tests"]
        .iter()
        .flat_map(|dir| rust_files(&root().join(dir)))
        .any(|file| file.ends_with(path))
}

fn workspace_crates() -> BTreeSet<(String, String)> {
    let mut crates = BTreeSet::new();
    for entry in std::fs::read_dir(root().join("crates")).unwrap().flatten() {
        let manifest = entry.path().join("Cargo.toml");
        let Ok(text) = std::fs::read_to_string(&manifest) else {
            continue;
        };
        let name = text
            .lines()
            .find_map(|l| l.strip_prefix("name = \""))
            .and_then(|l| l.strip_suffix('"'))
            .unwrap_or_else(|| panic!("{}: no package name", manifest.display()));
        let dir = format!("crates/{}", entry.file_name().to_string_lossy());
        crates.insert((dir, name.to_string()));
    }
    crates.insert(("src".into(), "gpubom".into()));
    crates
}

#[test]
fn every_path_architecture_names_exists() {
    let doc = read("docs/ARCHITECTURE.md");
    let paths = named_paths(&doc);
    assert!(paths.len() > 50, "too few paths found: {paths:?}");
    let missing: Vec<_> = paths.iter().filter(|p| !exists(p)).collect();
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md names paths that do not exist: {missing:?}"
    );
}

#[test]
fn architecture_crate_table_is_the_workspace() {
    let doc = read("docs/ARCHITECTURE.md");
    let table: BTreeSet<(String, String)> = doc
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let dir = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
            let name = cells.get(2)?.strip_prefix('`')?.strip_suffix('`')?;
            (dir.starts_with("crates/") || dir == "src/")
                .then(|| (dir.trim_end_matches('/').to_string(), name.to_string()))
        })
        .collect();
    assert_eq!(
        table,
        workspace_crates(),
        "the crate table in ARCHITECTURE.md"
    );
}

#[test]
fn readme_layout_lists_every_crate_and_names_real_paths() {
    let readme = read("README.md");
    let layout = readme
        .split("## Layout")
        .nth(1)
        .and_then(|rest| rest.split("```").nth(1))
        .expect("README.md has a ## Layout section with a code block");
    let listed: BTreeSet<String> = layout
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(|path| path.trim_end_matches('/').to_string())
        .collect();
    for path in &listed {
        assert!(
            root().join(path).exists(),
            "README layout names {path}, which does not exist"
        );
    }
    for (dir, _) in workspace_crates() {
        assert!(listed.contains(&dir), "README layout does not list {dir}");
    }
}

/// Top-level modules a file refers to through `crate::…` paths, including grouped imports
/// (`use crate::{a::X, b}`). `super::` stays inside one module tree, so it is not counted.
fn crate_references(source: &str) -> BTreeSet<String> {
    let leading_ident = |text: &str| -> String {
        text.trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    let mut found = BTreeSet::new();
    let mut pieces = source.split("crate::");
    let mut before = pieces.next().unwrap_or_default();
    for after in pieces {
        let part_of_a_longer_path = before
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$' || c == ':');
        if !part_of_a_longer_path {
            match after.strip_prefix('{') {
                Some(group) => found.extend(top_level_items(group).map(leading_ident)),
                None => {
                    found.insert(leading_ident(after));
                }
            }
        }
        before = after;
    }
    found.retain(|name| !name.is_empty() && name != "self");
    found
}

/// The comma-separated items of a `{…}` group, up to its closing brace.
fn top_level_items(group: &str) -> impl Iterator<Item = &str> {
    let mut depth = 0usize;
    let mut start = 0;
    let mut items = Vec::new();
    for (i, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => {
                items.push(&group[start..i]);
                break;
            }
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&group[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.into_iter()
}

/// Each Rust file under `dir`, with the top-level module it belongs to (`None` for the crate
/// root, which declares every module and so is left out of the graph).
fn modules_of(dir: &Path) -> Vec<(Option<String>, String)> {
    rust_files(dir)
        .into_iter()
        .map(|path| {
            let relative = path.strip_prefix(dir).unwrap();
            let first = relative.components().next().unwrap();
            let first = first.as_os_str().to_string_lossy();
            let module = first.strip_suffix(".rs").unwrap_or(&first).to_string();
            let module = (!["lib", "main"].contains(&module.as_str())).then_some(module);
            // Comments (doc links included) point at code; they do not import it.
            let code: String = std::fs::read_to_string(&path)
                .unwrap()
                .lines()
                .filter(|line| !line.trim_start().starts_with("//"))
                .flat_map(|line| [line, "\n"])
                .collect();
            (module, code)
        })
        .collect()
}

/// A cycle among the top-level modules of the crate whose sources are in `dir`, if any.
fn import_cycle(dir: &Path) -> Option<Vec<String>> {
    let mut edges: std::collections::BTreeMap<String, BTreeSet<String>> = Default::default();
    let files = modules_of(dir);
    let modules: BTreeSet<String> = files.iter().filter_map(|(m, _)| m.clone()).collect();
    for (module, source) in &files {
        let Some(module) = module else { continue };
        let targets = crate_references(source)
            .into_iter()
            .filter(|t| t != module && modules.contains(t));
        edges.entry(module.clone()).or_default().extend(targets);
    }
    // Depth-first search; a node met again while still on the path closes a cycle.
    fn visit(
        node: &str,
        edges: &std::collections::BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in edges.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, edges, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    edges
        .keys()
        .find_map(|node| visit(node, &edges, &mut Vec::new(), &mut done))
}

#[test]
fn no_import_circles_between_modules() {
    let mut cycles = Vec::new();
    for (dir, name) in workspace_crates() {
        let src = if dir == "src" {
            root().join("src")
        } else {
            root().join(&dir).join("src")
        };
        if let Some(cycle) = import_cycle(&src) {
            cycles.push(format!("{name}: {}", cycle.join(" -> ")));
        }
    }
    assert!(
        cycles.is_empty(),
        "modules that import each other: {cycles:#?}"
    );
}

#[test]
fn the_cycle_finder_finds_a_cycle() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("lib.rs"), "mod a; mod b; mod c;").unwrap();
    std::fs::write(dir.path().join("a.rs"), "use crate::b::X;").unwrap();
    std::fs::write(dir.path().join("b.rs"), "use crate::{c::{Y, Z}, d};").unwrap();
    std::fs::write(dir.path().join("c.rs"), "fn f() { crate::a::g() }").unwrap();
    let cycle = import_cycle(dir.path()).expect("a -> b -> c -> a");
    assert_eq!(cycle, ["a", "b", "c", "a"]);
    std::fs::write(dir.path().join("c.rs"), "fn f() { my_crate::a::g() }").unwrap();
    assert_eq!(import_cycle(dir.path()), None);
}

/// The binary is flags, progress and output: what grows with a feature belongs in
/// `crates/pipeline`, where tests reach it without a command line.
#[test]
fn the_binary_stays_under_a_thousand_lines() {
    let lines: usize = rust_files(&root().join("src"))
        .iter()
        .map(|file| std::fs::read_to_string(file).unwrap().lines().count())
        .sum();
    assert!(
        lines < 1000,
        "src/ has {lines} lines: move what is not argument parsing, progress or output into crates/pipeline"
    );
}
