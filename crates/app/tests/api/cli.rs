//! The `caredesk` binary: user administration, migrate, demo and configuration errors.

use std::io::Write;
use std::process::{Command, Output, Stdio};
use testkit::{TestResult, spawn_app};

fn caredesk(app: &testkit::TestApp, args: &[&str], stdin: Option<&str>) -> Result<Output, std::io::Error> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_caredesk"))
        .args(app.storage_args())
        .args(args)
        .env_remove("CAREDESK_STORAGE__DATABASE_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    if let (Some(text), Some(mut input)) = (stdin, child.stdin.take()) {
        input.write_all(text.as_bytes())?;
    }
    child.wait_with_output()
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

#[tokio::test]
async fn users_are_managed_from_the_command_line() -> TestResult {
    let app = spawn_app().await;
    let add = caredesk(
        &app,
        &[
            "user",
            "add",
            "--username",
            "jody",
            "--role",
            "billing_clerk",
            "--display-name",
            "Jo Biller",
            "--password-stdin",
        ],
        Some("a-cli-password-1\n"),
    )?;
    assert!(add.status.success(), "{}", text(&add));
    let dup = caredesk(
        &app,
        &["user", "add", "--username", "jody", "--role", "admin", "--password-stdin"],
        Some("a-cli-password-1\n"),
    )?;
    assert!(!dup.status.success());
    assert!(text(&dup).contains("--username: is already taken"), "{}", text(&dup));
    let weak =
        caredesk(&app, &["user", "add", "--username", "kay", "--role", "admin", "--password-stdin"], Some("short\n"))?;
    assert!(text(&weak).contains("password: must be at least 12 characters"));
    let role = caredesk(
        &app,
        &["user", "add", "--username", "kay", "--role", "wizard", "--password-stdin"],
        Some("a-cli-password-1\n"),
    )?;
    assert!(text(&role).contains("--role: is not a role"));

    let list = caredesk(&app, &["user", "list"], None)?;
    assert!(text(&list).contains("jody") && text(&list).contains("billing_clerk"), "{}", text(&list));

    let token = caredesk(&app, &["user", "token", "--username", "jody"], None)?;
    let token_text = String::from_utf8_lossy(&token.stdout).trim().to_string();
    assert!(token_text.starts_with("cdk_"));
    let me = app.api.get(app.url("/api/v1/me")).bearer_auth(&token_text).send().await?;
    assert_eq!(me.status(), 200);

    let disable = caredesk(&app, &["user", "disable", "--username", "jody"], None)?;
    assert!(disable.status.success(), "{}", text(&disable));
    let refused = app.api.get(app.url("/api/v1/me")).bearer_auth(&token_text).send().await?;
    assert_eq!(refused.status(), 401, "a disabled user's token stops working");
    let enable = caredesk(&app, &["user", "disable", "--username", "jody", "--enable"], None)?;
    assert!(enable.status.success());

    let reset = caredesk(
        &app,
        &["user", "reset-password", "--username", "jody", "--password-stdin"],
        Some("a-new-cli-password\n"),
    )?;
    assert!(reset.status.success(), "{}", text(&reset));
    let signin = app
        .api
        .post(app.url("/api/v1/auth/token"))
        .json(&serde_json::json!({"username": "jody", "password": "a-new-cli-password"}))
        .send()
        .await?;
    assert_eq!(signin.status(), 201);
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn demo_loads_once_and_migrate_is_repeatable() -> TestResult {
    let app = spawn_app().await;
    let migrate = caredesk(&app, &["migrate"], None)?;
    assert!(migrate.status.success(), "{}", text(&migrate));
    let demo = caredesk(&app, &["demo"], None)?;
    assert!(demo.status.success(), "{}", text(&demo));
    assert!(text(&demo).contains("admin-demo-pass"));
    let signin = app
        .api
        .post(app.url("/api/v1/auth/token"))
        .json(&serde_json::json!({"username": "agent", "password": "agent-demo-pass"}))
        .send()
        .await?;
    assert_eq!(signin.status(), 201);
    let again = caredesk(&app, &["demo"], None)?;
    assert!(text(&again).contains("nothing loaded"));
    app.stop().await;
    Ok(())
}

#[test]
fn configuration_errors_name_what_is_wrong() -> TestResult {
    let dir = std::env::temp_dir().join(format!("caredesk-config-{}", db::random_token(6)));
    std::fs::create_dir_all(&dir)?;
    let file = dir.join("caredesk.toml");
    let run = |env: &[(&str, &str)]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_caredesk"));
        command.arg("--config").arg(&file).arg("--data-dir").arg(&dir).arg("migrate");
        for (k, v) in env {
            command.env(k, v);
        }
        command.output()
    };
    std::fs::write(&file, "[server]\nlisten = \"127.0.0.1:9000\"\nlisen = 1\n")?;
    let unknown = run(&[])?;
    assert_eq!(unknown.status.code(), Some(2));
    assert!(text(&unknown).contains("unknown field `lisen`"), "{}", text(&unknown));

    std::fs::write(&file, "[server]\nlisten = \"nowhere\"\n")?;
    let bad = run(&[])?;
    assert!(text(&bad).contains("server.listen is invalid"), "{}", text(&bad));

    std::fs::write(&file, "")?;
    let env_unknown = run(&[("CAREDESK_SERVER__PROT", "1")])?;
    assert_eq!(env_unknown.status.code(), Some(2));
    assert!(text(&env_unknown).contains("CAREDESK_SERVER__PROT"), "{}", text(&env_unknown));
    let env_bad_type = run(&[("CAREDESK_AUTH__LOCKOUT_THRESHOLD", "many")])?;
    assert!(text(&env_bad_type).contains("CAREDESK_AUTH__LOCKOUT_THRESHOLD"), "{}", text(&env_bad_type));
    let env_good = run(&[("CAREDESK_AUTH__LOCKOUT_THRESHOLD", "7")])?;
    assert!(env_good.status.success(), "{}", text(&env_good));
    let missing = Command::new(env!("CARGO_BIN_EXE_caredesk"))
        .arg("--config")
        .arg(dir.join("absent.toml"))
        .arg("migrate")
        .output()?;
    assert!(text(&missing).contains("cannot read config file"));
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
