//! Shared harness for integration tests that talk to a real AWS emulator: the `moto` server.
//!
//! Every `tests/*.rs` file that needs it declares `mod support;`. `scripts/test` installs the pinned
//! moto into `.venv/` and exports `IAMFIT_MOTO_SERVER`; a test started without it panics and says how
//! to install it (emulator tests are never skipped silently).
//!
//! ```ignore
//! let moto = Moto::start();
//! let cfg = support::sdk_config(&moto.endpoint(), None);
//! let iam = support::iam_client(&cfg);
//! ```
//!
//! What moto does and does not emulate: see docs/testing.md. Keep each test's state in
//! its own `Moto` (they start in well under a second when the machine is idle) or call [`Moto::reset`].
// Each test file uses only part of the harness.
#![allow(dead_code, unused_imports)]

mod aws;
mod cli;
mod lookup;
mod zip;

pub use aws::*;
pub use cli::*;
pub use lookup::{LookupLog, LookupServer};
pub use zip::zip_single_file;

use std::fs::File;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

/// How long [`Moto::start`] waits for the server to answer.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// The message of every panic caused by a missing emulator.
const INSTALL_HINT: &str = "run scripts/test to install the moto emulator (it creates .venv/ with a pinned \
                            moto[server] and exports IAMFIT_MOTO_SERVER)";

/// A running `moto_server` on a free loopback port, killed (with its children) when dropped.
pub struct Moto {
    port: u16,
    /// The `sh` wrapper; moto is its child.
    child: Child,
    /// Closing this pipe makes the wrapper kill moto, also when the test process dies without unwinding.
    stdin: Option<ChildStdin>,
    dir: tempfile::TempDir,
    started_in: Duration,
}

impl Moto {
    /// Starts moto with its defaults (account 123456789012, authorization checks off).
    pub fn start() -> Moto {
        Moto::start_with(&[])
    }

    /// Starts moto with extra environment variables, e.g. `("MOTO_ACCOUNT_ID", "444455556666")`,
    /// `("INITIAL_NO_AUTH_ACTION_COUNT", "5")` or `("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")`.
    pub fn start_with(env: &[(&str, &str)]) -> Moto {
        let server = moto_server_path();
        // The port is free when we look; another process may take it before moto binds it, so retry.
        let mut last_log = String::new();
        for _ in 0..3 {
            match Moto::try_start(&server, env) {
                Ok(moto) => return moto,
                Err(log) => last_log = log,
            }
        }
        panic!("moto_server ({}) did not start; last log lines:\n{}", server.display(), last_log);
    }

    fn try_start(server: &Path, env: &[(&str, &str)]) -> Result<Moto, String> {
        let dir = tempfile::Builder::new().prefix("iamfit-moto-").tempdir().expect("create a temp dir");
        let log_path = dir.path().join("moto.log");
        let log = File::create(&log_path).expect("create the moto log file");
        let port = free_port();
        let began = Instant::now();

        // `sh` runs moto in the background and kills it as soon as its stdin (a pipe held by this
        // process) reaches end of file: on drop, and also when the test process is killed.
        let script = r#"exec 3<&0
"$0" "$@" </dev/null 3<&- &
m=$!
echo "$m" >"$IAMFIT_MOTO_PIDFILE"
{ cat <&3 >/dev/null; kill -9 "$m" 2>/dev/null; } &
exec 3<&-
wait "$m""#;
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(script)
            .arg(server)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env("IAMFIT_MOTO_PIDFILE", dir.path().join("moto.pid"))
            .stdin(Stdio::piped())
            .stdout(log.try_clone().expect("clone the log file handle"))
            .stderr(log);
        // moto must not see a developer's AWS settings.
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("AWS_") {
                cmd.env_remove(key);
            }
        }
        for (key, value) in env {
            cmd.env(key, value);
        }
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("cannot run {}: {e}", server.display()));
        let stdin = child.stdin.take();
        let mut moto = Moto { port, child, stdin, dir, started_in: Duration::ZERO };

        loop {
            if let Some(status) = moto.child.try_wait().expect("poll moto_server") {
                return Err(format!("exited with {status}\n{}", moto.log_tail(40)));
            }
            if let Ok((200, _)) = http(port, "GET", "/moto-api/", None) {
                moto.started_in = began.elapsed();
                return Ok(moto);
            }
            if began.elapsed() > START_TIMEOUT {
                panic!(
                    "moto_server did not answer on {} within {:?}; log tail:\n{}",
                    moto.endpoint(),
                    START_TIMEOUT,
                    moto.log_tail(40)
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `http://127.0.0.1:PORT`
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// How long the server took to answer its first request.
    pub fn started_in(&self) -> Duration {
        self.started_in
    }

    /// The server's log file (stdout and stderr).
    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("moto.log")
    }

    /// The last `lines` lines of the server's log.
    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(self.log_path()).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// Clears all emulated state (not the authorization setting).
    pub fn reset(&self) {
        self.moto_api("/moto-api/reset", None);
    }

    /// Turns moto's IAM authorization checks on (every request then needs a key moto issued, a valid
    /// signature and an allowing identity policy) or off.
    pub fn set_auth(&self, on: bool) {
        self.moto_api("/moto-api/reset-auth", Some(if on { "0" } else { "inf" }));
    }

    fn moto_api(&self, path: &str, body: Option<&str>) {
        match http(self.port, "POST", path, body) {
            Ok((200, _)) => {}
            Ok((status, body)) => panic!("POST {path} answered {status}: {body}"),
            Err(e) => panic!("POST {path} failed: {e}\nmoto log tail:\n{}", self.log_tail(20)),
        }
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        // End of file on the wrapper's stdin: it kills moto and exits.
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        // The wrapper did not finish: kill moto by its recorded PID, then the wrapper.
        if let Ok(pid) = std::fs::read_to_string(self.dir.path().join("moto.pid")) {
            let _ = Command::new("kill").args(["-9", pid.trim()]).status();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `moto_server` executable: `IAMFIT_MOTO_SERVER`, else `.venv/bin/moto_server` in the crate root.
pub fn moto_server_path() -> PathBuf {
    if let Some(path) = std::env::var_os("IAMFIT_MOTO_SERVER") {
        let path = PathBuf::from(path);
        if path.is_file() {
            return path;
        }
        panic!("IAMFIT_MOTO_SERVER={} does not exist: {INSTALL_HINT}", path.display());
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/moto_server");
    if venv.is_file() {
        return venv;
    }
    panic!(
        "the moto emulator is not installed (no IAMFIT_MOTO_SERVER, no {}): {INSTALL_HINT}",
        venv.display()
    );
}

/// A loopback port nobody listened on a moment ago.
fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local address").port()
}

/// A minimal HTTP/1.1 exchange with the emulator (no proxies, no TLS): (status, body).
pub fn http(port: u16, method: &str, path: &str, body: Option<&str>) -> std::io::Result<(u16, String)> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let body = body.unwrap_or("");
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: text/plain\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    let text = String::from_utf8_lossy(&response);
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("not an HTTP response: {:.80}", text)))?;
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    Ok((status, body))
}
