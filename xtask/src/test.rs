//! `cargo xtask test [--stress] [--loom] [--quick-bench-skip]`: everything CI checks.
//!
//! Steps, cheapest first, each run even when an earlier one failed so one
//! run shows every problem:
//!
//! 1. `cargo fmt --all -- --check`
//! 2. `cargo clippy --workspace --all-features --all-targets -- -D warnings`
//! 3. `cargo doc --workspace --all-features --no-deps` with `RUSTDOCFLAGS=-Dwarnings`
//! 4. `cargo test --workspace --all-features --all-targets --no-fail-fast`, then
//!    `cargo test --workspace --all-features --doc --no-fail-fast` (every
//!    feature, so corio-http's `json` and the facade's `http` are tested; `--no-fail-fast` so a
//!    failing suite does not hide the results of the suites after it)
//! 5. corio-reactor's tests again on its portable backend (the `polling`
//!    crate, which macOS and the BSDs use), `cargo test -p corio-reactor
//!    --all-targets` with `RUSTFLAGS="--cfg corio_polling"` in its own target
//!    directory `target/polling`
//! 6. the examples: the table in [`crate::examples`] against `examples/`, one
//!    `cargo build --release --examples -p corio`, then each example run with
//!    a time limit and its output checked
//! 7. `cargo run --release -p corio-bench -- --quick`, the benchmark smoke pass
//!    (skipped with `--quick-bench-skip`, or while `crates/corio-bench` does
//!    not exist); it passes on exit code 0 and never asserts a time
//! 8. with `--stress`: every crate's `tests/stress*.rs` suites and the test
//!    files with a test ignored as "long: ... --stress", `cargo test
//!    --release -p CRATE --test stress... -- --include-ignored`; with `--loom`:
//!    every crate's `tests/loom*.rs`, `cargo test --release -p CRATE --test
//!    loom...` with `RUSTFLAGS="--cfg loom"`,
//!    `LOOM_MAX_PREEMPTIONS=2` (unless already set) and its own target
//!    directory `target/loom`, so the normal build is not invalidated. A suite
//!    run by these flags that runs 0 tests is a failure.
//!
//! # Counting
//!
//! The last line of output is `N passed, N failed`, alone. Gate steps (fmt,
//! clippy, doc, the example build, the benchmark smoke pass) count one each;
//! `cargo test` runs count every individual test from libtest's
//! `test result: ... N passed; M failed` lines, plus one failure when cargo
//! fails without any test failing (a compile error, a crashed test binary) or
//! when a suite that must run tests runs none; each example check counts one,
//! and so does each mismatch between the examples table and `examples/`.
//! The process exits non-zero if anything failed.

use std::io::{self, Read, Write};
use std::path::Path;
use std::process::{Command, ExitCode, ExitStatus, Stdio};
use std::time::Instant;

use crate::examples::{self, Example, EXAMPLES};
use crate::{cargo, doc, env_with_flag, lint, project_root, render, run_status, target_dir};

/// The flags of `cargo xtask test`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Options {
    /// `--stress`: run every crate's `tests/stress*.rs` with the ignored long variants.
    stress: bool,
    /// `--loom`: run every crate's `tests/loom*.rs` models under `--cfg loom`.
    loom: bool,
    /// `--quick-bench-skip`: skip the benchmark smoke pass.
    skip_bench: bool,
}

impl Options {
    /// Parses the arguments after `test`.
    fn parse(args: &[String]) -> Result<Self, String> {
        let mut options = Self::default();
        for arg in args {
            match arg.as_str() {
                "--stress" => options.stress = true,
                "--loom" => options.loom = true,
                "--quick-bench-skip" => options.skip_bench = true,
                other => return Err(format!("unknown option `{other}`")),
            }
        }
        Ok(options)
    }
}

/// Runs every step and prints the summary; see the module docs.
pub(crate) fn run(args: &[String]) -> ExitCode {
    let options = match Options::parse(args) {
        Ok(options) => options,
        Err(err) => {
            eprintln!(
                "error: {err}\nusage: cargo xtask test [--stress] [--loom] [--quick-bench-skip]"
            );
            return ExitCode::from(2);
        }
    };
    let root = project_root();
    let mut tally = Tally::default();

    tally.gate(lint::fmt());
    tally.gate(lint::clippy());
    tally.gate(doc::command());
    tally.suite(
        cargo([
            "test",
            "--workspace",
            "--all-features",
            "--all-targets",
            "--no-fail-fast",
        ]),
        false,
    );
    tally.suite(
        cargo([
            "test",
            "--workspace",
            "--all-features",
            "--doc",
            "--no-fail-fast",
        ]),
        false,
    );
    let mut portable = cargo([
        "test",
        "-p",
        "corio-reactor",
        "--all-targets",
        "--no-fail-fast",
    ]);
    portable
        .env(
            "RUSTFLAGS",
            env_with_flag("RUSTFLAGS", "--cfg corio_polling"),
        )
        .env("CARGO_TARGET_DIR", target_dir().join("polling"));
    tally.suite(portable, true);
    check_examples(&mut tally, &root);

    let bench = cargo(["run", "--release", "-p", "corio-bench", "--", "--quick"]);
    if options.skip_bench {
        tally.skip(&bench, "--quick-bench-skip");
    } else if !root.join("crates/corio-bench/Cargo.toml").is_file() {
        tally.skip(&bench, "crates/corio-bench does not exist yet");
    } else {
        tally.gate(bench);
    }

    if options.stress {
        for (package, tests) in suites(&root, "stress") {
            let mut args = vec![
                "test".to_owned(),
                "--release".to_owned(),
                "-p".to_owned(),
                package,
            ];
            args.extend(tests);
            args.extend(["--".to_owned(), "--include-ignored".to_owned()]);
            tally.suite(cargo(args), true);
        }
    }
    if options.loom {
        for (package, tests) in suites(&root, "loom") {
            let mut args = vec![
                "test".to_owned(),
                "--release".to_owned(),
                "-p".to_owned(),
                package,
            ];
            args.extend(tests);
            let mut loom = cargo(args);
            loom.env("RUSTFLAGS", env_with_flag("RUSTFLAGS", "--cfg loom"))
                .env("CARGO_TARGET_DIR", target_dir().join("loom"))
                .env(
                    "LOOM_MAX_PREEMPTIONS",
                    std::env::var("LOOM_MAX_PREEMPTIONS").unwrap_or_else(|_| "2".to_owned()),
                );
            tally.suite(loom, true);
        }
    }

    tally.finish()
}

/// How a long test variant is marked in any test file: `--stress` also runs the
/// files that contain it, with `--include-ignored`.
const STRESS_MARK: &str = concat!("long: cargo xtask ", "test --stress");

/// The integration-test files named `PREFIX*.rs` in each crate's `tests/`
/// (for `stress`, also those holding a test ignored with [`STRESS_MARK`],
/// and the crate's unit tests when its `src/` holds one), grouped by package,
/// as cargo's target arguments (`--test NAME`, `--lib`): the suites that
/// `--stress` and `--loom` run.
fn suites(root: &Path, prefix: &str) -> Vec<(String, Vec<String>)> {
    let mut found = Vec::new();
    let Ok(crates) = std::fs::read_dir(root.join("crates")) else {
        return found;
    };
    let mut crates: Vec<_> = crates.filter_map(Result::ok).map(|e| e.path()).collect();
    crates.sort();
    for dir in crates {
        let Some(package) = dir.file_name().and_then(|n| n.to_str()).map(str::to_owned) else {
            continue;
        };
        let mut tests: Vec<String> = std::fs::read_dir(dir.join("tests"))
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
            .filter_map(|e| e.file_name().to_str().map(str::to_owned))
            .filter_map(|name| name.strip_suffix(".rs").map(str::to_owned))
            .filter(|name| {
                name.starts_with(prefix)
                    || (prefix == "stress" && {
                        let text =
                            std::fs::read_to_string(dir.join("tests").join(format!("{name}.rs")));
                        text.is_ok_and(|t| t.contains(STRESS_MARK))
                    })
            })
            .collect();
        tests.sort();
        let mut args: Vec<String> = tests
            .into_iter()
            .flat_map(|name| ["--test".to_owned(), name])
            .collect();
        if prefix == "stress" && contains_mark(&dir.join("src")) {
            args.push("--lib".to_owned());
        }
        if !args.is_empty() {
            found.push((package, args));
        }
    }
    found
}

/// Whether a Rust file under `dir` holds a test ignored with [`STRESS_MARK`].
fn contains_mark(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries.filter_map(Result::ok).any(|e| {
        let path = e.path();
        if path.is_dir() {
            contains_mark(&path)
        } else {
            path.extension().is_some_and(|x| x == "rs")
                && std::fs::read_to_string(&path).is_ok_and(|t| t.contains(STRESS_MARK))
        }
    })
}

/// Step 6: the examples table against `examples/`, the build, and each run.
fn check_examples(tally: &mut Tally, root: &Path) {
    section("examples");
    let files = match examples::discover(&root.join("examples")) {
        Ok(files) => files,
        Err(err) => {
            tally.record(false, "examples/".to_owned(), format!("cannot list: {err}"));
            return;
        }
    };
    for name in &files {
        if !EXAMPLES.iter().any(|example| example.name == name) {
            tally.record(
                false,
                format!("example {name}"),
                "has no entry in EXAMPLES (xtask/src/examples.rs)".to_owned(),
            );
        }
    }
    let mut runnable: Vec<&Example> = Vec::new();
    for example in EXAMPLES {
        if files.iter().any(|name| name == example.name) {
            runnable.push(example);
        } else {
            tally.record(
                false,
                format!("example {}", example.name),
                format!(
                    "listed in EXAMPLES but examples/{}.rs does not exist",
                    example.name
                ),
            );
        }
    }
    if runnable.is_empty() {
        return;
    }
    if !tally.gate(cargo(["build", "--release", "--examples", "-p", "corio"])) {
        println!("note: the examples did not build, so none of them ran");
        return;
    }
    let dir = target_dir().join("release").join("examples");
    for example in runnable {
        let bin = dir.join(format!("{}{}", example.name, std::env::consts::EXE_SUFFIX));
        let mut cmd = Command::new(&bin);
        cmd.args(example.args).current_dir(root);
        let shown = bin.strip_prefix(root).unwrap_or(&bin).display().to_string();
        println!(
            "$ {}",
            format!("{shown} {}", example.args.join(" ")).trim_end()
        );
        let what = format!("example {}", example.name);
        let run = match examples::run_with_timeout(&mut cmd, examples::TIMEOUT) {
            Ok(run) => run,
            Err(err) => {
                tally.record(
                    false,
                    what,
                    format!("could not run {}: {err}", bin.display()),
                );
                continue;
            }
        };
        let problem = if run.timed_out {
            Some(format!("timed out after {:?}", examples::TIMEOUT))
        } else if !run.status.success() {
            Some(format!("exited with {}", run.status))
        } else {
            examples::check_order(&run.stdout, example.expect)
                .err()
                .map(|missing| {
                    format!("stdout lacks a line containing `{missing}` after the earlier matches")
                })
        };
        match problem {
            None => tally.record(
                true,
                what,
                format!("output as expected, {:.1?}", run.elapsed),
            ),
            Some(problem) => {
                println!("--- {} stdout ---\n{}", example.name, run.stdout);
                println!("--- {} stderr ---\n{}", example.name, run.stderr);
                println!("--- expected, in order: {:?}", example.expect);
                tally.record(false, what, problem);
            }
        }
    }
}

/// Prints a step header.
fn section(title: &str) {
    println!("\n==> {title}");
}

/// Passed and failed counts, and one summary line per step.
#[derive(Debug, Default)]
struct Tally {
    /// Passing checks: gate steps, individual tests, examples.
    passed: u64,
    /// Failing checks, counted the same way.
    failed: u64,
    /// `(ok, what, detail)` per step, printed at the end.
    steps: Vec<(Option<bool>, String, String)>,
}

impl Tally {
    /// Records one check that passed or failed.
    fn record(&mut self, ok: bool, what: String, detail: String) {
        if ok {
            self.passed += 1;
        } else {
            self.failed += 1;
            eprintln!("xtask: FAILED {what}: {detail}");
        }
        self.steps.push((Some(ok), what, detail));
    }

    /// Notes a step that was not run; it counts neither way.
    fn skip(&mut self, cmd: &Command, why: &str) {
        let what = render(cmd);
        section(&what);
        println!("skipped: {why}");
        self.steps.push((None, what, why.to_owned()));
    }

    /// Runs a gate step (one check) with inherited output; returns whether it passed.
    fn gate(&mut self, mut cmd: Command) -> bool {
        let what = render(&cmd);
        section(&what);
        let start = Instant::now();
        let ok = run_status(&mut cmd);
        let verdict = if ok { "passed" } else { "failed" };
        self.record(ok, what, format!("{verdict} in {:.1?}", start.elapsed()));
        ok
    }

    /// Runs a `cargo test` command, streaming its output and counting its tests.
    ///
    /// With `require_tests`, a run in which any test binary ran 0 tests (or no
    /// test binary ran at all) is one more failure.
    fn suite(&mut self, mut cmd: Command, require_tests: bool) {
        let what = render(&cmd);
        section(&what);
        println!("$ {what}");
        let start = Instant::now();
        let (status, counts) = match stream(&mut cmd) {
            Ok(result) => result,
            Err(err) => {
                self.record(false, what, format!("could not run: {err}"));
                return;
            }
        };
        let elapsed = start.elapsed();
        self.passed += counts.passed;
        self.failed += counts.failed;
        let mut detail = format!(
            "{} passed, {} failed in {} suites ({:.1?})",
            counts.passed, counts.failed, counts.suites, elapsed
        );
        let mut problems = Vec::new();
        if !status.success() && counts.failed == 0 {
            problems.push(format!(
                "cargo exited with {status} though no test failed (compile error or crashed test binary?)"
            ));
        }
        if require_tests && counts.suites == 0 {
            problems.push("no test suite ran".to_owned());
        }
        if require_tests && counts.empty_suites > 0 {
            problems.push(format!("{} suites ran 0 tests", counts.empty_suites));
        }
        let ok = status.success() && problems.is_empty();
        if !problems.is_empty() {
            // The run itself is one failed check beyond its individual tests.
            detail = format!("{detail}; {}", problems.join("; "));
            self.failed += 1;
        }
        if !ok {
            eprintln!("xtask: FAILED {what}: {detail}");
        }
        self.steps.push((Some(ok), what, detail));
    }

    /// Prints the summary, ending with the `N passed, N failed` line.
    fn finish(self) -> ExitCode {
        section("summary");
        for (ok, what, detail) in &self.steps {
            let mark = match ok {
                Some(true) => "ok     ",
                Some(false) => "FAILED ",
                None => "skipped",
            };
            println!("{mark} {what}: {detail}");
        }
        println!("{} passed, {} failed", self.passed, self.failed);
        let _ = io::stdout().flush();
        crate::exit_code(self.failed == 0)
    }
}

/// Test counts read from libtest's output.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Counts {
    /// Sum of `N passed` over `test result:` lines.
    passed: u64,
    /// Sum of `M failed` over `test result:` lines.
    failed: u64,
    /// Number of `running N tests` lines: test binaries and doc-test runs.
    suites: u64,
    /// How many of them said `running 0 tests`.
    empty_suites: u64,
}

impl Counts {
    /// Takes in one line of `cargo test` stdout.
    fn line(&mut self, line: &str) {
        let line = line.trim_end();
        if let Some(rest) = line.strip_prefix("running ") {
            // `running 0 tests`, `running 1 test`, `running 12 tests`
            let mut words = rest.split(' ');
            if let (Some(n), Some("test" | "tests"), None) =
                (words.next(), words.next(), words.next())
            {
                if let Ok(n) = n.parse::<u64>() {
                    self.suites += 1;
                    if n == 0 {
                        self.empty_suites += 1;
                    }
                }
            }
        } else if let Some(rest) = line.strip_prefix("test result: ") {
            // `test result: ok. 3 passed; 0 failed; 1 ignored; 0 measured; ...`
            let Some((_, counts)) = rest.split_once(". ") else {
                return;
            };
            for part in counts.split(';') {
                let mut words = part.split_whitespace();
                let (Some(n), Some(kind)) = (words.next(), words.next()) else {
                    continue;
                };
                let Ok(n) = n.parse::<u64>() else { continue };
                match kind {
                    "passed" => self.passed += n,
                    "failed" => self.failed += n,
                    _ => {}
                }
            }
        }
    }
}

/// Runs `cmd`, copying its stdout through to ours as it arrives while counting
/// tests in it; stderr (cargo's progress and errors) is inherited untouched.
fn stream(cmd: &mut Command) -> io::Result<(ExitStatus, Counts)> {
    let mut child = cmd.stdout(Stdio::piped()).spawn()?;
    let mut pipe = child.stdout.take().expect("stdout is piped");
    let mut counts = Counts::default();
    let mut pending: Vec<u8> = Vec::new();
    let mut chunk = [0u8; 8192];
    let mut out = io::stdout();
    loop {
        let n = match pipe.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(err);
            }
        };
        // Keep streaming even if our own stdout went away.
        let _ = out.write_all(&chunk[..n]);
        let _ = out.flush();
        pending.extend_from_slice(&chunk[..n]);
        while let Some(end) = pending.iter().position(|&b| b == b'\n') {
            counts.line(&String::from_utf8_lossy(&pending[..end]));
            pending.drain(..=end);
        }
    }
    counts.line(&String::from_utf8_lossy(&pending));
    Ok((child.wait()?, counts))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(text: &str) -> Counts {
        let mut counts = Counts::default();
        for line in text.lines() {
            counts.line(line);
        }
        counts
    }

    #[test]
    fn counts_libtest_output() {
        let out = "\
running 3 tests
test a ... ok
test b ... FAILED
test c ... ignored

test result: FAILED. 1 passed; 1 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.01s

running 1 test
test d ... ok

test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s

running 0 tests

test result: ok. 0 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s
";
        assert_eq!(
            counts(out),
            Counts {
                passed: 2,
                failed: 1,
                suites: 3,
                empty_suites: 1,
            }
        );
    }

    #[test]
    fn ignores_lines_that_only_look_similar() {
        let out = "running the 3 tests\ntest result ok. 4 passed\n  running 2 tests\n";
        assert_eq!(counts(out), Counts::default());
    }

    #[test]
    fn parses_options() {
        let args = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(Options::parse(&[]), Ok(Options::default()));
        assert_eq!(
            Options::parse(&args(&["--loom", "--stress", "--quick-bench-skip"])),
            Ok(Options {
                stress: true,
                loom: true,
                skip_bench: true,
            })
        );
        assert!(Options::parse(&args(&["--release"])).is_err());
    }
}
