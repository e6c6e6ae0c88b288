//! The child role: `corio-bench --child WORKLOAD RUNTIME SIZE WORKERS`, SIZE being `N` or
//! `NxM` (see [`Size`]).
//!
//! Runs one workload once on one runtime in this fresh process and prints one line,
//! `RESULT secs=<f64> check=<u64> rss_kb=<u64>`, which the orchestrator parses. A fresh
//! process per run keeps runs from sharing a warmed-up heap, and makes the peak resident
//! set (`VmHWM`) belong to one runtime and one workload alone.

use std::fmt;

use crate::http::HttpWorkload;
use crate::runtime::Runtime;
use crate::workloads::{Size, Workload};

/// The prefix of the line the orchestrator looks for on the child's stdout.
pub(crate) const RESULT_PREFIX: &str = "RESULT";

/// What a child reports.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Report {
    /// Seconds the workload took, measured inside the runtime.
    pub(crate) secs: f64,
    /// The workload's check value.
    pub(crate) check: u64,
    /// The process's peak resident set in KiB, 0 where the platform does not tell.
    pub(crate) rss_kb: u64,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{RESULT_PREFIX} secs={:.9} check={} rss_kb={}",
            self.secs, self.check, self.rss_kb
        )
    }
}

impl Report {
    /// Finds and parses the result line in a child's stdout.
    pub(crate) fn parse(stdout: &str) -> Result<Report, String> {
        let line = stdout
            .lines()
            .find_map(|line| line.strip_prefix(RESULT_PREFIX))
            .ok_or_else(|| format!("no `{RESULT_PREFIX}` line in the child's output"))?;
        let (mut secs, mut check, mut rss_kb) = (None, None, None);
        for field in line.split_whitespace() {
            let (key, value) = field
                .split_once('=')
                .ok_or_else(|| format!("malformed field `{field}` in `{line}`"))?;
            let bad = |e: &dyn fmt::Display| format!("bad `{key}` in `{line}`: {e}");
            match key {
                "secs" => secs = Some(value.parse::<f64>().map_err(|e| bad(&e))?),
                "check" => check = Some(value.parse::<u64>().map_err(|e| bad(&e))?),
                "rss_kb" => rss_kb = Some(value.parse::<u64>().map_err(|e| bad(&e))?),
                _ => {} // newer children may say more
            }
        }
        let missing = |key: &str| format!("no `{key}` in `{line}`");
        Ok(Report {
            secs: secs.ok_or_else(|| missing("secs"))?,
            check: check.ok_or_else(|| missing("check"))?,
            rss_kb: rss_kb.ok_or_else(|| missing("rss_kb"))?,
        })
    }
}

/// Runs the child role with the arguments after `--child`; prints the result line.
///
/// # Errors
///
/// A usage error, or the runtime could not be built.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    if let Some(workload) = args.first().and_then(|w| HttpWorkload::from_name(w)) {
        return crate::http::child(workload, &args[1..]);
    }
    let [workload, runtime, size, workers] = args else {
        return Err(format!(
            "--child takes WORKLOAD RUNTIME SIZE WORKERS, got {} argument(s)",
            args.len()
        ));
    };
    let workload =
        Workload::from_name(workload).ok_or_else(|| format!("unknown workload `{workload}`"))?;
    let runtime =
        Runtime::from_name(runtime).ok_or_else(|| format!("unknown runtime `{runtime}`"))?;
    let size: Size = size.parse()?;
    let workers: usize = workers
        .parse()
        .map_err(|e| format!("bad WORKERS `{workers}`: {e}"))?;

    let measured = runtime
        .block_on(workers, |spawner| async move {
            workload.run(&spawner, size).await
        })
        .map_err(|e| format!("cannot build {runtime}: {e}"))?;
    let report = Report {
        secs: measured.elapsed.as_secs_f64(),
        check: measured.check,
        rss_kb: peak_rss_kb().unwrap_or(0),
    };
    println!("{report}");
    Ok(())
}

/// The peak resident set of this process in KiB: `VmHWM` in `/proc/self/status` (Linux).
pub(crate) fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find_map(|l| l.strip_prefix("VmHWM:"))?;
    line.trim().strip_suffix("kB")?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::Report;

    #[test]
    fn round_trips() {
        let report = Report {
            secs: 0.25,
            check: 42,
            rss_kb: 1024,
        };
        let out = format!("noise\n{report}\n");
        assert_eq!(Report::parse(&out), Ok(report));
    }

    #[test]
    fn rejects_missing_fields() {
        assert!(Report::parse("RESULT secs=1 check=2").is_err());
        assert!(Report::parse("nothing here").is_err());
    }

    #[test]
    fn reads_own_peak_rss() {
        if cfg!(target_os = "linux") {
            assert!(super::peak_rss_kb().unwrap() > 0);
        }
    }
}
