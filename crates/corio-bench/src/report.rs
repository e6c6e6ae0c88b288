//! Statistics over a workload's runs and the table that shows them.
//!
//! Columns, per runtime:
//! - `median`, `min`, `max`: the time of one run, measured inside the runtime;
//! - `<op>s/s` (`tasks/s`, `yields/s`, `round trips/s`): operations per second at the
//!   median time;
//! - `overhead` (for `sleep`): the median time less the sleep's duration;
//! - `peak RSS`: the median over runs of the child's peak resident set (`VmHWM`);
//! - `B/task` (where meaningful): `(peak RSS - baseline RSS) / operations`, the baseline
//!   being the same runtime's peak RSS in a child that spawns and awaits a single task;
//! - `vs tokio-mt`: the median rate divided by tokio multi-thread's median rate, so above
//!   1.00x is faster than tokio; `vs tokio-st` the same against tokio current-thread, for
//!   the single-threaded variants.

use std::fmt::Write;

use crate::child::Report;
use crate::runtime::{Join, Runtime};
use crate::workloads::{Size, Workload};

/// One runtime's runs of one workload.
#[derive(Debug)]
pub(crate) struct Row {
    pub(crate) runtime: Runtime,
    /// The runs that completed with the right check value.
    pub(crate) reports: Vec<Report>,
    /// The runs that did not.
    pub(crate) failed: usize,
}

impl Row {
    fn median_secs(&self) -> Option<f64> {
        let secs: Vec<f64> = self.reports.iter().map(|r| r.secs).collect();
        median_f64(&secs)
    }
}

/// The median of `values`; the mean of the middle two for an even count.
pub(crate) fn median_f64(values: &[f64]) -> Option<f64> {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(v[n / 2]),
        _ => Some((v[n / 2 - 1] + v[n / 2]) / 2.0),
    }
}

/// The median of `values`, rounded down for an even count.
pub(crate) fn median_u64(values: &[u64]) -> Option<u64> {
    let mut v = values.to_vec();
    v.sort_unstable();
    let n = v.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(v[n / 2]),
        _ => Some(v[n / 2 - 1] / 2 + v[n / 2] / 2),
    }
}

/// Renders the table of one workload.
///
/// `baseline(rt)` is the runtime's baseline peak RSS in KiB, if it was measured.
pub(crate) fn table(
    workload: Workload,
    size: Size,
    rows: &[Row],
    baseline: &dyn Fn(Runtime) -> Option<u64>,
) -> String {
    let ops = workload.ops(size) as f64;
    let reference = |rt: Runtime| {
        rows.iter()
            .find(|row| row.runtime == rt)
            .and_then(Row::median_secs)
    };
    let tokio_mt = reference(Runtime::TokioMt);
    let tokio_st = reference(Runtime::TokioSt);
    let memory = workload.reports_memory_per_op();
    let floor = workload.floor(size).map(|d| d.as_secs_f64());

    let op = workload.op_name();
    let mut header: Vec<String> = ["runtime", "median", "min", "max"]
        .map(str::to_owned)
        .into();
    header.push(format!("{op}s/s"));
    if floor.is_some() {
        header.push("overhead".to_owned());
    }
    header.push("peak RSS".to_owned());
    if memory {
        header.push(format!("B/{op}"));
    }
    header.extend(["vs tokio-mt", "vs tokio-st"].map(str::to_owned));
    let mut table = vec![header];

    for row in rows {
        let mut cells = vec![row.runtime.name().to_owned()];
        let Some(median) = row.median_secs() else {
            cells.push(format!("FAILED (all {} runs)", row.failed));
            table.push(cells);
            continue;
        };
        let secs: Vec<f64> = row.reports.iter().map(|r| r.secs).collect();
        let min = secs.iter().copied().fold(f64::INFINITY, f64::min);
        let max = secs.iter().copied().fold(0.0, f64::max);
        let rss: Vec<u64> = row.reports.iter().map(|r| r.rss_kb).collect();
        let rss = median_u64(&rss).filter(|&kb| kb > 0);
        cells.push(duration(median));
        cells.push(duration(min));
        cells.push(duration(max));
        cells.push(si(ops / median));
        if let Some(floor) = floor {
            cells.push(signed_duration(median - floor));
        }
        cells.push(rss.map_or("-".to_owned(), |kb| {
            format!("{:.1} MiB", kb as f64 / 1024.0)
        }));
        if memory {
            let per_op = rss
                .zip(baseline(row.runtime))
                .map(|(kb, base)| (kb as f64 - base as f64) * 1024.0 / ops);
            cells.push(per_op.map_or("-".to_owned(), |b| format!("{b:.0}")));
        }
        let ratio = |reference: Option<f64>| {
            reference.map_or("-".to_owned(), |r| format!("{:.2}x", r / median))
        };
        cells.push(ratio(tokio_mt));
        cells.push(if row.runtime.is_single_threaded() {
            ratio(tokio_st)
        } else {
            String::new()
        });
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
    if memory {
        let _ = writeln!(
            out,
            "  B/{op}: (peak RSS - baseline RSS) / {op}s, counting the {}-byte handle kept per {op}",
            std::mem::size_of::<Join<u64>>()
        );
    }
    out
}

/// Lays out `rows` in columns: the first left-aligned, the others right-aligned; a cell
/// past the header's width (a note) is printed as it is.
pub(crate) fn render(rows: &[Vec<String>]) -> String {
    let columns = rows.first().map_or(0, Vec::len);
    let mut widths = vec![0; columns];
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            let width = widths.get(i).copied().unwrap_or(0);
            let _ = match i {
                0 => write!(line, "  {cell:<width$}"),
                _ => write!(line, "  {cell:>width$}"),
            };
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// A duration in seconds, in the unit that keeps three or four significant digits.
fn duration(secs: f64) -> String {
    if secs >= 1.0 {
        format!("{secs:.3} s")
    } else if secs >= 1e-3 {
        format!("{:.2} ms", secs * 1e3)
    } else {
        format!("{:.1} µs", secs * 1e6)
    }
}

/// A duration that may be negative (a run faster than its floor would be a bug to see).
fn signed_duration(secs: f64) -> String {
    if secs < 0.0 {
        format!("-{}", duration(-secs))
    } else {
        duration(secs)
    }
}

/// A count with an SI prefix: `12.30 M`.
pub(crate) fn si(value: f64) -> String {
    if value >= 1e9 {
        format!("{:.2} G", value / 1e9)
    } else if value >= 1e6 {
        format!("{:.2} M", value / 1e6)
    } else if value >= 1e3 {
        format!("{:.2} k", value / 1e3)
    } else {
        format!("{value:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median_f64(&[]), None);
        assert_eq!(median_f64(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median_f64(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median_u64(&[5, 1, 9]), Some(5));
        assert_eq!(median_u64(&[2, 4]), Some(3));
    }

    #[test]
    fn units() {
        assert_eq!(duration(1.5), "1.500 s");
        assert_eq!(duration(0.0125), "12.50 ms");
        assert_eq!(duration(0.000_012_5), "12.5 µs");
        assert_eq!(si(2_500_000.0), "2.50 M");
    }

    #[test]
    fn ratios_against_tokio() {
        let row = |runtime, secs| Row {
            runtime,
            reports: vec![Report {
                secs,
                check: 0,
                rss_kb: 2048,
            }],
            failed: 0,
        };
        let rows = [
            row(Runtime::CorioMt, 0.5),
            row(Runtime::TokioMt, 1.0),
            row(Runtime::TokioSt, 2.0),
            row(Runtime::SmolSt, 1.0),
        ];
        let out = table(Workload::Spawn, Size::of(1024), &rows, &|_| Some(1024));
        let line = |name: &str| out.lines().find(|l| l.contains(name)).unwrap().to_owned();
        assert!(line("corio-mt").contains("2.00x"), "{out}");
        // smol-st: as fast as tokio-mt, twice tokio-st; (2048 - 1024) KiB over 1024 tasks.
        let smol = line("smol-st");
        assert!(smol.contains("1.00x") && smol.contains("2.00x"), "{out}");
        assert!(smol.contains("1024"), "{out}");
    }
}
