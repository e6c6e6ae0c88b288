//! The orchestrator role: runs every workload on every runtime, each run in a fresh child
//! process, checks every result, and prints the tables.
//!
//! Runs are interleaved: run 1 of every runtime, then run 2 of every runtime, and so on,
//! so that a slow drift of the machine (another process, the CPU's clock) spreads over all
//! runtimes instead of landing on one.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, ExitCode, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::child::Report;
use crate::report::{self, Row};
use crate::runtime::Runtime;
use crate::workloads::{Size, Workload};

/// What the command line asked for.
#[derive(Clone, Debug)]
pub(crate) struct Options {
    /// Tiny sizes: a smoke test.
    pub(crate) quick: bool,
    /// Runs per workload and runtime.
    pub(crate) runs: usize,
    /// Worker threads of the multi-thread runtimes.
    pub(crate) workers: usize,
    /// Only the workloads whose name contains this.
    pub(crate) filter: Option<String>,
    /// How long one child run may take before it is killed and counted as failed.
    pub(crate) timeout: Duration,
}

/// Counts child runs, and remembers what went wrong.
#[derive(Debug, Default)]
struct Tally {
    passed: usize,
    failures: Vec<String>,
}

impl Tally {
    fn record(&mut self, what: String, result: Result<Report, String>) -> Option<Report> {
        match result {
            Ok(report) => {
                self.passed += 1;
                Some(report)
            }
            Err(e) => {
                self.failures.push(format!("{what}: {e}"));
                None
            }
        }
    }
}

/// Runs the orchestrator; the exit code is non-zero if any run failed or gave a wrong check.
pub(crate) fn run(options: &Options) -> ExitCode {
    let workloads: Vec<Workload> = Workload::MEASURED
        .into_iter()
        .filter(|w| {
            options
                .filter
                .as_deref()
                .is_none_or(|f| w.name().contains(f))
        })
        .collect();
    if workloads.is_empty() {
        let names: Vec<_> = Workload::MEASURED.iter().map(|w| w.name()).collect();
        eprintln!(
            "corio-bench: no workload matches `{}` (workloads: {})",
            options.filter.as_deref().unwrap_or_default(),
            names.join(", ")
        );
        return ExitCode::from(2);
    }
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => {
            eprintln!("corio-bench: cannot find my own executable: {e}");
            return ExitCode::FAILURE;
        }
    };
    let bench = Bench {
        exe,
        workers: options.workers,
        timeout: options.timeout,
    };

    let cpus = thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "corio-bench{}: {} CPUs, {} workers for the -mt runtimes, {} run(s) each, \
         every run in a fresh process",
        if options.quick { " --quick" } else { "" },
        cpus,
        options.workers,
        options.runs,
    );
    if cfg!(debug_assertions) {
        println!("warning: a debug build; times mean nothing (use --release)");
    }

    let mut tally = Tally::default();
    let started = Instant::now();

    // The runtimes' own footprint, for memory per operation.
    let baselines: Vec<(Runtime, Option<u64>)> =
        if workloads.iter().any(|w| w.reports_memory_per_op()) {
            let runs = options.runs.min(3);
            Runtime::ALL
                .into_iter()
                .map(|rt| {
                    let rss: Vec<u64> = (0..runs)
                        .filter_map(|i| {
                            let what = format!("baseline on {rt}, run {}", i + 1);
                            tally
                                .record(what, bench.run(Workload::Baseline, rt, Size::of(0)))
                                .map(|r| r.rss_kb)
                        })
                        .collect();
                    (rt, report::median_u64(&rss))
                })
                .collect()
        } else {
            Vec::new()
        };

    for workload in workloads {
        let size = if options.quick {
            workload.quick_size()
        } else {
            workload.full_size()
        };
        let mut rows: Vec<Row> = Runtime::ALL
            .into_iter()
            .map(|runtime| Row {
                runtime,
                reports: Vec::new(),
                failed: 0,
            })
            .collect();
        eprint!("{} ", workload.name());
        for i in 0..options.runs {
            for row in &mut rows {
                let what = format!("{} on {}, run {}", workload.name(), row.runtime, i + 1);
                match tally.record(what, bench.run(workload, row.runtime, size)) {
                    Some(report) => row.reports.push(report),
                    None => row.failed += 1,
                }
                eprint!(".");
            }
        }
        eprintln!();
        println!();
        println!("{}: {}", workload.name(), workload.describe(size));
        let baseline = |rt: Runtime| {
            baselines
                .iter()
                .find(|(b, _)| *b == rt)
                .and_then(|(_, kb)| *kb)
        };
        print!("{}", report::table(workload, size, &rows, &baseline));
    }

    println!();
    if tally.failures.is_empty() {
        println!(
            "all {} runs completed with the expected check value ({:.1} s)",
            tally.passed,
            started.elapsed().as_secs_f64()
        );
    } else {
        println!("FAILED:");
        for failure in &tally.failures {
            println!("  {failure}");
        }
    }
    println!(
        "corio-bench: {} passed, {} failed",
        tally.passed,
        tally.failures.len()
    );
    if tally.failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// How to start a child run.
#[derive(Debug)]
struct Bench {
    exe: PathBuf,
    workers: usize,
    timeout: Duration,
}

impl Bench {
    /// Runs `workload` once on `runtime` in a child process and checks its result.
    fn run(&self, workload: Workload, runtime: Runtime, size: Size) -> Result<Report, String> {
        let child = Command::new(&self.exe)
            .arg("--child")
            .arg(workload.name())
            .arg(runtime.name())
            .arg(size.to_string())
            .arg(self.workers.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", self.exe.display()))?;
        let output = wait_with_timeout(child, self.timeout)?;
        let report = Report::parse(&output.stdout).map_err(|e| output.explain(&e))?;
        let expected = workload.expected_check(size);
        if report.check != expected {
            return Err(format!(
                "wrong result: check={}, expected {expected}",
                report.check
            ));
        }
        Ok(report)
    }
}

/// A finished child's output.
#[derive(Debug)]
struct Output {
    stdout: String,
    stderr: String,
}

impl Output {
    /// `problem`, followed by the end of the child's stderr, which usually says why.
    fn explain(&self, problem: &str) -> String {
        let lines: Vec<&str> = self.stderr.lines().collect();
        let tail = lines[lines.len().saturating_sub(5)..].join("\n    ");
        if tail.is_empty() {
            problem.to_owned()
        } else {
            format!("{problem}; stderr:\n    {tail}")
        }
    }
}

/// Waits for `child` to exit, killing it after `timeout`; reads its stdout and stderr.
fn wait_with_timeout(mut child: Child, timeout: Duration) -> Result<Output, String> {
    let stdout = child.stdout.take().map(drain);
    let stderr = child.stderr.take().map(drain);
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Ok(status),
            Ok(None) if Instant::now() >= deadline => {
                // The kill closes the pipes, so the readers below finish.
                let _ = child.kill();
                let _ = child.wait();
                break Err(format!("timed out after {} s", timeout.as_secs()));
            }
            Ok(None) => thread::sleep(Duration::from_millis(5)),
            Err(e) => break Err(format!("cannot wait for the child: {e}")),
        }
    };
    let join = |reader: Option<thread::JoinHandle<String>>| {
        reader
            .map(|r| r.join().unwrap_or_default())
            .unwrap_or_default()
    };
    let output = Output {
        stdout: join(stdout),
        stderr: join(stderr),
    };
    match status {
        Ok(status) if status.success() => Ok(output),
        Ok(status) => Err(output.explain(&format!("child {status}"))),
        Err(e) => Err(output.explain(&e)),
    }
}

/// Reads a pipe to its end on a thread of its own, so a chatty child cannot block on it.
fn drain(mut pipe: impl Read + Send + 'static) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}
