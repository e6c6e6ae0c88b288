//! The smoke pass CI relies on: `corio-bench --quick` runs every workload on every runtime
//! and checks every result. It asserts completion and correctness, never a time.

use std::process::{Command, Output};

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
    ] {
        assert!(stdout.contains(workload), "no {workload} table:\n{stdout}");
    }
    for runtime in [
        "corio-mt", "corio-st", "tokio-mt", "tokio-st", "smol-mt", "smol-st",
    ] {
        assert!(stdout.contains(runtime), "no {runtime} row:\n{stdout}");
    }
    // 6 baselines + 9 workloads x 6 runtimes, one run each.
    assert!(
        stdout.contains("corio-bench: 60 passed, 0 failed"),
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
