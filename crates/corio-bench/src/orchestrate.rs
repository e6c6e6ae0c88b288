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
use crate::http::nginx::Nginx;
use crate::http::{self, HttpReport, HttpRow, HttpWorkload, Variant};
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
    fn record<T>(&mut self, what: String, result: Result<T, String>) -> Option<T> {
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
    let wanted = |name: &str| options.filter.as_deref().is_none_or(|f| name.contains(f));
    let workloads: Vec<Workload> = Workload::MEASURED
        .into_iter()
        .filter(|w| wanted(w.name()))
        .collect();
    let http_workloads: Vec<HttpWorkload> = HttpWorkload::ALL
        .into_iter()
        .filter(|w| wanted(w.name()))
        .collect();
    if workloads.is_empty() && http_workloads.is_empty() {
        let names: Vec<_> = Workload::MEASURED
            .iter()
            .map(|w| w.name())
            .chain(HttpWorkload::ALL.iter().map(|w| w.name()))
            .collect();
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
    for workload in http_workloads {
        bench.http_workload(workload, options, &mut tally);
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

impl Bench {
    /// Runs an HTTP workload: finds the program it needs (skipping the workload with a
    /// note if it is missing), starts nginx for `http_client`, runs every variant
    /// `options.runs` times, interleaved, and prints the table.
    fn http_workload(&self, workload: HttpWorkload, options: &Options, tally: &mut Tally) {
        let name = workload.name();
        let Some(program) = http::find_program(workload.program()) else {
            println!();
            println!(
                "{name}: skipped: {} not found ({})",
                workload.program(),
                http::INSTALL_HINT
            );
            return;
        };
        let size = if options.quick {
            workload.quick_size()
        } else {
            workload.full_size()
        };
        // What the child is pointed at: nginx's URL, or wrk's path.
        let (_nginx, target) = match workload {
            HttpWorkload::Client => match Nginx::start(&program) {
                Ok(nginx) => {
                    let url = nginx.url();
                    (Some(nginx), url)
                }
                Err(e) => {
                    tally.record::<()>(format!("{name}: starting nginx"), Err(e));
                    println!();
                    println!("{name}: FAILED: nginx did not start");
                    return;
                }
            },
            HttpWorkload::Server => (None, program.display().to_string()),
        };
        let mut rows: Vec<HttpRow> = workload
            .variants()
            .iter()
            .map(|&variant| HttpRow {
                variant,
                reports: Vec::new(),
                failed: 0,
            })
            .collect();
        eprint!("{name} ");
        for i in 0..options.runs {
            for row in &mut rows {
                let what = format!("{name} with {}, run {}", row.variant, i + 1);
                let result = self.run_http(workload, row.variant, size, &target);
                match tally.record(what, result) {
                    Some(report) => row.reports.push(report),
                    None => row.failed += 1,
                }
                eprint!(".");
            }
        }
        eprintln!();
        println!();
        println!("{name}: {}", workload.describe(size, self.workers));
        print!("{}", http::table(workload, &rows));
    }

    /// Runs `workload` once with `variant` in a child process and checks its result.
    fn run_http(
        &self,
        workload: HttpWorkload,
        variant: Variant,
        size: Size,
        target: &str,
    ) -> Result<HttpReport, String> {
        let child = Command::new(&self.exe)
            .arg("--child")
            .arg(workload.name())
            .arg(variant.name())
            .arg(size.to_string())
            .arg(self.workers.to_string())
            .arg(target)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", self.exe.display()))?;
        let output = wait_with_timeout(child, self.timeout)?;
        let report = HttpReport::parse(&output.stdout).map_err(|e| output.explain(&e))?;
        if report.base.check != 1 {
            return Err(output.explain("wrong result: some responses were wrong or failed"));
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
