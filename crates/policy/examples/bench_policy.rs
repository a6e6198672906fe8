//! Times the default pack over an inventory of N synthetic components.
//! Usage: cargo run --release -p gpubom-policy --example bench_policy -- [N]

use gpubom_inventory::{props, Component, ComponentKind, ImageFacts, Inventory};
use gpubom_policy::{evaluate, Config, Pack};
use std::time::Instant;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000);
    let mut inventory = Inventory {
        image: Some(ImageFacts {
            user: Some("1001".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    for i in 0..n {
        let (kind, family) = match i % 10 {
            0 => (ComponentKind::NativeLibrary, "cuda-runtime"),
            1 => (ComponentKind::Model, ""),
            2 => (ComponentKind::Python, ""),
            _ => (ComponentKind::Deb, ""),
        };
        let mut c = Component {
            kind,
            name: format!("synthetic-{i}"),
            version: Some(format!("{}.{}.{}", i % 13, i % 7, i % 101)),
            ..Default::default()
        };
        if !family.is_empty() {
            c.properties
                .insert(props::NVIDIA_FAMILY.into(), family.into());
        }
        if kind == ComponentKind::Model {
            c.properties
                .insert(props::MODEL_VERDICT.into(), "safe".into());
        }
        inventory.components.push(c);
    }
    let config = Config::default();
    let start = Instant::now();
    let pack = Pack::load(&[], true).expect("pack");
    let loaded = start.elapsed();
    let findings = evaluate(&pack, &inventory, &config, "2026-06-01").expect("evaluate");
    let total = start.elapsed();
    println!(
        "{n} components: pack loaded and validated in {:.1} ms, evaluated in {:.1} ms ({:.1} µs/entity), {} findings",
        loaded.as_secs_f64() * 1e3,
        (total - loaded).as_secs_f64() * 1e3,
        (total - loaded).as_secs_f64() * 1e6 / (n + 1) as f64,
        findings.len()
    );
}
