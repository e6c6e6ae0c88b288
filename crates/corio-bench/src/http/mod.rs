//! The HTTP workloads: corio-http's client and server against reqwest and hyper.
//!
//! They do not fit the [`Runtime`] table of the other
//! workloads: what is compared is an HTTP stack (a client library, a server library)
//! on its own runtime, so they have their own variants ([`Variant`]) and their own table
//! ([`table`]), and they need a program from outside (nginx, wrk) that may not be
//! installed; then they are skipped with a note, never failed.
//!
//! - `http_client` ([`client`]): `n` GET requests, `m` at a time over keep-alive
//!   connections, against a local nginx serving a small static file ([`nginx`]); each
//!   client in its own child process, reporting requests per second and its own CPU time
//!   per request.
//! - `http_server` ([`server`]): a hello-world server on 2 worker threads under `wrk`, the
//!   child running both; requests per second as wrk counts them.
//!
//! A child prints the usual result line with two more fields, `requests=` and
//! `cpu_secs=` (user + system time of the whole child process over the measured span,
//! from `/proc/self/stat`).

pub(crate) mod client;
pub(crate) mod nginx;
pub(crate) mod server;

use std::fmt;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::child::Report;
use crate::report::{median_f64, median_u64, render, si};
use crate::runtime::Runtime;
use crate::workloads::Size;

/// What `apt-get` line to suggest when a program is missing.
pub(crate) const INSTALL_HINT: &str = "apt-get install nginx wrk";

/// An HTTP workload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HttpWorkload {
    /// `n` GET requests, `m` at a time, against nginx.
    Client,
    /// wrk with `m` connections for `n` seconds against a hello-world server.
    Server,
}

impl HttpWorkload {
    /// Every HTTP workload, in report order.
    pub(crate) const ALL: [HttpWorkload; 2] = [HttpWorkload::Client, HttpWorkload::Server];

    /// The name used on the command line and in the report.
    pub(crate) fn name(self) -> &'static str {
        match self {
            HttpWorkload::Client => "http_client",
            HttpWorkload::Server => "http_server",
        }
    }

    /// Parses a name given by [`HttpWorkload::name`].
    pub(crate) fn from_name(name: &str) -> Option<HttpWorkload> {
        HttpWorkload::ALL.into_iter().find(|w| w.name() == name)
    }

    /// The variants compared, corio first.
    pub(crate) fn variants(self) -> &'static [Variant] {
        match self {
            HttpWorkload::Client => &[Variant::Corio, Variant::Reqwest, Variant::Hyper],
            HttpWorkload::Server => &[Variant::Corio, Variant::Hyper],
        }
    }

    /// The program from outside that the workload needs.
    pub(crate) fn program(self) -> &'static str {
        match self {
            HttpWorkload::Client => "nginx",
            HttpWorkload::Server => "wrk",
        }
    }

    /// The size of a full run: requests x concurrency, or seconds x connections.
    pub(crate) fn full_size(self) -> Size {
        match self {
            HttpWorkload::Client => Size::with(20_000, 64),
            HttpWorkload::Server => Size::with(5, 64),
        }
    }

    /// The size of a `--quick` smoke run.
    pub(crate) fn quick_size(self) -> Size {
        match self {
            HttpWorkload::Client => Size::with(200, 8),
            HttpWorkload::Server => Size::with(1, 8),
        }
    }

    /// One line on what a run at `size` does, for the report.
    pub(crate) fn describe(self, size: Size, workers: usize) -> String {
        let Size { n, m } = size;
        match self {
            HttpWorkload::Client => format!(
                "{n} GET requests of a {}-byte static file from a local nginx, {m} at a time \
                 over keep-alive connections; {workers} worker threads; CPU = the client \
                 process's user + system time",
                client::BODY.len()
            ),
            HttpWorkload::Server => format!(
                "`wrk -t2 -c{m} -d{n}s` against GET / -> \"Hello, World!\", the server on \
                 {workers} worker threads; CPU = the server process's user + system time"
            ),
        }
    }
}

/// What is measured in an HTTP workload: an HTTP library on its runtime.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Variant {
    /// corio-http (`Session`, `server::Server`) on corio's multi-thread runtime.
    Corio,
    /// reqwest (a client only) on tokio's multi-thread runtime.
    Reqwest,
    /// hyper 1.x with hyper-util (the legacy pooled client, or `http1` server
    /// connections) on tokio's multi-thread runtime.
    Hyper,
}

impl Variant {
    /// The name used on the command line and in the report.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Variant::Corio => "corio",
            Variant::Reqwest => "reqwest",
            Variant::Hyper => "hyper",
        }
    }

    /// Parses a name given by [`Variant::name`].
    pub(crate) fn from_name(name: &str) -> Option<Variant> {
        [Variant::Corio, Variant::Reqwest, Variant::Hyper]
            .into_iter()
            .find(|v| v.name() == name)
    }

    /// The runtime the variant runs on.
    pub(crate) fn runtime(self) -> Runtime {
        match self {
            Variant::Corio => Runtime::CorioMt,
            Variant::Reqwest | Variant::Hyper => Runtime::TokioMt,
        }
    }
}

impl fmt::Display for Variant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

/// What an HTTP child reports: the usual line plus requests and CPU time.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct HttpReport {
    /// Time, check value (1 for a run whose every response was right) and peak RSS.
    pub(crate) base: Report,
    /// Requests completed.
    pub(crate) requests: u64,
    /// User + system CPU time of the child process over the measured span.
    pub(crate) cpu_secs: f64,
}

impl fmt::Display for HttpReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} requests={} cpu_secs={:.6}",
            self.base, self.requests, self.cpu_secs
        )
    }
}

impl HttpReport {
    /// Finds and parses the result line in a child's stdout.
    pub(crate) fn parse(stdout: &str) -> Result<HttpReport, String> {
        let base = Report::parse(stdout)?;
        let field = |key: &str| {
            stdout
                .lines()
                .filter(|l| l.starts_with(crate::child::RESULT_PREFIX))
                .flat_map(str::split_whitespace)
                .find_map(|f| f.strip_prefix(key)?.strip_prefix('='))
                .ok_or_else(|| format!("no `{key}` in the result line"))
        };
        let requests = field("requests")?;
        let cpu_secs = field("cpu_secs")?;
        Ok(HttpReport {
            base,
            requests: requests
                .parse()
                .map_err(|e| format!("bad `requests={requests}`: {e}"))?,
            cpu_secs: cpu_secs
                .parse()
                .map_err(|e| format!("bad `cpu_secs={cpu_secs}`: {e}"))?,
        })
    }

    /// Requests per second.
    pub(crate) fn rate(&self) -> f64 {
        self.requests as f64 / self.base.secs
    }

    /// CPU milliseconds per 1,000 requests (equivalently, CPU microseconds per request).
    pub(crate) fn cpu_ms_per_k(&self) -> f64 {
        self.cpu_secs * 1e6 / self.requests.max(1) as f64
    }
}

/// The child role of an HTTP workload: `--child WORKLOAD VARIANT SIZE WORKERS TARGET`,
/// TARGET being nginx's URL for `http_client` and wrk's path for `http_server`.
///
/// # Errors
///
/// A usage error, the runtime could not be built, or the workload failed (nginx did not
/// answer, wrk could not run).
pub(crate) fn child(workload: HttpWorkload, args: &[String]) -> Result<(), String> {
    let [variant, size, workers, target] = args else {
        return Err(format!(
            "--child {} takes VARIANT SIZE WORKERS TARGET, got {} argument(s)",
            workload.name(),
            args.len()
        ));
    };
    let variant = Variant::from_name(variant)
        .filter(|v| workload.variants().contains(v))
        .ok_or_else(|| format!("no variant `{variant}` for {}", workload.name()))?;
    let size: Size = size.parse()?;
    let workers: usize = workers
        .parse()
        .map_err(|e| format!("bad WORKERS `{workers}`: {e}"))?;
    let runtime = variant.runtime();
    let target = target.clone();
    let outcome = runtime
        .block_on(workers, |spawner| async move {
            match workload {
                HttpWorkload::Client => client::run(&spawner, variant, &target, size).await,
                HttpWorkload::Server => {
                    server::run(&spawner, variant, Path::new(&target), size).await
                }
            }
        })
        .map_err(|e| format!("cannot build {runtime}: {e}"))??;
    let report = HttpReport {
        base: Report {
            secs: outcome.elapsed.as_secs_f64(),
            check: outcome.check,
            rss_kb: crate::child::peak_rss_kb().unwrap_or(0),
        },
        requests: outcome.requests,
        cpu_secs: outcome.cpu.as_secs_f64(),
    };
    println!("{report}");
    Ok(())
}

/// What one run of an HTTP workload produced.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Outcome {
    /// The measured span.
    pub(crate) elapsed: Duration,
    /// 1 if every response was right, else 0.
    pub(crate) check: u64,
    /// Requests completed in the span.
    pub(crate) requests: u64,
    /// CPU time of this process in the span.
    pub(crate) cpu: Duration,
}

/// The user + system CPU time this process has used so far, all threads together:
/// `utime` and `stime` of `/proc/self/stat`, in clock ticks of 1/100 s (Linux's
/// `USER_HZ`). `None` where there is no procfs.
pub(crate) fn process_cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    parse_cpu_ticks(&stat).map(|ticks| Duration::from_millis(ticks * 10))
}

/// `utime + stime` from the text of a `/proc/PID/stat`: fields 14 and 15, counted after
/// the command name, which is in parentheses and may itself hold spaces.
fn parse_cpu_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    // `rest` starts at field 3 (the state): utime is its 12th field, stime its 13th.
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// Finds an executable called `name` on `PATH`, or in the `sbin` directories, where
/// Debian puts nginx and which a user's `PATH` often lacks.
pub(crate) fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/local/sbin", "/usr/sbin", "/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}

/// One variant's runs of an HTTP workload.
#[derive(Debug)]
pub(crate) struct HttpRow {
    pub(crate) variant: Variant,
    /// The runs that completed with the right check value.
    pub(crate) reports: Vec<HttpReport>,
    /// The runs that did not.
    pub(crate) failed: usize,
}

impl HttpRow {
    fn median_rate(&self) -> Option<f64> {
        median_f64(
            &self
                .reports
                .iter()
                .map(HttpReport::rate)
                .collect::<Vec<_>>(),
        )
    }

    fn median_cpu(&self) -> Option<f64> {
        median_f64(
            &self
                .reports
                .iter()
                .map(HttpReport::cpu_ms_per_k)
                .collect::<Vec<_>>(),
        )
    }
}

/// Renders the table of one HTTP workload: one row per variant, ratios against every
/// other variant's median rate and against hyper's CPU per request.
pub(crate) fn table(workload: HttpWorkload, rows: &[HttpRow]) -> String {
    let references: Vec<Variant> = workload.variants()[1..].to_vec();
    let rate_of = |v: Variant| {
        rows.iter()
            .find(|r| r.variant == v)
            .and_then(HttpRow::median_rate)
    };
    let hyper_cpu = rows
        .iter()
        .find(|r| r.variant == Variant::Hyper)
        .and_then(HttpRow::median_cpu)
        .filter(|&cpu| cpu > 0.0);
    let mut header: Vec<String> = [
        "variant",
        "runtime",
        "req/s",
        "min",
        "max",
        "CPU/1k req",
        "peak RSS",
    ]
    .map(str::to_owned)
    .into();
    header.extend(references.iter().map(|v| format!("vs {v}")));
    header.push("CPU vs hyper".to_owned());
    let mut table = vec![header];
    for row in rows {
        let mut cells = vec![
            row.variant.name().to_owned(),
            row.variant.runtime().name().to_owned(),
        ];
        let (Some(rate), Some(cpu)) = (row.median_rate(), row.median_cpu()) else {
            cells.push(format!("FAILED (all {} runs)", row.failed));
            table.push(cells);
            continue;
        };
        let rates: Vec<f64> = row.reports.iter().map(HttpReport::rate).collect();
        let min = rates.iter().copied().fold(f64::INFINITY, f64::min);
        let max = rates.iter().copied().fold(0.0, f64::max);
        let rss: Vec<u64> = row.reports.iter().map(|r| r.base.rss_kb).collect();
        let rss = median_u64(&rss).filter(|&kb| kb > 0);
        cells.push(si(rate));
        cells.push(si(min));
        cells.push(si(max));
        cells.push(format!("{cpu:.1} ms"));
        cells.push(rss.map_or("-".to_owned(), |kb| {
            format!("{:.1} MiB", kb as f64 / 1024.0)
        }));
        for &reference in &references {
            cells.push(rate_of(reference).map_or("-".to_owned(), |r| format!("{:.2}x", rate / r)));
        }
        cells.push(hyper_cpu.map_or("-".to_owned(), |h| format!("{:.2}x", cpu / h)));
        if row.failed > 0 {
            cells.push(format!(
                "({} of {} runs failed)",
                row.failed,
                row.failed + row.reports.len()
            ));
        }
        table.push(cells);
    }
    let mut out = render(&table);
    let _ = writeln!(
        out,
        "  req/s: requests / time, median over runs (min, max: the slowest and fastest run); \
         `vs X`: req/s over X's; CPU/1k req: the {} process's user + system CPU per 1,000 \
         requests (1/100 s ticks); `CPU vs hyper`: CPU per request over hyper's",
        match workload {
            HttpWorkload::Client => "client",
            HttpWorkload::Server => "server",
        }
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cpu_ticks_past_a_command_with_spaces() {
        let stat = "4242 (my (odd) cmd) S 1 2 3 4 5 6 7 8 9 10 150 25 0 0 20 0 3 0";
        assert_eq!(parse_cpu_ticks(stat), Some(175));
        assert_eq!(parse_cpu_ticks("garbage"), None);
        if cfg!(target_os = "linux") {
            assert!(process_cpu_time().is_some());
        }
    }

    #[test]
    fn report_round_trips() {
        let report = HttpReport {
            base: Report {
                secs: 2.0,
                check: 1,
                rss_kb: 4096,
            },
            requests: 20_000,
            cpu_secs: 1.5,
        };
        let parsed = HttpReport::parse(&format!("noise\n{report}\n")).unwrap();
        assert_eq!(parsed, report);
        assert_eq!(parsed.rate(), 10_000.0);
        assert_eq!(parsed.cpu_ms_per_k(), 75.0);
        assert!(HttpReport::parse("RESULT secs=1 check=1 rss_kb=1").is_err());
    }

    #[test]
    fn names_parse_back() {
        for w in HttpWorkload::ALL {
            assert_eq!(HttpWorkload::from_name(w.name()), Some(w));
            for &v in w.variants() {
                assert_eq!(Variant::from_name(v.name()), Some(v));
            }
        }
        assert_eq!(Variant::from_name("tokio"), None);
    }

    #[test]
    fn table_shows_ratios_against_the_others() {
        let row = |variant, secs, cpu_secs| HttpRow {
            variant,
            reports: vec![HttpReport {
                base: Report {
                    secs,
                    check: 1,
                    rss_kb: 2048,
                },
                requests: 1000,
                cpu_secs,
            }],
            failed: 0,
        };
        let rows = [
            row(Variant::Corio, 0.5, 0.1),
            row(Variant::Reqwest, 1.0, 0.4),
            row(Variant::Hyper, 0.5, 0.2),
        ];
        let out = table(HttpWorkload::Client, &rows);
        let corio = out.lines().find(|l| l.contains("corio-mt")).unwrap();
        // 2,000 req/s: twice reqwest, as fast as hyper, half hyper's CPU per request.
        assert!(corio.contains("2.00 k"), "{out}");
        let cells: Vec<&str> = corio.split_whitespace().collect();
        assert_eq!(
            cells[cells.len() - 3..],
            ["2.00x", "1.00x", "0.50x"],
            "{out}"
        );
        assert!(corio.contains("100.0 ms"), "{out}");
    }

    #[test]
    fn finds_sh_not_nonsense() {
        if cfg!(unix) {
            assert!(find_program("sh").is_some());
        }
        assert!(find_program("no-such-program-corio-bench").is_none());
    }
}
