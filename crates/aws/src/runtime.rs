//! The adapter's one async runtime: every SDK call of iamfit runs on it, started on first use.

use std::future::Future;
use std::sync::OnceLock;

use iamfit_core::source::SourceError;

static RUNTIME: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();

/// The runtime, started on first use.
pub fn runtime() -> Result<&'static tokio::runtime::Runtime, SourceError> {
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(4)
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| SourceError::Input {
            message: format!("cannot start the async runtime: {e}"),
            help: None,
        })
}

/// Runs a future to completion on the runtime.
pub fn block_on<F: Future>(future: F) -> Result<F::Output, SourceError> {
    Ok(runtime()?.block_on(future))
}
