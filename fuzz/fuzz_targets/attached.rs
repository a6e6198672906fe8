//! A manifest attached to an image (a cosign signature, a sigstore bundle, an SBOM), as
//! `gpubom_image::read_attached` reads it before anything is verified: the input is the
//! manifest, and each layer it lists is fetched as a blob of bytes that depend on its
//! digest, or fails, as a registry's blob would. The layer count and size limits must
//! hold whatever the manifest claims.
#![no_main]
use gpubom_image::{read_attached, Discovery, MAX_ATTACHED_LAYERS, MAX_ATTACHED_LAYER_BYTES};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for via in [Discovery::SigTag, Discovery::Referrer, Discovery::Layout] {
        let mut fetched = 0usize;
        let attached = read_attached("sha256:fuzz", data, via, &mut |digest, limit| {
            assert_eq!(limit, MAX_ATTACHED_LAYER_BYTES);
            fetched += 1;
            if digest.ends_with('0') {
                return Err(gpubom_image::Error::Invalid {
                    what: format!("blob {digest}"),
                    why: "the fuzz registry has none".into(),
                });
            }
            Ok(digest.as_bytes().to_vec())
        });
        assert!(fetched <= MAX_ATTACHED_LAYERS);
        assert!(attached.layers.len() <= MAX_ATTACHED_LAYERS);
        if attached.problem.is_some() {
            assert!(attached.layers.is_empty());
        }
    }
});
