//! Errors of the catalog.

use std::path::PathBuf;

/// What can go wrong when reading, parsing or updating the catalog.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The text is not a catalog (wrong header) or has an unsupported format version.
    #[error("not an iamfit catalog (expected header `iamfit-catalog\t{expected}`, found `{found}`)")]
    BadHeader {
        /// The format version this build reads.
        expected: &'static str,
        /// The first line that was found (shortened).
        found: String,
    },
    /// A line of the catalog is malformed.
    #[error("catalog line {line}: {message}")]
    Syntax {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// No cache folder can be determined (set `IAMFIT_CACHE_DIR`).
    #[error("cannot determine a cache folder; set IAMFIT_CACHE_DIR")]
    NoCacheDir,
    /// A download failed.
    #[error("download of {url} failed: {message}")]
    Download {
        /// The URL.
        url: String,
        /// What went wrong (status or transport error).
        message: String,
    },
    /// A downloaded document is not the expected JSON.
    #[error("{url}: unexpected content: {message}")]
    BadDocument {
        /// The URL.
        url: String,
        /// What is wrong.
        message: String,
    },
}
