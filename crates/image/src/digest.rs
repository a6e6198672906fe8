//! Content digests. The OCI image spec registers sha256 and sha512; a digest
//! in any other algorithm cannot be verified, so it is refused rather than
//! trusted unchecked.

use sha2::{Digest as _, Sha256, Sha512};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Algorithm {
    Sha256,
    Sha512,
}

impl Algorithm {
    /// The algorithm of an `alg:hex` digest. `Err` is the reason, for the
    /// caller to put after the name of what the digest belongs to.
    pub fn of(digest: &str) -> Result<Algorithm, String> {
        match digest.split_once(':') {
            Some(("sha256", _)) => Ok(Algorithm::Sha256),
            Some(("sha512", _)) => Ok(Algorithm::Sha512),
            Some((alg, _)) => Err(format!(
                "unsupported digest algorithm {alg:?}; gpubom verifies sha256 and sha512"
            )),
            None => Err(format!("malformed digest {digest:?}")),
        }
    }

    pub fn hasher(self) -> Hasher {
        match self {
            Algorithm::Sha256 => Hasher::Sha256(Sha256::new()),
            Algorithm::Sha512 => Hasher::Sha512(Box::new(Sha512::new())),
        }
    }

    /// `alg:hex` of `bytes`.
    pub fn digest(self, bytes: &[u8]) -> String {
        let mut hasher = self.hasher();
        hasher.update(bytes);
        hasher.finish()
    }
}

pub(crate) enum Hasher {
    Sha256(Sha256),
    Sha512(Box<Sha512>),
}

impl Hasher {
    pub fn update(&mut self, bytes: &[u8]) {
        match self {
            Hasher::Sha256(h) => h.update(bytes),
            Hasher::Sha512(h) => h.update(bytes),
        }
    }

    /// `alg:hex` of everything fed in.
    pub fn finish(self) -> String {
        match self {
            Hasher::Sha256(h) => format!("sha256:{}", hex::encode(h.finalize())),
            Hasher::Sha512(h) => format!("sha512:{}", hex::encode(h.finalize())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn algorithms() {
        assert_eq!(Algorithm::of("sha256:00"), Ok(Algorithm::Sha256));
        assert_eq!(Algorithm::of("sha512:00"), Ok(Algorithm::Sha512));
        assert!(Algorithm::of("md5:00").unwrap_err().contains("\"md5\""));
        assert!(Algorithm::of("sha256").is_err());
        assert_eq!(
            Algorithm::Sha512.digest(b"abc"),
            "sha512:ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a\
             2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
        );
    }
}
