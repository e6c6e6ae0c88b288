//! `cargo xtask lint`: formatting, clippy and, when installed, cargo-deny.
//!
//! Runs, continuing after a failure so every problem shows at once:
//!
//! 1. `cargo fmt --all -- --check`
//! 2. `cargo clippy --workspace --all-targets -- -D warnings`
//! 3. `cargo deny check` against `deny.toml`, if `cargo deny --version` works;
//!    otherwise a note says it was skipped (`cargo install --locked cargo-deny`).

use std::process::{Command, ExitCode, Stdio};

use crate::{cargo, exit_code, run_status};

/// `cargo fmt --all -- --check`.
pub(crate) fn fmt() -> Command {
    cargo(["fmt", "--all", "--", "--check"])
}

/// `cargo clippy --workspace --all-features --all-targets -- -D warnings`.
pub(crate) fn clippy() -> Command {
    cargo([
        "clippy",
        "--workspace",
        "--all-features",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ])
}

/// Runs the lints; fails if any of them fails.
pub(crate) fn run(args: &[String]) -> ExitCode {
    if let Some(arg) = args.first() {
        eprintln!("error: `cargo xtask lint` takes no arguments (got `{arg}`)");
        return ExitCode::from(2);
    }
    let mut ok = run_status(&mut fmt());
    ok &= run_status(&mut clippy());
    if deny_installed() {
        ok &= run_status(&mut cargo(["deny", "check"]));
    } else {
        println!(
            "note: cargo-deny is not installed; skipping `cargo deny check` \
             (install it with `cargo install --locked cargo-deny`)"
        );
    }
    exit_code(ok)
}

/// Whether `cargo deny --version` runs successfully.
fn deny_installed() -> bool {
    cargo(["deny", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}
