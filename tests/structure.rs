//! The app's files depend on each other one way: no file of `src/` reaches itself again
//! through the `crate::`, `super::` and `self::` paths its code names (in `use` items or
//! inline). Test modules (`#[cfg(test)] mod ... { }`) are left out: tests may use what sits
//! above the code they test.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The source files under `src/`, by path relative to it (`sim/grid.rs`).
fn sources() -> BTreeMap<String, String> {
    fn walk(dir: &Path, root: &Path, out: &mut BTreeMap<String, String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, root, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.insert(rel, std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    let root = Path::new("src");
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

/// The code of a file without comments, string literals and test modules.
fn code(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        if text[i..].starts_with("//") {
            i += text[i..].find('\n').unwrap_or(text.len() - i);
        } else if text[i..].starts_with("/*") {
            i += text[i..].find("*/").map_or(text.len() - i, |e| e + 2);
        } else if b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else if text[i..].starts_with("#[cfg(test)]") {
            // Skip the attribute's item: up to the end of its braces or its semicolon.
            let rest = &text[i..];
            let end = match (rest.find('{'), rest.find(';')) {
                (Some(open), semi) if semi.is_none_or(|s| open < s) => {
                    let mut depth = 0;
                    let mut k = open;
                    for (j, c) in rest[open..].char_indices() {
                        match c {
                            '{' => depth += 1,
                            '}' => depth -= 1,
                            _ => {}
                        }
                        if depth == 0 {
                            k = open + j + 1;
                            break;
                        }
                    }
                    k
                }
                (_, Some(semi)) => semi + 1,
                _ => rest.len(),
            };
            i += end;
        } else {
            let c = text[i..].chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// The paths a `use` tree names: `a::{b, c::{d, e as f}}` gives `a::b`, `a::c::d`, `a::c::e`.
fn expand(tree: &str) -> Vec<String> {
    let tree = tree.trim();
    let Some(open) = tree.find('{') else {
        return vec![tree.split(" as ").next().unwrap().trim().to_string()];
    };
    let prefix = tree[..open].trim().trim_end_matches("::");
    let inner = &tree[open + 1..tree.rfind('}').unwrap()];
    let (mut items, mut depth, mut start) = (Vec::new(), 0, 0);
    for (j, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&inner[start..j]);
                start = j + 1;
            }
            _ => {}
        }
    }
    items.push(&inner[start..]);
    items
        .into_iter()
        .filter(|s| !s.trim().is_empty())
        .flat_map(expand)
        .map(|p| {
            if prefix.is_empty() {
                p
            } else {
                format!("{prefix}::{p}")
            }
        })
        .collect()
}

/// The module path of a file: `sim/grid.rs` and `sim/mod.rs` are `["sim", "grid"]` and `["sim"]`.
fn module_of(file: &str) -> Vec<String> {
    let mut parts: Vec<String> = file
        .trim_end_matches(".rs")
        .split('/')
        .map(String::from)
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// The file a path in `file` leads to, if it leads into the crate.
fn resolve(path: &str, file: &str, files: &BTreeMap<String, String>) -> Option<String> {
    let segs: Vec<&str> = path
        .split("::")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    let mut module = module_of(file);
    let rest = match segs.first()? {
        &"crate" => {
            module.clear();
            &segs[1..]
        }
        &"self" => &segs[1..],
        &"super" => {
            let ups = segs.iter().take_while(|s| **s == "super").count();
            module.truncate(module.len().saturating_sub(ups));
            &segs[ups..]
        }
        _ => return None,
    };
    module.extend(rest.iter().map(|s| s.to_string()));
    (0..=module.len()).rev().find_map(|k| {
        let m = module[..k].join("/");
        let candidates = if k == 0 {
            vec!["lib.rs".to_string()]
        } else {
            vec![format!("{m}.rs"), format!("{m}/mod.rs")]
        };
        candidates.into_iter().find(|c| files.contains_key(c))
    })
}

/// Each file's dependencies on other files of `src/`.
fn graph(files: &BTreeMap<String, String>) -> BTreeMap<String, BTreeSet<String>> {
    let mut edges = BTreeMap::new();
    for (file, text) in files {
        let code = code(text);
        let mut paths = Vec::new();
        let mut rest = code.as_str();
        while let Some(at) = rest.find("use ") {
            let before = rest[..at].chars().last();
            let after = &rest[at + 4..];
            let end = after.find(';').unwrap_or(after.len());
            if before.is_none_or(|c| !c.is_alphanumeric() && c != '_') {
                paths.extend(expand(&after[..end]));
            }
            rest = &after[end.min(after.len())..];
        }
        // Inline paths: `crate::a::b`, `super::x`.
        for root in ["crate::", "super::", "self::"] {
            for (at, _) in code.match_indices(root) {
                if code[..at]
                    .chars()
                    .last()
                    .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':')
                {
                    continue;
                }
                let len = code[at..]
                    .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                    .unwrap_or(code.len() - at);
                paths.push(code[at..at + len].to_string());
            }
        }
        let deps: BTreeSet<String> = paths
            .iter()
            .filter_map(|p| resolve(p, file, files))
            .filter(|d| d != file)
            .collect();
        edges.insert(file.clone(), deps);
    }
    edges
}

/// A loop through `start`, if there is one: the files along it.
fn loop_through(start: &str, edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    let mut parent: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(v) = queue.pop_front() {
        for w in &edges[v] {
            if w == start {
                let mut path = vec![v.to_string()];
                let mut at = v;
                while at != start {
                    at = parent[at];
                    path.push(at.to_string());
                }
                path.reverse();
                return Some(path);
            }
            if !parent.contains_key(w.as_str()) {
                parent.insert(w, v);
                queue.push_back(w);
            }
        }
    }
    None
}

#[test]
fn no_file_of_the_app_imports_itself_back() {
    let files = sources();
    assert!(files.len() > 30, "found {} files", files.len());
    let edges = graph(&files);
    // The checker sees the arrows it must: a few that are known to exist.
    for (from, to) in [
        ("headless.rs", "app.rs"),
        ("sim/grid.rs", "sim/plan.rs"),
        ("sim/dispatch.rs", "model.rs"),
    ] {
        assert!(
            edges[from].contains(to),
            "{from} -> {to} not seen: {:?}",
            edges[from]
        );
    }
    let loops: Vec<String> = files
        .keys()
        .filter_map(|f| loop_through(f, &edges))
        .map(|l| l.join(" -> "))
        .collect();
    assert!(loops.is_empty(), "import loops:\n{}", loops.join("\n"));
}

#[test]
fn the_checker_finds_a_loop_and_reads_use_trees() {
    let mut files = BTreeMap::new();
    files.insert("lib.rs".to_string(), "mod a; mod b;".to_string());
    files.insert(
        "a/mod.rs".to_string(),
        "use crate::{b::{X, y as z}, c};\n// use crate::d;\n".to_string(),
    );
    files.insert(
        "b.rs".to_string(),
        "fn f() { super::a::g(); let s = \"crate::d\"; }\n#[cfg(test)]\nmod tests { use crate::d::Y; }"
            .to_string(),
    );
    files.insert("d.rs".to_string(), "use crate::a::Q;".to_string());
    let edges = graph(&files);
    assert_eq!(
        edges["a/mod.rs"],
        BTreeSet::from(["b.rs".to_string(), "lib.rs".to_string()])
    );
    assert_eq!(edges["b.rs"], BTreeSet::from(["a/mod.rs".to_string()]));
    assert_eq!(
        loop_through("b.rs", &edges),
        Some(vec!["b.rs".to_string(), "a/mod.rs".to_string()])
    );
    assert_eq!(loop_through("d.rs", &edges), None);
}
