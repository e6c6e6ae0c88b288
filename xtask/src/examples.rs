//! The examples and what each must print.
//!
//! Examples are tests too. `cargo xtask test` builds every example once
//! (`cargo build --release --examples -p corio`; the facade owns `examples/`
//! through `[[example]]` entries), runs each binary from
//! `target/release/examples/NAME` with the arguments below and a time limit,
//! and checks its standard output against [`Example::expect`].
//!
//! Every file in `examples/` needs an entry in [`EXAMPLES`] and every entry
//! needs a file: `cargo xtask test` fails on either mismatch, so an example is
//! never added without a check, and a check never silently stops running.

use std::io::{self, Read};
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// One example program and the output that shows it works.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Example {
    /// The example's name: `examples/NAME.rs` (or `examples/NAME/main.rs`).
    pub(crate) name: &'static str,
    /// Command-line arguments to run it with.
    pub(crate) args: &'static [&'static str],
    /// Substrings its stdout must contain, in order: each must occur on a line
    /// after the line that matched the previous one.
    pub(crate) expect: &'static [&'static str],
}

/// Every example in `examples/`, with its check. Keep it sorted by name.
pub(crate) const EXAMPLES: &[Example] = &[
    Example {
        name: "callback_future",
        args: &[],
        expect: &[
            "fetch(\"answer\") -> Some(\"value of answer\")",
            "fetch(\"missing\") -> None (the callback dropped its resolver)",
        ],
    },
    Example {
        name: "crawl_limited",
        args: &[],
        expect: &[
            "fetched 100 URLs, 100 ok",
            "max in flight:",
            "limit respected: true",
        ],
    },
    Example {
        name: "debug_mode",
        args: &[],
        expect: &[
            "debug: task 'blocking-hash' spawned at ",
            "slow polls reported: 1",
            "reported tasks: blocking-hash",
        ],
    },
    Example {
        name: "echo",
        args: &[],
        expect: &[
            "server listening on 127.0.0.1:",
            "client 0: echoed",
            "client 1: echoed",
            "client 2: echoed",
            "client 3: echoed",
            "client 4: echoed",
            "echo: all clients done",
        ],
    },
    Example {
        name: "fetch_many",
        args: &[],
        expect: &[
            "/small: 10 bytes",
            "/medium: 1000 bytes",
            "/large: 100000 bytes",
            "/empty: 0 bytes",
            "total: 101010 bytes from 4 URLs",
        ],
    },
    Example {
        name: "gather_errors",
        args: &[],
        expect: &[
            "0 -> error: bad input 0",
            "1 -> ok: 10",
            "4 -> panicked: a bug in child 4",
            "5 -> ok: 50",
            "try_gather -> first failure at index 2: gathered child 2 failed: bad input 3",
            "task group -> failed: [\"bad input 6\"]; the sleeper was cancelled",
        ],
    },
    Example {
        name: "hello",
        args: &[],
        expect: &["Hello,", "world!"],
    },
    Example {
        name: "pipeline",
        args: &[],
        expect: &["fetched 40 pages", "processed 40 pages", "stored 40 pages"],
    },
    Example {
        name: "print_after",
        args: &[],
        expect: &["early", "late", "total: 2 units (concurrent, not 3)"],
    },
    Example {
        name: "producer_consumer",
        args: &[],
        expect: &[
            "consumer",
            "all 20 items processed; the queue is empty: true",
            "consumers cancelled",
        ],
    },
    Example {
        name: "run_in_executor",
        args: &[],
        expect: &["tick 1", "tick 4", "result: 42", "ticks while blocking:"],
    },
    Example {
        name: "semaphore_limit",
        args: &[],
        expect: &[
            "100 jobs done, sum of results 4950",
            "at most",
            "limit respected: true",
        ],
    },
    Example {
        name: "sync_vs_async",
        args: &[],
        expect: &["sequential:", "concurrent:", "concurrent < sequential"],
    },
    Example {
        name: "tour",
        args: &[],
        expect: &[
            "spawned",
            "joined",
            "panicked",
            "cancelled",
            "timed out",
            "socket round trip: sent \"ping\", got \"pong\"",
            "gathered in argument order: [0, 1, 4, 9, 16]",
            "task group: 1 failure in task group: child 1 failed",
            "queue: 2 workers summed 1..=10 to 55",
            "http: GET /tour -> 200 OK: Hello, tour!",
            "done",
        ],
    },
    Example {
        name: "web_server",
        args: &[],
        expect: &[
            "listening on http://127.0.0.1:",
            "GET / -> 200 OK: Hello, Anonymous!",
            "GET /corio -> 200 OK: Hello, corio!",
            "server stopped",
        ],
    },
];

/// How long one example may run before it is killed and counted as failed.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(120);

/// Checks that `stdout` contains the `expect` items in order, each on a later
/// line than the previous one.
///
/// # Errors
///
/// Returns the first item that was not found after the previous match.
pub(crate) fn check_order<'a>(stdout: &str, expect: &[&'a str]) -> Result<(), &'a str> {
    let mut wanted = expect.iter().copied().peekable();
    for line in stdout.lines() {
        match wanted.peek() {
            Some(item) if line.contains(item) => {
                wanted.next();
            }
            Some(_) => {}
            None => break,
        }
    }
    match wanted.next() {
        None => Ok(()),
        Some(missing) => Err(missing),
    }
}

/// The names of the examples in `dir`: `NAME.rs` files and `NAME/main.rs`
/// directories, sorted. A missing directory has no examples.
pub(crate) fn discover(dir: &Path) -> io::Result<Vec<String>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(err),
    };
    let mut names = Vec::new();
    for entry in entries {
        let path = entry?.path();
        let is_example = if path.is_dir() {
            path.join("main.rs").is_file()
        } else {
            path.extension().is_some_and(|ext| ext == "rs")
        };
        if let (true, Some(stem)) = (is_example, path.file_stem()) {
            names.push(stem.to_string_lossy().into_owned());
        }
    }
    names.sort();
    Ok(names)
}

/// What a finished (or killed) example run produced.
#[derive(Debug)]
pub(crate) struct Run {
    /// Exit status; for a run that timed out, the status after the kill.
    pub(crate) status: ExitStatus,
    /// Whether the run hit the time limit and was killed.
    pub(crate) timed_out: bool,
    /// Everything written to stdout.
    pub(crate) stdout: String,
    /// Everything written to stderr.
    pub(crate) stderr: String,
    /// Wall time.
    pub(crate) elapsed: Duration,
}

/// Runs `cmd` with stdin closed and stdout and stderr captured, killing it
/// after `timeout`.
///
/// # Errors
///
/// Fails if the program cannot be started or waited for.
pub(crate) fn run_with_timeout(cmd: &mut Command, timeout: Duration) -> io::Result<Run> {
    let start = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    // Drain both pipes on their own threads so a chatty program cannot block
    // on a full pipe while we wait for it.
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let mut timed_out = false;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if start.elapsed() >= timeout {
            timed_out = true;
            // The child may exit between `try_wait` and `kill`; either way
            // `wait` below collects it.
            let _ = child.kill();
            break child.wait()?;
        }
        thread::sleep(Duration::from_millis(20));
    };
    let elapsed = start.elapsed();
    // A grandchild that inherited the pipes may keep them open after the
    // example exited or was killed; take what was written by then.
    let deadline = Instant::now() + PIPE_GRACE;
    Ok(Run {
        status,
        timed_out,
        stdout: stdout.collect(deadline),
        stderr: stderr.collect(deadline),
        elapsed,
    })
}

/// How long to wait for the pipes to close after the program has exited.
const PIPE_GRACE: Duration = Duration::from_secs(2);

/// Output being read from a pipe by a background thread.
struct Capture {
    /// Everything read so far.
    bytes: Arc<Mutex<Vec<u8>>>,
    /// Receives (or disconnects) when the pipe reached end of file.
    eof: mpsc::Receiver<()>,
}

impl Capture {
    /// Waits until end of file or `deadline`, then returns what was read,
    /// lossily decoded as UTF-8.
    fn collect(self, deadline: Instant) -> String {
        let _ = self
            .eof
            .recv_timeout(deadline.saturating_duration_since(Instant::now()));
        let bytes = self.bytes.lock().unwrap_or_else(|e| e.into_inner());
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

/// Reads a pipe to the end on a new thread.
fn drain<R: Read + Send + 'static>(pipe: Option<R>) -> Capture {
    let bytes = Arc::new(Mutex::new(Vec::new()));
    let (done, eof) = mpsc::channel();
    let sink = Arc::clone(&bytes);
    thread::spawn(move || {
        let Some(mut pipe) = pipe else { return };
        let mut chunk = [0u8; 4096];
        loop {
            match pipe.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => sink
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .extend_from_slice(&chunk[..n]),
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                // A read error ends the capture; what was read so far is kept.
                Err(_) => break,
            }
        }
        let _ = done.send(());
    });
    Capture { bytes, eof }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_unique_and_checks_something() {
        for pair in EXAMPLES.windows(2) {
            assert!(
                pair[0].name < pair[1].name,
                "EXAMPLES must be sorted by name with no duplicates: `{}` then `{}`",
                pair[0].name,
                pair[1].name
            );
        }
        for example in EXAMPLES {
            assert!(
                !example.expect.is_empty(),
                "example `{}` checks nothing",
                example.name
            );
        }
    }

    #[test]
    fn order_is_enforced_line_by_line() {
        let out = "task spawned\njoined: 3\nthe task panicked\ncancelled\ndone\n";
        assert_eq!(check_order(out, &["spawned", "joined", "done"]), Ok(()));
        assert_eq!(check_order(out, &[]), Ok(()));
        assert_eq!(check_order(out, &["joined", "spawned"]), Err("spawned"));
        assert_eq!(check_order(out, &["nothing"]), Err("nothing"));
        // Two items on one line: the second must be on a later line.
        assert_eq!(check_order("a b\n", &["a", "b"]), Err("b"));
        assert_eq!(check_order("a b\nb\n", &["a", "b"]), Ok(()));
    }

    #[cfg(unix)]
    #[test]
    fn slow_programs_are_killed() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo started; sleep 30; echo never"]);
        let run = run_with_timeout(&mut cmd, Duration::from_millis(300)).unwrap();
        assert!(run.timed_out);
        assert!(!run.status.success());
        assert_eq!(run.stdout, "started\n");
        assert!(run.elapsed < Duration::from_secs(10));
    }

    #[test]
    fn discover_missing_dir_is_empty() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("no-such-directory");
        assert!(discover(&dir).unwrap().is_empty());
    }
}
