//! The daemon's accept loop. Its port may face the internet (GitHub delivers webhooks to it), so
//! what one client can hold is bounded here, where axum's own `serve` has no bound: a slow or
//! silent client loses its connection after a header timeout (which also ends idle keep-alive
//! connections), every connection after a lifetime, and at most `MAX_CONNECTIONS` are served at
//! once. When accepting fails (out of file descriptors, say) the loop backs off instead of
//! spinning a core on a listener that stays readable.

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};

/// Connections served at once; the next waits in the kernel's backlog until one ends.
pub const MAX_CONNECTIONS: usize = 256;
/// How long a client may take to send a request's headers, or leave a kept-alive connection
/// idle before its next request.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// After this a connection is asked to close once its request in flight is answered.
pub const MAX_LIFETIME: Duration = Duration::from_secs(600);
/// How long a connection asked to close may take to finish its request.
const CLOSE_WITHIN: Duration = Duration::from_secs(5);
/// hyper's read buffer per connection; it also bounds the request head.
const READ_BUFFER: usize = 16 * 1024;
const ACCEPT_BACKOFF_MIN: Duration = Duration::from_millis(10);
const ACCEPT_BACKOFF_MAX: Duration = Duration::from_secs(1);

/// Serves `router` on `listener` until `stop` completes, then asks every open connection to
/// finish its request and close, and returns once they have.
pub async fn serve(listener: TcpListener, router: Router, stop: impl Future<Output = ()>) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let (closing, closed) = watch::channel(false);
    let mut backoff = ACCEPT_BACKOFF_MIN;
    tokio::pin!(stop);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot,
            () = &mut stop => break,
        };
        let Ok(slot) = slot else { break };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut stop => break,
        };
        match accepted {
            Ok((stream, _)) => {
                backoff = ACCEPT_BACKOFF_MIN;
                let service = TowerToHyperService::new(router.clone());
                let closed = closed.clone();
                tokio::spawn(async move {
                    connection(stream, service, closed).await;
                    drop(slot);
                });
            }
            Err(e) => {
                tracing::warn!("cannot accept a connection (retrying in {backoff:?}): {e}");
                tokio::select! {
                    () = tokio::time::sleep(backoff) => {}
                    () = &mut stop => break,
                }
                backoff = (backoff * 2).min(ACCEPT_BACKOFF_MAX);
            }
        }
    }
    let _ = closing.send(true);
    // Every slot back means every connection has ended.
    let _ = slots.acquire_many(MAX_CONNECTIONS as u32).await;
}

/// One connection, with the header timeout, until it ends, its lifetime is up or the server
/// stops.
async fn connection(
    stream: tokio::net::TcpStream,
    service: TowerToHyperService<Router>,
    mut closed: watch::Receiver<bool>,
) {
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .max_buf_size(READ_BUFFER);
    let conn = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    tokio::select! {
        served = conn.as_mut() => {
            if let Err(e) = served {
                tracing::debug!("connection ended: {e}");
            }
            return;
        }
        _ = closed.wait_for(|closed| *closed) => {}
        () = tokio::time::sleep(MAX_LIFETIME) => {}
    }
    conn.as_mut().graceful_shutdown();
    let _ = tokio::time::timeout(CLOSE_WITHIN, conn).await;
}
