//! The shape of the source, as `src/lib.rs` describes it: imports point down.
//! Reads every module under `src/` as text, finds the modules each one names
//! (`crate::…`, `super::…`, `self::…` and its own children), and checks that
//! no modules need each other (directly or round a circle), that plumbing
//! never names a feature, and that a feature names another feature's
//! `domain` only.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use regex::Regex;

const FEATURES: &[&str] = &[
    "admins",
    "apps",
    "audit",
    "dashboard",
    "webhooks",
    "ops",
    "roles",
    "services",
    "verify",
];
/// The top floor, which puts the features together (the DreamFactory import
/// and system API write through several features' queries).
const TOP: &[&str] = &["api_docs", "cli", "import", "startup", "system_api"];

/// Module path (`apps::pages::edit`) → source file, for every non-test module.
fn modules() -> BTreeMap<String, PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = BTreeMap::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            if path.extension().is_none_or(|e| e != "rs")
                || matches!(stem.as_str(), "main" | "tests" | "properties")
            {
                continue;
            }
            let mut parts: Vec<String> = path
                .parent()
                .unwrap()
                .strip_prefix(&root)
                .unwrap()
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if !matches!(stem.as_str(), "mod" | "lib") {
                parts.push(stem);
            }
            found.insert(parts.join("::"), path);
        }
    }
    found
}

/// The source without comments and without its `#[cfg(test)]` modules.
fn code_of(path: &Path) -> String {
    let source = std::fs::read_to_string(path).unwrap();
    let comments = Regex::new(r"//[^\n]*").unwrap();
    let source = comments.replace_all(&source, "");
    match source.find("#[cfg(test)]\nmod ") {
        Some(at)
            if source[at..].contains('{')
                && !source[at..].starts_with("#[cfg(test)]\nmod tests;") =>
        {
            source[..at].to_owned()
        }
        _ => source.into_owned(),
    }
}

/// The module a path names: the longest known prefix of it.
fn resolve(modules: &BTreeMap<String, PathBuf>, path: &str) -> Option<String> {
    let mut parts: Vec<&str> = path.split("::").collect();
    while !parts.is_empty() {
        let candidate = parts.join("::");
        if modules.contains_key(&candidate) {
            return Some(candidate);
        }
        parts.pop();
    }
    None
}

/// Every module each module names.
fn edges(modules: &BTreeMap<String, PathBuf>) -> BTreeMap<String, BTreeSet<String>> {
    let path_re =
        Regex::new(r"\b(crate|super|self)::((?:[A-Za-z_]\w*::)*)(\{[^;]*?\}|[A-Za-z_]\w*)")
            .unwrap();
    let name_re = Regex::new(r"[A-Za-z_][\w:]*").unwrap();
    let mut edges = BTreeMap::new();
    for (module, file) in modules {
        let code = code_of(file);
        let here: Vec<&str> = if module.is_empty() {
            vec![]
        } else {
            module.split("::").collect()
        };
        let is_dir = file.ends_with("mod.rs") || file.ends_with("lib.rs");
        let mut named = BTreeSet::new();
        for found in path_re.captures_iter(&code) {
            let base: Vec<String> = match &found[1] {
                "crate" => vec![],
                // In `x.rs`, `self` is `x` and `super` its parent; in `x/mod.rs` the same.
                "self" => here.iter().map(|s| s.to_string()).collect(),
                _ => here[..here.len().saturating_sub(1)]
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
            };
            let middle = found[2].trim_end_matches("::");
            let mut prefix = base.clone();
            prefix.extend(
                middle
                    .split("::")
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned),
            );
            let last = &found[3];
            let names: Vec<String> = if last.starts_with('{') {
                name_re
                    .find_iter(last)
                    .map(|m| m.as_str().to_owned())
                    .collect()
            } else {
                vec![last.to_owned()]
            };
            for name in names {
                let mut full = prefix.clone();
                full.extend(name.split("::").map(str::to_owned));
                if let Some(target) = resolve(modules, &full.join("::")) {
                    named.insert(target);
                }
            }
        }
        if is_dir {
            // Children named without `self::` (`pages::list`).
            for child in modules.keys() {
                let parent = child.rsplit_once("::").map_or("", |(p, _)| p);
                let is_child = !child.is_empty() && parent == module && child != module;
                if is_child {
                    let name = child.rsplit("::").next().unwrap();
                    let bare = Regex::new(&format!(r"(?:^|[^:\w]){name}::")).unwrap();
                    if bare.is_match(&code) {
                        named.insert(child.clone());
                    }
                }
            }
        }
        named.remove(module);
        named.remove("");
        edges.insert(module.clone(), named);
    }
    edges
}

fn floor_of(module: &str) -> &str {
    module.split("::").next().unwrap_or_default()
}

#[test]
fn no_two_modules_need_each_other() {
    let modules = modules();
    let edges = edges(&modules);
    // Every circle shows up as a module that can reach itself.
    let mut circles = Vec::new();
    for start in edges.keys() {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<(String, Vec<String>)> = vec![(start.clone(), vec![start.clone()])];
        while let Some((at, path)) = stack.pop() {
            for next in &edges[&at] {
                if next == start {
                    circles.push(format!("{} -> {start}", path.join(" -> ")));
                } else if seen.insert(next.clone()) {
                    let mut longer = path.clone();
                    longer.push(next.clone());
                    stack.push((next.clone(), longer));
                }
            }
        }
    }
    assert!(
        circles.is_empty(),
        "modules that need each other:\n{}",
        circles.join("\n")
    );
    assert!(edges.len() > 40, "only {} modules found", edges.len());
}

#[test]
fn imports_point_down() {
    let modules = modules();
    let mut wrong = Vec::new();
    for (module, named) in edges(&modules) {
        let floor = floor_of(&module);
        if module.is_empty() || TOP.contains(&floor) {
            continue;
        }
        for target in named {
            let target_floor = floor_of(&target);
            if !FEATURES.contains(&target_floor) || target_floor == floor {
                continue;
            }
            if !FEATURES.contains(&floor) {
                wrong.push(format!("plumbing {module} names the feature {target}"));
            } else if target.split("::").nth(1) != Some("domain") {
                wrong.push(format!("feature {module} names {target}, not its domain"));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports that point up or sideways:\n{}",
        wrong.join("\n")
    );
}
