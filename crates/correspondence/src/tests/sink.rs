//! Test support: an aiosmtpd sink writing each message to a directory, and a TCP listener that
//! accepts connections and never answers (a stalled SMTP server).

use crate::settings::{SmtpSecurity, SmtpSettings};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct Sink {
    pub port: u16,
    pub dir: PathBuf,
    child: Child,
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Starts the sink, or prints a skip notice and returns None when aiosmtpd is not importable.
pub async fn start() -> Option<Sink> {
    if !importable() {
        return None;
    }
    Some(start_on(free_port()).await)
}

fn importable() -> bool {
    let importable = Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !importable {
        eprintln!("skipped: aiosmtpd not installed (pip install aiosmtpd)");
    }
    importable
}

/// Starts the sink on a chosen port (a test that restarts the server reuses its port).
pub async fn start_on(port: u16) -> Sink {
    let dir = std::env::temp_dir().join(format!("caredesk-smtp-{}", db::random_token(6)));
    std::fs::create_dir_all(&dir).unwrap();
    spawn_sink(port, dir, &[]).await
}

/// Starts the sink speaking TLS from the first byte (SMTPS) with a certificate for 127.0.0.1
/// signed by a private CA made with openssl; `ca.pem` is in its directory. None (with a notice)
/// when aiosmtpd or openssl is missing.
pub async fn start_tls() -> Option<Sink> {
    if !importable() {
        return None;
    }
    let dir = std::env::temp_dir().join(format!("caredesk-smtps-{}", db::random_token(6)));
    std::fs::create_dir_all(&dir).unwrap();
    if make_certificates(&dir).is_none() {
        eprintln!("skipped: openssl could not make test certificates");
        return None;
    }
    let (cert, key) = (dir.join("server.pem"), dir.join("server.key"));
    let (cert, key) = (cert.to_string_lossy().to_string(), key.to_string_lossy().to_string());
    Some(spawn_sink(free_port(), dir, &["--smtpscert", &cert, "--smtpskey", &key]).await)
}

/// A CA and a server certificate for 127.0.0.1 signed by it, as PEM files in `dir`.
fn make_certificates(dir: &std::path::Path) -> Option<()> {
    let run = |args: &[&str]| {
        let mut command = Command::new("openssl");
        command.args(args).current_dir(dir).stdout(Stdio::null()).stderr(Stdio::null());
        command.status().ok().filter(|s| s.success()).map(|_| ())
    };
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    run(&[&["req", "-x509"][..], &ec, &["-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=Test CA"]]
        .concat())?;
    run(&[&["req"][..], &ec, &["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"]].concat())?;
    let extensions = "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n";
    std::fs::write(dir.join("ext.cnf"), extensions).ok()?;
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
    ])
}

async fn spawn_sink(port: u16, dir: PathBuf, tls: &[&str]) -> Sink {
    let handlers = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/smtp");
    let mut child = Command::new("python3")
        .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
        .args(tls)
        .args(["-c", "dir_sink.DirSink"])
        .arg(&dir)
        .env("PYTHONPATH", handlers)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return Sink { port, dir, child };
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("aiosmtpd did not start on port {port}");
}

impl Sink {
    pub fn settings(&self) -> SmtpSettings {
        settings_for(self.port)
    }

    /// The messages received so far, as text.
    pub fn messages(&self) -> Vec<String> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        names.sort();
        names.iter().map(|p| std::fs::read_to_string(p).unwrap()).collect()
    }
}

pub fn settings_for(port: u16) -> SmtpSettings {
    SmtpSettings {
        host: "127.0.0.1".into(),
        port,
        security: SmtpSecurity::Plain,
        from_address: "Caredesk <service@caredesk.test>".into(),
        message_id_domain: "caredesk.test".into(),
        send_timeout_seconds: 2,
        ..SmtpSettings::default()
    }
}

/// A server that accepts connections and never says a word; returns its port.
pub async fn stalled_server() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    port
}
