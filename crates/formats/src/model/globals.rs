//! What a global imported by a pickle means for whoever loads it.
//!
//! Three lists decide, in this order. The known code-execution primitives
//! (`data/pickle-primitives.tsv`, each with its source) make a file `unsafe`.
//! The allowlist below is what weights-only checkpoints legitimately need;
//! it is the same ground `torch.load(weights_only=True)` stands on, so an
//! allowlisted file is `safe`. Everything else is `suspicious`: it runs
//! library code that is not known to be an attack, but that nothing vouches
//! for either. A deny-list alone can always be bypassed by another callable;
//! the allowlist is what keeps `safe` honest.

use std::sync::OnceLock;

/// How a single imported global is judged.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum Risk {
    /// On the allowlist: rebuilds data, runs no caller-chosen code.
    Allowed,
    /// A TorchScript class (`__torch__.*`): code shipped inside the archive itself.
    ArchiveCode,
    /// Outside the allowlist, but not a known code-execution primitive.
    Unlisted,
    /// A known code-execution primitive (os.system, eval, subprocess…).
    Primitive,
}

/// Globals a weights-only checkpoint (PyTorch state dicts, NumPy arrays,
/// joblib arrays) imports. Each rebuilds data; none runs caller-chosen code.
const ALLOWED: &[&str] = &[
    // Ordered containers of tensors: the state dict itself.
    "collections.OrderedDict",
    // PyTorch's tensor and parameter rebuilders (what torch.load's weights_only allows).
    "torch._utils._rebuild_tensor",
    "torch._utils._rebuild_tensor_v2",
    "torch._utils._rebuild_tensor_v3",
    "torch._utils._rebuild_parameter",
    "torch._utils._rebuild_parameter_with_state",
    "torch._utils._rebuild_qtensor",
    "torch._utils._rebuild_sparse_tensor",
    "torch._utils._rebuild_meta_tensor_no_storage",
    "torch._utils._rebuild_wrapper_subclass",
    "torch._utils._rebuild_device_tensor_from_numpy",
    "torch._tensor._rebuild_from_type_v2",
    "torch.Size",
    "torch.device",
    "torch.storage.UntypedStorage",
    // NumPy arrays and scalars (module renamed numpy._core in NumPy 2).
    "numpy.core.multiarray._reconstruct",
    "numpy.core.multiarray.scalar",
    "numpy._core.multiarray._reconstruct",
    "numpy._core.multiarray.scalar",
    "numpy.ndarray",
    "numpy.dtype",
    // joblib's own array wrappers: joblib.load reads the array bytes that follow them.
    "joblib.numpy_pickle.NumpyArrayWrapper",
    "joblib.numpy_pickle.NDArrayWrapper",
    "joblib.numpy_pickle.ZNDArrayWrapper",
    // Protocol 2 encodes bytes through _codecs.encode(str, 'latin1').
    "_codecs.encode",
    // Plain data types.
    "builtins.set",
    "builtins.frozenset",
    "builtins.slice",
    "builtins.complex",
    "builtins.bytearray",
    "builtins.range",
    // Instantiates the class it is given, which is itself a checked global.
    "copyreg._reconstructor",
];

/// dtypes and storage classes: `torch.float32`, `torch.FloatStorage`, …
fn allowed(global: &str) -> bool {
    if ALLOWED.contains(&global) {
        return true;
    }
    let Some(name) = global.strip_prefix("torch.") else {
        return false;
    };
    let storage = name.ends_with("Storage") && name.bytes().all(|b| b.is_ascii_alphanumeric());
    let dtype = matches!(
        name,
        "float16"
            | "float32"
            | "float64"
            | "bfloat16"
            | "half"
            | "float"
            | "double"
            | "int8"
            | "int16"
            | "int32"
            | "int64"
            | "uint8"
            | "bool"
            | "complex64"
            | "complex128"
            | "float8_e4m3fn"
            | "float8_e5m2"
    );
    storage || dtype
}

/// Python 2 module names that unpickling maps to Python 3's (pickle's `fix_imports`).
fn python3_module(module: &str) -> &str {
    match module {
        "__builtin__" | "exceptions" => "builtins",
        "copy_reg" => "copyreg",
        "cPickle" => "pickle",
        "httplib" => "http.client",
        "urllib2" => "urllib.request",
        other => other,
    }
}

struct Primitive {
    module: String,
    /// `None` for every name in the module (and its submodules).
    name: Option<String>,
}

fn primitives() -> &'static [Primitive] {
    static TABLE: OnceLock<Vec<Primitive>> = OnceLock::new();
    TABLE.get_or_init(|| {
        include_str!("../../data/pickle-primitives.tsv")
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .filter_map(|l| {
                let mut cols = l.split('\t');
                let module = cols.next()?.to_string();
                let name = cols.next()?;
                Some(Primitive {
                    module,
                    name: (name != "*").then(|| name.to_string()),
                })
            })
            .collect()
    })
}

/// The canonical `module.name` spelling of a global, Python 2 names mapped.
pub fn canonical(module: &str, name: &str) -> String {
    format!("{}.{name}", python3_module(module))
}

/// Judges one imported global, given as module and (possibly dotted) name.
pub fn judge(module: &str, name: &str) -> Risk {
    let module = python3_module(module);
    // A dotted name is an attribute chain from the module: `os` + `path.join`
    // reaches the same objects as `os.path` + `join`, so compare full paths.
    let full = format!("{module}.{name}");
    let is_primitive = |path: &str| {
        let within = |prefix: &str| {
            path.strip_prefix(prefix)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
        };
        primitives().iter().any(|p| match &p.name {
            None => within(&p.module),
            Some(listed) => within(&format!("{}.{listed}", p.module)),
        })
    };
    // `find_class` follows a dotted name attribute by attribute, so `torch` +
    // `_utils.os.system` reaches `os.system` through a module that imported `os`: any
    // tail of the attribute chain that names a primitive is that primitive.
    fn after_dot(text: &str) -> Option<&str> {
        text.split_once('.').map(|(_, tail)| tail)
    }
    let mut chain_tails = std::iter::successors(after_dot(name), |tail| after_dot(tail));
    let primitive = is_primitive(&full) || chain_tails.any(is_primitive);
    if primitive {
        return Risk::Primitive;
    }
    if allowed(&full) {
        Risk::Allowed
    } else if module == "__torch__" || module.starts_with("__torch__.") {
        Risk::ArchiveCode
    } else {
        Risk::Unlisted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grades() {
        assert_eq!(judge("posix", "system"), Risk::Primitive);
        assert_eq!(judge("__builtin__", "eval"), Risk::Primitive);
        assert_eq!(judge("builtins", "getattr"), Risk::Primitive);
        assert_eq!(judge("subprocess", "Popen"), Risk::Primitive);
        assert_eq!(judge("os.path", "join"), Risk::Primitive);
        // Reaching a listed module through a dotted name is the same module.
        assert_eq!(judge("builtins", "eval.__call__"), Risk::Primitive);
        // A primitive reached through another module's attribute (protocol 4 allows dots).
        assert_eq!(judge("torch", "_utils.os.system"), Risk::Primitive);
        assert_eq!(judge("collections", "abc.builtins.exec"), Risk::Primitive);
        assert_eq!(judge("torch._utils", "_rebuild_tensor_v2"), Risk::Allowed);
        assert_eq!(judge("torch", "load"), Risk::Primitive);
        assert_eq!(judge("collections", "OrderedDict"), Risk::Allowed);
        assert_eq!(judge("__builtin__", "set"), Risk::Allowed);
        assert_eq!(judge("torch", "FloatStorage"), Risk::Allowed);
        assert_eq!(judge("torch.nn.modules.linear", "Linear"), Risk::Unlisted);
        assert_eq!(
            judge("__torch__.torch.nn.modules.linear", "Linear"),
            Risk::ArchiveCode
        );
        assert_eq!(
            judge("sklearn.linear_model._base", "LinearRegression"),
            Risk::Unlisted
        );
    }

    #[test]
    fn every_primitive_row_has_a_source() {
        for line in include_str!("../../data/pickle-primitives.tsv").lines() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let cols: Vec<&str> = line.split('\t').collect();
            assert_eq!(cols.len(), 3, "{line:?}");
            assert!(!cols[2].trim().is_empty(), "{line:?} has no source");
        }
    }
}
