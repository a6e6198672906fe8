//! Protocol-0 text arguments, decoded exactly as CPython's `_pickle` does.
//!
//! Protocol 0 spells memo keys, strings and import names as text lines. A
//! scanner that reads them differently from the unpickler can be shown one
//! thing while the loader runs another (`p1_0` is memo key 10 to Python), so
//! each rule here follows CPython's C unpickler; anything it would reject is
//! an error, which makes the verdict `unknown`, never `safe`.

/// `Py_ISSPACE`: the whitespace `PyLong_FromString` skips around a number.
fn py_isspace(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// A memo key as `PyLong_FromString(line, NULL, 10)` reads it: surrounding
/// whitespace, an optional sign, ASCII digits with single underscores between
/// them. `None` where Python raises, or where the value does not fit.
pub fn python_int(line: &[u8]) -> Option<i64> {
    let start = line.iter().position(|b| !py_isspace(*b))?;
    let end = line.iter().rposition(|b| !py_isspace(*b))? + 1;
    let mut s = &line[start..end];
    let negative = match s.first() {
        Some(b'-') => {
            s = &s[1..];
            true
        }
        Some(b'+') => {
            s = &s[1..];
            false
        }
        _ => false,
    };
    if s.is_empty() || s[0] == b'_' || s[s.len() - 1] == b'_' {
        return None;
    }
    let mut value: i64 = 0;
    let mut previous_underscore = false;
    for &b in s {
        if b == b'_' {
            if previous_underscore {
                return None;
            }
            previous_underscore = true;
            continue;
        }
        previous_underscore = false;
        if !b.is_ascii_digit() {
            return None;
        }
        value = value.checked_mul(10)?.checked_add(i64::from(b - b'0'))?;
    }
    Some(if negative { -value } else { value })
}

/// The STRING opcode's argument: quoted, with Python's bytes escapes
/// (`PyBytes_DecodeEscape`). Python 3 then decodes the bytes as text.
pub fn quoted_string(line: &[u8]) -> Result<String, String> {
    let quoted =
        line.len() >= 2 && line[0] == line[line.len() - 1] && (line[0] == b'\'' || line[0] == b'"');
    if !quoted {
        return Err("STRING argument is not quoted".into());
    }
    let body = &line[1..line.len() - 1];
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        let b = body[i];
        i += 1;
        if b != b'\\' {
            out.push(b);
            continue;
        }
        let Some(&e) = body.get(i) else {
            return Err("STRING argument ends in a lone backslash".into());
        };
        i += 1;
        match e {
            b'\n' => {}
            b'\\' | b'\'' | b'"' => out.push(e),
            b'b' => out.push(0x08),
            b'f' => out.push(0x0c),
            b't' => out.push(b'\t'),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b'v' => out.push(0x0b),
            b'a' => out.push(0x07),
            b'0'..=b'7' => {
                let mut v = u32::from(e - b'0');
                for _ in 0..2 {
                    match body.get(i) {
                        Some(d @ b'0'..=b'7') => {
                            v = v * 8 + u32::from(d - b'0');
                            i += 1;
                        }
                        _ => break,
                    }
                }
                out.push(v as u8);
            }
            b'x' => {
                let hex = body
                    .get(i..i + 2)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or("STRING argument has an invalid \\x escape")?;
                out.push(hex);
                i += 2;
            }
            // Python keeps unknown escapes as written.
            other => {
                out.push(b'\\');
                out.push(other);
            }
        }
    }
    String::from_utf8(out).map_err(|_| "STRING argument is not text".into())
}

/// The UNICODE opcode's argument: `raw-unicode-escape`, where only `\uXXXX`
/// and `\UXXXXXXXX` after an odd run of backslashes are escapes and every
/// other byte is a Latin-1 code point.
pub fn raw_unicode_escape(line: &[u8]) -> Result<String, String> {
    let mut out = String::with_capacity(line.len());
    let mut i = 0;
    while i < line.len() {
        if line[i] != b'\\' {
            out.push(char::from(line[i]));
            i += 1;
            continue;
        }
        let run_start = i;
        while i < line.len() && line[i] == b'\\' {
            i += 1;
        }
        let run = i - run_start;
        let escape = run % 2 == 1 && matches!(line.get(i), Some(b'u' | b'U'));
        let kept = if escape { run - 1 } else { run };
        out.extend(std::iter::repeat_n('\\', kept));
        if !escape {
            continue;
        }
        let digits = if line[i] == b'u' { 4 } else { 8 };
        i += 1;
        let code = line
            .get(i..i + digits)
            .and_then(|h| std::str::from_utf8(h).ok())
            .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .ok_or("UNICODE argument has a truncated \\u escape")?;
        out.push(char::from_u32(code).ok_or("UNICODE argument escapes past U+10FFFF")?);
        i += digits;
    }
    Ok(out)
}

/// GLOBAL and INST name lines: strict UTF-8, taken as they are.
pub fn utf8_line(line: &[u8]) -> Result<String, String> {
    String::from_utf8(line.to_vec()).map_err(|_| "import name is not UTF-8".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memo_keys_as_python_reads_them_synthetic() {
        assert_eq!(python_int(b"10"), Some(10));
        assert_eq!(python_int(b"1_0"), Some(10));
        assert_eq!(python_int(b" 7 \n"), Some(7));
        assert_eq!(python_int(b"-0"), Some(0));
        assert_eq!(python_int(b"+3"), Some(3));
        assert_eq!(python_int(b"007"), Some(7));
        assert_eq!(python_int(b"1__0"), None);
        assert_eq!(python_int(b"_1"), None);
        assert_eq!(python_int(b"1_"), None);
        assert_eq!(python_int(b"0x10"), None);
        assert_eq!(python_int(b""), None);
        assert_eq!(python_int(b"99999999999999999999"), None);
    }

    #[test]
    fn strings_as_python_reads_them_synthetic() {
        assert_eq!(quoted_string(b"'posix'").unwrap(), "posix");
        assert_eq!(quoted_string(b"\"sys\\x74em\"").unwrap(), "system");
        assert_eq!(quoted_string(b"'sy\\163tem'").unwrap(), "system");
        assert!(quoted_string(b"posix").is_err());
        assert!(quoted_string(b"'posix\"").is_err());
        assert_eq!(raw_unicode_escape(b"\\u0073ystem").unwrap(), "system");
        assert_eq!(raw_unicode_escape(b"\\\\u0073").unwrap(), "\\\\u0073");
        assert_eq!(raw_unicode_escape(b"\\\\\\u0073").unwrap(), "\\\\s");
        assert!(raw_unicode_escape(b"\\u00").is_err());
    }
}
