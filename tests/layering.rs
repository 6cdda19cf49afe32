//! The crate's layers: imports go one way.
//!
//! Every top-level module of `src/` sits on a layer, and a module may use
//! only its own layer and the layers below it. That is what keeps the parts
//! independent: the store contract never depends on token formats, keys or
//! service policy, so a new backend needs to know records and nothing else;
//! the token formats never depend on the service's settings; and the HTTP
//! helpers on top can change without touching anything below them. A
//! module that reached upwards would tie a lower layer to a higher one's
//! details, and two modules that reached each other could no longer be
//! understood, tested or moved one at a time.
//!
//! These tests read the source as text (no dependencies) and check:
//! - every `crate::…` or `$crate::…` path (in `use` statements, grouped or
//!   not, and in expressions, types and macros) points at the same or a
//!   lower layer, and every top-level module has a layer;
//! - the graph of top-level modules has no cycle, even within one layer;
//! - no file under `src/` is over [`MAX_LINES`] lines.
//!
//! Comments, doc comments and string literals are blanked out before the
//! paths are read, so an intra-doc link such as
//! ``[`TokenService`](crate::TokenService)`` does not count. `src/lib.rs` is
//! exempt: it only re-exports. A path through a root re-export
//! (`crate::TokenService`) counts as a use of the module lib.rs re-exports
//! it from.
//!
//! The last tests check the checker itself on small inline sources.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::Path;

/// The layers, low to high. A module may use its own layer and those below.
/// A new top-level module must be added here (the tests fail until it is).
const LAYERS: &[(&str, u8)] = &[
    ("error", 0),    // Error, ConfigError, StoreError: used by everything
    ("clock", 0),    // Clock, SystemClock, ManualClock
    ("secret", 0),   // AccessToken, RefreshToken: opaque secret strings
    ("session", 1),  // ids, records, secret hashes, revocations, views
    ("store", 2),    // the RefreshStore contract and its backends
    ("token", 3),    // keys, JWS, access and refresh token formats
    ("service", 4),  // TokenService, its builder, rotation, limits, hooks
    ("verifier", 5), // the resource-server side
    ("cookie", 5),   // the refresh cookie and the same-origin check
    ("web", 5),      // framework-neutral session routes, errors, throttle
    ("oauth", 5),
    ("testing", 5), // the conformance suite, FaultyStore
];

/// A file longer than this holds more than one concept: split it.
const MAX_LINES: usize = 400;

// --- The checks on the real tree ---------------------------------------------

#[test]
fn imports_go_down_the_layers() {
    report("layering", layer_problems(&src_tree()));
}

#[test]
fn top_level_modules_form_no_cycle() {
    report("module cycles", cycle_problems(&src_tree()));
}

#[test]
fn files_stay_small() {
    report("file size", size_problems(&src_tree()));
}

/// Every file under `src/`, as (path from the crate root, contents), sorted.
fn src_tree() -> Vec<(String, String)> {
    fn walk(dir: &Path, root: &Path, out: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).expect("read src/") {
            let path = entry.expect("read src/").path();
            if path.is_dir() {
                walk(&path, root, out);
            } else {
                let name = path.strip_prefix(root).unwrap().to_string_lossy();
                let bytes = std::fs::read(&path).expect("read a file under src/");
                out.push((
                    name.replace('\\', "/"),
                    String::from_utf8_lossy(&bytes).into(),
                ));
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    walk(&root.join("src"), root, &mut files);
    files.sort();
    files
}

fn report(what: &str, problems: Vec<String>) {
    assert!(
        problems.is_empty(),
        "{what}: {} problem(s):\n  - {}\n",
        problems.len(),
        problems.join("\n  - ")
    );
}

// --- The checker --------------------------------------------------------------

/// One `crate::…` path in a file.
#[derive(Debug)]
struct Ref {
    file: String,
    line: usize,
    /// The top-level module of the file.
    from: String,
    /// The top-level module the path leads to.
    to: String,
    /// The path as written, e.g. `crate::store::RefreshStore`.
    path: String,
}

fn layer_of(module: &str) -> Option<u8> {
    LAYERS
        .iter()
        .find(|(name, _)| *name == module)
        .map(|&(_, layer)| layer)
}

/// The top-level module of `src/foo.rs` and `src/foo/**` is `foo`;
/// `src/lib.rs` and non-Rust files have none.
fn top_module(file: &str) -> Option<&str> {
    let rest = file.strip_prefix("src/")?;
    if rest == "lib.rs" || !rest.ends_with(".rs") {
        return None;
    }
    let first = rest.split('/').next()?;
    Some(first.strip_suffix(".rs").unwrap_or(first))
}

fn layer_problems(files: &[(String, String)]) -> Vec<String> {
    let (refs, mut problems) = references(files);
    let mut unknown = BTreeMap::new();
    for (file, _) in files {
        if let Some(module) = top_module(file).filter(|m| layer_of(m).is_none()) {
            unknown.entry(module).or_insert(file);
        }
    }
    for (module, file) in unknown {
        problems.push(format!(
            "{file}: top-level module `{module}` is not in the layer table: \
             add it to LAYERS at the top of tests/layering.rs"
        ));
    }
    for r in refs {
        if let (Some(from), Some(to)) = (layer_of(&r.from), layer_of(&r.to))
            && to > from
        {
            problems.push(format!(
                "{}:{}: `{}`: `{}` (layer {from}) must not use `{}` (layer {to}); \
                 a module imports only its own layer and the layers below it",
                r.file, r.line, r.path, r.from, r.to
            ));
        }
    }
    problems
}

/// The module graph: for each edge, the first path that made it.
type Graph<'a> = BTreeMap<&'a str, BTreeMap<&'a str, &'a Ref>>;

fn cycle_problems(files: &[(String, String)]) -> Vec<String> {
    let refs = references(files).0;
    let mut graph = Graph::new();
    for r in refs.iter().filter(|r| r.from != r.to) {
        graph.entry(&r.from).or_default().entry(&r.to).or_insert(r);
    }
    let mut problems = Vec::new();
    let mut done = BTreeSet::new();
    for &start in graph.keys() {
        if done.contains(start) || !reach(&graph, start).contains(start) {
            continue;
        }
        // The modules that reach `start` and are reached from it.
        let members: BTreeSet<&str> = reach(&graph, start)
            .into_iter()
            .filter(|m| reach(&graph, m).contains(start))
            .collect();
        done.extend(members.iter().copied());
        // A shortest way round through each of them, until all are shown.
        let mut ways: Vec<Vec<&str>> = Vec::new();
        for &m in &members {
            if !ways.iter().any(|way| way.contains(&m)) {
                ways.push(shortest_cycle(&graph, m));
            }
        }
        let ways: Vec<String> = ways
            .iter()
            .map(|way| {
                let steps: Vec<String> = way
                    .windows(2)
                    .map(|w| {
                        let r = graph[w[0]][w[1]];
                        format!("{} -> {} ({}:{} `{}`)", w[0], w[1], r.file, r.line, r.path)
                    })
                    .collect();
                steps.join(", ")
            })
            .collect();
        let members: Vec<String> = members.iter().map(|m| format!("`{m}`")).collect();
        problems.push(format!(
            "modules {} reach one another; break each cycle by moving what they \
             share down a layer:\n      {}",
            members.join(", "),
            ways.join("\n      ")
        ));
    }
    problems
}

/// The modules reachable from `start` by one edge or more.
fn reach<'a>(graph: &Graph<'a>, start: &'a str) -> BTreeSet<&'a str> {
    let mut seen = BTreeSet::new();
    let mut todo = vec![start];
    while let Some(m) = todo.pop() {
        for &next in graph.get(m).into_iter().flat_map(|e| e.keys()) {
            if seen.insert(next) {
                todo.push(next);
            }
        }
    }
    seen
}

/// The shortest way from `start` back to itself (breadth first), as
/// `[start, .., start]`; empty when there is none.
fn shortest_cycle<'a>(graph: &Graph<'a>, start: &'a str) -> Vec<&'a str> {
    let mut back: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue = VecDeque::from([start]);
    while let Some(m) = queue.pop_front() {
        for &next in graph.get(m).into_iter().flat_map(|e| e.keys()) {
            if next == start {
                let mut way = vec![start, m];
                while *way.last().unwrap() != start {
                    way.push(back[way.last().unwrap()]);
                }
                way.reverse();
                return way;
            }
            if !back.contains_key(next) {
                back.insert(next, m);
                queue.push_back(next);
            }
        }
    }
    Vec::new()
}

fn size_problems(files: &[(String, String)]) -> Vec<String> {
    files
        .iter()
        .filter(|(_, text)| text.lines().count() > MAX_LINES)
        .map(|(file, text)| {
            let lines = text.lines().count();
            format!("{file}: {lines} lines, over {MAX_LINES}: split it; one concept per file")
        })
        .collect()
}

/// Every `crate::…` path in every Rust file but lib.rs, resolved to the
/// top-level module it leads to; and the paths that could not be resolved.
fn references(files: &[(String, String)]) -> (Vec<Ref>, Vec<String>) {
    let modules: BTreeSet<&str> = files.iter().filter_map(|(f, _)| top_module(f)).collect();
    // Names lib.rs re-exports: the module each comes from, or None when it
    // comes from another crate (`pub use redis;`).
    let mut reexports: BTreeMap<String, Option<String>> = BTreeMap::new();
    if let Some((_, lib)) = files.iter().find(|(f, _)| f == "src/lib.rs") {
        let toks = tokens(&strip(lib));
        for i in (0..toks.len()).filter(|&i| toks[i].text == "use") {
            for leaf in use_tree(&toks, i + 1) {
                let path: Vec<&str> = leaf.path.iter().map(String::as_str).collect();
                let path = match path.as_slice() {
                    ["crate" | "self", rest @ ..] => rest,
                    all => all,
                };
                if let (Some(first), false) = (path.first(), leaf.name == "*") {
                    let module = modules.contains(first).then(|| first.to_string());
                    reexports.insert(leaf.name, module);
                }
            }
        }
    }
    let mut refs = Vec::new();
    let mut problems = Vec::new();
    for (file, text) in files {
        let Some(from) = top_module(file) else {
            continue;
        };
        let toks = tokens(&strip(text));
        for i in 0..toks.len() {
            if toks[i].text != "crate" || toks.get(i + 1).is_none_or(|t| t.text != "::") {
                continue;
            }
            let dollar = if i > 0 && toks[i - 1].text == "$" {
                "$"
            } else {
                ""
            };
            for leaf in use_tree(&toks, i + 2) {
                let path = format!("{dollar}crate::{}", leaf.path.join("::"));
                let path = path.strip_suffix("::self").unwrap_or(&path).to_string();
                let first = leaf.path[0].as_str();
                let to = if modules.contains(first) {
                    first.to_string()
                } else if let Some(module) = reexports.get(first) {
                    match module {
                        Some(module) => module.clone(),
                        None => continue, // another crate, re-exported
                    }
                } else if first == "self" {
                    continue; // `use crate::{self}`: the root itself
                } else {
                    problems.push(format!(
                        "{file}:{}: `{path}`: cannot tell which module this is; \
                         use it from its module, or re-export it by name in src/lib.rs",
                        leaf.line
                    ));
                    continue;
                };
                let (file, from) = (file.clone(), from.to_string());
                refs.push(Ref {
                    file,
                    line: leaf.line,
                    from,
                    to,
                    path,
                });
            }
        }
    }
    (refs, problems)
}

// --- The scanner ---------------------------------------------------------------

/// Blanks out comments (`//`, `///`, `//!`, nested `/* */`) and string,
/// raw string and char literals, keeping every newline so that line numbers
/// stay right. Lifetimes (`'a`) are kept.
fn strip(src: &str) -> String {
    let c: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < c.len() {
        match skip_end(&c, i) {
            Some(end) => {
                let end = end.min(c.len());
                out.extend(
                    c[i..end]
                        .iter()
                        .map(|&ch| if ch == '\n' { '\n' } else { ' ' }),
                );
                i = end;
            }
            None => {
                out.push(c[i]);
                i += 1;
            }
        }
    }
    out
}

/// Where the comment or literal starting at `c[i]` ends, if one starts there.
fn skip_end(c: &[char], i: usize) -> Option<usize> {
    let at = |j: usize| c.get(j).copied().unwrap_or('\0');
    let ident = |ch: char| ch.is_alphanumeric() || ch == '_';
    match (at(i), at(i + 1)) {
        ('/', '/') => Some((i..c.len()).find(|&j| c[j] == '\n').unwrap_or(c.len())),
        ('/', '*') => {
            let (mut j, mut depth) = (i + 2, 1);
            while j < c.len() && depth > 0 {
                match (at(j), at(j + 1)) {
                    ('/', '*') => (depth, j) = (depth + 1, j + 2),
                    ('*', '/') => (depth, j) = (depth - 1, j + 2),
                    _ => j += 1,
                }
            }
            Some(j)
        }
        ('"', _) => {
            let mut j = i + 1;
            while j < c.len() && c[j] != '"' {
                j += if c[j] == '\\' { 2 } else { 1 };
            }
            Some(j + 1)
        }
        // A char literal ('x', '\n', '\'', '"'); otherwise a lifetime.
        ('\'', '\\') => Some(
            (i + 3..c.len())
                .find(|&j| c[j] == '\'')
                .map_or(c.len(), |j| j + 1),
        ),
        ('\'', _) if at(i + 2) == '\'' => Some(i + 3),
        // A raw string r"…", r#"…"#, br"…", cr"…" (but not an identifier
        // ending in r, nor a raw identifier r#type).
        ('r', _)
            if i == 0
                || !ident(c[i - 1])
                || (matches!(c[i - 1], 'b' | 'c') && (i < 2 || !ident(c[i - 2]))) =>
        {
            let hashes = c[i + 1..].iter().take_while(|&&ch| ch == '#').count();
            if at(i + 1 + hashes) != '"' {
                return None;
            }
            let close: Vec<char> = std::iter::once('"')
                .chain("#".repeat(hashes).chars())
                .collect();
            let body = i + 2 + hashes;
            let end = (body..c.len()).find(|&j| c[j..].starts_with(&close));
            Some(end.map_or(c.len(), |j| j + close.len()))
        }
        _ => None,
    }
}

#[derive(Debug)]
struct Tok {
    text: String,
    line: usize,
}

/// Identifiers (and numbers), `::`, and single punctuation characters.
fn tokens(stripped: &str) -> Vec<Tok> {
    let c: Vec<char> = stripped.chars().collect();
    let ident = |ch: char| ch.is_alphanumeric() || ch == '_';
    let (mut out, mut i, mut line) = (Vec::new(), 0, 1);
    while i < c.len() {
        let len = if c[i] == '\n' || c[i].is_whitespace() {
            line += usize::from(c[i] == '\n');
            i += 1;
            continue;
        } else if ident(c[i]) {
            c[i..].iter().take_while(|&&ch| ident(ch)).count()
        } else if c[i] == ':' && c.get(i + 1) == Some(&':') {
            2
        } else {
            1
        };
        out.push(Tok {
            text: c[i..i + len].iter().collect(),
            line,
        });
        i += len;
    }
    out
}

/// One path of a use tree: its segments, the name it binds, and the line
/// of its first segment.
#[derive(Debug)]
struct Leaf {
    path: Vec<String>,
    name: String,
    line: usize,
}

/// The paths of the use tree, or plain path, starting at `toks[i]`:
/// `a::b::C`, `a::{b::C, d::{E, F as G}}`, `a::*`, `a::B::<T>::new`.
fn use_tree(toks: &[Tok], i: usize) -> Vec<Leaf> {
    let mut out = Vec::new();
    tree(toks, i, &[], 0, &mut out);
    out
}

/// Parses one use tree under `prefix`; returns the index after it.
fn tree(toks: &[Tok], i: usize, prefix: &[String], line: usize, out: &mut Vec<Leaf>) -> usize {
    let text = |j: usize| toks.get(j).map_or("", |t| t.text.as_str());
    let first = text(i).chars().next().unwrap_or(' ');
    if text(i) == "{" {
        let mut j = i + 1;
        while !matches!(text(j), "}" | "") {
            let next = tree(toks, j, prefix, line, out);
            j = if next == j { j + 1 } else { next }; // skips the commas
        }
        return j + 1;
    }
    if !(first.is_alphanumeric() || first == '_' || first == '*') {
        return i;
    }
    let mut path = prefix.to_vec();
    path.push(text(i).to_string());
    let line = if prefix.is_empty() {
        toks[i].line
    } else {
        line
    };
    if text(i + 1) == "::" && text(i) != "*" {
        let next = tree(toks, i + 2, &path, line, out);
        if next != i + 2 {
            return next;
        }
    }
    let (name, next) = match text(i + 1) {
        "as" => (text(i + 2), i + 3),
        _ => (text(i), i + 1),
    };
    // `use a::b::{self}` binds `b`.
    let name = match name {
        "self" => prefix.last().cloned().unwrap_or_default(),
        name => name.to_string(),
    };
    out.push(Leaf { path, name, line });
    next
}

// --- The checker's own tests ----------------------------------------------------

/// (line, path) of each `crate::` path in one file of module `service`.
fn paths_in(source: &str) -> Vec<(usize, String)> {
    let (refs, problems) = references(&tree_of(&[("src/service.rs", source)]));
    assert!(problems.is_empty(), "{problems:?}");
    refs.into_iter().map(|r| (r.line, r.path)).collect()
}

/// The given files, plus an empty file for each other module of the table.
fn tree_of(files: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut tree: Vec<_> = files
        .iter()
        .map(|(f, t)| (f.to_string(), t.to_string()))
        .collect();
    for (module, _) in LAYERS {
        if !files.iter().any(|(f, _)| top_module(f) == Some(module)) {
            tree.push((format!("src/{module}.rs"), String::new()));
        }
    }
    tree
}

#[test]
fn scanner_ignores_comments_and_strings() {
    let source = r####"//! Module docs naming crate::verifier::Verifier.
/// Links to [`TokenService`](crate::verifier::Verifier).
/* crate::verifier /* nested */ crate::verifier */
fn f<'a>(x: &'a str) -> &'a str {
    let _ = ("crate::verifier", "\"crate::verifier\"", b"crate::verifier");
    let _ = (r"crate::verifier", r#"a "quoted" crate::verifier"#, br##"crate::verifier"##);
    let _ = ('"', '\'', '\\', b'x'); // crate::verifier
    use crate::store::RefreshStore; // the only real one
    x
}"####;
    assert_eq!(
        paths_in(source),
        [(8, "crate::store::RefreshStore".to_string())]
    );
}

#[test]
fn scanner_finds_grouped_multiline_use() {
    let source = "use crate::{\n    session::SessionId,\n    store::{\n        self, RefreshStore,\n        memory::MemoryStore as M},\n};\nuse crate::clock::*;";
    let expected = [
        (2, "crate::session::SessionId"),
        (3, "crate::store"), // `self`
        (3, "crate::store::RefreshStore"),
        (3, "crate::store::memory::MemoryStore"),
        (7, "crate::clock::*"),
    ];
    let expected: Vec<_> = expected.iter().map(|&(l, p)| (l, p.to_string())).collect();
    assert_eq!(paths_in(source), expected);
}

#[test]
fn scanner_finds_expression_type_and_macro_paths() {
    let source = "fn f() -> crate::error::Error {\n    let r#type = crate::store::memory::MemoryStore::<u8>::new();\n    $crate::session::SessionId::random();\n    crate::token::mint!(pub(in crate::store) x)\n}";
    let expected = [
        (1, "crate::error::Error"),
        (2, "crate::store::memory::MemoryStore"),
        (3, "$crate::session::SessionId::random"),
        (4, "crate::token::mint"),
        (4, "crate::store"),
    ];
    let expected: Vec<_> = expected.iter().map(|&(l, p)| (l, p.to_string())).collect();
    assert_eq!(paths_in(source), expected);
}

#[test]
fn checker_reports_upward_imports_and_allows_downward_ones() {
    let files = tree_of(&[
        (
            "src/session.rs",
            "use crate::error::Error;\n\nfn f() { crate::store::X::new() }",
        ),
        ("src/store/mod.rs", "use crate::session::SessionId;"),
        (
            "src/store/memory.rs",
            "use crate::{error::Error, token::Key};",
        ),
        ("src/cookie.rs", "use crate::oauth::Flow;"), // same layer: allowed
        (
            "src/lib.rs",
            "pub use cookie::Cookie; use crate::cookie::Cookie;",
        ),
    ]);
    let problems = layer_problems(&files);
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert!(
        problems[0].starts_with("src/session.rs:3: `crate::store::X::new`: `session` (layer 1)")
    );
    assert!(
        problems[1].starts_with("src/store/memory.rs:1: `crate::token::Key`: `store` (layer 2)")
    );
}

#[test]
fn checker_reports_modules_missing_from_the_table() {
    let files = tree_of(&[
        ("src/widgets/mod.rs", ""),
        ("src/widgets/knob.rs", ""),
        ("src/x.txt", ""),
    ]);
    let problems = layer_problems(&files);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(
        problems[0]
            .contains("src/widgets/mod.rs: top-level module `widgets` is not in the layer table")
    );
}

#[test]
fn checker_follows_root_reexports() {
    let lib = "pub use service::{TokenService as Service, builder::Builder};\npub use redis;\npub use store::*;";
    let store = "fn f(_: $crate::Service, _: crate::redis::Client) {}\nuse crate::Builder;\nuse crate::Mystery;";
    let files = tree_of(&[
        ("src/lib.rs", lib),
        ("src/service.rs", ""),
        ("src/store.rs", store),
    ]);
    let problems = layer_problems(&files);
    assert_eq!(problems.len(), 3, "{problems:#?}");
    assert!(problems[0].starts_with("src/store.rs:3: `crate::Mystery`: cannot tell which module"));
    assert!(problems[1].starts_with(
        "src/store.rs:1: `$crate::Service`: `store` (layer 2) must not use `service`"
    ));
    assert!(problems[2].starts_with("src/store.rs:2: `crate::Builder`: `store` (layer 2)"));
}

#[test]
fn checker_finds_cycles_and_only_cycles() {
    let files = tree_of(&[
        (
            "src/cookie.rs",
            "use crate::oauth::A;\nuse crate::error::E;",
        ),
        ("src/oauth/mod.rs", "use crate::verifier::B;"),
        ("src/verifier.rs", "\n\nuse crate::cookie::{self, C};"),
        ("src/session.rs", "use crate::clock::A;"),
        (
            "src/clock.rs",
            "use crate::session::B;\nuse crate::error::C;",
        ),
        ("src/error.rs", "use crate::clock::D;"),
    ]);
    let problems = cycle_problems(&files);
    assert_eq!(problems.len(), 2, "{problems:#?}");
    // clock <-> error and clock <-> session: one set, two cycles.
    assert_eq!(
        problems[0],
        "modules `clock`, `error`, `session` reach one another; break each cycle by moving \
         what they share down a layer:\n      \
         clock -> error (src/clock.rs:2 `crate::error::C`), error -> clock (src/error.rs:1 `crate::clock::D`)\n      \
         session -> clock (src/session.rs:1 `crate::clock::A`), clock -> session (src/clock.rs:1 `crate::session::B`)"
    );
    assert!(problems[1].starts_with("modules `cookie`, `oauth`, `verifier` reach one another"));
    assert!(problems[1].ends_with(
        "cookie -> oauth (src/cookie.rs:1 `crate::oauth::A`), \
         oauth -> verifier (src/oauth/mod.rs:1 `crate::verifier::B`), \
         verifier -> cookie (src/verifier.rs:3 `crate::cookie`)"
    ));
    let files = tree_of(&[
        ("src/cookie.rs", "use crate::oauth::A;"),
        ("src/oauth.rs", "use crate::oauth::B;\nuse crate::error::E;"),
    ]);
    assert_eq!(cycle_problems(&files), Vec::<String>::new());
}

#[test]
fn checker_flags_long_files() {
    let files = tree_of(&[
        ("src/a.rs", &"x\n".repeat(400)),
        ("src/b/c.lua", &"x\n".repeat(401)),
    ]);
    assert_eq!(
        size_problems(&files),
        ["src/b/c.lua: 401 lines, over 400: split it; one concept per file"]
    );
}
