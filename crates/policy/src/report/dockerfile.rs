//! Where in the Dockerfile a SARIF result points, found through one index of the file.
//!
//! In a pull request gate the author writes the Dockerfile and, through the image, the
//! findings; a search of the whole file per finding made 200 tiny pickles and a 20 MB
//! Dockerfile cost a minute. The index is built once: the file upper-cased and where each
//! of its lines starts. Each distinct text searched for is looked up once, with a
//! vectorised substring search, and at most [`MAX_SEARCHES`] of them are; past
//! [`MAX_DOCKERFILE_BYTES`] the file is not indexed at all and every result points at
//! line 1. The cost is bounded by the file's size and the number of findings.

use memchr::memmem;
use std::cell::RefCell;
use std::collections::HashMap;

/// The most of a Dockerfile that is read for lines; results in a longer one point at line 1.
pub const MAX_DOCKERFILE_BYTES: usize = 1 << 20;

/// Distinct texts searched for in one file; a finding past them points at the `FROM` line.
/// Each search reads at most [`MAX_DOCKERFILE_BYTES`].
const MAX_SEARCHES: usize = 256;

pub(super) struct DockerfileIndex {
    /// The file with ASCII letters upper-cased (byte offsets unchanged); `None` past the bound.
    upper: Option<String>,
    /// Byte offset at which each line starts.
    line_starts: Vec<usize>,
    /// Upper-cased text → the line it is first on.
    searched: RefCell<HashMap<String, Option<usize>>>,
}

impl DockerfileIndex {
    pub(super) fn new(text: &str) -> DockerfileIndex {
        if text.len() > MAX_DOCKERFILE_BYTES {
            return DockerfileIndex {
                upper: None,
                line_starts: Vec::new(),
                searched: RefCell::default(),
            };
        }
        let line_starts = std::iter::once(0)
            .chain(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1))
            .collect();
        let index = DockerfileIndex {
            upper: Some(text.to_ascii_uppercase()),
            line_starts,
            searched: RefCell::default(),
        };
        // The line every result falls back to, known before any bound is reached.
        index.line_of("FROM");
        index
    }

    /// The first line (1-based) holding `needle`, ignoring ASCII case. None for an empty
    /// needle, a file past the bound, or one searched after [`MAX_SEARCHES`] others.
    pub(super) fn line_of(&self, needle: &str) -> Option<usize> {
        let upper = self.upper.as_deref()?;
        if needle.is_empty() {
            return None;
        }
        let needle = needle.to_ascii_uppercase();
        let mut searched = self.searched.borrow_mut();
        if let Some(line) = searched.get(&needle) {
            return *line;
        }
        if searched.len() >= MAX_SEARCHES {
            return None;
        }
        // A needle holds no line break, so where it starts is the line it is on.
        let line = memmem::find(upper.as_bytes(), needle.as_bytes())
            .map(|at| self.line_starts.partition_point(|&start| start <= at));
        searched.insert(needle, line);
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_found_ignoring_case_and_counted_from_one() {
        let index = DockerfileIndex::new("FROM debian:12\r\nrun pip install x\n\nexpose 22\n");
        assert_eq!(index.line_of("FROM"), Some(1));
        assert_eq!(index.line_of("RUN PIP install"), Some(2));
        assert_eq!(index.line_of("EXPOSE"), Some(4));
        assert_eq!(index.line_of("EXPOSE"), Some(4));
        assert_eq!(index.line_of("USER"), None);
        assert_eq!(index.line_of(""), None);
        // Across a line break is not on a line.
        assert_eq!(index.line_of("X EXPOSE"), None);
    }

    #[test]
    fn a_file_past_the_bound_is_not_searched() {
        let big = "RUN true\n".repeat(MAX_DOCKERFILE_BYTES / 9 + 1);
        assert!(big.len() > MAX_DOCKERFILE_BYTES);
        assert_eq!(DockerfileIndex::new(&big).line_of("RUN"), None);
        let fits = &big[..MAX_DOCKERFILE_BYTES - MAX_DOCKERFILE_BYTES % 9];
        assert_eq!(DockerfileIndex::new(fits).line_of("RUN"), Some(1));
    }

    #[test]
    fn distinct_searches_are_bounded() {
        let index = DockerfileIndex::new("FROM x\nRUN y\n");
        for i in 1..MAX_SEARCHES {
            assert_eq!(index.line_of(&format!("absent {i}")), None);
        }
        // Past the bound a new text is not searched; one searched before is still known.
        assert_eq!(index.line_of("RUN"), None);
        assert_eq!(index.line_of("absent 1"), None);
        assert_eq!(index.line_of("from"), Some(1));
    }
}
