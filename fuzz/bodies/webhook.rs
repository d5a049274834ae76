//! A webhook delivery of arbitrary bytes: the first line is the signature header, the second
//! the event name, the rest the body. Checking the signature and routing never panic; a body
//! signed with the secret verifies, and a signature of another body does not.

use stackrel::webhook::{route, sign, verify_signature};

const SECRET: &[u8] = b"fuzz secret";

pub fn run(data: &[u8]) {
    let mut parts = data.splitn(3, |&b| b == b'\n');
    let header = parts.next().unwrap_or_default();
    let event = parts.next().unwrap_or_default();
    let body = parts.next().unwrap_or_default();
    let header = String::from_utf8_lossy(header);
    let _ = verify_signature(SECRET, Some(&header), body);
    let _ = verify_signature(data, Some(&header), body);
    let signed = sign(SECRET, body);
    assert_eq!(verify_signature(SECRET, Some(&signed), body), Ok(()));
    if header.as_ref() != signed {
        let mut other = body.to_vec();
        other.push(b' ');
        assert!(verify_signature(SECRET, Some(&signed), &other).is_err());
    }
    let event = String::from_utf8_lossy(event);
    for branch in [None, Some("master")] {
        let _ = route(&event, body, branch);
    }
}
