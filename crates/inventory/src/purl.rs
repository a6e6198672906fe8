//! Package URLs (purl spec): a tiny builder with the spec's percent-encoding.

/// Builds `pkg:type/namespace/name@version?qualifiers#subpath`.
#[derive(Debug, Clone)]
pub struct Purl {
    ty: String,
    namespace: Option<String>,
    name: String,
    version: Option<String>,
    qualifiers: Vec<(String, String)>,
}

impl Purl {
    pub fn new(ty: &str, name: &str) -> Self {
        Purl {
            ty: ty.to_ascii_lowercase(),
            namespace: None,
            name: name.to_string(),
            version: None,
            qualifiers: Vec::new(),
        }
    }

    pub fn namespace(mut self, namespace: &str) -> Self {
        self.namespace = Some(namespace.to_string());
        self
    }

    pub fn version(mut self, version: &str) -> Self {
        self.version = Some(version.to_string());
        self
    }

    /// Adds a qualifier; empty values are dropped, as the spec requires.
    pub fn qualifier(mut self, key: &str, value: &str) -> Self {
        if !value.is_empty() {
            self.qualifiers
                .push((key.to_ascii_lowercase(), value.to_string()));
        }
        self
    }
}

impl std::fmt::Display for Purl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "pkg:{}/", self.ty)?;
        if let Some(ns) = &self.namespace {
            for segment in ns.split('/').filter(|s| !s.is_empty()) {
                write!(f, "{}/", encode(segment))?;
            }
        }
        f.write_str(&encode(&self.name))?;
        if let Some(v) = &self.version {
            write!(f, "@{}", encode(v))?;
        }
        let mut qualifiers = self.qualifiers.clone();
        qualifiers.sort();
        for (i, (k, v)) in qualifiers.iter().enumerate() {
            write!(f, "{}{k}={}", if i == 0 { '?' } else { '&' }, encode(v))?;
        }
        Ok(())
    }
}

/// Percent-encodes everything but unreserved characters (`A-Z a-z 0-9 - . _ ~`).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Undoes [`encode`] (and any other percent-encoding), so `libstdc%2B%2B6`
/// and `libstdc++6` read as one name; a `%` not followed by two hex digits
/// stays as written.
pub fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deb_with_epoch_and_plus() {
        let p = Purl::new("deb", "libc6")
            .namespace("debian")
            .version("1:2.36-9+deb12u4")
            .qualifier("distro", "debian-12")
            .qualifier("arch", "amd64")
            .qualifier("upstream", "");
        assert_eq!(
            p.to_string(),
            "pkg:deb/debian/libc6@1%3A2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12"
        );
    }

    #[test]
    fn pypi_and_generic() {
        assert_eq!(
            Purl::new("pypi", "six").version("1.16.0").to_string(),
            "pkg:pypi/six@1.16.0"
        );
        assert_eq!(
            Purl::new("generic", "cuda-runtime")
                .namespace("nvidia")
                .version("12.1.105")
                .to_string(),
            "pkg:generic/nvidia/cuda-runtime@12.1.105"
        );
    }

    #[test]
    fn decode_undoes_encode_synthetic() {
        for name in ["libstdc++6", "1:2.36-9+deb12u4", "a b/c@d", "naïve"] {
            assert_eq!(decode(&encode(name)), name);
        }
        assert_eq!(decode("100%"), "100%");
        assert_eq!(decode("%zz%2"), "%zz%2");
    }
}
