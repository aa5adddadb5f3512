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
    let importable = Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !importable {
        eprintln!("skipped: aiosmtpd not installed (pip install aiosmtpd)");
        return None;
    }
    Some(start_on(free_port()).await)
}

/// Starts the sink on a chosen port (a test that restarts the server reuses its port).
pub async fn start_on(port: u16) -> Sink {
    let dir = std::env::temp_dir().join(format!("caredesk-smtp-{}", db::random_token(6)));
    std::fs::create_dir_all(&dir).unwrap();
    let handlers = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/smtp");
    let mut child = Command::new("python3")
        .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "dir_sink.DirSink"])
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
