//! The GitHub Action: `scripts/action/run.sh` and `install.sh` run as a runner would run
//! them (INPUT_* variables, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, a pull_request event
//! payload, RUNNER_TEMP), with the built binary as GPUBOM_BIN and a synthetic GitHub API
//! and release server (tests/fixtures/fake-github.py) on 127.0.0.1; plus textual checks
//! of action.yml and the example workflows.

mod common;

use common::*;
use gpubom_testkit::image::{ImageSpec, Layer};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

const REPO: &str = env!("CARGO_MANIFEST_DIR");

/// A synthetic image; root unless `user` is given.
fn image(dir: &Path, user: Option<&str>, ports: &[&str]) -> String {
    let mut spec = ImageSpec::new("example.com/synthetic/serving", "1.0")
        .label("org.opencontainers.image.source", "https://example.com/x")
        .label("org.opencontainers.image.revision", "0123abc")
        .layer(Layer::new().file("usr/lib/os-release", "ID=debian\nVERSION_ID=\"12\"\n"));
    if let Some(user) = user {
        spec = spec.user(user);
    }
    for port in ports {
        spec = spec.expose(port);
    }
    let path = dir.join(format!("image-{}", user.unwrap_or("root")));
    spec.write_oci_dir(&path);
    path.display().to_string()
}

/// A simulated runner: workspace, RUNNER_TEMP, output and summary files, and the event
/// payload of pull request #7 of octo/synthetic.
struct Runner {
    dir: tempfile::TempDir,
    api: Option<String>,
}

impl Runner {
    fn new() -> Self {
        let dir = tmp();
        for sub in ["workspace", "runner-temp"] {
            std::fs::create_dir(dir.path().join(sub)).unwrap();
        }
        let event = serde_json::json!({ "action": "synchronize", "number": 7, "pull_request": { "number": 7 } });
        std::fs::write(dir.path().join("event.json"), event.to_string()).unwrap();
        Runner { dir, api: None }
    }

    /// A runner whose GITHUB_API_URL is a fresh fake GitHub.
    fn with_github() -> (Self, FakeGitHub) {
        let mut runner = Runner::new();
        let github = FakeGitHub::start(runner.dir.path(), None);
        runner.api = Some(github.url.clone());
        (runner, github)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn workspace(&self) -> PathBuf {
        self.path("workspace")
    }

    /// `bash scripts/action/<script>` in the workspace with only the runner's variables and
    /// the given inputs (`fail-on` becomes INPUT_FAIL_ON, as action.yml maps it).
    fn script(&self, script: &str, inputs: &[(&str, &str)]) -> Command {
        let mut cmd = Command::new("bash");
        cmd.arg(Path::new(REPO).join("scripts/action").join(script))
            .current_dir(self.workspace())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_EVENT_NAME", "pull_request")
            .env("GITHUB_EVENT_PATH", self.path("event.json"))
            .env("GITHUB_REPOSITORY", "octo/synthetic")
            .env("GITHUB_RUN_ID", "42")
            .env("GITHUB_WORKSPACE", self.workspace())
            .env("RUNNER_TEMP", self.path("runner-temp"))
            .env("GITHUB_OUTPUT", self.path("output"))
            .env("GITHUB_STEP_SUMMARY", self.path("summary"))
            .env("GITHUB_PATH", self.path("path"));
        if let Some(api) = &self.api {
            cmd.env("GITHUB_API_URL", api);
        }
        for (name, value) in inputs {
            cmd.env(
                format!("INPUT_{}", name.to_uppercase().replace('-', "_")),
                value,
            );
        }
        cmd
    }

    fn check(&self, inputs: &[(&str, &str)]) -> Output {
        self.check_with(env!("CARGO_BIN_EXE_gpubom"), inputs)
    }

    fn check_with(&self, bin: &str, inputs: &[(&str, &str)]) -> Output {
        let out = self
            .script("run.sh", inputs)
            .env("GPUBOM_BIN", bin)
            .output()
            .expect("run bash");
        // The run's log, shown when an assertion below fails.
        eprintln!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
        out
    }

    /// GITHUB_OUTPUT as the runner reads it: `name=value` and `name<<DELIMITER` blocks.
    /// Cleared after reading, as each step gets a fresh file.
    fn outputs(&self) -> BTreeMap<String, String> {
        let text = std::fs::read_to_string(self.path("output")).unwrap_or_default();
        let _ = std::fs::remove_file(self.path("output"));
        let mut outputs = BTreeMap::new();
        let mut lines = text.lines();
        while let Some(line) = lines.next() {
            if let Some((name, delimiter)) = line.split_once("<<") {
                let value: Vec<&str> = lines.by_ref().take_while(|l| *l != delimiter).collect();
                outputs.insert(name.to_string(), value.join("\n"));
            } else if let Some((name, value)) = line.split_once('=') {
                outputs.insert(name.to_string(), value.to_string());
            } else {
                panic!("not an output line: {line:?}");
            }
        }
        outputs
    }

    fn expect_outputs(&self, expected: &[(&str, &str)]) {
        let outputs = self.outputs();
        for (name, value) in expected {
            assert_eq!(
                outputs.get(*name).map(String::as_str),
                Some(*value),
                "{name}: {outputs:?}"
            );
        }
    }

    fn summary(&self) -> String {
        std::fs::read_to_string(self.path("summary")).unwrap_or_default()
    }
}

/// tests/fixtures/fake-github.py, stopped when dropped.
struct FakeGitHub {
    child: Child,
    url: String,
    log: PathBuf,
}

impl FakeGitHub {
    fn start(dir: &Path, releases: Option<&Path>) -> Self {
        let log = dir.join("requests.jsonl");
        let mut cmd = Command::new("python3");
        cmd.arg(Path::new(REPO).join("tests/fixtures/fake-github.py"))
            .arg(&log);
        if let Some(releases) = releases {
            cmd.arg(releases);
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 (the README's requirements) runs the fake GitHub");
        let mut port = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut port)
            .unwrap();
        let url = format!("http://127.0.0.1:{}", port.trim());
        FakeGitHub { child, url, log }
    }

    fn requests(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// `(method, path)` of the requests that wrote something.
    fn writes(&self) -> Vec<(String, String)> {
        self.requests()
            .iter()
            .filter(|r| r["method"] != "GET")
            .map(|r| {
                (
                    r["method"].as_str().unwrap().into(),
                    r["path"].as_str().unwrap().into(),
                )
            })
            .collect()
    }

    fn last_body(&self) -> String {
        let requests = self.requests();
        let last = requests
            .iter()
            .rev()
            .find(|r| r["method"] != "GET")
            .unwrap();
        last["body"]["body"].as_str().unwrap().to_string()
    }

    /// The pull request's comments as the API lists them, with their authors.
    fn comments(&self) -> Vec<serde_json::Value> {
        let out = Command::new("curl")
            .args(["-fsS"])
            .arg(format!(
                "{}/repos/octo/synthetic/issues/7/comments?page=1",
                self.url
            ))
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// Posts `body` as the pull request's author (a request without a token).
    fn comment_as_pr_author(&self, body: &str) {
        let out = Command::new("curl")
            .args(["-fsS", "-X", "POST", "--data-binary"])
            .arg(serde_json::json!({ "body": body }).to_string())
            .arg(format!(
                "{}/repos/octo/synthetic/issues/7/comments",
                self.url
            ))
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
    }
}

impl Drop for FakeGitHub {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A step's log as the runner keeps it: run.sh sends everything to stdout, so that the
/// runner reads it in order; stderr is added in case a line strays there.
fn log(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(out))
}

/// A stand-in program: a script, executable.
fn write_executable(path: &Path, script: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, script).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn read_json(path: &Path) -> serde_json::Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn synthetic_root_image_with_ssh_fails_the_gate_with_every_output() {
    let runner = Runner::new();
    let source = image(runner.dir.path(), None, &["22/tcp"]);
    let out = runner.check(&[("image", &source), ("fail-on", "high")]);
    assert_exit(&out, 1);
    // Two findings: the root user and the SSH port.
    runner.expect_outputs(&[
        ("verdict", "fail"),
        ("findings", "2"),
        ("sbom", "gpubom.cdx.json"),
        ("sarif", "gpubom.sarif"),
    ]);

    let summary = runner.summary();
    assert!(
        summary.contains("### gpubom check: ❌ **FAIL**"),
        "{summary}"
    );
    assert!(summary.contains("`image-runs-as-root`") && summary.contains("`ssh-port-exposed`"));

    let sarif = read_json(&runner.workspace().join("gpubom.sarif"));
    assert_eq!(sarif["version"], "2.1.0");
    assert_eq!(sarif["runs"][0]["results"].as_array().unwrap().len(), 2);
    let sbom = read_json(&runner.workspace().join("gpubom.cdx.json"));
    assert_eq!(sbom["bomFormat"], "CycloneDX");
    validate_cyclonedx(&sbom);
    // The text report is in the log, from the same single evaluation.
    assert!(String::from_utf8_lossy(&out.stdout).contains("exposes SSH (22)"));
}

#[test]
fn synthetic_clean_image_passes_and_inputs_reach_gpubom() {
    let runner = Runner::new();
    let source = image(runner.dir.path(), Some("1001"), &["8000/tcp"]);
    let policies = runner.workspace().join("org policies");
    std::fs::create_dir(&policies).unwrap();
    // An organisation rule, given through the policies input, that this image trips at low.
    std::fs::write(
        policies.join("no-8000.cedar"),
        "@id(\"synthetic-no-8000\")\n@severity(\"low\")\n@message(\"exposes 8000\")\n\
         @remediation(\"do not\")\nforbid (principal, action == Gpubom::Action::\"ship\", resource)\n\
         when { resource.exposed_ports.contains(8000) };\n",
    )
    .unwrap();
    // Quotes are part of a path: a list input is split into lines, never shell-parsed.
    let out = runner.check(&[("image", &source), ("policies", "\n'org policies'\n")]);
    assert_exit(&out, 2);
    assert!(log(&out).contains("'org policies'"), "{}", log(&out));

    // One path a line, as a YAML block gives it: spaces stay inside the path. The SBOM's
    // directory does not exist yet.
    let policy = format!("{}\n", policies.display());
    let out = runner.check(&[
        ("image", &source),
        ("policies", &policy),
        ("sbom-output", "out/sbom.json"),
        ("sarif-output", ""),
    ]);
    assert_exit(&out, 0);
    // The low finding counts, though it is below fail-on.
    runner.expect_outputs(&[
        ("verdict", "pass"),
        ("findings", "1"),
        ("sbom", "out/sbom.json"),
        ("sarif", ""),
    ]);
    assert!(runner.workspace().join("out/sbom.json").is_file());
    assert!(!runner.workspace().join("gpubom.sarif").exists());
    assert!(runner.summary().contains("✅ **PASS**"));
    assert!(runner.summary().contains("synthetic-no-8000"));

    let out = runner.check(&[
        ("image", &source),
        ("policies", &policy),
        ("fail-on", "low"),
    ]);
    assert_exit(&out, 1);
    assert_eq!(runner.outputs()["verdict"], "fail");
}

#[test]
fn synthetic_hostile_inputs_run_nothing() {
    let runner = Runner::new();
    let pwned = runner.path("pwned");
    let p = pwned.display();
    for hostile in [
        format!("$(touch {p})"),
        format!("; touch {p}"),
        format!("`touch {p}`"),
        format!("x\" && touch {p} && \""),
        format!("x\ntouch {p}"),
        // An option, were the image not placed after `--`.
        "--version".to_string(),
    ] {
        let out = runner.check(&[
            ("image", &hostile),
            ("policies", &hostile),
            ("sbom-output", "s.json"),
        ]);
        assert_exit(&out, 2);
        assert!(!pwned.exists(), "{hostile:?} ran a command");
        assert!(log(&out).contains("gpubom: error:"), "{}", log(&out));
        assert!(log(&out).contains("::error title=gpubom::gpubom could not run"));
        assert!(
            runner.outputs().is_empty(),
            "no verdict when it could not run"
        );
    }
    // A hostile output path is a file name: created, nothing run, no forged output.
    let source = image(runner.dir.path(), Some("1001"), &[]);
    let name = "s $(touch pwned) `touch pwned`\nverdict=pass";
    let out = runner.check(&[
        ("image", &source),
        ("sbom-output", name),
        ("fail-on", "none"),
    ]);
    assert_exit(&out, 0);
    assert!(!runner.workspace().join("pwned").exists());
    let outputs = runner.outputs();
    assert_eq!(outputs["sbom"], name);
    assert_eq!(outputs["verdict"], "pass");
    assert!(runner.workspace().join(name).is_file());

    let out = runner.check(&[("image", &source), ("comment", "yes")]);
    assert_exit(&out, 2);
    assert!(log(&out).contains("comment: expected true or false"));
}

#[test]
fn synthetic_pull_request_comment_is_posted_once_then_updated_per_image() {
    let (runner, github) = Runner::with_github();
    let failing = image(runner.dir.path(), None, &["22/tcp"]);
    let clean = image(runner.dir.path(), Some("1001"), &[]);
    let inputs = |source: &str| -> Vec<(&str, String)> {
        vec![
            ("image", source.to_string()),
            ("comment", "true".into()),
            ("github-token", "ghs_synthetic".into()),
        ]
    };
    let run = |source: &str| {
        let inputs = inputs(source);
        let pairs: Vec<(&str, &str)> = inputs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        runner.check(&pairs)
    };
    // Someone quoting an earlier comment: starts with "> ", so it is not the action's.
    github.comment_as_pr_author("> <!-- gpubom -->\n> quoted");

    assert_exit(&run(&failing), 1);
    assert_eq!(
        github.writes()[1..],
        [(
            "POST".into(),
            "/repos/octo/synthetic/issues/7/comments".into()
        )]
    );
    let body = github.last_body();
    assert!(
        body.starts_with("<!-- gpubom -->\n<!-- gpubom image "),
        "{body}"
    );
    assert!(body.contains("❌ **FAIL**") && body.contains("`ssh-port-exposed`"));
    assert!(body.contains("/octo/synthetic/actions/runs/42"));
    assert!(github.requests()[1..].iter().all(|r| r["token"] == true));

    // A second image in the same pull request (a matrix) gets its own comment.
    assert_exit(&run(&clean), 0);
    assert_eq!(github.writes().last().unwrap().0, "POST");

    // The first image again: its comment (id 1001, after the quote and before the
    // clean image's) is edited in place.
    assert_exit(&run(&failing), 1);
    assert_eq!(
        github.writes().last().unwrap(),
        &(
            "PATCH".to_string(),
            "/repos/octo/synthetic/issues/comments/1001".to_string()
        )
    );
    assert_eq!(github.writes().len(), 4);

    // No pull request in the event: no API call at all.
    std::fs::write(runner.path("event.json"), r#"{"ref":"refs/heads/main"}"#).unwrap();
    let before = github.requests().len();
    assert_exit(&run(&clean), 0);
    assert_eq!(github.requests().len(), before);
}

#[test]
fn synthetic_comment_reports_a_run_that_could_not_run() {
    let (runner, github) = Runner::with_github();
    let out = runner.check(&[
        ("image", "/nonexistent/image.tar"),
        ("comment", "true"),
        ("github-token", "ghs_synthetic"),
    ]);
    assert_exit(&out, 2);
    assert!(runner.summary().contains("⚠️ **could not run**"));
    let body = github.last_body();
    assert!(
        body.contains("could not run") && body.contains("/nonexistent/image.tar"),
        "{body}"
    );
}

#[test]
fn synthetic_comment_failure_is_a_warning_not_a_failed_gate() {
    let mut runner = Runner::new();
    // Nothing listens on port 9 of 127.0.0.1: the API is unreachable.
    runner.api = Some("http://127.0.0.1:9".into());
    let source = image(runner.dir.path(), Some("1001"), &[]);
    let out = runner.check(&[
        ("image", &source),
        ("comment", "true"),
        ("github-token", "t"),
    ]);
    assert_exit(&out, 0);
    assert!(log(&out).contains("::warning title=gpubom::could not post"));
    assert_eq!(runner.outputs()["verdict"], "pass");
}

// ---- the pull request is hostile ground: its author controls the image and its files ----

/// The two marker lines the action's comment starts with for `image`: anyone can write them.
fn marker(image: &str) -> String {
    format!(
        "<!-- gpubom -->\n<!-- gpubom image {} -->\n",
        &sha256_hex(image.as_bytes())[..16]
    )
}

#[test]
fn synthetic_comment_is_found_by_its_author_never_by_its_marker_alone() {
    let (runner, github) = Runner::with_github();
    let failing = image(runner.dir.path(), None, &["22/tcp"]);
    let run = |token: &str| {
        runner.check(&[
            ("image", failing.as_str()),
            ("comment", "true"),
            ("github-token", token),
        ])
    };
    // The pull request's author writes the marker lines first, with a verdict of their own.
    let look_alike = format!("{}### gpubom check: ✅ **PASS**\n", marker(&failing));
    github.comment_as_pr_author(&look_alike);

    // github.token: GET /user is refused, so the action writes as github-actions[bot]; the
    // look-alike is not its own, so a comment is posted beside it.
    let out = run("ghs_synthetic");
    assert_exit(&out, 1);
    let comments = github.comments();
    assert_eq!(
        comments[0]["body"],
        look_alike.as_str(),
        "the look-alike was edited"
    );
    assert_eq!(comments.len(), 2, "{comments:?}");
    assert!(
        log(&out).contains("as github-actions[bot]"),
        "{}",
        log(&out)
    );
    assert_eq!(comments[1]["user"]["login"], "github-actions[bot]");
    assert!(comments[1]["body"]
        .as_str()
        .unwrap()
        .contains("❌ **FAIL**"));

    // The next run edits the bot's own comment, and still not the look-alike.
    assert_exit(&run("ghs_synthetic"), 1);
    assert_eq!(
        github.writes().last().unwrap(),
        &(
            "PATCH".to_string(),
            format!(
                "/repos/octo/synthetic/issues/comments/{}",
                comments[1]["id"]
            )
        )
    );
    assert_eq!(github.comments()[0]["body"], look_alike.as_str());

    // A personal token writes as its user (GET /user answers): the bot's comment is not
    // that user's either, so the user gets a comment of their own, edited from then on.
    assert_exit(&run("ghp_octo-maintainer"), 1);
    assert_exit(&run("ghp_octo-maintainer"), 1);
    let comments = github.comments();
    let authors: Vec<&str> = comments
        .iter()
        .map(|c| c["user"]["login"].as_str().unwrap())
        .collect();
    assert_eq!(
        authors,
        ["pr-author", "github-actions[bot]", "octo-maintainer"]
    );
    assert_eq!(comments[0]["body"], look_alike.as_str());
    assert_eq!(github.writes().last().unwrap().0, "PATCH");
}

/// The workflow commands the runner would obey in a step's log, each as its whole line.
/// Lines end at LF, CR or CRLF, as the runner reads a process's output. A line is a
/// command when, after leading blanks, it is `::name ...::data`, or when it holds
/// `##[name ...]` anywhere (the runner's older form). After `::stop-commands::TOKEN` only
/// `::TOKEN::` (or `##[TOKEN]`) is obeyed, and it ends the pause.
fn obeyed_commands(log: &str) -> Vec<String> {
    let mut obeyed = Vec::new();
    let mut paused: Option<String> = None;
    for line in log.split(['\n', '\r']) {
        let trimmed = line.trim_start();
        let name = if let Some(rest) = trimmed.strip_prefix("::") {
            rest.find("::")
                .map(|end| rest[..end].split(' ').next().unwrap())
        } else {
            None
        };
        let name = name.or_else(|| {
            let start = line.find("##[")? + 3;
            let end = line[start..].find(']')? + start;
            Some(line[start..end].split(' ').next().unwrap())
        });
        let Some(name) = name else { continue };
        match &paused {
            Some(token) if name == token => paused = None,
            Some(_) => continue,
            None if name == "stop-commands" => {
                let token = trimmed
                    .split_once("::stop-commands::")
                    .map_or("", |(_, t)| t);
                paused = Some(token.to_string());
            }
            None => {}
        }
        obeyed.push(line.to_string());
    }
    obeyed
}

#[test]
fn workflow_commands_are_read_from_a_log_as_the_runner_reads_them() {
    let log = "a\n  ::error::one\rx ##[warning]two\n::stop-commands::t1\n::error::hidden\n\
               ##[error]hidden\n::t1::\n::notice::three";
    assert_eq!(
        obeyed_commands(log),
        [
            "  ::error::one",
            "x ##[warning]two",
            "::stop-commands::t1",
            "::t1::",
            "::notice::three"
        ]
    );
}

/// Workflow commands an image might carry in a file name, a pickle global or a warning.
const FORGED_COMMANDS: &str = "\n::error::forged-by-image\r  ::notice file=x::forged-by-image\n\
    ##[error]forged-by-image\n::stop-commands::forged-token\n::add-mask::forged-by-image";

/// Checks that the log shows the forged text, and that the runner obeys none of it: only
/// the action's own pause, resume and `title=gpubom` annotations.
fn assert_no_forged_command(log: &str) {
    assert!(
        log.contains("forged-by-image"),
        "the hostile text never reached the log:\n{log}"
    );
    for command in obeyed_commands(log) {
        let own = command.starts_with("::stop-commands::gpubom_")
            || command.starts_with("::gpubom_")
            || command.starts_with("::error title=gpubom::")
            || command.starts_with("::warning title=gpubom::");
        assert!(own, "the runner would obey {command:?} from:\n{log}");
    }
}

#[test]
fn synthetic_hostile_image_strings_start_no_workflow_command_in_the_log() {
    let runner = Runner::new();
    let path = runner.path("hostile");
    // A file name and a pickle global (STACK_GLOBAL takes strings with line breaks) that
    // carry workflow commands, beside a real finding.
    let global = format!("os{FORGED_COMMANDS}");
    let mut pickle = vec![0x80, 4, 0x8c, global.len() as u8];
    pickle.extend(global.as_bytes());
    pickle.extend([0x8c, 6]);
    pickle.extend(b"system");
    pickle.extend([0x93, b'.']);
    ImageSpec::new("example.com/synthetic/hostile", "1")
        .layer(
            Layer::new()
                .file(
                    &format!("models/w{FORGED_COMMANDS}.pkl"),
                    &b"cposix\nsystem\n(S'id'\ntR."[..],
                )
                .file("models/global.pkl", pickle),
        )
        .write_oci_dir(&path);
    let out = runner.check(&[("image", path.to_str().unwrap())]);
    assert_exit(&out, 1);
    assert_no_forged_command(&log(&out));

    // gpubom escapes what it can; the pause holds even for a binary that printed the image's
    // strings raw, on both streams, last line unfinished, and then could not run.
    let raw = runner.path("raw-gpubom");
    write_executable(
        &raw,
        &format!(
            "#!/bin/sh\nprintf 'report{FORGED_COMMANDS}'\n\
             printf 'gpubom: warning: /models/w{FORGED_COMMANDS}\\n' >&2\n\
             printf 'gpubom: error: Config value ##[error]forged-by-image\\n' >&2\nexit 2\n"
        ),
    );
    let out = runner.check_with(raw.to_str().unwrap(), &[("image", "x.tar")]);
    assert_exit(&out, 2);
    assert_no_forged_command(&log(&out));
    // The action's own annotation comes after the pause, and is obeyed.
    let obeyed = obeyed_commands(&log(&out));
    assert!(
        obeyed
            .last()
            .unwrap()
            .starts_with("::error title=gpubom::gpubom could not run"),
        "{obeyed:?}"
    );
    // A token is made per run.
    let pause = obeyed
        .iter()
        .find(|c| c.starts_with("::stop-commands::"))
        .unwrap();
    let again = runner.check_with(raw.to_str().unwrap(), &[("image", "x.tar")]);
    assert!(
        !log(&again).contains(pause.as_str()),
        "the stop token was reused"
    );
}

/// `markdown` rendered by a CommonMark renderer with GFM tables (markdown-it-py), as GitHub
/// renders a comment or a job summary: the text of each heading. `None` (after
/// `real::skip`) when markdown-it-py cannot be installed.
fn rendered_headings(test: &str, markdown: &str) -> Option<Vec<String>> {
    let python = gpubom_testkit::real::python_with(&["markdown-it-py==4.3.0"]);
    let mut python = or_skip(test, python)?;
    let mut child = python
        .args([
            "-c",
            "import json, sys\nfrom markdown_it import MarkdownIt\n\
             tokens = MarkdownIt('commonmark').enable('table').parse(sys.stdin.read())\n\
             print(json.dumps([tokens[i + 1].content for i, t in enumerate(tokens)\n\
                               if t.type == 'heading_open']))",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(markdown.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "markdown-it-py failed");
    Some(serde_json::from_slice(&out.stdout).unwrap())
}

/// Asserts that the job summary and the comment posted last, rendered, each hold one
/// verdict heading, `expected` (skipped when markdown-it-py cannot be had).
fn assert_one_verdict(test: &str, runner: &Runner, github: &FakeGitHub, expected: &str) {
    for markdown in [runner.summary(), github.last_body()] {
        let Some(headings) = rendered_headings(test, &markdown) else {
            return;
        };
        let verdicts: Vec<&String> = headings
            .iter()
            .filter(|h| h.contains("gpubom check"))
            .collect();
        assert_eq!(verdicts, [expected], "{markdown}");
    }
}

#[test]
fn synthetic_error_quoted_from_the_image_stays_inside_its_code_block() {
    let test = "synthetic_error_quoted_from_the_image_stays_inside_its_code_block";
    let (runner, github) = Runner::with_github();
    let failing = runner.path("failing-gpubom");
    // An error line quoting a config value with a fence of its own and a forged verdict.
    write_executable(
        &failing,
        "#!/bin/sh\nprintf 'gpubom: error: Config value:\\n````\\n### gpubom check: ✅ **PASS**\\n<!--\\n' >&2\nexit 2\n",
    );
    let out = runner.check_with(
        failing.to_str().unwrap(),
        &[
            ("image", "x.tar"),
            ("comment", "true"),
            ("github-token", "ghs_synthetic"),
        ],
    );
    assert_exit(&out, 2);
    assert_one_verdict(test, &runner, &github, "gpubom check: ⚠️ **could not run**");
}

/// The forged PASS of issue 14, end to end: a model file name with carriage returns that
/// would close the findings table, add a PASS heading and hide the rest in an HTML comment.
#[test]
#[ignore = "needs 14a (Markdown escaping of image strings in gpubom's reports)"]
fn synthetic_forged_pass_heading_does_not_reach_the_comment_or_the_summary() {
    let test = "synthetic_forged_pass_heading_does_not_reach_the_comment_or_the_summary";
    let (runner, github) = Runner::with_github();
    let path = runner.path("forged");
    ImageSpec::new("example.com/synthetic/forged", "1")
        .expose("22/tcp")
        .layer(Layer::new().file(
            "models/x\r\r### gpubom check: ✅ **PASS**\r\r<!--/w.pkl",
            &b"cposix\nsystem\n(S'id'\ntR."[..],
        ))
        .write_oci_dir(&path);
    let out = runner.check(&[
        ("image", path.to_str().unwrap()),
        ("comment", "true"),
        ("github-token", "ghs_synthetic"),
    ]);
    assert_exit(&out, 1);
    assert_one_verdict(test, &runner, &github, "gpubom check: ❌ **FAIL**");
}

/// `git` in `dir`, as a test author with a fixed identity; its stdout.
fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=synthetic",
            "-c",
            "user.email=synthetic@example.com",
        ])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", stderr(&out));
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// An organisation rule that trips on port 8000, at `severity`.
fn no_8000_rule(severity: &str) -> String {
    format!(
        "@id(\"synthetic-no-8000\")\n@severity(\"{severity}\")\n@message(\"exposes 8000\")\n\
         @remediation(\"do not\")\nforbid (principal, action == Gpubom::Action::\"ship\", resource)\n\
         when {{ resource.exposed_ports.contains(8000) }};\n"
    )
}

#[test]
fn synthetic_trusted_config_base_ignores_a_pull_request_that_waives_its_own_findings() {
    let (runner, github) = Runner::with_github();
    // The repository: the base commit's rules, then the pull request's commit, which waives
    // the image's findings, weakens the organisation's rule and drops the trust root the
    // base config names.
    let upstream = runner.path("upstream");
    std::fs::create_dir(&upstream).unwrap();
    git(&upstream, &["init", "-q", "-b", "main"]);
    write(
        &upstream.join(".gpubom.toml"),
        "[signatures]\ntrusted_root = \"trust/trusted_root.json\"\n",
    );
    std::fs::create_dir(upstream.join("trust")).unwrap();
    std::fs::copy(
        Path::new(REPO).join("tests/fixtures/sigstore/trusted_root.json"),
        upstream.join("trust/trusted_root.json"),
    )
    .unwrap();
    write(
        &upstream.join("org-policies/no-8000.cedar"),
        &no_8000_rule("high"),
    );
    git(&upstream, &["add", "-A"]);
    git(&upstream, &["commit", "-q", "-m", "base"]);
    let base_sha = git(&upstream, &["rev-parse", "HEAD"]);
    // The pull request's author can allow wildcard waivers as easily as write them.
    let mut waivers = String::from("[waiver_limits]\nallow_wildcards = true\n");
    for rule in ["image-runs-as-root", "ssh-port-exposed"] {
        waivers += &format!(
            "[[waivers]]\nrule = \"{rule}\"\nmatch = \"*\"\nreason = \"trust me\"\nexpires = \"2099-12-31\"\n"
        );
    }
    write(&upstream.join(".gpubom.toml"), &waivers);
    write(
        &upstream.join("org-policies/no-8000.cedar"),
        &no_8000_rule("low"),
    );
    write(&upstream.join("pr-policies/x.cedar"), &no_8000_rule("low"));
    std::fs::remove_dir_all(upstream.join("trust")).unwrap();
    git(&upstream, &["add", "-A"]);
    git(&upstream, &["commit", "-q", "-m", "pull request"]);
    // Checked out as actions/checkout does by default: the one commit, without the base.
    std::fs::remove_dir(runner.workspace()).unwrap();
    git(
        runner.dir.path(),
        &[
            "clone",
            "-q",
            "--depth=1",
            &format!("file://{}", upstream.display()),
            "workspace",
        ],
    );
    let event = serde_json::json!({ "number": 7, "pull_request": { "number": 7, "base": { "sha": base_sha } } });
    std::fs::write(runner.path("event.json"), event.to_string()).unwrap();

    let source = image(runner.dir.path(), None, &["22/tcp", "8000/tcp"]);
    let run = |trusted: &str, policies: &str| {
        runner.check(&[
            ("image", source.as_str()),
            ("policies", policies),
            ("trusted-config", trusted),
            ("comment", "true"),
            ("github-token", "ghs_synthetic"),
        ])
    };
    // The pull request's own files: everything waived or low, so the gate passes.
    assert_exit(&run("head", "org-policies"), 0);
    assert!(runner.summary().contains("(`trusted-config: head`)"));

    // The base commit's: the waivers and the weakened rule do not count, and the trust root
    // the base config names is read from the base, though the pull request deleted it.
    std::fs::remove_file(runner.path("summary")).unwrap();
    let out = run("base", "org-policies");
    assert_exit(&out, 1);
    runner.expect_outputs(&[("verdict", "fail"), ("findings", "3")]);
    let from_base = format!(
        "from the base commit `{}` (`trusted-config: base`)",
        &base_sha[..12]
    );
    assert!(
        runner.summary().contains(&from_base),
        "{}",
        runner.summary()
    );
    assert!(runner.summary().contains("synthetic-no-8000"));
    let body = github.last_body();
    assert!(
        body.contains(&from_base) && body.contains("❌ **FAIL**"),
        "{body}"
    );

    // Rules the base commit does not have are not taken from the pull request instead.
    let out = run("base", "pr-policies");
    assert_exit(&out, 2);
    assert!(
        log(&out).contains("'pr-policies' is not in the base commit"),
        "{}",
        log(&out)
    );
    let out = run("base", "/etc");
    assert_exit(&out, 2);
    assert!(log(&out).contains("absolute path"));
    assert_exit(&run("baseline", "org-policies"), 2);
}

#[test]
fn signature_files_of_a_config_are_found_in_any_toml_form() {
    let dir = tmp();
    let config = dir.path().join("c.toml");
    std::fs::write(
        &config,
        "keys = [\"top-level.pub\"]\n[signatures]\nkeys = [ \"a.pub\",\n  'b c.pub', # a comment\n\
         \"d.pub\" ]\ntrusted_root = 'root.json'\n[[signatures.identities]]\nsubject = \"s\"\n\
         [other]\ntrusted_root = \"no.json\"\n",
    )
    .unwrap();
    let out = Command::new("bash")
        .arg("-c")
        .arg(". \"$1\"; signature_files \"$2\"")
        .arg("bash")
        .arg(Path::new(REPO).join("scripts/action/trusted.sh"))
        .arg(&config)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "a.pub\nb c.pub\nd.pub\nroot.json\n"
    );
}

/// The SBOM diff plumbing, through a stand-in binary that answers `diff` itself and
/// hands everything else to the real gpubom (so it holds whether or not `gpubom diff`
/// exists in this build).
#[test]
fn synthetic_base_sbom_diff_goes_to_the_summary_and_the_comment() {
    let (runner, github) = Runner::with_github();
    let source = image(runner.dir.path(), Some("1001"), &[]);
    let wrapper = runner.path("gpubom-wrapper");
    let args_log = runner.path("diff-args");
    write_executable(
        &wrapper,
        &format!(
            "#!/usr/bin/env bash\nif [ \"$1\" = diff ]; then\n  printf '%s\\n' \"$@\" > '{}'\n  \
             while [ \"$1\" != -o ]; do shift; done\n  printf '#### synthetic diff\\n' > \"$2\"\n  exit 0\nfi\n\
             exec '{}' \"$@\"\n",
            args_log.display(),
            env!("CARGO_BIN_EXE_gpubom")
        ),
    );
    let base = runner.workspace().join("base.cdx.json");
    std::fs::write(&base, "{}").unwrap();
    std::fs::write(runner.workspace().join("org.toml"), "").unwrap();
    let inputs = [
        ("image", source.as_str()),
        ("config", "org.toml"),
        ("base-sbom", "base.cdx.json"),
        ("comment", "true"),
        ("github-token", "ghs_synthetic"),
    ];
    let out = runner.check_with(&format!("bash {}", wrapper.display()), &inputs);
    // GPUBOM_BIN is one program, not a command line.
    assert_exit(&out, 2);
    let out = runner.check_with(wrapper.to_str().unwrap(), &inputs);
    assert_exit(&out, 0);
    // The check's rules, so that new and resolved findings are the check's.
    let args = std::fs::read_to_string(&args_log).unwrap();
    let args: Vec<&str> = args.lines().collect();
    assert_eq!(args[..4], ["diff", "-f", "markdown", "-o"]);
    assert_eq!(
        args[5..],
        [
            "--config=org.toml",
            "--",
            "base.cdx.json",
            "gpubom.cdx.json"
        ]
    );
    assert!(runner.summary().contains("#### synthetic diff"));
    assert!(github.last_body().contains("#### synthetic diff"));

    // No base SBOM yet (the first run on a repository): no diff, not an error.
    std::fs::remove_file(&base).unwrap();
    std::fs::remove_file(runner.path("summary")).unwrap();
    assert_exit(&runner.check_with(wrapper.to_str().unwrap(), &inputs), 0);
    assert!(!runner.summary().contains("synthetic diff"));
}

/// With the real `gpubom diff`, where this build has it: the comment carries exactly what
/// `gpubom diff -f markdown` says about the two SBOMs.
#[test]
fn synthetic_base_sbom_diff_with_the_real_command() {
    let (runner, github) = Runner::with_github();
    let base = image(runner.dir.path(), Some("1001"), &[]);
    assert_exit(
        &run(&[
            "scan",
            &base,
            "-o",
            &runner
                .workspace()
                .join("base.cdx.json")
                .display()
                .to_string(),
        ]),
        0,
    );
    let head = image(runner.dir.path(), None, &["22/tcp"]);
    let out = runner.check(&[
        ("image", &head),
        ("base-sbom", "base.cdx.json"),
        ("comment", "true"),
        ("github-token", "ghs_synthetic"),
    ]);
    assert_exit(&out, 1);
    assert!(!log(&out).contains("gpubom diff failed"), "{}", log(&out));
    let ws = runner.workspace();
    let expected = run(&[
        "diff",
        &ws.join("base.cdx.json").display().to_string(),
        &ws.join("gpubom.cdx.json").display().to_string(),
        "-f",
        "markdown",
    ]);
    assert_exit(&expected, 0);
    let expected = String::from_utf8(expected.stdout).unwrap();
    assert!(
        github.last_body().contains(expected.trim()),
        "{}",
        github.last_body()
    );
    assert!(runner.summary().contains(expected.trim()));
}

/// A synthetic release: `gpubom-V-x86_64-unknown-linux-gnu.tar.gz` holding a script
/// named gpubom, and its `.sha256` (the given digest, or the true one).
fn synthetic_release(dir: &Path, version: &str, digest: Option<&str>) {
    let name = format!("gpubom-{version}-x86_64-unknown-linux-gnu");
    let stage = dir.join("stage").join(&name);
    std::fs::create_dir_all(&stage).unwrap();
    std::fs::write(stage.join("gpubom"), "#!/bin/sh\necho synthetic gpubom\n").unwrap();
    let assets = dir.join("releases").join(format!("v{version}"));
    std::fs::create_dir_all(&assets).unwrap();
    let tarball = assets.join(format!("{name}.tar.gz"));
    let tar = Command::new("tar")
        .arg("-czf")
        .arg(&tarball)
        .arg("-C")
        .arg(dir.join("stage"))
        .arg(&name)
        .status()
        .unwrap();
    assert!(tar.success());
    let actual = sha256_hex(&std::fs::read(&tarball).unwrap());
    std::fs::write(
        assets.join(format!("{name}.tar.gz.sha256")),
        format!("{}  {name}.tar.gz\n", digest.unwrap_or(&actual)),
    )
    .unwrap();
}

#[test]
fn synthetic_release_is_installed_only_when_its_checksum_matches() {
    let runner = Runner::new();
    let version = env!("CARGO_PKG_VERSION");
    synthetic_release(runner.dir.path(), version, None);
    synthetic_release(runner.dir.path(), "6.6.6", Some(&"0".repeat(64)));
    let server = FakeGitHub::start(runner.dir.path(), Some(&runner.path("releases")));
    let install = |version: &str| {
        let out = runner
            .script("install.sh", &[("version", version)])
            .arg("download")
            .env(
                "GPUBOM_RELEASE_URL",
                format!("{}/releases/download", server.url),
            )
            .output()
            .unwrap();
        eprintln!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
        out
    };
    let released = cfg!(all(target_os = "linux", target_arch = "x86_64"));

    // The default version is Cargo.toml's.
    let out = install("");
    assert_exit(&out, 0);
    let outputs = runner.outputs();
    assert_eq!(outputs["version"], version);
    if released {
        assert_eq!(outputs["build"], "false");
        let ran = Command::new(&outputs["bin"]).output().unwrap();
        assert_eq!(String::from_utf8_lossy(&ran.stdout), "synthetic gpubom\n");
        // Later steps of the job find it on PATH.
        let path = std::fs::read_to_string(runner.path("path")).unwrap();
        assert_eq!(
            Path::new(path.trim()).join("gpubom"),
            Path::new(&outputs["bin"])
        );
    } else {
        assert_eq!(outputs["build"], "true", "no release for this platform");
    }

    // A tampered asset is refused, not replaced by a build.
    let out = install("6.6.6");
    if released {
        assert_exit(&out, 2);
        assert!(stderr(&out).contains("does not match its published sha256"));
        assert!(!runner.path("runner-temp/gpubom-6.6.6/bin/gpubom").exists());
        assert!(!runner.outputs().contains_key("build"));
    }

    // No such release: build from source, with a cache key for it.
    let out = install("v0.0.1");
    assert_exit(&out, 0);
    let outputs = runner.outputs();
    assert_eq!(outputs["version"], "0.0.1");
    assert_eq!(outputs["build"], "true");
    assert_eq!(outputs["source-hash"].len(), 16);
    assert!(outputs["bin"].ends_with("gpubom-0.0.1/bin/gpubom"));

    assert_exit(&install("1.0; rm -rf /"), 2);

    // The build step: cargo install of the action's own source into the cached root, here
    // with a stand-in cargo that records its arguments.
    let bin_dir = runner.path("fake-bin");
    std::fs::create_dir(&bin_dir).unwrap();
    let cargo = bin_dir.join("cargo");
    let log = runner.path("cargo-args");
    write_executable(
        &cargo,
        &format!("#!/bin/sh\nprintf '%s\\n' \"$@\" > '{}'\n", log.display()),
    );
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = runner
        .script("install.sh", &[])
        .arg("build")
        .env("PATH", path)
        .env("GPUBOM_ROOT", &outputs["root"])
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        format!(
            "install\n--locked\n--force\n--path\n{REPO}\n--root\n{}\n",
            outputs["root"]
        )
    );
}

/// scripts/pre-push as git runs it: at the top of the work tree, with the remote on the
/// command line and the refs being pushed on stdin.
#[test]
fn synthetic_pre_push_hook_stops_a_failing_image() {
    let dir = tmp();
    let repo = dir.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .args(args)
            .current_dir(&repo)
            .env("HOME", dir.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {}", stderr(&out));
    };
    git(&["init", "-q"]);
    let push = format!(
        "refs/heads/main {} refs/heads/main {}\n",
        "1".repeat(40),
        "0".repeat(40)
    );
    let delete = format!(
        "(delete) {} refs/heads/old {}\n",
        "0".repeat(40),
        "2".repeat(40)
    );
    let hook = |image: Option<&str>, refs: &str| -> Output {
        let mut cmd = Command::new("bash");
        cmd.arg(Path::new(REPO).join("scripts/pre-push"))
            .args(["origin", "https://example.com/synthetic.git"])
            .current_dir(&repo)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", dir.path())
            .env("GPUBOM_BIN", env!("CARGO_BIN_EXE_gpubom"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(image) = image {
            cmd.env("GPUBOM_IMAGE", image);
        }
        let mut child = cmd.spawn().unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(refs.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let failing = image(dir.path(), None, &["22/tcp"]);
    let clean = image(dir.path(), Some("1001"), &[]);

    let out = hook(Some(&failing), &push);
    assert_exit(&out, 1);
    assert!(String::from_utf8_lossy(&out.stdout).contains("exposes SSH (22)"));
    assert!(stderr(&out).contains("fails the gate"));
    // Deleting a branch ships nothing.
    assert_exit(&hook(Some(&failing), &delete), 0);
    // No image named: a hook that checks nothing refuses the push, saying how to name one.
    let out = hook(None, &push);
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("no [local] images to check"),
        "{}",
        stderr(&out)
    );

    // The same settings from git config, as a team would keep them.
    git(&["config", "gpubom.image", &clean]);
    assert_exit(&hook(None, &push), 0);
    git(&["config", "gpubom.image", &failing]);
    git(&["config", "gpubom.failOn", "critical"]);
    assert_exit(&hook(None, &push), 0);
    git(&["config", "--add", "gpubom.policy", "no such policies"]);
    let out = hook(None, &push);
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("no such policies"),
        "{}",
        stderr(&out)
    );
}

// ---- action.yml and the example workflows, read as text ----

fn text(path: &str) -> String {
    std::fs::read_to_string(Path::new(REPO).join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// Every `run:` script of a YAML file: its inline text and the lines indented below it.
fn run_blocks(yaml: &str) -> Vec<String> {
    let lines: Vec<&str> = yaml.lines().collect();
    let mut blocks = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let key = line.trim_start().trim_start_matches("- ");
        let Some(inline) = key.strip_prefix("run:") else {
            continue;
        };
        let mut block = inline.to_string();
        for next in &lines[i + 1..] {
            if !next.trim().is_empty() && indent(next) <= indent(line) {
                break;
            }
            block.push('\n');
            block.push_str(next);
        }
        blocks.push(block);
    }
    blocks
}

/// The names declared under a top-level key (`inputs:`, `outputs:`).
fn declared(yaml: &str, section: &str) -> Vec<String> {
    yaml.lines()
        .skip_while(|l| *l != format!("{section}:"))
        .skip(1)
        .take_while(|l| l.is_empty() || l.starts_with(' '))
        .filter(|l| indent(l) == 2 && l.trim_end().ends_with(':'))
        .map(|l| l.trim().trim_end_matches(':').to_string())
        .collect()
}

#[test]
fn action_run_steps_hold_no_expressions_and_only_call_scripts() {
    let action = text("action.yml");
    let blocks = run_blocks(&action);
    assert!(blocks.len() >= 3, "{blocks:?}");
    for block in &blocks {
        // GitHub substitutes ${{ }} into the script text before bash sees it.
        assert!(
            !block.contains("${{"),
            "a run: block holds an expression: {block}"
        );
        assert!(
            block.contains("\"$GITHUB_ACTION_PATH/scripts/action/"),
            "{block}"
        );
    }
    for example in [
        "docs/examples/pr-gate.yml",
        "docs/examples/nightly-sbom.yml",
    ] {
        for block in run_blocks(&text(example)) {
            assert!(!block.contains("${{"), "{example}: {block}");
        }
    }
}

#[test]
fn action_inputs_reach_the_scripts_and_are_documented() {
    let action = text("action.yml");
    let scripts = text("scripts/action/run.sh")
        + &text("scripts/action/trusted.sh")
        + &text("scripts/action/install.sh");
    let readme = text("README.md");
    let inputs = declared(&action, "inputs");
    assert!(
        inputs.contains(&"image".to_string()) && inputs.len() >= 14,
        "{inputs:?}"
    );
    for input in &inputs {
        let var = format!("INPUT_{}", input.to_uppercase().replace('-', "_"));
        let mapped = format!("{var}: ${{{{ inputs.{input} }}}}");
        // upload-sarif is read by the step condition, not by a script.
        if input == "upload-sarif" {
            assert!(action.contains("inputs.upload-sarif == 'true'"));
        } else {
            assert!(action.contains(&mapped), "action.yml lacks `{mapped}`");
            assert!(scripts.contains(&var), "no script reads {var}");
        }
        assert!(
            readme.contains(&format!("| `{input}` |")),
            "README's table lacks {input}"
        );
    }
    // And no script reads an INPUT_ that action.yml does not set.
    for piece in scripts.split("INPUT_").skip(1) {
        let name: String = piece
            .chars()
            .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
            .collect();
        if name.is_empty() {
            continue; // prose: "INPUT_* variables"
        }
        assert!(
            action.contains(&format!("INPUT_{name}: ")),
            "INPUT_{name} is never set"
        );
    }
    for output in declared(&action, "outputs") {
        assert!(action.contains(&format!("value: ${{{{ steps.check.outputs.{output} }}}}")));
        assert!(
            scripts.contains(&format!("set_output {output} ")),
            "{output}"
        );
        assert!(
            readme.contains(&format!("| `{output}` |")),
            "README lacks output {output}"
        );
    }
}

#[test]
fn third_party_actions_are_pinned_to_full_commit_shas() {
    for file in [
        "action.yml",
        "docs/examples/pr-gate.yml",
        "docs/examples/nightly-sbom.yml",
    ] {
        for line in text(file).lines() {
            let Some(uses) = line
                .trim_start()
                .trim_start_matches("- ")
                .strip_prefix("uses:")
            else {
                continue;
            };
            let uses = uses.trim();
            if uses.starts_with("gpubom/gpubom@") {
                continue;
            }
            let (_, rest) = uses
                .split_once('@')
                .unwrap_or_else(|| panic!("{file}: {uses}"));
            let (sha, comment) = rest.split_once(" # v").unwrap_or((rest, ""));
            assert!(
                sha.len() == 40
                    && sha.chars().all(|c| c.is_ascii_hexdigit())
                    && !comment.is_empty(),
                "{file}: `{uses}` is not pinned to a commit SHA with a # vX comment"
            );
        }
    }
}
