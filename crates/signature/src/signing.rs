//! Signing attestations with a cosign key (`cosign generate-key-pair`'s
//! `cosign.key`): the only signing gpubom does, so the statements it pushes
//! verify with `cosign verify-attestation --key cosign.pub`.
//!
//! The key is read as cosign reads it: an encrypted PEM (`ENCRYPTED SIGSTORE
//! PRIVATE KEY`, or the older `ENCRYPTED COSIGN PRIVATE KEY`), scrypt and
//! NaCl secretbox, opened with the password the caller took from
//! `COSIGN_PASSWORD`. sigstore-rs's `signing_key` does the decryption and the
//! signature; it is part of the `verify` feature already built, so signing
//! costs no crate the verifier did not already need.

use crate::dsse;
use sha2::{Digest, Sha256};
use sigstore::crypto::signing_key::{SigStoreKeyPair, SigStoreSigner};
use sigstore::crypto::SigningScheme;

/// The PEM labels cosign's encrypted private keys carry.
const ENCRYPTED_LABELS: [&str; 2] = [
    "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----",
    "-----BEGIN ENCRYPTED COSIGN PRIVATE KEY-----",
];

/// The schemes tried on a key, in order: cosign's keys are P-256 ECDSA; the others are
/// what sigstore-rs can also sign DSSE with and cosign verify.
const SCHEMES: [SigningScheme; 3] = [
    SigningScheme::ECDSA_P256_SHA256_ASN1,
    SigningScheme::ECDSA_P384_SHA384_ASN1,
    SigningScheme::ED25519,
];

/// A cosign private key, opened.
pub struct Signer {
    signer: SigStoreSigner,
    key_id: String,
}

impl Signer {
    /// Opens an encrypted cosign private key with `password`. `origin` names the key in
    /// errors (its path).
    pub fn load(pem: &[u8], password: &[u8], origin: &str) -> Result<Signer, String> {
        let text = String::from_utf8_lossy(pem);
        if !ENCRYPTED_LABELS.iter().any(|l| text.contains(l)) {
            return Err(format!(
                "{origin}: not an encrypted cosign private key (one from `cosign generate-key-pair`, \
                 which begins {:?})",
                ENCRYPTED_LABELS[0]
            ));
        }
        let pair = SigStoreKeyPair::from_encrypted_pem(pem, password).map_err(|e| {
            format!(
                "{origin}: cannot open the key ({e}); is COSIGN_PASSWORD the password it was made with?"
            )
        })?;
        let signer = SCHEMES
            .iter()
            .find_map(|scheme| pair.to_sigstore_signer(scheme).ok())
            .ok_or_else(|| {
                format!("{origin}: {pair} keys cannot sign attestations; use a P-256 key from `cosign generate-key-pair`")
            })?;
        let der = pair
            .public_key_to_der()
            .map_err(|e| format!("{origin}: cannot read its public key: {e}"))?;
        Ok(Signer {
            signer,
            key_id: format!("sha256:{}", hex::encode(Sha256::digest(der))),
        })
    }

    /// `sha256:` of the public key's DER: the id `check --key` reports for the `.pub`.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The DSSE envelope (JSON) of `statement`, an in-toto statement, signed over its PAE.
    pub fn sign_statement(&self, statement: &[u8]) -> Result<Vec<u8>, String> {
        let message = dsse::pae(dsse::IN_TOTO_PAYLOAD_TYPE, statement);
        let signature = self
            .signer
            .sign(&message)
            .map_err(|e| format!("cannot sign: {e}"))?;
        Ok(dsse::envelope(statement, &signature))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/cosign/");

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!("{FIXTURES}{name}")).unwrap()
    }

    /// A key the real cosign wrote opens with its (empty) password, and its id is the one
    /// `check --key` gives the public half derived from it independently.
    #[test]
    fn a_cosign_key_opens_and_is_known_by_its_public_halfs_id() {
        let signer =
            Signer::load(&fixture("cosign-empty-password.key"), b"", "cosign.key").unwrap();
        let public = String::from_utf8(fixture("cosign-empty-password.pub")).unwrap();
        let body: String = public.lines().filter(|l| !l.starts_with("-----")).collect();
        let der = crate::base64_decode(&body).unwrap();
        assert_eq!(
            signer.key_id(),
            format!("sha256:{}", hex::encode(Sha256::digest(der)))
        );
    }

    #[test]
    fn a_wrong_password_or_an_unencrypted_key_says_what_to_do() {
        let Err(wrong) = Signer::load(&fixture("cosign-empty-password.key"), b"x", "cosign.key")
        else {
            panic!("a wrong password opened the key");
        };
        assert!(wrong.contains("COSIGN_PASSWORD"), "{wrong}");
        let plain = b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
        let Err(refused) = Signer::load(plain, b"", "plain.key") else {
            panic!("an unencrypted key was taken");
        };
        assert!(
            refused.contains("not an encrypted cosign private key"),
            "{refused}"
        );
    }
}
