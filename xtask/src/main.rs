//! corio's repository automation, run as `cargo xtask <command>`.
//!
//! ```text
//! cargo xtask test [--stress] [--loom] [--quick-bench-skip]
//! cargo xtask bench [ARGS...]
//! cargo xtask lint
//! cargo xtask doc [--open] [ARGS...]
//! ```
//!
//! `.cargo/config.toml` aliases `cargo xtask` to `cargo run --package xtask --`,
//! and `.ci/run` calls `cargo xtask test`, so CI and a developer run the same
//! thing. The crate uses std only, so it builds in seconds on a fresh machine.
//!
//! One module per subcommand ([`test`](mod@test), [`bench`](mod@bench), [`lint`], [`doc`]); the
//! table of examples and how their output is checked lives in [`examples`]; the
//! repository policy checks (tidy) are ordinary tests in `tidy.rs`.
//!
//! Every command runs from the workspace root, with the `cargo` that invoked
//! xtask (the `CARGO` environment variable), so a `cargo +nightly xtask ...`
//! stays on that toolchain all the way down.

#![forbid(unsafe_code)]

mod bench;
mod doc;
mod examples;
mod lint;
mod test;
#[cfg(test)]
mod tidy;

use std::env;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

/// What `cargo xtask help` prints.
const USAGE: &str = "\
usage: cargo xtask <command> [options]

commands:
  test [--stress] [--loom] [--quick-bench-skip]
        fmt, clippy, docs, every test suite, the examples and a quick benchmark
        smoke pass; ends with one line `N passed, N failed`
          --stress            also run corio-executor's stress suite (release)
          --loom              also run corio-executor's loom models (release, --cfg loom)
          --quick-bench-skip  skip `cargo run --release -p corio-bench -- --quick`
  bench [ARGS...]
        cargo run --release -p corio-bench -- ARGS...
  lint
        cargo fmt --check, cargo clippy -D warnings, cargo deny check (if installed)
  doc [--open] [ARGS...]
        cargo doc --workspace --no-deps with RUSTDOCFLAGS=-Dwarnings
  help
        this text
";

fn main() -> ExitCode {
    let mut args = env::args().skip(1);
    let command = args.next();
    let rest: Vec<String> = args.collect();
    match command.as_deref() {
        Some("test") => test::run(&rest),
        Some("bench") => bench::run(&rest),
        Some("lint") => lint::run(&rest),
        Some("doc") => doc::run(&rest),
        Some("help" | "-h" | "--help") => {
            print!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some(other) => {
            eprint!("error: unknown command `{other}`\n\n{USAGE}");
            ExitCode::from(2)
        }
        None => {
            eprint!("{USAGE}");
            ExitCode::from(2)
        }
    }
}

/// The workspace root: the parent of this crate's directory.
pub(crate) fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}

/// Cargo's target directory: `CARGO_TARGET_DIR` if set, else `<root>/target`.
pub(crate) fn target_dir() -> PathBuf {
    match env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => project_root().join(dir),
        _ => project_root().join("target"),
    }
}

/// A `cargo` command that runs in the workspace root, with the given arguments.
pub(crate) fn cargo<I, S>(args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args(args).current_dir(project_root());
    cmd
}

/// Renders a command the way a user would type it: `ENV=value cargo args...`.
///
/// The program is shown by its file name, so `CARGO=/some/path/cargo` prints
/// as `cargo`.
pub(crate) fn render(cmd: &Command) -> String {
    let mut out = String::new();
    for (key, value) in cmd.get_envs() {
        if let Some(value) = value {
            out.push_str(&format!(
                "{}={} ",
                key.to_string_lossy(),
                quote(&value.to_string_lossy())
            ));
        }
    }
    let program = Path::new(cmd.get_program())
        .file_name()
        .unwrap_or(cmd.get_program())
        .to_string_lossy()
        .into_owned();
    out.push_str(&program);
    for arg in cmd.get_args() {
        out.push(' ');
        out.push_str(&quote(&arg.to_string_lossy()));
    }
    out
}

/// Quotes a shell word if it has spaces or is empty.
fn quote(word: &str) -> String {
    if word.is_empty() || word.contains(char::is_whitespace) {
        format!("\"{word}\"")
    } else {
        word.to_owned()
    }
}

/// Prints `$ command`, runs it with inherited stdio, and says whether it succeeded.
///
/// A command that cannot be started (cargo missing, say) counts as failed, with
/// the reason printed.
pub(crate) fn run_status(cmd: &mut Command) -> bool {
    println!("$ {}", render(cmd));
    let start = Instant::now();
    match cmd.status() {
        Ok(status) if status.success() => true,
        Ok(status) => {
            eprintln!(
                "xtask: `{}` failed ({status}) after {:.1?}",
                render(cmd),
                start.elapsed()
            );
            false
        }
        Err(err) => {
            eprintln!("xtask: could not run `{}`: {err}", render(cmd));
            false
        }
    }
}

/// The value of the environment variable `var` with `flag` appended, so that
/// flags the user set are kept.
pub(crate) fn env_with_flag(var: &str, flag: &str) -> String {
    match env::var(var) {
        Ok(existing) if !existing.trim().is_empty() => format!("{} {flag}", existing.trim()),
        _ => flag.to_owned(),
    }
}

/// Maps "did everything pass" to the process exit code.
pub(crate) fn exit_code(ok: bool) -> ExitCode {
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
