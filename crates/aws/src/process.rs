//! Running a child process on the adapter's runtime with SIGINT, SIGTERM and SIGHUP forwarded to it
//! (`iamfit exec`).

use std::os::unix::process::ExitStatusExt;

/// Runs `cmd`, forwards SIGINT/SIGTERM/SIGHUP to it while it runs, and returns its exit status as a
/// shell reports it (128 + signal when a signal ended it).
pub fn run_forwarding_signals(cmd: std::process::Command, name: &str) -> Result<i32, String> {
    let rt = crate::runtime::runtime().map_err(|e| e.to_string())?;
    let status = rt.block_on(async move {
        use tokio::signal::unix::{signal, SignalKind};
        let mut child =
            tokio::process::Command::from(cmd).spawn().map_err(|e| format!("cannot run {name}: {e}"))?;
        let pid = child.id();
        let watch = |kind| signal(kind).map_err(|e| format!("cannot watch signals: {e}"));
        let mut int = watch(SignalKind::interrupt())?;
        let mut term = watch(SignalKind::terminate())?;
        let mut hup = watch(SignalKind::hangup())?;
        loop {
            let forwarded = tokio::select! {
                status = child.wait() => {
                    return status.map_err(|e| format!("waiting for {name} failed: {e}"));
                }
                _ = int.recv() => "INT",
                _ = term.recv() => "TERM",
                _ = hup.recv() => "HUP",
            };
            if let Some(pid) = pid {
                // No libc: `kill` from the system forwards the signal.
                let _ = std::process::Command::new("kill")
                    .arg(format!("-{forwarded}"))
                    .arg(pid.to_string())
                    .status();
            }
        }
    })?;
    Ok(match (status.code(), status.signal()) {
        (Some(c), _) => c,
        (None, Some(s)) => 128 + s,
        _ => 1,
    })
}
