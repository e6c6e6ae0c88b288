//! Repository policy, checked as ordinary tests (`cargo test -p xtask`, and so
//! `cargo xtask test`).
//!
//! - No absolute machine paths in committed text: a home or build-machine
//!   directory in a doc, a comment or code is wrong on every other machine.
//! - Every `unsafe` block and `unsafe impl` under `crates/` has a
//!   `// SAFETY:` comment on the same line or just above it.
//! - Every `pub async fn`, and every `pub fn` returning `impl Future`, in
//!   corio-sync documents what is lost if its future is dropped midway, in a
//!   `# Cancel safety` section.
//!
//! The checks read the files as text; they are deliberately simple, so a
//! reader can predict what they flag. Directories that do not exist yet are
//! skipped. The forbidden patterns are spelled with `concat!` here so that
//! this file does not flag itself.

use std::fs;
use std::path::{Path, PathBuf};

use crate::project_root;

/// Path fragments that name somebody's machine, flagged anywhere.
const MACHINE_DIRS: &[&str] = &[
    concat!("/", "home/"),
    concat!("/", "root/"),
    concat!("/", "work/"),
    concat!("/", "Users/"),
];

/// A temporary directory: fine in test code, wrong in docs.
const TMP_DIR: &str = concat!("/", "tmp/");

/// The comment every `unsafe` block or impl needs nearby.
const SAFETY: &str = concat!("// ", "SAFETY:");

/// How many lines above an `unsafe` the `SAFETY` comment may start.
const SAFETY_WINDOW: usize = 6;

/// The doc section every async function of corio-sync needs.
const CANCEL_SAFETY: &str = concat!("# ", "Cancel safety");

#[test]
fn no_absolute_machine_paths() {
    let root = project_root();
    let mut problems = Vec::new();
    for path in text_files(&root) {
        let Some(text) = read(&path) else { continue };
        let markdown = path.extension().is_some_and(|ext| ext == "md");
        for (line, what) in absolute_paths(&text, markdown) {
            problems.push(format!("{}:{line}: {what}", shown(&root, &path)));
        }
    }
    report("absolute machine paths; use relative paths", &problems);
}

#[test]
fn unsafe_has_safety_comment() {
    let root = project_root();
    let mut problems = Vec::new();
    for path in rust_files(&root.join("crates")) {
        let Some(text) = read(&path) else { continue };
        for line in unsafe_without_safety(&text) {
            problems.push(format!("{}:{line}", shown(&root, &path)));
        }
    }
    report(
        &format!("`unsafe` without a `{SAFETY}` comment within {SAFETY_WINDOW} lines above"),
        &problems,
    );
}

#[test]
fn async_fns_document_cancel_safety() {
    let root = project_root();
    let mut problems = Vec::new();
    for path in rust_files(&root.join("crates/corio-sync/src")) {
        let Some(text) = read(&path) else { continue };
        for (line, name) in missing_cancel_safety(&text) {
            problems.push(format!("{}:{line}: fn {name}", shown(&root, &path)));
        }
    }
    report(
        &format!("async functions without a `{CANCEL_SAFETY}` doc section"),
        &problems,
    );
}

/// Fails the calling test with one line per problem, if there are any.
fn report(what: &str, problems: &[String]) {
    assert!(
        problems.is_empty(),
        "tidy: {what}:\n  {}\n",
        problems.join("\n  ")
    );
}

/// `path` relative to the workspace root, for messages.
fn shown(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// A file's text, or `None` if it is not UTF-8 (not a text file we check).
fn read(path: &Path) -> Option<String> {
    fs::read_to_string(path).ok()
}

/// Every file below `dir`, sorted, skipping build output and VCS data:
/// directories named `target` or `.git`, and any directory holding a
/// `CACHEDIR.TAG` (cargo's target directories and caches).
fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.flatten().map(|entry| entry.path()).collect();
    paths.sort();
    for path in paths {
        // `symlink_metadata`: do not follow links out of the repository.
        let Ok(meta) = fs::symlink_metadata(&path) else {
            continue;
        };
        if meta.is_dir() {
            let name = path.file_name().unwrap_or_default();
            if name != "target" && name != ".git" && !path.join("CACHEDIR.TAG").exists() {
                walk(&path, out);
            }
        } else if meta.is_file() {
            out.push(path);
        }
    }
}

/// The committed text files the path check reads: `*.rs`, `*.md`, `*.toml`
/// and `.ci/run`.
fn text_files(root: &Path) -> Vec<PathBuf> {
    let mut all = Vec::new();
    walk(root, &mut all);
    all.retain(|path| {
        path.extension()
            .is_some_and(|ext| ext == "rs" || ext == "md" || ext == "toml")
            || path.ends_with(".ci/run")
    });
    all
}

/// The `*.rs` files below `dir`; none if it does not exist.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut all = Vec::new();
    walk(dir, &mut all);
    all.retain(|path| path.extension().is_some_and(|ext| ext == "rs"));
    all
}

/// `(line number, fragment)` for each absolute machine path in `text`.
///
/// Home and build-machine directories are flagged anywhere, the temporary
/// directory only in Markdown and doc comments, and Windows drive paths
/// (`C:` then a backslash) anywhere. A fragment inside a URL
/// (`https://host/home/...`) is a web path, not a machine path, and passes.
fn absolute_paths(text: &str, markdown: bool) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        let docs = markdown || trimmed.starts_with("///") || trimmed.starts_with("//!");
        let mut patterns: Vec<&str> = MACHINE_DIRS.to_vec();
        if docs {
            patterns.push(TMP_DIR);
        }
        for pattern in patterns {
            for (at, _) in line.match_indices(pattern) {
                if !in_url(line, at) {
                    found.push((index + 1, pattern.to_owned()));
                }
            }
        }
        if let Some(drive) = windows_drive(line) {
            found.push((index + 1, drive));
        }
    }
    found.dedup();
    found
}

/// Whether the text at byte `at` of `line` belongs to a URL: the
/// whitespace- or quote-delimited word it sits in contains `://` before it.
fn in_url(line: &str, at: usize) -> bool {
    let before = &line[..at];
    let start = before
        .char_indices()
        .rfind(|&(_, c)| c.is_whitespace() || "\"'`(<[".contains(c))
        .map_or(0, |(i, c)| i + c.len_utf8());
    before[start..].contains("://")
}

/// The first Windows drive path in `line` (`C:` then a backslash, with no
/// letter or digit just before the drive letter), if any.
fn windows_drive(line: &str) -> Option<String> {
    let bytes = line.as_bytes();
    (0..bytes.len().saturating_sub(2)).find_map(|i| {
        let drive = bytes[i].is_ascii_uppercase() && bytes[i + 1] == b':' && bytes[i + 2] == b'\\';
        let boundary = i == 0 || !bytes[i - 1].is_ascii_alphanumeric();
        (drive && boundary).then(|| line[i..i + 3].to_owned())
    })
}

/// Line numbers of `unsafe` blocks and impls with no `SAFETY` comment on the
/// same line or within [`SAFETY_WINDOW`] lines above. A comment block that
/// starts further up but runs down into the window also counts. Comment lines
/// (including doc comments) are not checked.
fn unsafe_without_safety(text: &str) -> Vec<usize> {
    let lines: Vec<&str> = text.lines().collect();
    let mut found = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("//") {
            continue;
        }
        let code = trimmed.split("//").next().unwrap_or(trimmed);
        let is_unsafe = code.contains(concat!("unsafe", " {"))
            || code.contains(concat!("unsafe", "{"))
            || code.contains(concat!("unsafe", " impl"));
        if is_unsafe && !has_safety_comment(&lines, index) {
            found.push(index + 1);
        }
    }
    found
}

/// Whether line `index` is covered by a `SAFETY` comment; see
/// [`unsafe_without_safety`].
fn has_safety_comment(lines: &[&str], index: usize) -> bool {
    if lines[index].contains(SAFETY) {
        return true;
    }
    for (distance, line) in lines[..index].iter().rev().enumerate() {
        let line = line.trim_start();
        if line.contains(SAFETY) {
            return true;
        }
        if distance + 1 >= SAFETY_WINDOW && !line.starts_with("//") {
            return false;
        }
    }
    false
}

/// `(line number, fn name)` of each public async function whose doc comment
/// lacks a [`CANCEL_SAFETY`] section: `pub async fn`, and `pub fn` whose
/// return type is `impl Future`.
fn missing_cancel_safety(text: &str) -> Vec<(usize, String)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut found = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        let Some((qualifiers, after)) = trimmed.split_once("fn ") else {
            continue;
        };
        let mut words = qualifiers.split_whitespace();
        if words.next() != Some("pub") {
            continue;
        }
        let words: Vec<&str> = words.collect();
        let known = ["const", "async", "unsafe", "extern", "\"C\""];
        if !words.iter().all(|word| known.contains(word)) {
            continue;
        }
        let is_async = words.contains(&"async") || returns_impl_future(&lines[index..]);
        if !is_async {
            continue;
        }
        let documented = lines[..index]
            .iter()
            .rev()
            .map(|line| line.trim_start())
            .skip_while(|line| line.starts_with("#[") || line.starts_with("#!["))
            .take_while(|line| line.starts_with("///") || line.starts_with("#["))
            .any(|line| line.contains(CANCEL_SAFETY));
        if !documented {
            let name: String = after
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            found.push((index + 1, name));
        }
    }
    found
}

/// Whether the signature starting at `lines[0]` returns `impl Future`; the
/// signature ends at the first `{` or `;`.
fn returns_impl_future(lines: &[&str]) -> bool {
    let mut signature = String::new();
    for line in lines.iter().take(30) {
        let end = line.find(['{', ';']);
        signature.push_str(&line[..end.unwrap_or(line.len())]);
        signature.push(' ');
        if end.is_some() {
            break;
        }
    }
    let Some((_, output)) = signature.split_once("->") else {
        return false;
    };
    let output = output.trim_start();
    output.starts_with("impl ")
        && output
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .any(|word| word == "Future")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_machine_paths_but_not_urls() {
        let home = MACHINE_DIRS[0];
        let text = format!(
            "see {home}alice/corio\nhttps://example.com{home}index\nuse {TMP_DIR}x in a test\n"
        );
        assert_eq!(absolute_paths(&text, false), vec![(1, home.to_owned())]);
        assert_eq!(
            absolute_paths(&text, true),
            vec![(1, home.to_owned()), (3, TMP_DIR.to_owned())]
        );
        let doc = format!("/// writes to {TMP_DIR}corio.log\n");
        assert_eq!(absolute_paths(&doc, false), vec![(1, TMP_DIR.to_owned())]);
    }

    #[test]
    fn flags_windows_drives_at_a_word_boundary() {
        let drive = concat!("C:", "\\");
        assert_eq!(
            windows_drive(&format!("path = \"{drive}Users\"")),
            Some(drive.to_owned())
        );
        assert_eq!(windows_drive("SPEC:\\n"), None);
        assert_eq!(windows_drive("no drive here"), None);
    }

    #[test]
    fn unsafe_needs_a_nearby_safety_comment() {
        let block = concat!("unsafe", " {");
        let imp = concat!("unsafe", " impl");
        let ok = format!(
            "{SAFETY} the pointer is valid\nlet x = {block} *p }};\n\
             let y = {block} *p }}; {SAFETY} same line\n\
             {SAFETY} Send: no thread-local state\n#[cfg(unix)]\n{imp} Send for X {{}}\n\
             /// {imp} in prose is not code\n"
        );
        assert_eq!(unsafe_without_safety(&ok), Vec::<usize>::new());

        let far = format!("{SAFETY} far away\n1\n2\n3\n4\n5\n6\nlet x = {block} *p }};\n");
        assert_eq!(unsafe_without_safety(&far), vec![8]);

        // A long SAFETY comment that runs into the window counts.
        let long = format!(
            "{SAFETY} long\n// 1\n// 2\n// 3\n// 4\n// 5\n// 6\n// 7\n{imp} Sync for X {{}}\n"
        );
        assert_eq!(unsafe_without_safety(&long), Vec::<usize>::new());
    }

    #[test]
    fn async_fns_need_cancel_safety_docs() {
        let text = format!(
            "\
/// Waits.
///
/// {CANCEL_SAFETY}
///
/// Nothing is lost.
#[inline]
pub async fn documented(&self) {{}}

/// Waits, undocumented.
pub async fn bare(&self) {{}}

/// Returns a future.
pub fn acquire(&self)
    -> impl Future<Output = Guard<'_>> + '_ {{
}}

/// Not async.
pub fn len(&self) -> usize {{ 0 }}

async fn private() {{}}
pub(crate) async fn internal() {{}}
"
        );
        assert_eq!(
            missing_cancel_safety(&text),
            vec![(10, "bare".to_owned()), (13, "acquire".to_owned())]
        );
    }
}
