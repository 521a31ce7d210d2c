//! Uploads with signed chunks (`x-amz-content-sha256: STREAMING-AWS4-HMAC-SHA256-PAYLOAD`, "Signature
//! Calculations for the Authorization Header: Transferring Payload in Multiple Chunks", Amazon S3 API
//! Reference): every chunk's signature is chained from the request's own signature, which the recorder
//! replaces, so each chunk is signed anew as it passes (`aws-sigv4`'s `sign_chunk`), one chunk in memory
//! at a time. The chunk headers keep their length (the size as the client wrote it, a signature of 64
//! hex digits), so `Content-Length` holds.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use bytes::{Buf, Bytes, BytesMut};
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, Incoming};

/// The error type of forwarded bodies.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The payload marker of signed-chunk uploads this module re-signs.
pub const SIGNED_CHUNKS: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";

/// What a chunk is signed with: the run's credentials, the forwarded request's time, region and
/// service, and the previous signature (at first the forwarded request's own).
pub struct ChunkSigner {
    identity: Identity,
    time: SystemTime,
    region: String,
    service: String,
    previous: String,
}

impl ChunkSigner {
    /// A signer chained from the forwarded request's signature `seed`.
    pub fn new(
        creds: &Credentials,
        time: SystemTime,
        region: &str,
        service: &str,
        seed: String,
    ) -> ChunkSigner {
        ChunkSigner {
            identity: creds.clone().into(),
            time,
            region: region.to_string(),
            service: service.to_string(),
            previous: seed,
        }
    }

    fn sign(&mut self, data: &Bytes) -> Result<String, BoxError> {
        let params = v4::SigningParams::<()>::builder()
            .identity(&self.identity)
            .region(&self.region)
            .name(&self.service)
            .time(self.time)
            .settings(())
            .build()?;
        let signature = v4::sign_chunk(data, &self.previous, &params)?.signature().to_string();
        self.previous.clone_from(&signature);
        Ok(signature)
    }
}

/// The client's aws-chunked body with every chunk signed anew.
pub struct Resigned {
    inner: Incoming,
    buffer: BytesMut,
    signer: ChunkSigner,
    finished: bool,
    ended: bool,
}

impl Resigned {
    /// Wraps the client's body.
    pub fn new(inner: Incoming, signer: ChunkSigner) -> Resigned {
        Resigned { inner, buffer: BytesMut::new(), signer, finished: false, ended: false }
    }

    /// The next whole chunk of the buffer, re-signed, if the buffer holds one.
    fn next_chunk(&mut self) -> Result<Option<Bytes>, BoxError> {
        let Some(line_end) = self.buffer.windows(2).position(|w| w == b"\r\n") else {
            if self.buffer.len() > 4096 {
                return Err("aws-chunked body: a chunk header longer than 4096 bytes".into());
            }
            return Ok(None);
        };
        let header = std::str::from_utf8(self.buffer.get(..line_end).unwrap_or_default())
            .map_err(|_| "aws-chunked body: a chunk header is not text")?;
        let (size_text, rest) =
            header.split_once(';').ok_or("aws-chunked body: a chunk header without a signature")?;
        if !rest.starts_with("chunk-signature=") {
            return Err("aws-chunked body: a chunk header without chunk-signature".into());
        }
        let size =
            usize::from_str_radix(size_text.trim(), 16).map_err(|_| "aws-chunked body: a bad chunk size")?;
        let size_text = size_text.to_string();
        let whole = line_end + 2 + size + 2;
        if self.buffer.len() < whole {
            return Ok(None);
        }
        self.buffer.advance(line_end + 2);
        let data = self.buffer.split_to(size).freeze();
        if self.buffer.get(..2) != Some(b"\r\n".as_ref()) {
            return Err("aws-chunked body: a chunk does not end with CRLF".into());
        }
        self.buffer.advance(2);
        let signature = self.signer.sign(&data)?;
        let mut out = BytesMut::with_capacity(whole);
        out.extend_from_slice(format!("{size_text};chunk-signature={signature}\r\n").as_bytes());
        out.extend_from_slice(&data);
        out.extend_from_slice(b"\r\n");
        if size == 0 {
            self.finished = true;
        }
        Ok(Some(out.freeze()))
    }
}

impl Body for Resigned {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        loop {
            if !self.finished {
                match self.next_chunk() {
                    Ok(Some(chunk)) => return Poll::Ready(Some(Ok(Frame::data(chunk)))),
                    Ok(None) => {}
                    Err(e) => return Poll::Ready(Some(Err(e))),
                }
            }
            if self.ended || self.finished {
                if !self.finished {
                    return Poll::Ready(Some(Err("aws-chunked body: the body ended inside a chunk".into())));
                }
                return Poll::Ready(None);
            }
            match Pin::new(&mut self.inner).poll_frame(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => self.ended = true,
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e.into()))),
                Poll::Ready(Some(Ok(frame))) => {
                    if let Ok(data) = frame.into_data() {
                        self.buffer.extend_from_slice(&data);
                    }
                }
            }
        }
    }
}

/// The body boxed for forwarding.
pub fn boxed(body: Resigned) -> http_body_util::combinators::BoxBody<Bytes, BoxError> {
    body.boxed()
}
