//! The request body on its way upstream, counted while it streams when the API limits its size:
//! a body that passes the limit ends with [`BodyTooLarge`], which aborts the upstream request, and
//! the gateway answers 413. Nothing is buffered.

use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use hyper::body::{Body, Frame, Incoming, SizeHint};

/// The client's body, with the bytes it may still send when the API has a limit.
#[derive(Debug)]
pub struct RequestBody {
    inner: Incoming,
    remaining: Option<u64>,
    limit: u64,
}

impl RequestBody {
    pub fn new(inner: Incoming, limit: Option<u64>) -> RequestBody {
        RequestBody {
            inner,
            remaining: limit,
            limit: limit.unwrap_or(u64::MAX),
        }
    }
}

/// Why a request body stopped.
#[derive(Debug, thiserror::Error)]
pub enum RequestBodyError {
    #[error("the request body could not be read: {0}")]
    Client(#[from] hyper::Error),
    #[error(transparent)]
    TooLarge(#[from] BodyTooLarge),
}

/// The body passed the API's `max_body_bytes`.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the request body is larger than {limit} bytes")]
pub struct BodyTooLarge {
    pub limit: u64,
}

impl Body for RequestBody {
    type Data = Bytes;
    type Error = RequestBodyError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let frame = ready!(Pin::new(&mut self.inner).poll_frame(cx));
        let Some(remaining) = self.remaining else {
            return Poll::Ready(frame.map(|frame| frame.map_err(RequestBodyError::Client)));
        };
        Poll::Ready(match frame {
            Some(Ok(frame)) => {
                let length = frame.data_ref().map_or(0, |data| data.len() as u64);
                match remaining.checked_sub(length) {
                    Some(left) => {
                        self.remaining = Some(left);
                        Some(Ok(frame))
                    }
                    None => Some(Err(BodyTooLarge { limit: self.limit }.into())),
                }
            }
            Some(Err(error)) => Some(Err(error.into())),
            None => None,
        })
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Whether an upstream failure was the body passing its limit (the error a body's failure
/// becomes keeps it as a source).
pub fn too_large(error: &(dyn std::error::Error + 'static)) -> Option<BodyTooLarge> {
    let mut current = Some(error);
    while let Some(error) = current {
        if let Some(found) = error.downcast_ref::<BodyTooLarge>() {
            return Some(*found);
        }
        if let Some(RequestBodyError::TooLarge(found)) = error.downcast_ref::<RequestBodyError>() {
            return Some(*found);
        }
        current = error.source();
    }
    None
}
