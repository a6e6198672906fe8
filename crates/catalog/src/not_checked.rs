//! What a scan could not establish from the bytes it read (see
//! [`gpubom_inventory::not_checked`]): the image config a directory or a
//! file does not have, model hashes nobody pinned, and GPU architectures a
//! component keeps outside its fatbin sections.

use gpubom_image::{Image, SourceKind};
use gpubom_inventory::{props, Fact, Inventory, NotChecked};

/// Declares on `inventory` what the scan of `image` could not establish.
/// `pinned`: whether an `--expect-sha256` manifest was given.
pub fn declare(image: &Image, pinned: bool, inventory: &mut Inventory) {
    if inventory.image.is_none() {
        let reason = match image.kind {
            SourceKind::Dir => "a directory has no image config; check the image it came from",
            SourceKind::File => "a single file has no image config; check the image it ships in",
            _ => "this image has no config to read them from",
        };
        inventory.declare_not_checked(NotChecked::image_config(reason));
    }
    let mut items = Vec::new();
    for c in &inventory.components {
        // Files an installed package ships are its content: the gate pins only the image's own.
        if !pinned && c.kind.is_model_like() && !c.properties.contains_key(props::MODEL_OWNER) {
            items.push(NotChecked::about(
                Fact::ModelHash,
                c,
                "no --expect-sha256 manifest was given; pass one (sha256sum output) listing the models you ship",
            ));
        }
        if let Some(count) = c.properties.get(props::NVIDIA_FATBINS_ELSEWHERE) {
            items.push(NotChecked::about(
                Fact::GpuArchitectures,
                c,
                format!(
                    "{count} fatbin container(s) lie outside .nv_fatbin and __nv_relfatbin, where gpubom cannot tell whose kernels they are (cuFFT loads its own from .ldata); its architectures are not all known, so the gate does not judge them"
                ),
            ));
        }
    }
    inventory.declare_not_checked(items);
}
