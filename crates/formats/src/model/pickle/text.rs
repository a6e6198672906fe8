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
    let mut s = line;
    while let [first, rest @ ..] = s {
        if !py_isspace(*first) {
            break;
        }
        s = rest;
    }
    while let [rest @ .., last] = s {
        if !py_isspace(*last) {
            break;
        }
        s = rest;
    }
    let (negative, s) = match s {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        _ => (false, s),
    };
    if s.is_empty() || s.first() == Some(&b'_') || s.last() == Some(&b'_') {
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
        let digit = char::from(b).to_digit(10)?;
        value = value.checked_mul(10)?.checked_add(i64::from(digit))?;
    }
    if negative {
        value.checked_neg()
    } else {
        Some(value)
    }
}

/// The STRING opcode's argument: quoted, with Python's bytes escapes
/// (`PyBytes_DecodeEscape`). Python 3 then decodes the bytes as text.
pub fn quoted_string(line: &[u8]) -> Result<String, String> {
    let body = match line {
        [quote @ (b'\'' | b'"'), body @ .., last] if last == quote => body,
        _ => return Err("STRING argument is not quoted".into()),
    };
    let mut out = Vec::with_capacity(body.len());
    let mut rest = body;
    while let [b, after @ ..] = rest {
        rest = after;
        if *b != b'\\' {
            out.push(*b);
            continue;
        }
        // The escape, from the character after the backslash on.
        let escape = rest;
        let [e, after @ ..] = escape else {
            return Err("STRING argument ends in a lone backslash".into());
        };
        let e = *e;
        rest = after;
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
                // One to three octal digits, `e` the first; C keeps the low byte.
                let len = escape
                    .iter()
                    .take(3)
                    .take_while(|d| matches!(d, b'0'..=b'7'))
                    .count();
                let (digits, after) = escape.split_at(len);
                let value = std::str::from_utf8(digits)
                    .ok()
                    .and_then(|d| u32::from_str_radix(d, 8).ok())
                    .ok_or("STRING argument has an invalid octal escape")?;
                out.push(value as u8);
                rest = after;
            }
            b'x' => {
                let (hex, after) = rest
                    .split_at_checked(2)
                    .ok_or("STRING argument has an invalid \\x escape")?;
                let hex = std::str::from_utf8(hex)
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or("STRING argument has an invalid \\x escape")?;
                out.push(hex);
                rest = after;
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
    let mut rest = line;
    while let [b, after @ ..] = rest {
        if *b != b'\\' {
            out.push(char::from(*b));
            rest = after;
            continue;
        }
        let run = rest.iter().take_while(|&&c| c == b'\\').count();
        rest = rest.split_at(run).1;
        let digits = match rest {
            [b'u', ..] => 4,
            [b'U', ..] => 8,
            _ => 0,
        };
        let escape = run % 2 == 1 && digits > 0;
        // The last backslash of an odd run is the escape's own.
        out.extend(std::iter::repeat_n(
            '\\',
            run.saturating_sub(usize::from(escape)),
        ));
        if !escape {
            continue;
        }
        let (hex, after) = rest
            .get(1..)
            .and_then(|r| r.split_at_checked(digits))
            .ok_or("UNICODE argument has a truncated \\u escape")?;
        let code = std::str::from_utf8(hex)
            .ok()
            .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .ok_or("UNICODE argument has a truncated \\u escape")?;
        out.push(char::from_u32(code).ok_or("UNICODE argument escapes past U+10FFFF")?);
        rest = after;
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
