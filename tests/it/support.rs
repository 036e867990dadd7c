//! Running the real `gatehouse` binary for tests: a `Hub` process that is killed on drop, commands that
//! must exit on their own, temporary data directories, fresh Postgres databases, and the few HTTP calls
//! every test makes. Nothing here asserts the behaviour under test; the test modules do.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

/// The binary under test, built by cargo for this test target.
pub const BINARY: &str = env!("CARGO_BIN_EXE_gatehouse");

/// The first admin's password in tests that set one (the hub wants at least 12 characters).
pub const ADMIN_PASSWORD: &str = "it-admin-password-0123";

/// How long the hub may take to migrate, hash the first admin's password and bind. Generous: the suite
/// runs beside other test binaries on two cores.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// How long a command that should exit (a config error, `migrate`, a SIGTERM) may take to do so.
const EXIT_TIMEOUT: Duration = Duration::from_secs(30);

/// A `gatehouse` command that inherits no `GATEHOUSE_*` variable from the developer's shell (the test
/// Postgres URL aside, which the binary does not read), so each test sees only what it sets.
pub fn gatehouse() -> Command {
    let mut command = Command::new(BINARY);
    for (name, _) in std::env::vars_os() {
        if name.to_str().is_some_and(|name| name.starts_with("GATEHOUSE_")) {
            command.env_remove(name);
        }
    }
    command.stdin(Stdio::null());
    command
}

/// `gatehouse hub` on the embedded SQLite store in `data_dir`, on a free port, with `ADMIN_PASSWORD`.
pub fn hub_on_sqlite(data_dir: &Path) -> Command {
    let mut command = gatehouse();
    command
        .arg("hub")
        .arg("--data-dir")
        .arg(data_dir)
        .args(["--hub-listen", "127.0.0.1:0"])
        .env("GATEHOUSE_ADMIN_PASSWORD", ADMIN_PASSWORD);
    command
}

/// `gatehouse up` on the embedded SQLite store in `data_dir`, every role on a free loopback port,
/// with `ADMIN_PASSWORD`.
pub fn up_on_free_ports(data_dir: &Path) -> Command {
    let mut command = gatehouse();
    command
        .arg("up")
        .arg("--data-dir")
        .arg(data_dir)
        .args(["--hub-listen", "127.0.0.1:0"])
        .args(["--gateway-listen", "127.0.0.1:0"])
        .args(["--gateway-admin-listen", "127.0.0.1:0"])
        .args(["--portal-listen", "127.0.0.1:0"])
        .env("GATEHOUSE_ADMIN_PASSWORD", ADMIN_PASSWORD);
    command
}

/// The first `http://` URL on a line the binary printed.
pub fn url_on(line: &str) -> String {
    line.split_whitespace()
        .find(|word| word.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL on {line:?}"))
        .to_owned()
}

/// `gatehouse hub` on a Postgres database, on a port the system picks.
pub fn hub_on_postgres(database_url: &str) -> Command {
    let mut command = gatehouse();
    command
        .args(["hub", "--database-url", database_url, "--hub-listen", "127.0.0.1:0"])
        .env("GATEHOUSE_ADMIN_PASSWORD", ADMIN_PASSWORD);
    command
}

/// A name that no other test, and no other run of this binary, uses; lowercase, digits and `_` only,
/// so it is also a valid Postgres database name.
pub fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .subsec_nanos();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}_{}_{nanos}_{n}", std::process::id())
}

/// What a process left behind once it exited.
#[derive(Debug)]
pub struct Exited {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

/// Runs a command that should exit by itself, and kills it if it has not after `EXIT_TIMEOUT`
/// (a config error that started serving instead must fail the test, not hang the suite).
pub fn run_to_exit(command: &mut Command) -> Exited {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("gatehouse binary starts");
    let stdout = Captured::new(child.stdout.take().expect("stdout is piped"));
    let stderr = Captured::new(child.stderr.take().expect("stderr is piped"));
    let Some(status) = wait_with_timeout(&mut child, EXIT_TIMEOUT) else {
        let _ = child.kill();
        let _ = child.wait();
        panic!(
            "{command:?} still running after {EXIT_TIMEOUT:?}; stdout:\n{}\nstderr:\n{}",
            stdout.finish(),
            stderr.finish()
        )
    };
    Exited {
        status,
        stdout: stdout.finish(),
        stderr: stderr.finish(),
    }
}

// === impl Hub ===

/// A running hub process. Dropping it kills the process; `stop` ends it gracefully with SIGTERM.
pub struct Hub {
    child: Child,
    stdout: Option<Captured>,
    stderr: Option<Captured>,
    /// `http://127.0.0.1:PORT`, read from the line the hub prints once it listens.
    pub origin: String,
    pub client: reqwest::Client,
}

impl Hub {
    /// Starts the command and waits until it prints `hub admin API   http://…/api/v1`.
    pub fn start(command: Command) -> Hub {
        let mut hub = Hub::start_role(command, "hub admin API");
        hub.origin = hub
            .origin
            .strip_suffix("/api/v1")
            .unwrap_or_else(|| panic!("admin API URL ends with /api/v1: {:?}", hub.origin))
            .to_owned();
        hub
    }

    /// Starts any role and waits for the stdout line that starts with `prefix`; `origin` is the
    /// first URL on that line (`gateway         http://…`).
    pub fn start_role(mut command: Command, prefix: &str) -> Hub {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("gatehouse binary starts");
        let stdout = Captured::new(child.stdout.take().expect("stdout is piped"));
        let stderr = Captured::new(child.stderr.take().expect("stderr is piped"));
        let mut process = Hub {
            child,
            stdout: Some(stdout),
            stderr: Some(stderr),
            origin: String::new(),
            client: reqwest::Client::new(),
        };
        let line = process.wait_for_stdout_line(|line| line.starts_with(prefix));
        let url = line
            .split_whitespace()
            .find(|word| word.starts_with("http://"))
            .expect("the line names a URL");
        process.origin = url.to_owned();
        process
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.origin)
    }

    /// The first stdout line that satisfies `predicate`, waiting for the hub to print it.
    pub fn wait_for_stdout_line(&mut self, predicate: impl Fn(&str) -> bool) -> String {
        self.wait_for_line(true, predicate)
    }

    /// The first stderr line that satisfies `predicate`, waiting for the hub to print it.
    /// The gateway's and its admin port's URLs, as `up` prints them.
    pub fn gateway_urls(&mut self) -> (String, String) {
        let gateway =
            self.wait_for_stdout_line(|line| line.starts_with("gateway ") && !line.starts_with("gateway admin"));
        let admin = self.wait_for_stdout_line(|line| line.starts_with("gateway admin"));
        (url_on(&gateway), url_on(&admin))
    }

    pub fn wait_for_stderr_line(&mut self, predicate: impl Fn(&str) -> bool) -> String {
        self.wait_for_line(false, predicate)
    }

    /// Sends SIGTERM (through the `kill` command, to stay free of libc) and waits for the exit.
    pub fn stop(mut self) -> Exited {
        let kill = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("the kill command runs");
        assert!(kill.success(), "kill -TERM {} failed", self.child.id());
        let status = wait_with_timeout(&mut self.child, EXIT_TIMEOUT)
            .unwrap_or_else(|| panic!("the hub did not stop within {EXIT_TIMEOUT:?} of SIGTERM"));
        Exited {
            status,
            stdout: self.stdout.take().expect("stdout captured").finish(),
            stderr: self.stderr.take().expect("stderr captured").finish(),
        }
    }

    /// Issues an admin token with HTTP Basic credentials and returns its secret.
    pub async fn issue_admin_token(&self, user: &str, password: &str) -> String {
        let response = self
            .client
            .post(self.url("/api/v1/admin-tokens"))
            .basic_auth(user, Some(password))
            .json(&json!({"name": unique_name("it"), "role": "admin"}))
            .send()
            .await
            .expect("POST /api/v1/admin-tokens");
        let status = response.status();
        let body: Value = response.json().await.expect("JSON body");
        assert_eq!(status, 201, "issuing an admin token: {body}");
        let secret = body["secret"].as_str().expect("the response carries the secret");
        assert!(
            secret.starts_with("ghat_"),
            "admin token secrets start with ghat_: {secret}"
        );
        secret.to_owned()
    }

    /// Creates the API `name` under the path prefix `/{name}` and returns the hub's answer.
    pub async fn create_api(&self, token: &str, name: &str) -> Value {
        let response = self
            .client
            .post(self.url("/api/v1/apis"))
            .bearer_auth(token)
            .json(&json!({
                "name": name,
                "route": {"path_prefix": format!("/{name}")},
                "upstream": {"targets": [{"url": "http://127.0.0.1:9000"}]},
            }))
            .send()
            .await
            .expect("POST /api/v1/apis");
        let status = response.status();
        let body: Value = response.json().await.expect("JSON body");
        assert_eq!(status, 201, "creating API {name}: {body}");
        body
    }

    /// GET with a bearer token; returns the status and the JSON body.
    pub async fn get_json(&self, token: &str, path: &str) -> (u16, Value) {
        let response = self
            .client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap_or_else(|error| panic!("GET {path}: {error}"));
        let status = response.status().as_u16();
        (status, response.json().await.expect("JSON body"))
    }

    fn wait_for_line(&mut self, on_stdout: bool, predicate: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let captured = if on_stdout { &self.stdout } else { &self.stderr };
            let text = captured.as_ref().expect("output captured").text();
            if let Some(line) = text.lines().find(|line| predicate(line)) {
                return line.to_owned();
            }
            let exited = self.child.try_wait().expect("try_wait");
            if exited.is_some() || Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "the hub {} before printing the expected line; stdout:\n{}\nstderr:\n{}",
                    match exited {
                        Some(status) => format!("exited with {status}"),
                        None => format!("did not print it within {START_TIMEOUT:?}"),
                    },
                    self.stdout.take().expect("stdout captured").finish(),
                    self.stderr.take().expect("stderr captured").finish(),
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Hub {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// === impl TempDir ===

/// A fresh directory under the system's temp directory, removed on drop.
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    pub fn new() -> TempDir {
        let path = std::env::temp_dir().join(unique_name("gatehouse_it"));
        std::fs::create_dir_all(&path).expect("create temp dir");
        TempDir { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

// === impl PostgresDatabase ===

/// A database created for one test on the server at `GATEHOUSE_TEST_POSTGRES_URL`, dropped on drop.
/// Leftovers of killed runs match `gh_bin_%`; `scripts/test` drops them.
pub struct PostgresDatabase {
    server_url: String,
    name: String,
    /// The URL to hand to `gatehouse --database-url`.
    pub url: String,
}

impl PostgresDatabase {
    /// Runs one SQL statement in this database, as an operator with `psql` would.
    pub fn execute(&self, sql: &str) {
        psql(&self.url, sql);
    }

    pub fn create() -> PostgresDatabase {
        let server_url = std::env::var("GATEHOUSE_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
        let name = unique_name("gh_bin");
        psql(&server_url, &format!("CREATE DATABASE {name}"));
        let url = with_database(&server_url, &name);
        PostgresDatabase { server_url, name, url }
    }
}

impl Drop for PostgresDatabase {
    fn drop(&mut self) {
        let _ = Command::new("psql")
            .args(["-X", "-q", "-d", &self.server_url, "-c"])
            .arg(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

fn psql(server_url: &str, sql: &str) {
    let output = Command::new("psql")
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", server_url, "-c", sql])
        .env("PGCONNECT_TIMEOUT", "5")
        .output()
        .unwrap_or_else(|error| panic!("psql must be installed for the Postgres tests: {error}"));
    assert!(
        output.status.success(),
        "`{sql}` failed on {server_url}: {}\nIs Postgres running? Start it (`scripts/test` says how), or point \
         GATEHOUSE_TEST_POSTGRES_URL at a server where this user may create databases.",
        String::from_utf8_lossy(&output.stderr).trim()
    );
}

/// `url` with its database (the last path segment) replaced by `database`, keeping any `?query`.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |index| index + 3);
    let server = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{server}/{database}?{query}"),
        None => format!("{server}/{database}"),
    }
}

// === impl Captured ===

/// Everything a child wrote to one pipe, read on a thread so the pipe never fills up.
struct Captured {
    text: Arc<Mutex<String>>,
    reader: JoinHandle<()>,
}

impl Captured {
    fn new(pipe: impl Read + Send + 'static) -> Captured {
        let text = Arc::new(Mutex::new(String::new()));
        let sink = Arc::clone(&text);
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines() {
                let Ok(line) = line else { break };
                let mut text = sink.lock().expect("capture lock");
                text.push_str(&line);
                text.push('\n');
            }
        });
        Captured { text, reader }
    }

    fn text(&self) -> String {
        self.text.lock().expect("capture lock").clone()
    }

    /// Waits for the pipe to close (the process has exited) and returns all of it.
    fn finish(self) -> String {
        let _ = self.reader.join();
        let text = self.text.lock().expect("capture lock");
        text.clone()
    }
}

fn wait_with_timeout(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return Some(status);
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn with_database_replaces_only_the_database() {
    let cases = [
        (
            "postgres://postgres@127.0.0.1:5432/test",
            "postgres://postgres@127.0.0.1:5432/x",
        ),
        (
            "postgres://u:p@db/test?sslmode=disable",
            "postgres://u:p@db/x?sslmode=disable",
        ),
        ("postgresql://u@db:5432", "postgresql://u@db:5432/x"),
    ];
    for (url, expected) in cases {
        assert_eq!(with_database(url, "x"), expected, "{url}");
    }
}

/// Runs git in `dir` with a fixed author, asserting it worked; returns its standard output.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let output = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.test")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.test")
        .output()
        .expect("git runs");
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}
