//! The recorder of `iamfit exec --record`: a local endpoint on a free loopback port that the child's
//! SDKs are pointed at (`AWS_ENDPOINT_URL`). Each request is checked against the credentials the child
//! was given, recognised and mapped to IAM actions ([`iamfit_trail::call`]), signed anew for the real
//! endpoint (or `--endpoint-url`), forwarded, and recorded as one line of the recording
//! ([`iamfit_trail::recording`]) when its answer arrives; the answer goes back unchanged.
//!
//! The endpoint listens on 127.0.0.1 only and forwards only requests signed with this run's
//! credentials, so no other local user can borrow the role through it.

mod chunks;
mod log;
mod proxy;
mod sign;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_credential_types::provider::ProvideCredentials;
use aws_credential_types::Credentials;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use iamfit_core::source::SourceError;
use iamfit_core::trust::TempCredentials;

pub use log::Summary;
pub use proxy::{Upstream, MAX_BUFFERED_BODY};

use crate::live::{self, LiveOptions};

/// The identity a recorded run makes its calls as, with its credentials. The secrets never reach
/// `Debug` output.
#[derive(Clone)]
pub struct RunIdentity {
    /// The principal ARN (an assumed-role session, a user).
    pub principal: String,
    /// Its account.
    pub account: String,
    /// The access key id.
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: String,
    /// The session token, for temporary credentials.
    pub session_token: Option<String>,
    /// When temporary credentials expire (RFC 3339).
    pub expiration: Option<String>,
}

impl std::fmt::Debug for RunIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunIdentity")
            .field("principal", &self.principal)
            .field("account", &self.account)
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

impl RunIdentity {
    /// An assumed role's session.
    pub fn assumed(principal: &str, credentials: &TempCredentials) -> RunIdentity {
        RunIdentity {
            principal: principal.to_string(),
            account: principal.split(':').nth(4).unwrap_or("").to_string(),
            access_key_id: credentials.access_key_id.clone(),
            secret_access_key: credentials.secret_access_key.clone(),
            session_token: Some(credentials.session_token.clone()).filter(|t| !t.is_empty()),
            expiration: Some(credentials.expiration.clone()).filter(|t| !t.is_empty()),
        }
    }

    fn credentials(&self) -> Credentials {
        Credentials::new(
            &self.access_key_id,
            &self.secret_access_key,
            self.session_token.clone(),
            None,
            "iamfit-record",
        )
    }
}

/// The caller's own identity and credentials, resolved as the AWS CLI resolves them (`--as-caller`).
pub fn caller_identity(opts: &LiveOptions) -> Result<(RunIdentity, Option<String>), SourceError> {
    crate::runtime::block_on(async {
        let config = live::sdk_config(opts).await?;
        let identity = live::caller_identity(&config).await?;
        let provider = config.credentials_provider().ok_or_else(|| live::LiveError::NoCredentials {
            profile: opts.profile.clone(),
            detail: "no credentials provider".into(),
        })?;
        let creds = provider.provide_credentials().await.map_err(|e| live::LiveError::NoCredentials {
            profile: opts.profile.clone(),
            detail: e.to_string(),
        })?;
        let expiration = creds.expiry().and_then(|t| {
            let t = time::OffsetDateTime::from(t);
            t.format(&time::format_description::well_known::Rfc3339).ok()
        });
        let run = RunIdentity {
            principal: identity.arn.clone(),
            account: identity.account.clone(),
            access_key_id: creds.access_key_id().to_string(),
            secret_access_key: creds.secret_access_key().to_string(),
            session_token: creds.session_token().map(str::to_string),
            expiration,
        };
        Ok::<_, live::LiveError>((run, config.region().map(|r| r.to_string())))
    })?
    .map_err(SourceError::from)
}

/// How to run the recorder.
#[derive(Debug, Clone)]
pub struct RecordOptions {
    /// The recording file (created or truncated).
    pub out: PathBuf,
    /// Who the calls are made as, and the credentials.
    pub identity: RunIdentity,
    /// The function the run is for, written with every call.
    pub function: Option<String>,
    /// Forward to this endpoint instead of AWS's regional endpoints (`--endpoint-url`).
    pub endpoint_url: Option<String>,
}

/// Why the recorder could not start.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The recording file cannot be written.
    #[error("cannot write the recording {path}: {source}")]
    File {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// No loopback port could be opened.
    #[error("cannot listen on the loopback interface: {0}")]
    Listen(std::io::Error),
    /// `--endpoint-url` is not an http(s) URL.
    #[error("--endpoint-url {0}: give an http:// or https:// URL")]
    Endpoint(String),
    /// The HTTPS client could not be set up.
    #[error("cannot set up HTTPS: {0}")]
    Tls(String),
    /// The runtime could not start.
    #[error(transparent)]
    Runtime(#[from] SourceError),
}

/// A running recorder.
pub struct Recorder {
    address: SocketAddr,
    stop: tokio::sync::watch::Sender<bool>,
    state: Arc<proxy::State>,
}

fn upstream_of(endpoint_url: Option<&str>) -> Result<Upstream, RecordError> {
    let Some(url) = endpoint_url else { return Ok(Upstream::Aws) };
    let uri: http::Uri = url.parse().map_err(|_| RecordError::Endpoint(url.to_string()))?;
    match (uri.scheme_str(), uri.authority()) {
        (Some(s @ ("http" | "https")), Some(a)) => {
            Ok(Upstream::Endpoint { scheme: s.to_string(), authority: a.to_string() })
        }
        _ => Err(RecordError::Endpoint(url.to_string())),
    }
}

fn http_client() -> Result<proxy::HttpClient, RecordError> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut http = hyper_util::client::legacy::connect::HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_native_roots(provider)
        .map_err(|e| RecordError::Tls(e.to_string()))?
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    Ok(hyper_util::client::legacy::Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(30))
        .build(https))
}

impl Recorder {
    /// Opens the recording and starts listening on a free loopback port.
    pub fn start(opts: &RecordOptions) -> Result<Recorder, RecordError> {
        let log = log::Log::create(&opts.out)
            .map_err(|source| RecordError::File { path: opts.out.display().to_string(), source })?;
        let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(RecordError::Listen)?;
        listener.set_nonblocking(true).map_err(RecordError::Listen)?;
        let address = listener.local_addr().map_err(RecordError::Listen)?;
        let rt = crate::runtime::runtime()?;
        let client = {
            let _guard = rt.enter();
            http_client()?
        };
        let state = Arc::new(proxy::State {
            client,
            credentials: opts.identity.credentials(),
            upstream: upstream_of(opts.endpoint_url.as_deref())?,
            principal: opts.identity.principal.clone(),
            account: opts.identity.account.clone(),
            function: opts.function.clone(),
            log: Arc::new(log),
            in_flight: AtomicUsize::new(0),
        });
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let serving = state.clone();
        rt.spawn(async move {
            if let Ok(listener) = tokio::net::TcpListener::from_std(listener) {
                serve(listener, serving, stopped).await;
            }
        });
        Ok(Recorder { address, stop, state })
    }

    /// The endpoint to give the child (`http://127.0.0.1:PORT`).
    pub fn endpoint_url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// The summary so far.
    pub fn summary(&self) -> Summary {
        self.state.log.summary()
    }

    /// Stops listening, lets the requests under way finish (for up to `grace`), and returns the summary.
    pub fn finish(self, grace: Duration) -> Summary {
        let _ = self.stop.send(true);
        let deadline = Instant::now() + grace;
        while self.state.in_flight.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        self.state.log.summary()
    }
}

async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<proxy::State>,
    mut stopped: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = stopped.changed() => return,
        };
        let Ok((stream, _)) = accepted else { continue };
        let _ = stream.set_nodelay(true);
        let state = state.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| proxy::handle(state.clone(), req));
            let _ = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
