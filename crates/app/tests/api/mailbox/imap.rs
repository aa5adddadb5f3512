//! IMAP against a real Dovecot started by the test: a plain poll, implicit TLS and STARTTLS with
//! a private CA made by `openssl` (an untrusted certificate refused), and the `mailbox.poll` job
//! fetching mail on its own when `[imap]` is configured. Skipped, with a notice, when Dovecot or
//! openssl is not installed (CI installs `dovecot-imapd`).

use super::{Error, customer_with_email, message};
use kernel::Role;
use mailbox::imap::{ImapMailbox, ImapSettings, ImapTls};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use testkit::{TestApp, TestResult, spawn_app, spawn_app_with};

/// A real Dovecot: IMAP (with STARTTLS when TLS is on) and, with TLS, IMAPS on 127.0.0.1, one
/// passwd-file user, a Maildir in a temporary directory.
struct Dovecot {
    child: std::process::Child,
    dir: PathBuf,
    port: u16,
    /// IMAPS, when started with TLS.
    tls_port: Option<u16>,
}

fn free_port() -> Option<u16> {
    Some(std::net::TcpListener::bind("127.0.0.1:0").ok()?.local_addr().ok()?.port())
}

/// A CA and a server certificate for 127.0.0.1 signed by it, as PEM files in `dir`.
fn make_certificates(dir: &Path) -> Option<()> {
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

impl Dovecot {
    fn start(tls: bool) -> Option<Dovecot> {
        let binary = ["/usr/sbin/dovecot", "/usr/bin/dovecot"].into_iter().find(|p| Path::new(p).exists());
        let Some(binary) = binary else {
            eprintln!("skipped: dovecot not installed (Debian package dovecot-imapd)");
            return None;
        };
        let port = free_port()?;
        let dir = std::env::temp_dir().join(format!("caredesk-dovecot-{}", db::random_token(6)));
        // INBOX and a second folder, Billing (Maildir++: `.Billing`).
        let folders = ["Maildir/new", "Maildir/cur", "Maildir/tmp", "Maildir/.Billing"];
        let billing = ["Maildir/.Billing/new", "Maildir/.Billing/cur", "Maildir/.Billing/tmp"];
        for sub in ["run", "state", "home"].iter().chain(&folders).chain(&billing) {
            std::fs::create_dir_all(dir.join(sub)).ok()?;
        }
        // Dovecot refuses to run mail processes as root: they run as the dovecot user.
        use std::os::unix::fs::PermissionsExt;
        for sub in ["", "home", "Maildir"].iter().chain(&folders).chain(&billing) {
            std::fs::set_permissions(dir.join(sub), std::fs::Permissions::from_mode(0o777)).ok()?;
        }
        std::fs::write(dir.join("users"), "desk:{PLAIN}desk-password\n").ok()?;
        let d = dir.display();
        let tls_port = if tls {
            if make_certificates(&dir).is_none() {
                eprintln!("skipped: openssl could not make test certificates");
                return None;
            }
            Some(free_port()?)
        } else {
            None
        };
        let (ssl, imaps) = match tls_port {
            Some(tls_port) => (
                format!("ssl = yes\nssl_cert = <{d}/server.pem\nssl_key = <{d}/server.key\n"),
                format!(
                    "  inet_listener imaps {{\n    address = 127.0.0.1\n    port = {tls_port}\n    ssl = yes\n  }}\n"
                ),
            ),
            None => ("ssl = no\n".to_string(), "  inet_listener imaps {\n    port = 0\n  }\n".to_string()),
        };
        let conf = format!(
            "base_dir = {d}/run\nstate_dir = {d}/state\nlog_path = {d}/dovecot.log\nprotocols = imap\n\
             listen = 127.0.0.1\n{ssl}disable_plaintext_auth = no\nauth_mechanisms = plain login\n\
             first_valid_uid = 1\nfirst_valid_gid = 1\nmail_location = maildir:{d}/Maildir\n\
             passdb {{\n  driver = passwd-file\n  args = {d}/users\n}}\n\
             userdb {{\n  driver = static\n  args = uid=dovecot gid=dovecot home={d}/home\n}}\n\
             service imap-login {{\n  inet_listener imap {{\n    address = 127.0.0.1\n    port = {port}\n  }}\n\
             {imaps}  chroot =\n}}\nservice anvil {{\n  chroot =\n}}\n"
        );
        std::fs::write(dir.join("dovecot.conf"), conf).ok()?;
        let child = Command::new(binary)
            .args(["-F", "-c"])
            .arg(dir.join("dovecot.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let ports = [Some(port), tls_port];
        for _ in 0..100 {
            if ports.iter().flatten().all(|p| std::net::TcpStream::connect(("127.0.0.1", *p)).is_ok()) {
                return Some(Dovecot { child, dir, port, tls_port });
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        eprintln!("dovecot did not start: {}", std::fs::read_to_string(dir.join("dovecot.log")).unwrap_or_default());
        None
    }

    fn deliver(&self, name: &str, raw: &str) {
        self.deliver_to("Maildir", name, raw);
    }

    /// Delivers into a folder's Maildir (`Maildir` for INBOX, `Maildir/.Billing` for Billing).
    fn deliver_to(&self, folder: &str, name: &str, raw: &str) {
        use std::os::unix::fs::PermissionsExt;
        let path = self.dir.join(folder).join("new").join(name);
        std::fs::write(&path, raw).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).unwrap();
    }

    fn settings(&self, tls: ImapTls, port: u16) -> ImapMailbox {
        ImapMailbox {
            name: "INBOX".into(),
            host: "127.0.0.1".into(),
            port,
            tls,
            username: "desk".into(),
            password: "desk-password".into(),
            ..ImapMailbox::default()
        }
    }

    fn seen(&self) -> usize {
        self.seen_in("Maildir")
    }

    fn seen_in(&self, folder: &str) -> usize {
        std::fs::read_dir(self.dir.join(folder).join("cur"))
            .map(|entries| entries.filter_map(Result::ok).filter(|e| e.file_name().to_string_lossy().contains(":2,S")))
            .map(Iterator::count)
            .unwrap_or(0)
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn inbound(app: &TestApp, token: &str) -> Result<Vec<Value>, Error> {
    let page: Value = app.api.get(app.url("/api/v1/inbound/email")).bearer_auth(token).send().await?.json().await?;
    Ok(page["items"].as_array().ok_or("no items")?.clone())
}

#[tokio::test]
async fn an_imap_mailbox_is_polled_threaded_marked_seen_and_never_fetched_twice() -> TestResult {
    let Some(dovecot) = Dovecot::start(false) else { return Ok(()) };
    let app = spawn_app().await;
    let agent = app.user_with_token("ana", Role::Agent1).await?;
    let customer_id = customer_with_email(&app, &agent, "imap.user@example.org").await?;
    dovecot.deliver("1.host", &message("imap.user@example.org", "i1@example.org", "Leak", "", "Water leak"));
    let reply_headers = "In-Reply-To: <i1@example.org>\r\n";
    dovecot.deliver("2.host", &message("imap.user@example.org", "i2@example.org", "Re: Leak", reply_headers, "Fixed?"));
    let settings = dovecot.settings(ImapTls::None, dovecot.port);
    let now = kernel::Clock::now(app.clock.as_ref());
    let first = mailbox::imap::poll_once(&app.db, &settings, now).await?;
    assert_eq!((first.fetched, first.stored), (2, 2));
    let items = inbound(&app, &agent).await?;
    assert_eq!(items.len(), 2);
    assert!(items.iter().all(|m| m["source"] == "imap:INBOX" && m["customer_id"] == customer_id), "{items:?}");
    assert_eq!(items[0]["case_id"], items[1]["case_id"], "the reply threads onto the first message's case");
    let second = mailbox::imap::poll_once(&app.db, &settings, now).await?;
    assert_eq!((second.fetched, second.stored), (0, 0), "both were marked \\Seen");
    assert_eq!(dovecot.seen(), 2);
    Ok(())
}

#[tokio::test]
async fn imap_over_tls_and_starttls_trusts_a_configured_ca_and_refuses_an_unknown_one() -> TestResult {
    let Some(dovecot) = Dovecot::start(true) else { return Ok(()) };
    let tls_port = dovecot.tls_port.ok_or("no IMAPS port")?;
    let app = spawn_app().await;
    let agent = app.user_with_token("ana", Role::Agent1).await?;
    let now = kernel::Clock::now(app.clock.as_ref());
    dovecot.deliver("1.host", &message("tls.user@example.org", "t1@example.org", "Over TLS", "", "Hello"));

    let untrusted = dovecot.settings(ImapTls::Tls, tls_port);
    let refused = mailbox::imap::poll_once(&app.db, &untrusted, now).await;
    let error = refused.err().ok_or("a certificate from an unknown CA was accepted")?;
    assert!(error.contains("TLS handshake") && error.contains("certificate"), "{error}");
    assert_eq!(dovecot.seen(), 0, "nothing was fetched");

    let ca_file = Some(dovecot.dir.join("ca.pem"));
    let implicit = ImapMailbox { ca_file: ca_file.clone(), ..dovecot.settings(ImapTls::Tls, tls_port) };
    let first = mailbox::imap::poll_once(&app.db, &implicit, now).await?;
    assert_eq!((first.fetched, first.stored), (1, 1));

    dovecot.deliver("2.host", &message("tls.user@example.org", "t2@example.org", "Over STARTTLS", "", "Hi"));
    let upgraded = ImapMailbox { ca_file, ..dovecot.settings(ImapTls::Starttls, dovecot.port) };
    let second = mailbox::imap::poll_once(&app.db, &upgraded, now).await?;
    assert_eq!((second.fetched, second.stored), (1, 1));
    assert_eq!(dovecot.seen(), 2);
    let items = inbound(&app, &agent).await?;
    let subjects: Vec<&str> = items.iter().filter_map(|m| m["subject"].as_str()).collect();
    assert_eq!(subjects, ["Over STARTTLS", "Over TLS"]);
    Ok(())
}

#[tokio::test]
async fn a_configured_mailbox_is_polled_by_the_worker_without_any_call() -> TestResult {
    let Some(dovecot) = Dovecot::start(false) else { return Ok(()) };
    let password_file = dovecot.dir.join("imap-password");
    std::fs::write(&password_file, "desk-password\n")?;
    let imap = ImapSettings::of(vec![ImapMailbox {
        password: String::new(),
        password_file: Some(password_file),
        poll_interval_seconds: 30,
        ..dovecot.settings(ImapTls::None, dovecot.port)
    }]);
    assert_eq!(imap.validate(), Ok(()));
    let app = spawn_app_with(|config| {
        config.jobs.worker = true;
        config.jobs.poll_milliseconds = 50;
        config.imap = imap;
    })
    .await;
    let agent = app.user_with_token("ana", Role::Agent1).await?;
    customer_with_email(&app, &agent, "worker.user@example.org").await?;
    dovecot.deliver("1.host", &message("worker.user@example.org", "w1@example.org", "No power", "", "Since noon"));
    // The first poll is due one interval after the worker starts; the test's clock stands still.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(inbound(&app, &agent).await?.is_empty(), "not polled before its time");
    app.clock.advance_seconds(31);
    let mut items = Vec::new();
    for _ in 0..200 {
        items = inbound(&app, &agent).await?;
        if !items.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(items.len(), 1, "the worker fetched the message");
    assert_eq!(items[0]["threaded_by"], "new_case");
    assert!(items[0]["case_id"].as_i64().is_some());
    let admin = app.user_with_token("root", Role::Admin).await?;
    let jobs: Value = app.api.get(app.url("/api/v1/jobs")).bearer_auth(&admin).send().await?.json().await?;
    let recent = jobs["recent"].as_array().ok_or("no jobs")?;
    let polls: Vec<&Value> = recent.iter().filter(|j| j["kind"] == "mailbox.poll").collect();
    assert!(polls.iter().any(|j| j["status"] == "done"), "{polls:?}");
    Ok(())
}

async fn inbound_until(app: &TestApp, token: &str, count: usize) -> Result<Vec<Value>, Error> {
    let mut items = Vec::new();
    for _ in 0..200 {
        items = inbound(app, token).await?;
        if items.len() >= count {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    Ok(items)
}

#[tokio::test]
async fn two_mailboxes_are_polled_by_their_own_jobs_and_each_message_lands_once() -> TestResult {
    let Some(dovecot) = Dovecot::start(false) else { return Ok(()) };
    let support = ImapMailbox {
        name: "support".into(),
        poll_interval_seconds: 30,
        ..dovecot.settings(ImapTls::None, dovecot.port)
    };
    let billing = ImapMailbox {
        name: "billing".into(),
        folder: "Billing".into(),
        poll_interval_seconds: 60,
        queue: Some("Billing".into()),
        ..dovecot.settings(ImapTls::None, dovecot.port)
    };
    let imap = ImapSettings::of(vec![support.clone(), billing.clone()]);
    assert_eq!(imap.validate(), Ok(()));
    let app = spawn_app_with(|config| {
        config.jobs.worker = true;
        config.jobs.poll_milliseconds = 50;
        config.imap = imap;
    })
    .await;
    let agent = app.user_with_token("ana", Role::Agent1).await?;
    dovecot.deliver("1.host", &message("s@example.org", "m-support@example.org", "No power", "", "Since noon"));
    dovecot.deliver_to(
        "Maildir/.Billing",
        "2.host",
        &message("b@example.org", "m-billing@example.org", "Bill", "", "Why?"),
    );

    // Each mailbox has its own job and interval: support is due after 30 s, billing after 60 s.
    app.clock.advance_seconds(31);
    let items = inbound_until(&app, &agent, 1).await?;
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["source"], "imap:support");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(inbound(&app, &agent).await?.len(), 1, "billing is not due yet");
    app.clock.advance_seconds(30);
    let items = inbound_until(&app, &agent, 2).await?;
    assert_eq!(items.len(), 2, "{items:?}");
    let from_billing = items.iter().find(|m| m["source"] == "imap:billing").ok_or("nothing from billing")?;
    let case_id = from_billing["case_id"].as_i64().ok_or("no case")?;
    let mut tx = app.db.read().await?;
    let queue = db::scalar!(
        &mut tx,
        String,
        "select q.name from support_case c join queue q on q.queue_id = c.queue_id where c.case_id = $1",
        case_id
    )?;
    tx.rollback().await?;
    assert_eq!(queue, "Billing", "the billing mailbox's queue");
    assert_eq!((dovecot.seen(), dovecot.seen_in("Maildir/.Billing")), (1, 1));

    // Polls of one mailbox at once (a lease lost mid-poll): the message lands once.
    dovecot.deliver("3.host", &message("s@example.org", "m-again@example.org", "Again", "", "Still no power"));
    let now = kernel::Clock::now(app.clock.as_ref());
    let (one, two) = tokio::join!(
        mailbox::imap::poll_once(&app.db, &support, now),
        mailbox::imap::poll_once(&app.db, &support, now)
    );
    // The worker may poll it too (support is due again): whoever stores it, it is stored once.
    let stored = one?.stored + two?.stored;
    assert!(stored <= 1, "stored {stored} times by the two polls");
    let items = inbound_until(&app, &agent, 3).await?;
    assert_eq!(items.len(), 3, "{items:?}");
    let ids: Vec<&str> = items.iter().filter_map(|m| m["message_id"].as_str()).collect();
    assert_eq!(ids, ["m-again@example.org", "m-billing@example.org", "m-support@example.org"]);

    let admin = app.user_with_token("root", Role::Admin).await?;
    let jobs: Value = app.api.get(app.url("/api/v1/jobs")).bearer_auth(&admin).send().await?.json().await?;
    let recent = jobs["recent"].as_array().ok_or("no jobs")?;
    let done: Vec<&Value> = recent.iter().filter(|j| j["kind"] == "mailbox.poll" && j["status"] == "done").collect();
    assert!(done.len() >= 2, "one poll job per mailbox: {done:?}");
    Ok(())
}

#[tokio::test]
async fn a_mailbox_whose_queue_does_not_exist_fails_its_poll_before_fetching() -> TestResult {
    let Some(dovecot) = Dovecot::start(false) else { return Ok(()) };
    let app = spawn_app().await;
    dovecot.deliver("1.host", &message("s@example.org", "q1@example.org", "Hello", "", "Text"));
    let wrong = ImapMailbox { queue: Some("Nowhere".into()), ..dovecot.settings(ImapTls::None, dovecot.port) };
    let now = kernel::Clock::now(app.clock.as_ref());
    let error = mailbox::imap::poll_once(&app.db, &wrong, now).await.err().ok_or("polled into no queue")?;
    assert!(error.contains("no active queue named \"Nowhere\""), "{error}");
    assert_eq!(dovecot.seen(), 0);
    Ok(())
}
