//! The pin editor on arbitrary text: reading and editing must never panic, and an edit that
//! succeeds must be one a YAML parser confirms, that reads back as the new values, and that a
//! second edit leaves alone. The first byte picks the new values, so that the quoting rules
//! (numbers, YAML 1.1 booleans, the empty string, quotes) are all exercised.

use stackrel::pin::{confirm_edit, read_pins, set_pins};

const KEYS: [&str; 2] = ["BE_IMAGE_TAG", "FE_IMAGE_TAG"];
const VALUES: [&str; 8] = [
    "2031.01.7",
    "2024.11.1-1",
    "1.10",
    "yes",
    "",
    "it's \"x\"",
    "a: b #c",
    "é",
];

pub fn run(data: &[u8]) {
    let Some((&choice, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let _ = read_pins(text, &KEYS);
    let pick = |n: u8| VALUES[usize::from(n) % VALUES.len()];
    let values = [(KEYS[0], pick(choice)), (KEYS[1], pick(choice / 8))];
    if let Ok(out) = set_pins(text, &values) {
        assert_eq!(confirm_edit(text, &out, &values), Ok(()));
        let sites = read_pins(&out, &KEYS).expect("an edit reads back");
        for (site, (_, value)) in sites.iter().zip(&values) {
            assert!(site.is_pinned_to(value), "{} does not read back", site.key);
        }
        assert_eq!(set_pins(&out, &values).as_ref(), Ok(&out));
    }
}
