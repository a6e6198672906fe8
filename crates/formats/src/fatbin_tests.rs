//! Crafted containers (synthetic, laid out like the real ones in `libcurand.so.10.4.0.35`):
//! each edge case must be bounded and never panic, whatever the chunking.

use super::*;

/// One entry header as CUDA 13 writes it: 64 bytes, then `extra` option bytes.
fn entry(
    kind: u16,
    arch: u32,
    flags: u64,
    isa: (u16, u16),
    payload: &[u8],
    extra: usize,
) -> Vec<u8> {
    let header_len = 64 + extra;
    let mut e = Vec::new();
    e.extend_from_slice(&kind.to_le_bytes());
    e.extend_from_slice(&0x0101u16.to_le_bytes());
    e.extend_from_slice(&(header_len as u32).to_le_bytes());
    e.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    e.extend_from_slice(&0u32.to_le_bytes()); // compressed size
    e.extend_from_slice(&0u32.to_le_bytes());
    e.extend_from_slice(&isa.1.to_le_bytes()); // minor
    e.extend_from_slice(&isa.0.to_le_bytes()); // major
    e.extend_from_slice(&arch.to_le_bytes());
    e.extend_from_slice(&[0; 8]); // object name offset and length
    e.extend_from_slice(&flags.to_le_bytes());
    e.extend_from_slice(&[0; 16]);
    e.resize(header_len, 0);
    e.extend_from_slice(payload);
    e
}

fn container(entries: &[Vec<u8>]) -> Vec<u8> {
    let body: Vec<u8> = entries.concat();
    let mut c = CONTAINER_START.to_vec();
    c.extend_from_slice(&(body.len() as u64).to_le_bytes());
    c.extend_from_slice(&body);
    c
}

fn walk(bytes: &[u8], chunk: usize) -> Containers {
    let mut walker = FatbinWalker::new();
    for piece in bytes.chunks(chunk) {
        walker.feed(piece);
    }
    walker.finish()
}

fn names(targets: &BTreeSet<DeviceTarget>, kind: CodeKind) -> Vec<String> {
    targets
        .iter()
        .filter(|t| t.kind == kind)
        .map(|t| t.arch.to_string())
        .collect()
}

fn everywhere(containers: &Containers) -> BTreeSet<DeviceTarget> {
    containers.within(&[(0, u64::MAX)])
}

#[test]
fn lists_sass_and_ptx_from_headers_whatever_the_chunking_synthetic() {
    let mut file = vec![0xAB; 1000];
    file.extend(container(&[
        entry(KIND_SASS, 75, 0x11, (1, 8), &[1; 300], 0),
        entry(
            KIND_SASS,
            90,
            0x11 | FLAG_ARCH_SPECIFIC,
            (1, 8),
            &[2; 40],
            0,
        ),
        entry(KIND_SASS, 100, 0x1000011, (1, 8), &[3; 17], 48),
        entry(KIND_PTX, 121, 0x8011, (9, 0), &[4; 55], 16),
    ]));
    file.extend([0u8; 8]);
    file.extend(container(&[entry(
        KIND_SASS,
        80,
        0x2011,
        (1, 8),
        &[5; 3],
        0,
    )]));
    for chunk in [1, 3, 7, 8, 15, 64, 100, 4096] {
        let targets = everywhere(&walk(&file, chunk));
        assert_eq!(
            names(&targets, CodeKind::Sass),
            ["sm_75", "sm_80", "sm_90a", "sm_100"],
            "chunk {chunk}"
        );
        assert_eq!(names(&targets, CodeKind::Ptx), ["sm_121"], "chunk {chunk}");
        let ptx = targets.iter().find(|t| t.kind == CodeKind::Ptx).unwrap();
        assert_eq!(ptx.ptx_isa, Some((9, 0)));
        assert!(ptx.compressed);
    }
}

#[test]
fn only_containers_inside_fatbin_sections_count_synthetic() {
    let outside = container(&[entry(KIND_SASS, 35, 0x11, (1, 8), &[0; 8], 0)]);
    let mut file = outside.clone();
    let inside_at = file.len() as u64;
    file.extend(container(&[entry(KIND_SASS, 86, 0x11, (1, 8), &[0; 8], 0)]));
    let found = walk(&file, 4096);
    let inside = found.within(&[(inside_at, file.len() as u64)]);
    assert_eq!(names(&inside, CodeKind::Sass), ["sm_86"]);
    assert!(found.within(&[]).is_empty());
}

#[test]
fn malformed_and_hostile_containers_are_dropped_synthetic() {
    // Truncated: the file ends inside the container.
    let whole = container(&[entry(KIND_SASS, 80, 0x11, (1, 8), &[0; 64], 0)]);
    assert!(walk(&whole[..whole.len() - 10], 7).is_empty());
    assert!(walk(&whole[..12], 7).is_empty());
    // An entry claiming more bytes than its container holds.
    let mut absurd = whole.clone();
    absurd[16 + 8..16 + 16].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(walk(&absurd, 5).is_empty());
    // A container claiming 2^64 bytes of payload: nothing is allocated for it.
    let mut huge = whole.clone();
    huge[8..16].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(walk(&huge, 5).is_empty());
    // An entry header size out of bounds, and an unknown kind.
    let mut big_header = whole.clone();
    big_header[16 + 4..16 + 8].copy_from_slice(&(1u32 << 30).to_le_bytes());
    assert!(walk(&big_header, 5).is_empty());
    let mut kind = whole.clone();
    kind[16] = 9;
    assert!(walk(&kind, 5).is_empty());
    // A good container after a bad one is still found.
    let mut mixed = kind.clone();
    mixed.extend(&whole);
    assert_eq!(
        names(&everywhere(&walk(&mixed, 3)), CodeKind::Sass),
        ["sm_80"]
    );
}

#[test]
fn container_and_target_counts_are_bounded_synthetic() {
    let entries: Vec<Vec<u8>> = (0..MAX_TARGETS as u32 + 50)
        .map(|i| entry(KIND_SASS, 20 + i, 0x11, (1, 8), &[], 0))
        .collect();
    let found = walk(&container(&entries), 1 << 16);
    assert_eq!(everywhere(&found).len(), MAX_TARGETS);
}

#[test]
fn membership_in_unsorted_overlapping_and_empty_ranges_is_exact_synthetic() {
    let sections = [
        (50, 60),
        (10, 20),
        (15, 30),
        (30, 31),
        (40, 40),
        (70, 65),
        (0, 1),
    ];
    let ranges = Ranges::merged(&sections);
    for offset in 0..100 {
        let naive = sections.iter().any(|&(s, e)| s <= offset && offset < e);
        assert_eq!(ranges.contains(offset), naive, "offset {offset}");
    }
    assert!(!Ranges::merged(&[]).contains(0));
    assert!(Ranges::merged(&[(0, u64::MAX)]).contains(u64::MAX - 1));
    assert!(!Ranges::merged(&[(0, u64::MAX)]).contains(u64::MAX));
}

/// As many sections as a file may declare (4,096) and as many containers as are kept (65,536),
/// all outside every section: each container is placed by a binary search, where testing it
/// against every section took about 4 s of CPU in a debug build (a second here, with margin
/// for a loaded machine).
#[test]
fn section_membership_costs_containers_times_log_sections_synthetic() {
    let target = parse_entry(&entry(KIND_SASS, 80, 0x11, (1, 8), &[], 0)).unwrap();
    let sections: Vec<(u64, u64)> = (0..4096u64).map(|i| (i * 100, i * 100 + 1)).collect();
    let found = Containers {
        found: (0..MAX_CONTAINERS as u64)
            .map(|i| Container {
                offset: (1 << 20) + i * 80,
                targets: BTreeSet::from([target]),
            })
            .collect(),
    };
    let started = std::time::Instant::now();
    assert!(found.within(&sections).is_empty());
    assert_eq!(found.outside(&sections), MAX_CONTAINERS);
    let took = started.elapsed();
    assert!(took < std::time::Duration::from_secs(1), "took {took:?}");
}
