//! What a hostile registry and its token service send, read as gpubom's registry client
//! reads it, without a network (`gpubom_registry::fuzzing`): the input is split at each
//! `\n--\n` into a `WWW-Authenticate` challenge, a token answer, a manifest, its
//! `Docker-Content-Digest`, a referrers list, and an error answer whose status is the
//! last part's first two bytes. Checked: credentials never go to a realm the
//! organisation does not allow or over plain HTTP, a token can be sent back as a header,
//! a body past its limit is refused, a declared digest is the one the body has.
#![no_main]
use gpubom_registry::fuzzing::{read_answers, Answers};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut parts = Vec::new();
    let mut rest = data;
    while parts.len() < 5 {
        match rest.windows(4).position(|w| w == b"\n--\n") {
            Some(at) => {
                parts.push(&rest[..at]);
                rest = &rest[at + 4..];
            }
            None => break,
        }
    }
    parts.resize(5, &[][..]);
    let (status, error_body) = match rest {
        [a, b, body @ ..] => (u16::from_le_bytes([*a, *b]) % 600, body),
        _ => (404, rest),
    };
    read_answers(&Answers {
        challenge: parts[0],
        token: parts[1],
        manifest: parts[2],
        declared_digest: parts[3],
        referrers: parts[4],
        error_status: status,
        error_body,
    });
});
