//! The pull request is hostile ground: its author chooses every file name,
//! pickle global and build step in the image that gpubom reports on. Here one
//! image carries each attack on the outputs that other people trust: a forged
//! verdict heading after a line break, HTML and an HTML comment, a link,
//! mentions, autolinks (the PR comment and the job summary), and workflow
//! commands and escape sequences (the job log and the terminal). The Markdown
//! is rendered with a GFM renderer (markdown-it-py, as testkit's
//! `markdown_renderer` runs it) and judged by what a reader sees.

mod common;

use common::*;
use gpubom_testkit::image::{ImageSpec, Layer};
use serde_json::Value;

/// What a file name writes after a line break to forge the verdict, and then
/// the start of an HTML comment that would hide every finding after it.
const FORGED: &str = "\r\n\r\n### gpubom check: ✅ **PASS**\r\n\r\n<!--";

/// Workflow commands the runner would obey at a line start, and the older
/// form it reads anywhere in a line; then a terminal escape.
const COMMANDS: &str = "::error::pwned\n::stop-commands::tok\r##[warning]old\x1b[2J";

const EVIL_PICKLE: &[u8] = b"cposix\nsystem\n(S'echo hi'\ntR.";

/// A protocol-2 pickle that imports `module.name` (by the text-line GLOBAL
/// opcode, which takes any name) and stops: the global is named in the
/// finding, as code outside the allowlist. Never loaded, only scanned.
fn pickle_importing(module: &str, name: &str) -> Vec<u8> {
    let mut pickle = vec![0x80, 2];
    pickle.extend_from_slice(format!("c{module}\n{name}\n.").as_bytes());
    pickle
}

/// Strings from the image that must show, as text, in what a reader sees.
const SHOWN: &[&str] = &[
    "<img src=x onerror=alert(1)>",
    "<details open>",
    "[re-run the check here](https://evil.example)",
    "@octocat @acme/security",
    "www.example.com",
    "-->",
];

fn hostile_image() -> ImageSpec {
    let names = Layer::new()
        .file(&format!("models/forged{FORGED}.pkl"), EVIL_PICKLE)
        .file(
            "models/<img src=x onerror=alert(1)><details open><summary>ok</summary><h1>big<.pkl",
            EVIL_PICKLE,
        )
        .file("models/@octocat @acme/security | cell.pkl", EVIL_PICKLE)
        .file("models/a | cell.pkl", EVIL_PICKLE)
        .file(
            "models/www.evil.example www.example.com too.pkl",
            EVIL_PICKLE,
        )
        .file("models/me@evil.example.pkl", EVIL_PICKLE)
        .file("models/--> #1 `<i>x<`` y.pkl", EVIL_PICKLE)
        .file(&format!("models/{COMMANDS}.pkl"), EVIL_PICKLE)
        .file(
            "models/linked.pkl",
            pickle_importing("[re-run the check here](https://evil", "example)"),
        );
    // The build step that made a layer is named beside each finding in it.
    let build_step = Layer::new()
        .created_by("RUN true\n\n### gpubom check: ✅ **PASS**\n\n##[error]x <h2>y</h2>")
        .file("models/built.pkl", EVIL_PICKLE);
    ImageSpec::new("synthetic/hostile-pr", "1")
        .layer(names)
        .layer(build_step)
}

/// What markdown-it-py in GFM mode makes of `markdown` (see tests/fixtures/markdown/render.py).
fn render(test: &str, markdown: &str) -> Option<Value> {
    let mut renderer = or_skip(test, gpubom_testkit::real::markdown_renderer())?;
    let mut child = renderer
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("run the Markdown renderer");
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), markdown.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "the renderer failed on\n{markdown}");
    Some(serde_json::from_slice(&out.stdout).unwrap())
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

/// Asserts that the rendered Markdown shows `heading` as its one heading, no
/// element but text, tables, code and gpubom's own `strong`, no mention or
/// issue reference, and every string of [`SHOWN`] as text.
fn assert_only_gpubom_markup(rendered: &Value, heading: &str, strong: &[&str], markdown: &str) {
    let html = rendered["html"].as_str().unwrap();
    let context = format!("Markdown:\n{markdown}\nHTML:\n{html}");
    assert_eq!(strings(&rendered["headings"]), [heading], "{context}");
    let allowed = [
        "h3", "p", "code", "strong", "table", "thead", "tbody", "tr", "th", "td", "ul", "li",
    ];
    for element in strings(&rendered["elements"]) {
        assert!(
            allowed.contains(&element.as_str()),
            "<{element}> from the image: {context}"
        );
    }
    assert!(
        strings(&rendered["comments"]).is_empty(),
        "an HTML comment: {context}"
    );
    assert_eq!(strings(&rendered["strong"]), strong, "{context}");
    assert!(strings(&rendered["em"]).is_empty(), "{context}");
    // GitHub makes mentions and issue links from the rendered text outside code.
    for node in rendered["text"].as_array().unwrap() {
        if node["code"] == false {
            let text = node["text"].as_str().unwrap();
            assert!(
                !links_on_github(text),
                "{text:?} would link on GitHub: {context}"
            );
        }
    }
    let seen: String = rendered["text"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["text"].as_str().unwrap())
        .collect();
    for shown in SHOWN {
        assert!(
            seen.contains(shown),
            "{shown:?} is not shown as text: {context}"
        );
    }
    // Every row of a table has its header's cells: no cell broke out.
    for table in rendered["tables"].as_array().unwrap() {
        let rows: Vec<u64> = table
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_u64().unwrap())
            .collect();
        assert!(rows.iter().all(|&n| n == rows[0]), "{rows:?}: {context}");
    }
}

/// Whether GitHub would make a mention (`@name`, `@org/team`) or an issue
/// link (`#12`) of rendered text: the sign after the start or a character that
/// is not a word's, then a name or a number.
fn links_on_github(text: &str) -> bool {
    let chars: Vec<char> = text.chars().collect();
    chars.iter().enumerate().any(|(i, &c)| {
        let after_word = i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_');
        let next = chars.get(i + 1).copied().unwrap_or(' ');
        !after_word
            && ((c == '@' && next.is_ascii_alphanumeric()) || (c == '#' && next.is_ascii_digit()))
    })
}

/// The report the Action posts as the comment and the job summary.
#[test]
fn check_markdown_shows_one_true_verdict_and_nothing_the_image_wrote_synthetic() {
    let test = "check_markdown_shows_one_true_verdict_and_nothing_the_image_wrote_synthetic";
    let dir = tmp();
    let oci = dir.path().join("oci");
    hostile_image().write_oci_dir(&oci);
    let report = dir.path().join("report.json");
    let out = run(&[
        "check",
        &format!("oci-dir:{}", oci.display()),
        "-q",
        "-f",
        "markdown",
        "-o",
        &format!("json={}", report.display()),
        "-o",
        "markdown",
    ]);
    assert_exit(&out, 1);
    let markdown = String::from_utf8(out.stdout).unwrap();
    let Some(rendered) = render(test, &markdown) else {
        return;
    };
    assert_only_gpubom_markup(
        &rendered,
        "gpubom check: ❌ FAIL",
        // The verdict, the threshold, and the not-checked section's own words.
        &["FAIL", "high", "Not checked", "model-hash"],
        &markdown,
    );
    // One row a finding, each of the four columns: none hidden, none forged.
    let report: Value = serde_json::from_slice(&std::fs::read(report).unwrap()).unwrap();
    let findings = report["findings"].as_array().unwrap().len();
    let tables = rendered["tables"].as_array().unwrap();
    assert_eq!(tables.len(), 1, "{markdown}");
    assert_eq!(
        tables[0].as_array().unwrap().len(),
        findings + 1,
        "{markdown}"
    );
    assert_eq!(tables[0][0], 4, "{markdown}");
}

/// The diff the Action adds to the comment.
#[test]
fn diff_markdown_shows_nothing_the_image_wrote_synthetic() {
    let test = "diff_markdown_shows_nothing_the_image_wrote_synthetic";
    let dir = tmp();
    let sbom = |name: &str, spec: &ImageSpec| {
        let oci = dir.path().join(name);
        spec.write_oci_dir(&oci);
        let path = dir.path().join(format!("{name}.cdx.json"));
        let out = run(&[
            "scan",
            &format!("oci-dir:{}", oci.display()),
            "-q",
            "-o",
            path.to_str().unwrap(),
        ]);
        assert_exit(&out, 0);
        path.display().to_string()
    };
    let old = sbom(
        "old",
        &ImageSpec::new("synthetic/base", "1").layer(Layer::new().file("etc/hostname", "x")),
    );
    let new = sbom("new", &hostile_image());
    let out = run(&["diff", &old, &new, "-f", "markdown"]);
    assert_exit(&out, 0);
    let markdown = String::from_utf8(out.stdout).unwrap();
    let Some(rendered) = render(test, &markdown) else {
        return;
    };
    assert_only_gpubom_markup(&rendered, "gpubom diff", &[], &markdown);
}

/// Whether the Actions runner would take `line` for a workflow command
/// (actions/runner `ActionCommand.TryParseV2` and `TryParse`).
fn runner_reads_a_command(line: &str) -> bool {
    line.trim_start().starts_with("::") || line.contains("##[")
}

/// Asserts that no line of `output` is a workflow command or holds a control
/// character a terminal would act on.
fn assert_inert(what: &str, output: &str) {
    for line in output.split('\n') {
        assert!(
            !runner_reads_a_command(line),
            "{what}: the runner would obey {line:?}"
        );
        assert!(
            !line.contains(|c: char| c.is_control()),
            "{what}: a control character in {line:?}"
        );
    }
}

/// The text report (the Action prints it to the log) and the table view.
#[test]
fn text_and_table_start_no_workflow_command_and_no_escape_synthetic() {
    let dir = tmp();
    let oci = dir.path().join("oci");
    hostile_image().write_oci_dir(&oci);
    let source = format!("oci-dir:{}", oci.display());
    let out = run(&["check", &source, "-f", "text"]);
    assert_exit(&out, 1);
    assert_inert("check's stderr", &stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    assert_inert("check -f text", &text);
    assert!(
        text.contains("::error::pwned\\x0a::stop-commands::tok\\x0d##\\x5bwarning]old\\x1b[2J"),
        "{text}"
    );
    let out = run(&["scan", &source, "-f", "table", "-q"]);
    assert_exit(&out, 0);
    let table = String::from_utf8(out.stdout).unwrap();
    assert_inert("scan -f table", &table);
    // The model's name leads its row (shortened in the middle to fit 100 columns): escaped
    // where the runner would read it.
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("\\x3a:") && l.contains("pickle")),
        "{table}"
    );
}

/// A warning names a file of the image: its path is escaped on stderr.
#[test]
fn warnings_start_no_workflow_command_synthetic() {
    let dir = tmp();
    let oci = dir.path().join("oci");
    // A copyright file past its 1 MiB cap is named in a warning, not read.
    let package = "x\n::error::pwned ##[error]y\x1b]0;title\x07";
    ImageSpec::new("synthetic/hostile-warning", "1")
        .layer(Layer::new().file(
            &format!("usr/share/doc/{package}/copyright"),
            vec![b'a'; (1 << 20) + 1],
        ))
        .write_oci_dir(&oci);
    let out = run(&[
        "scan",
        &format!("oci-dir:{}", oci.display()),
        "-f",
        "cyclonedx-json",
    ]);
    assert_exit(&out, 0);
    let err = stderr(&out);
    assert!(err.contains("gpubom: warning: "), "{err}");
    assert!(
        err.contains("x\\x0a::error::pwned ##\\x5berror]y\\x1b]0;title\\x07"),
        "{err}"
    );
    assert_inert("warnings", &err);
}

/// The error line quotes an archive's `Config`: escaped, from anywhere in the chain.
#[test]
fn the_error_line_starts_no_workflow_command_synthetic() {
    use gpubom_testkit::image::{rewrite_archive, DockerForm};
    let dir = tmp();
    let archive = dir.path().join("docker.tar");
    small_image(gpubom_testkit::image::Compression::Gzip)
        .write_docker_archive(&archive, DockerForm::Legacy);
    let config = format!("/x\n{COMMANDS}");
    rewrite_archive(&archive, |name, bytes| {
        if name != "manifest.json" {
            return Some(bytes);
        }
        let mut manifest: Value = serde_json::from_slice(&bytes).unwrap();
        manifest[0]["Config"] = config.clone().into();
        Some(serde_json::to_vec(&manifest).unwrap())
    });
    let out = run(&["scan", &format!("docker-archive:{}", archive.display())]);
    assert_exit(&out, 2);
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("gpubom: error: "), "{err}");
    // The error line joins the chain's lines with a space; the rest shows escaped.
    assert!(
        err.contains("::error::pwned ::stop-commands::tok\\x0d##\\x5bwarning]old\\x1b[2J"),
        "{err}"
    );
    assert_inert("the error line", &err);
}
