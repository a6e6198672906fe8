//! What the organisation trusts: cosign public keys, and keyless identities.

use crate::keyless::{Identity, TrustedRoot};
use sha2::{Digest, Sha256};
use sigstore::crypto::CosignVerificationKey;
use std::path::Path;
use x509_cert::der::{Decode, DecodePem};
use x509_cert::Certificate;

#[derive(Default)]
pub struct Trust {
    /// (`sha256:` of the key's DER, the key).
    keys: Vec<(String, CosignVerificationKey)>,
    pub identities: Vec<Identity>,
    /// Sigstore's trust root, without which no keyless signature verifies.
    pub(crate) root: Option<TrustedRoot>,
}

impl Trust {
    /// Loads cosign public keys (`cosign.pub`: PEM SubjectPublicKeyInfo) and,
    /// for keyless signatures, sigstore's `trusted_root.json`.
    pub fn load(
        key_files: &[&Path],
        identities: Vec<Identity>,
        trusted_root: Option<&Path>,
    ) -> Result<Trust, String> {
        let root = trusted_root.map(TrustedRoot::load).transpose()?;
        let mut keys = Vec::new();
        for path in key_files {
            let pem = std::fs::read(path)
                .map_err(|e| format!("cannot read the key {}: {e}", path.display()))?;
            let key = CosignVerificationKey::try_from_pem(&pem).map_err(|e| {
                format!(
                    "{}: not a cosign public key ({e}); give the .pub file `cosign generate-key-pair` wrote",
                    path.display()
                )
            })?;
            let id = key_id(&pem).ok_or_else(|| format!("{}: not a PEM file", path.display()))?;
            keys.push((id, key));
        }
        Ok(Trust {
            keys,
            identities,
            root,
        })
    }

    /// Whether the organisation trusts anyone: only then is a signature required.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty() && self.identities.is_empty()
    }

    pub fn key_count(&self) -> usize {
        self.keys.len()
    }

    /// The id of the first trusted key for which `verifies` holds.
    pub(crate) fn key_verifying(
        &self,
        mut verifies: impl FnMut(&CosignVerificationKey) -> bool,
    ) -> Option<String> {
        self.keys
            .iter()
            .find(|(_, key)| verifies(key))
            .map(|(id, _)| id.clone())
    }
}

/// `sha256:<hex>` of the DER inside a PEM file, as cosign's key ids are made.
fn key_id(pem: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(pem).ok()?;
    let body: String = text
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<Vec<_>>()
        .concat();
    let der = crate::base64_decode(&body)?;
    Some(format!("sha256:{}", hex::encode(Sha256::digest(der))))
}

/// The first e-mail or URI in the certificate's subject alternative names: Fulcio puts the
/// signer's identity there, as cosign reads it.
fn san_subject(certificate: &Certificate) -> Option<String> {
    use x509_cert::ext::pkix::{name::GeneralName, SubjectAltName};
    let (_, names) = certificate
        .tbs_certificate()
        .get_extension::<SubjectAltName>()
        .ok()??;
    names.0.iter().find_map(|name| match name {
        GeneralName::Rfc822Name(email) => Some(email.to_string()),
        GeneralName::UniformResourceIdentifier(uri) => Some(uri.to_string()),
        _ => None,
    })
}

/// Fulcio's OIDC issuer extensions: v2 (DER UTF8String), then v1 (raw bytes).
const ISSUER_V2: &str = "1.3.6.1.4.1.57264.1.8";
const ISSUER_V1: &str = "1.3.6.1.4.1.57264.1.1";

/// "subject (issuer)" of a signing certificate, PEM or DER.
pub(crate) fn certificate_identity(bytes: &[u8]) -> Option<String> {
    let certificate = Certificate::from_pem(bytes)
        .or_else(|_| Certificate::from_der(bytes))
        .ok()?;
    let subject = san_subject(&certificate).unwrap_or_else(|| "unknown subject".into());
    let issuer = certificate
        .tbs_certificate()
        .extensions()
        .into_iter()
        .flatten()
        .find_map(|ext| {
            let oid = ext.extn_id.to_string();
            let raw = ext.extn_value.as_bytes();
            if oid == ISSUER_V2 {
                x509_cert::der::asn1::Utf8StringRef::from_der(raw)
                    .ok()
                    .map(|s| s.as_str().to_string())
            } else if oid == ISSUER_V1 {
                String::from_utf8(raw.to_vec()).ok()
            } else {
                None
            }
        })
        .unwrap_or_else(|| "unknown issuer".into());
    Some(format!("{subject} ({issuer})"))
}
