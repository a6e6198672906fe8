//! Crafted pickles: each is what CPython's unpickler would read as stated in
//! the test, and the scan must see the same import.

use super::*;

fn scan_bytes(bytes: &[u8]) -> PickleScan {
    scan(&mut &bytes[..], &PickleLimits::default(), true)
}

fn risks(s: &PickleScan) -> Vec<(String, Risk)> {
    s.flagged
        .iter()
        .map(|g| (g.global.clone(), g.risk))
        .collect()
}

#[test]
fn protocol0_global_synthetic() {
    // pickle.dumps(os.system, protocol=0) in CPython 3.11 on Linux.
    let s = scan_bytes(b"cposix\nsystem\np0\n.");
    assert!(s.stopped && s.incomplete.is_none());
    assert_eq!(risks(&s), vec![("posix.system".into(), Risk::Primitive)]);
}

#[test]
fn stack_global_through_memo_synthetic() {
    let bytes = b"\x80\x04\x8c\nsubprocess\x94\x8c\x05Popen\x94\x93\x94.";
    let s = scan_bytes(bytes);
    let g = s.flagged.iter().next().unwrap();
    assert_eq!(
        (g.global.as_str(), g.opcode, g.risk),
        ("subprocess.Popen", "STACK_GLOBAL", Risk::Primitive)
    );
}

#[test]
fn allowlisted_state_dict_synthetic() {
    let s = scan_bytes(b"\x80\x02ccollections\nOrderedDict\nq\x00)Rq\x01.");
    assert!(s.flagged.is_empty() && s.stopped && s.incomplete.is_none());
    assert!(s.globals.contains("collections.OrderedDict"));
}

#[test]
fn python2_builtins_are_judged_as_python3_synthetic() {
    let s = scan_bytes(b"c__builtin__\neval\n(S'1'\ntR.");
    assert_eq!(risks(&s), vec![("builtins.eval".into(), Risk::Primitive)]);
}

/// `p1_0` is memo key 10 for Python; `g10` then reads what `p1_0` wrote last.
#[test]
fn memo_keys_follow_python_int_synthetic() {
    let bytes = b"S'collections'\np10\n0S'posix'\np1_0\n0g10\nS'system'\n\x93.";
    let s = scan_bytes(bytes);
    assert_eq!(risks(&s), vec![("posix.system".into(), Risk::Primitive)]);
    // `p-0` is key 0.
    let bytes = b"S'collections'\np0\n0S'posix'\np-0\n0g0\nS'system'\n\x93.";
    assert_eq!(
        risks(&scan_bytes(bytes)),
        vec![("posix.system".into(), Risk::Primitive)]
    );
}

#[test]
fn memo_keys_python_rejects_stop_the_scan_synthetic() {
    for bad in [
        &b"S'x'\np1__0\n."[..],
        b"S'x'\np0x1\n.",
        b"S'x'\np-1\n.",
        b"g7\n.",
    ] {
        let s = scan_bytes(bad);
        assert!(s.incomplete.is_some(), "{:?}", String::from_utf8_lossy(bad));
    }
}

#[test]
fn escaped_strings_are_decoded_as_python_does_synthetic() {
    let s = scan_bytes(b"V\\u0070osix\nVsystem\n\x93.");
    assert_eq!(risks(&s), vec![("posix.system".into(), Risk::Primitive)]);
    let s = scan_bytes(b"S'pos\\x69x'\nS\"sys\\164em\"\n\x93.");
    assert_eq!(risks(&s), vec![("posix.system".into(), Risk::Primitive)]);
}

#[test]
fn unnameable_imports_are_unknown_not_safe_synthetic() {
    // STACK_GLOBAL on values the scan cannot name.
    let s = scan_bytes(b"\x80\x04K\x01K\x02\x93.");
    assert!(s.incomplete.is_some());
    // EXT1: an import through copyreg's extension registry.
    let s = scan_bytes(b"\x80\x02\x82\x01.");
    assert!(s.incomplete.unwrap().contains("extension"));
}

#[test]
fn library_classes_are_unlisted_and_torchscript_is_archive_code_synthetic() {
    let s = scan_bytes(b"\x80\x02ctorch.nn.modules.linear\nLinear\nq\x00.");
    assert_eq!(
        risks(&s),
        vec![("torch.nn.modules.linear.Linear".into(), Risk::Unlisted)]
    );
    let s = scan_bytes(b"\x80\x02c__torch__.m\nNet\nq\x00.");
    assert_eq!(
        risks(&s),
        vec![("__torch__.m.Net".into(), Risk::ArchiveCode)]
    );
}

#[test]
fn garbage_and_limits_synthetic() {
    assert!(scan_bytes(b"\xff\xfe").incomplete.is_some());
    assert!(scan_bytes(b"\x80\x04\x8c\x05abc").incomplete.is_some());
    let deep = vec![b'('; 200_000];
    assert!(scan_bytes(&deep).incomplete.unwrap().contains("deeper"));
    let limits = PickleLimits {
        max_ops: 10,
        ..Default::default()
    };
    let many = [b'N'; 100];
    assert!(scan(&mut &many[..], &limits, false)
        .incomplete
        .unwrap()
        .contains("opcodes"));
    let limits = PickleLimits {
        max_values: 3,
        ..Default::default()
    };
    let tuples = [b')'; 10];
    assert!(scan(&mut &tuples[..], &limits, false)
        .incomplete
        .unwrap()
        .contains("values"));
}

/// joblib.dump(np.arange(3.0)) as joblib 1.6 writes it, built here: the
/// wrapper's state, then a padding byte, padding, and 3 × 8 array bytes.
fn synthetic_joblib(array_bytes: &[u8], after: &[u8]) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(b"\x80\x04");
    b.extend_from_slice(
        b"\x8c\x13joblib.numpy_pickle\x94\x8c\x11NumpyArrayWrapper\x94\x93\x94)\x81\x94}\x94(",
    );
    b.extend_from_slice(b"\x8c\x08subclass\x94\x8c\x05numpy\x94\x8c\x07ndarray\x94\x93\x94");
    b.extend_from_slice(b"\x8c\x05shape\x94K\x03\x85\x94");
    b.extend_from_slice(b"\x8c\x05order\x94\x8c\x01C\x94");
    b.extend_from_slice(
        b"\x8c\x05dtype\x94h\x06\x8c\x05dtype\x94\x93\x94\x8c\x02f8\x94\x89\x88\x87\x94R\x94",
    );
    b.extend_from_slice(b"(K\x03\x8c\x01<\x94NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00t\x94b");
    b.extend_from_slice(
        b"\x8c\x0aallow_mmap\x94\x88\x8c\x1bnumpy_array_alignment_bytes\x94K\x10ub",
    );
    b.push(2);
    b.extend_from_slice(&[0, 0]);
    b.extend_from_slice(array_bytes);
    b.extend_from_slice(after);
    b
}

#[test]
fn joblib_array_bytes_are_skipped_synthetic() {
    let s = scan_bytes(&synthetic_joblib(&[0x63; 24], b"."));
    assert!(s.incomplete.is_none() && s.stopped, "{:?}", s.incomplete);
    assert!(s.flagged.is_empty(), "{:?}", s.flagged);
    // What follows the array is still read as pickle: an import there is seen.
    let s = scan_bytes(&synthetic_joblib(&[0; 24], b"cposix\nsystem\n."));
    assert_eq!(risks(&s), vec![("posix.system".into(), Risk::Primitive)]);
    // Too few array bytes: the stream is truncated.
    assert!(scan_bytes(&synthetic_joblib(&[0; 10], b""))
        .incomplete
        .is_some());
}

/// A joblib stream of `wrappers` object arrays, each followed by the nested
/// pickle joblib's loader reads for it: `nested_ops` × NONE POP, then STOP.
fn synthetic_joblib_object_arrays(wrappers: usize, nested_ops: usize) -> Vec<u8> {
    let one = synthetic_joblib(&[], b"");
    // The wrapper and its state, without the protocol header or the raw-array
    // padding, with dtype f8 turned into O8 (an object array).
    let mut body = one[2..one.len() - 3].to_vec();
    let f8 = body.windows(3).position(|w| w == b"\x8c\x02f").unwrap();
    body[f8 + 2] = b'O';
    let mut b = b"\x80\x04".to_vec();
    for _ in 0..wrappers {
        b.extend_from_slice(&body);
        for _ in 0..nested_ops / 2 {
            b.extend_from_slice(b"N0");
        }
        b.push(b'.');
    }
    b.push(b'.');
    b
}

/// Found while bounding the `model` fuzz target's timeout: each joblib
/// object array ran its nested pickle with a fresh `max_ops`, so one stream
/// could execute `max_ops` × (number of wrappers) opcodes. They now share
/// one count.
#[test]
fn fuzz_regression_joblib_nested_pickles_share_the_opcode_budget_synthetic() {
    let bytes = synthetic_joblib_object_arrays(8, 400);
    let whole = scan(&mut &bytes[..], &PickleLimits::default(), true);
    assert!(whole.incomplete.is_none(), "{:?}", whole.incomplete);
    assert!(whole.ops > 8 * 400, "{}", whole.ops);
    let limits = PickleLimits {
        max_ops: 1_000,
        ..Default::default()
    };
    let s = scan(&mut &bytes[..], &limits, true);
    assert!(
        s.incomplete
            .as_deref()
            .is_some_and(|w| w.contains("opcodes")),
        "{:?}",
        s.incomplete
    );
    assert!(s.ops <= 1_000, "{}", s.ops);
}

/// Items held in tuples count towards the bytes a pickle may hold, and the
/// scan says a cap stopped it (`limited`), so a later pickle in the file is
/// not taken for trailing bytes.
#[test]
fn items_held_count_towards_the_byte_cap_synthetic() {
    let limits = PickleLimits {
        max_bytes: 1 << 20,
        ..Default::default()
    };
    let mut tuples = Vec::new();
    for _ in 0..20 {
        tuples.push(b'(');
        tuples.extend(std::iter::repeat_n(b'N', 5_000));
        tuples.push(b't');
    }
    let s = scan(&mut &tuples[..], &limits, false);
    assert!(s.limited, "{s:?}");
    assert!(s.incomplete.unwrap().contains("1 MiB of values"));
    let fewer = &tuples[..tuples.len() / 4];
    assert!(!scan(&mut &fewer[..], &limits, false).limited);
}
