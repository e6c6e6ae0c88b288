//! A private nginx for `http_client`: started by the orchestrator for the workload's runs,
//! stopped (and its directory removed) when dropped.
//!
//! It runs in the foreground as a child process (`nginx -p DIR -c DIR/nginx.conf -e
//! DIR/error.log -g 'daemon off;'`) with a generated configuration in a fresh temporary
//! directory: one worker process, listening on 127.0.0.1 on a free port, serving
//! [`BODY`] as `/hello.txt`, no access log, and keep-alive
//! connections that last for any number of requests. Every path nginx writes to is inside
//! that directory, so it needs no root and leaves nothing behind.

use std::fmt::Write as _;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use super::client::BODY;

/// How long nginx may take to start listening.
const STARTUP: Duration = Duration::from_secs(10);

/// A running nginx.
#[derive(Debug)]
pub(crate) struct Nginx {
    program: PathBuf,
    dir: PathBuf,
    child: Child,
    addr: SocketAddr,
}

impl Nginx {
    /// Writes the configuration and the file, starts nginx and waits until it listens.
    ///
    /// # Errors
    ///
    /// The directory could not be written, nginx could not start, or it did not listen
    /// within 10 s; the message ends with nginx's error log.
    pub(crate) fn start(program: &Path) -> Result<Nginx, String> {
        static STARTED: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "corio-bench-nginx-{}-{}",
            std::process::id(),
            STARTED.fetch_add(1, Ordering::Relaxed)
        ));
        // A directory left over by an earlier process with the same id.
        let _ = std::fs::remove_dir_all(&dir);
        let written = write_files(&dir);
        let port = written.and_then(|()| free_port());
        let port = match port {
            Ok(port) => port,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&dir);
                return Err(format!("cannot prepare {}: {e}", dir.display()));
            }
        };
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let config = config(&dir, addr);
        let child = std::fs::write(dir.join("nginx.conf"), config).and_then(|()| {
            command(program, &dir)
                .args(["-g", "daemon off;"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
        });
        let child = match child {
            Ok(child) => child,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&dir);
                return Err(format!("cannot start {}: {e}", program.display()));
            }
        };
        let mut nginx = Nginx {
            program: program.to_owned(),
            dir,
            child,
            addr,
        };
        nginx.wait_until_listening()?;
        Ok(nginx)
    }

    /// The URL of the static file.
    pub(crate) fn url(&self) -> String {
        format!("http://{}/hello.txt", self.addr)
    }

    fn wait_until_listening(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + STARTUP;
        loop {
            if TcpStream::connect(self.addr).is_ok() {
                return Ok(());
            }
            let problem = match self.child.try_wait() {
                Ok(Some(status)) => Some(format!("nginx exited ({status})")),
                Ok(None) if Instant::now() >= deadline => Some(format!(
                    "nginx did not listen on {} within {} s",
                    self.addr,
                    STARTUP.as_secs()
                )),
                Ok(None) => None,
                Err(e) => Some(format!("cannot wait for nginx: {e}")),
            };
            if let Some(problem) = problem {
                let log = std::fs::read_to_string(self.dir.join("error.log")).unwrap_or_default();
                return Err(format!("{problem}; its error log:\n{log}"));
            }
            thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Nginx {
    /// Asks nginx to stop (`-s stop`, which signals the master through its pid file, so
    /// that it takes its worker with it), kills it if it has not stopped within 5 s, and
    /// removes the directory.
    fn drop(&mut self) {
        let _ = command(&self.program, &self.dir)
            .args(["-s", "stop"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `nginx -p DIR -c DIR/nginx.conf -e DIR/error.log`: everything inside `dir`, the error
/// log included from the very start (before the configuration is read).
fn command(program: &Path, dir: &Path) -> Command {
    let mut command = Command::new(program);
    command
        .arg("-p")
        .arg(dir)
        .arg("-c")
        .arg(dir.join("nginx.conf"))
        .arg("-e")
        .arg(dir.join("error.log"));
    command
}

/// Creates `dir` with the document root and the file in it.
fn write_files(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir.join("html"))?;
    std::fs::create_dir_all(dir.join("temp"))?;
    std::fs::write(dir.join("html").join("hello.txt"), BODY)
}

/// A port that was free a moment ago (the OS's pick for port 0).
fn free_port() -> std::io::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}

/// Whether this process's effective user is root (`Uid:` in `/proc/self/status`).
fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|status| {
        status
            .lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .and_then(|ids| ids.split_whitespace().nth(1))
            == Some("0")
    })
}

/// The configuration: one worker, no access log, unlimited keep-alive.
fn config(dir: &Path, addr: SocketAddr) -> String {
    let d = dir.display();
    let mut c = String::new();
    if running_as_root() {
        // A root master runs its worker as `nobody`, who may not be able to reach a
        // temporary directory under a private home directory: keep root.
        c.push_str("user root;\n");
    }
    let _ = write!(
        c,
        "worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{
    worker_connections 4096;
}}
http {{
    access_log off;
    default_type text/plain;
    keepalive_requests 10000000;
    keepalive_timeout 300s;
    client_body_temp_path {d}/temp/body;
    proxy_temp_path {d}/temp/proxy;
    fastcgi_temp_path {d}/temp/fastcgi;
    uwsgi_temp_path {d}/temp/uwsgi;
    scgi_temp_path {d}/temp/scgi;
    server {{
        listen {addr};
        location / {{
            root {d}/html;
        }}
    }}
}}
"
    );
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_keeps_everything_in_the_directory() {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, 8080));
        let c = config(Path::new("/some/dir"), addr);
        assert!(c.contains("listen 127.0.0.1:8080;"), "{c}");
        assert!(c.contains("worker_processes 1;") && c.contains("access_log off;"));
        for line in c
            .lines()
            .filter(|l| l.contains("_path ") || l.contains("pid "))
        {
            assert!(line.contains("/some/dir/"), "{line}");
        }
    }

    #[test]
    fn serves_the_file_when_installed() {
        let Some(program) = super::super::find_program("nginx") else {
            return; // not installed here: `http_client` is skipped, and so is this
        };
        let nginx = Nginx::start(&program).unwrap();
        let mut stream = TcpStream::connect(nginx.addr).unwrap();
        use std::io::{Read, Write};
        stream
            .write_all(b"GET /hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut reply = Vec::new();
        stream.read_to_end(&mut reply).unwrap();
        assert!(reply.starts_with(b"HTTP/1.1 200"));
        assert!(reply.ends_with(BODY));
        let dir = nginx.dir.clone();
        drop(nginx);
        assert!(!dir.exists());
    }
}
