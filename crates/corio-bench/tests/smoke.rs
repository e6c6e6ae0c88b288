//! The smoke pass CI relies on: `corio-bench --quick` runs every workload on every runtime
//! and checks every result. It asserts completion and correctness, never a time.
//!
//! The HTTP workloads need nginx and wrk; where one is missing its workload is skipped
//! with a note, and the expected counts below leave its runs out.

use std::path::PathBuf;
use std::process::{Command, Output};

/// Child runs of `http_client` in a quick pass (corio, reqwest, hyper), if nginx is there.
const HTTP_CLIENT_RUNS: usize = 3;
/// Child runs of `http_server` in a quick pass (corio, hyper), if wrk is there.
const HTTP_SERVER_RUNS: usize = 2;

/// Whether `name` is installed where corio-bench looks: `PATH` and the `sbin` directories.
fn installed(name: &str) -> bool {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/local/sbin", "/usr/sbin", "/sbin"].map(PathBuf::from))
        .any(|dir| dir.join(name).is_file())
}

/// The quick pass's child runs of the HTTP workloads on this machine.
fn http_runs() -> usize {
    usize::from(installed("nginx")) * HTTP_CLIENT_RUNS
        + usize::from(installed("wrk")) * HTTP_SERVER_RUNS
}

fn bench(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_corio-bench"))
        .args(args)
        .output()
        .expect("run corio-bench")
}

#[test]
fn quick_pass_checks_every_workload_on_every_runtime() {
    let out = bench(&["--quick"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for workload in [
        "spawn:",
        "yield:",
        "ping_pong:",
        "sleep:",
        "timers:",
        "tcp_echo:",
        "channel_ping_pong:",
        "mpmc:",
        "mutex:",
        "http_client:",
        "http_server:",
    ] {
        assert!(stdout.contains(workload), "no {workload} table:\n{stdout}");
    }
    for runtime in [
        "corio-mt", "corio-st", "tokio-mt", "tokio-st", "smol-mt", "smol-st",
    ] {
        assert!(stdout.contains(runtime), "no {runtime} row:\n{stdout}");
    }
    // 6 baselines + 9 workloads x 6 runtimes, one run each, and the HTTP runs.
    let passed = 60 + http_runs();
    assert!(
        stdout.contains(&format!("corio-bench: {passed} passed, 0 failed")),
        "{stdout}"
    );
}

#[test]
fn filter_picks_workloads() {
    let out = bench(&["--quick", "--filter", "mutex"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("mutex:") && !stdout.contains("spawn:"));
    // No workload here needs the memory baseline: 6 runs.
    assert!(
        stdout.contains("corio-bench: 6 passed, 0 failed"),
        "{stdout}"
    );
}

#[test]
fn http_workloads_run_or_say_why_not() {
    let out = bench(&["--quick", "--filter", "http"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!stdout.contains("mutex:"), "{stdout}");
    for (workload, program, variants) in [
        (
            "http_client",
            "nginx",
            &["corio-mt", "reqwest", "hyper"][..],
        ),
        ("http_server", "wrk", &["corio-mt", "hyper"][..]),
    ] {
        if installed(program) {
            let table = stdout
                .split(&format!("{workload}: "))
                .nth(1)
                .unwrap_or_else(|| panic!("no {workload} table:\n{stdout}"));
            for variant in variants {
                assert!(table.contains(variant), "no {variant} row:\n{stdout}");
            }
        } else {
            let note =
                format!("{workload}: skipped: {program} not found (apt-get install nginx wrk)");
            assert!(stdout.contains(&note), "{stdout}");
        }
    }
    let passed = http_runs();
    assert!(
        stdout.contains(&format!("corio-bench: {passed} passed, 0 failed")),
        "{stdout}"
    );
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(
        bench(&["--filter", "nothing-like-it"]).status.code(),
        Some(2)
    );
    assert_eq!(bench(&["--runs", "0"]).status.code(), Some(2));
    assert_eq!(
        bench(&["--child", "spawn", "tokio-st"]).status.code(),
        Some(2)
    );
    assert_eq!(
        bench(&["--child", "spawn", "no-such-runtime", "10", "1"])
            .status
            .code(),
        Some(2)
    );
    // reqwest has no server; an HTTP child needs its target.
    assert_eq!(
        bench(&["--child", "http_server", "reqwest", "1x2", "1", "wrk"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        bench(&["--child", "http_client", "corio", "10x2", "1"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn child_prints_its_result_line() {
    let out = bench(&["--child", "spawn", "tokio-st", "100", "1"]);
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().find(|l| l.starts_with("RESULT ")).unwrap();
    assert!(line.contains(" check=4950 "), "{line}");
    assert!(
        line.contains(" secs=") && line.contains(" rss_kb="),
        "{line}"
    );
}
