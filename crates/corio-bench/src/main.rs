//! `corio-bench`: corio, tokio and smol side by side on the same workloads, in one run.
//!
//! ```text
//! corio-bench [--quick] [--runs N] [--workers N] [--filter NAME] [--timeout SECS]
//! ```
//!
//! The orchestrator (the default role, [`orchestrate`]) runs every workload on every
//! runtime variant, each run in a fresh child process: it re-executes itself as
//! `corio-bench --child WORKLOAD RUNTIME SIZE WORKERS` ([`child`]), reads the child's
//! result line, checks the workload's result, and prints one table per workload with the
//! median time, the rate, the peak RSS and the ratio to tokio. `--quick` is the smoke test
//! that CI runs: tiny sizes, one run each, and the only thing it asserts is that every
//! run completed with the right check value, never a time.
//!
//! The HTTP workloads ([`http`]) compare HTTP stacks rather than runtimes: corio-http's
//! client against reqwest and a bare hyper client (against a local nginx), and its server
//! against a hyper server (under wrk), each with its own small table; where nginx or wrk
//! is not installed, the workload is skipped with a note.
//!
//! See the crate's README for the workloads and how memory per task is computed.

#![forbid(unsafe_code)]

mod child;
mod http;
mod notify;
mod orchestrate;
mod report;
mod runtime;
mod workloads;

use std::process::ExitCode;
use std::time::Duration;

use orchestrate::Options;

const USAGE: &str = "\
usage: corio-bench [--quick] [--runs N] [--workers N] [--filter NAME] [--timeout SECS]

Runs every workload on corio, tokio and smol (multi-thread and current-thread each),
and corio-http against reqwest and hyper (the HTTP workloads need nginx and wrk),
every run in a fresh child process, and prints medians, rates, peak RSS and ratios.

options:
  --quick          tiny sizes, 1 run each: a smoke test that asserts results, never times
  --runs N         runs per workload and runtime (default 5; 1 with --quick)
  --workers N      worker threads of the multi-thread runtimes (default 2)
  --filter NAME    only the workloads whose name contains NAME (spawn, yield,
                   ping_pong, sleep, timers, tcp_echo, channel_ping_pong,
                   mpmc, mutex, http_client, http_server; `http` for both)
  --timeout SECS   kill a child run after SECS seconds (default 300; 60 with --quick)
  -h, --help       this text";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(rest) = args.strip_prefix(&["--child".to_owned()]) {
        return match child::run(rest) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("corio-bench --child: {e}");
                ExitCode::from(2)
            }
        };
    }
    match parse_options(&args) {
        Ok(Some(options)) => orchestrate::run(&options),
        Ok(None) => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("corio-bench: {e}\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

/// Parses the orchestrator's options; `Ok(None)` asks for the usage text.
fn parse_options(args: &[String]) -> Result<Option<Options>, String> {
    let mut quick = false;
    let mut runs = None;
    let mut workers = 2;
    let mut filter = None;
    let mut timeout = None;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        // Both `--runs 3` and `--runs=3`.
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag, Some(value.to_owned())),
            _ => (arg.as_str(), None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| args.next().cloned())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        let number = |name: &str, v: String| {
            v.parse::<usize>()
                .ok()
                .filter(|&n| n > 0)
                .ok_or_else(|| format!("{name} takes a positive integer, not `{v}`"))
        };
        match flag {
            "--quick" => quick = true,
            "--runs" => runs = Some(number(flag, value(flag)?)?),
            "--workers" => workers = number(flag, value(flag)?)?,
            "--filter" => filter = Some(value(flag)?),
            "--timeout" => {
                timeout = Some(Duration::from_secs(number(flag, value(flag)?)? as u64));
            }
            "-h" | "--help" => return Ok(None),
            _ => return Err(format!("unknown argument `{arg}`")),
        }
        if inline.is_some() && matches!(flag, "--quick" | "-h" | "--help") {
            return Err(format!("{flag} takes no value"));
        }
    }
    Ok(Some(Options {
        quick,
        runs: runs.unwrap_or(if quick { 1 } else { 5 }),
        workers,
        filter,
        timeout: timeout.unwrap_or(Duration::from_secs(if quick { 60 } else { 300 })),
    }))
}

#[cfg(test)]
mod tests {
    use super::parse_options;
    use std::time::Duration;

    fn parse(args: &[&str]) -> Result<Option<super::Options>, String> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        parse_options(&args)
    }

    #[test]
    fn defaults() {
        let o = parse(&[]).unwrap().unwrap();
        assert!(!o.quick);
        assert_eq!((o.runs, o.workers, o.filter), (5, 2, None));
        assert_eq!(o.timeout, Duration::from_secs(300));
    }

    #[test]
    fn quick_runs_once_unless_told() {
        assert_eq!(parse(&["--quick"]).unwrap().unwrap().runs, 1);
        assert_eq!(parse(&["--quick", "--runs", "3"]).unwrap().unwrap().runs, 3);
    }

    #[test]
    fn values_inline_or_next() {
        let o = parse(&["--workers=4", "--filter", "spawn", "--runs=2"])
            .unwrap()
            .unwrap();
        assert_eq!((o.runs, o.workers), (2, 4));
        assert_eq!(o.filter.as_deref(), Some("spawn"));
    }

    #[test]
    fn rejects_nonsense() {
        assert!(parse(&["--runs"]).is_err());
        assert!(parse(&["--runs", "0"]).is_err());
        assert!(parse(&["--workers", "x"]).is_err());
        assert!(parse(&["--quick=1"]).is_err());
        assert!(parse(&["--bogus"]).is_err());
        assert!(parse(&["--help"]).unwrap().is_none());
    }
}
