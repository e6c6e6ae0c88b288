//! `cargo xtask bench [ARGS...]`: the corio vs tokio vs smol benchmarks.
//!
//! Runs `cargo run --release -p corio-bench -- ARGS...`; every argument is
//! passed through, so `cargo xtask bench --quick` is the smoke pass that
//! `cargo xtask test` also runs.

use std::process::ExitCode;

use crate::{cargo, exit_code, run_status};

/// Runs corio-bench in release mode with `args` passed through.
pub(crate) fn run(args: &[String]) -> ExitCode {
    let mut cmd = cargo(["run", "--release", "-p", "corio-bench", "--"]);
    cmd.args(args);
    exit_code(run_status(&mut cmd))
}
