//! What the daemon's logs may contain. At `RUST_LOG=trace` the HTTP libraries log the bytes
//! they send, as hex dumps 16 bytes a line, `authorization` header and all; a log is read by
//! more people than a secret may be. So the libraries that handle wire bytes are held to
//! `debug` (where they log headers redacted), whatever the filter asks for. So is the file
//! watcher's library, which traces every event in the watched directory: a log written next to
//! the checkout would otherwise log its own writes without end.

use tracing::{Level, Metadata};

/// The crates whose trace output carries raw request and response bytes (and `notify`, whose
/// trace output of a log file's changes is more of the same log).
const WIRE_CRATES: &[&str] = &[
    "notify",
    "ureq",
    "ureq_proto",
    "hyper",
    "hyper_util",
    "h2",
    "rustls",
    "reqwest",
    "tower_http",
];

/// Whether an event or span may be logged at all: nothing below `debug` from a wire crate.
pub fn allowed(metadata: &Metadata<'_>) -> bool {
    *metadata.level() <= Level::DEBUG || !is_wire(metadata.target())
}

fn is_wire(target: &str) -> bool {
    let krate = target.split("::").next().unwrap_or(target);
    WIRE_CRATES.contains(&krate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_crates_are_matched_by_their_first_path_segment_only() {
        assert!(is_wire("ureq_proto::util"));
        assert!(is_wire("ureq"));
        assert!(is_wire("hyper::proto::h1::io"));
        assert!(!is_wire("stackrel::daemon::worker"));
        assert!(!is_wire("ureqx"));
        assert!(is_wire("notify::inotify"));
    }
}
