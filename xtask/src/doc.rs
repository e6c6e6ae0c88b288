//! `cargo xtask doc [--open] [ARGS...]`: the API docs, warnings as errors.
//!
//! Runs `cargo doc --workspace --no-deps` with `RUSTDOCFLAGS=-Dwarnings`
//! (appended to any `RUSTDOCFLAGS` already set), so a broken intra-doc link
//! fails here the way it fails in `cargo xtask test`. Extra arguments, such as
//! `--open`, go to `cargo doc`.

use std::process::{Command, ExitCode};

use crate::{cargo, env_with_flag, exit_code, run_status};

/// Builds the workspace docs with `args` passed through to `cargo doc`.
pub(crate) fn run(args: &[String]) -> ExitCode {
    let mut cmd = command();
    cmd.args(args);
    exit_code(run_status(&mut cmd))
}

/// `cargo doc --workspace --no-deps` with rustdoc warnings denied.
pub(crate) fn command() -> Command {
    let mut cmd = cargo(["doc", "--workspace", "--all-features", "--no-deps"]);
    cmd.env("RUSTDOCFLAGS", env_with_flag("RUSTDOCFLAGS", "-Dwarnings"));
    cmd
}
