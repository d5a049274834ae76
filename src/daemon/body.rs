//! Reading a webhook delivery's body before anything in it is believed: within a time limit and
//! a size limit, hashed for its signature as it arrives, and kept only when the event's payload
//! is needed, from a memory budget all deliveries share. So unfinished or forged bodies cost a
//! bounded amount of memory, however many arrive, and a slow one is cut off.

use crate::webhook::SignatureCheck;
use axum::body::Body;
use http_body_util::BodyExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// A delivery's body above this is refused (webhook payloads are small).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// The bytes of bodies kept at once, over all deliveries.
pub const BODY_BUDGET_BYTES: usize = 4 * MAX_BODY_BYTES;
/// How long a body may take to arrive, from the end of its headers.
pub const BODY_WITHIN: Duration = Duration::from_secs(10);

/// Why a body was not read to its end.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BodyError {
    #[error("the body is larger than {MAX_BODY_BYTES} bytes")]
    TooLarge,
    #[error("the body did not arrive within {BODY_WITHIN:?}")]
    TooSlow,
    #[error("too many deliveries are being read at once; retry later")]
    Busy,
    #[error("the body is malformed: {0}")]
    Malformed(String),
}

/// Bytes of kept bodies, shared by every delivery.
#[derive(Debug, Default)]
pub struct Budget {
    used: AtomicUsize,
}

impl Budget {
    /// Takes `bytes` from the budget, or nothing when they are not left.
    fn take(self: &Arc<Self>, bytes: usize, held: &mut Held) -> bool {
        let taken = self
            .used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(bytes)
                    .filter(|total| *total <= BODY_BUDGET_BYTES)
            });
        if taken.is_ok() {
            held.bytes += bytes;
        }
        taken.is_ok()
    }
}

/// What one body holds of the budget, given back when the body is dropped.
struct Held {
    budget: Arc<Budget>,
    bytes: usize,
}

impl Drop for Held {
    fn drop(&mut self) {
        self.budget.used.fetch_sub(self.bytes, Ordering::AcqRel);
    }
}

/// A body read to its end and hashed; `bytes` only when it was asked to be kept.
pub struct ReadBody {
    pub check: SignatureCheck,
    pub bytes: Vec<u8>,
    _held: Held,
}

/// Reads `body` through `check`, keeping its bytes when `keep`. `declared` is its
/// Content-Length, if it has one: too large a body is refused before any of it is read.
pub async fn read(
    body: Body,
    declared: Option<u64>,
    mut check: SignatureCheck,
    keep: bool,
    budget: &Arc<Budget>,
) -> Result<ReadBody, BodyError> {
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return Err(BodyError::TooLarge);
    }
    let mut held = Held {
        budget: budget.clone(),
        bytes: 0,
    };
    let mut bytes = Vec::new();
    let mut seen = 0usize;
    let mut body = body;
    let reading = async {
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| BodyError::Malformed(chain(&e)))?;
            let Ok(chunk) = frame.into_data() else {
                continue;
            };
            seen += chunk.len();
            if seen > MAX_BODY_BYTES {
                return Err(BodyError::TooLarge);
            }
            check.update(&chunk);
            if keep {
                if !budget.take(chunk.len(), &mut held) {
                    return Err(BodyError::Busy);
                }
                bytes.extend_from_slice(&chunk);
            }
        }
        Ok(())
    };
    tokio::time::timeout(BODY_WITHIN, reading)
        .await
        .map_err(|_| BodyError::TooSlow)??;
    Ok(ReadBody {
        check,
        bytes,
        _held: held,
    })
}

/// An error and its causes, as hyper's "error reading a body" says little without them.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(e) = cause {
        let said = e.to_string();
        if !text.ends_with(&said) {
            text.push_str(": ");
            text.push_str(&said);
        }
        cause = e.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webhook::sign;

    fn check(body: &[u8]) -> SignatureCheck {
        SignatureCheck::new(b"s", Some(&sign(b"s", body))).unwrap()
    }

    #[tokio::test]
    async fn a_kept_body_is_verified_and_gives_its_budget_back_when_dropped() {
        let budget = Arc::new(Budget::default());
        let read = read(Body::from("{}"), Some(2), check(b"{}"), true, &budget)
            .await
            .unwrap();
        assert_eq!(read.bytes, b"{}");
        assert_eq!(budget.used.load(Ordering::Acquire), 2);
        let ReadBody { check, _held, .. } = read;
        assert_eq!(check.verify(), Ok(()));
        drop(_held);
        assert_eq!(budget.used.load(Ordering::Acquire), 0);
    }

    #[tokio::test]
    async fn a_body_not_kept_is_still_verified_and_takes_no_budget() {
        let budget = Arc::new(Budget::default());
        let read = read(Body::from("{}"), None, check(b"{}"), false, &budget)
            .await
            .unwrap();
        assert!(read.bytes.is_empty());
        assert_eq!(budget.used.load(Ordering::Acquire), 0);
        assert_eq!(read.check.verify(), Ok(()));
    }

    #[tokio::test]
    async fn a_declared_or_actual_size_over_the_limit_is_refused() {
        let budget = Arc::new(Budget::default());
        let declared = Some(MAX_BODY_BYTES as u64 + 1);
        let refused = read(Body::empty(), declared, check(b""), true, &budget).await;
        assert_eq!(refused.err(), Some(BodyError::TooLarge));
        let big = vec![b'x'; MAX_BODY_BYTES + 1];
        let refused = read(Body::from(big), None, check(b""), false, &budget).await;
        assert_eq!(refused.err(), Some(BodyError::TooLarge));
    }

    #[tokio::test]
    async fn bodies_beyond_the_shared_budget_are_refused_as_busy() {
        let budget = Arc::new(Budget::default());
        let mut kept = Vec::new();
        let chunk = vec![b'x'; MAX_BODY_BYTES];
        for _ in 0..BODY_BUDGET_BYTES / MAX_BODY_BYTES {
            let body = Body::from(chunk.clone());
            kept.push(read(body, None, check(b""), true, &budget).await.unwrap());
        }
        let refused = read(Body::from("{}"), None, check(b""), true, &budget).await;
        assert_eq!(refused.err(), Some(BodyError::Busy));
        kept.pop();
        assert!(
            read(Body::from("{}"), None, check(b""), true, &budget)
                .await
                .is_ok()
        );
    }
}
