//! Every line gpubom prints itself, on stdout or stderr.
//!
//! Warnings name files from the image, errors quote what an image or a
//! registry sent, and `policy test` prints the names a repository chose. On a
//! terminal an escape sequence in them rewrites the screen; in a CI job, where
//! stdout and stderr are the job log, a line that starts with `::` (or holds
//! `##[`) is a workflow command the runner obeys. So no other module calls
//! `println!` or `eprintln!` (a test below checks it): each line goes through
//! [`for_terminal`] here. Reports rendered whole (the text report, the table)
//! escape their own lines and are written by `output::write`.

use gpubom_inventory::text::for_terminal;

/// A line on stdout: a result of the command.
pub fn out(line: &str) {
    println!("{}", for_terminal(line));
}

/// `gpubom: {message}` on stderr: progress a person may want to follow.
pub fn note(message: &str) {
    eprintln!("{}", for_terminal(&format!("gpubom: {message}")));
}

/// `gpubom: warning: {message}` on stderr.
pub fn warning(message: &str) {
    note(&format!("warning: {message}"));
}

/// Each of `messages` as a warning, unless the user asked for quiet (`-q`).
pub fn warnings(messages: impl IntoIterator<Item = impl AsRef<str>>, quiet: bool) {
    if !quiet {
        messages.into_iter().for_each(|m| warning(m.as_ref()));
    }
}

/// `gpubom: error: {message}` on stderr: the one line of a command that could not run.
pub fn error(message: &str) {
    note(&format!("error: {message}"));
}

#[cfg(test)]
mod tests {
    use gpubom_testkit::source::{files_using, PRINTING};

    /// The printing macros appear in this module only: a line printed anywhere
    /// else would reach the terminal and the job log unescaped.
    #[test]
    fn only_this_module_prints() {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut offenders = files_using(&src, &PRINTING);
        offenders.retain(|path| *path != src.join("console.rs"));
        assert!(
            offenders.is_empty(),
            "these print without crate::console: {offenders:?}"
        );
    }
}
