//! Test support shared by the black-box tests: [`spawn_app`] starts a real Caredesk on port 0
//! over a fresh database (SQLite, or PostgreSQL when `TEST_DATABASE_URL` is set), with a
//! clock the test controls, and fixture builders for users, tokens, signed-in browsers,
//! customers with an account, and bills posted straight to the ledger.

use caredesk::{Config, RunningApp};
use db::Db;
use db::scratch::Scratch;
use kernel::{Actor, Clock, FixedClock, Role, SystemClock};
use std::sync::Arc;

pub const PASSWORD: &str = "a-long-test-password";

pub type TestResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// A customer and account made through the API by [`TestApp::open_account`].
#[derive(Debug, Clone)]
pub struct OpenedAccount {
    pub customer_id: i64,
    pub account_id: i64,
    pub account_number: String,
}

pub struct TestApp {
    pub base: String,
    pub db: Db,
    pub clock: Arc<FixedClock>,
    pub config: Config,
    pub api: reqwest::Client,
    pub scratch: Scratch,
    running: Option<RunningApp>,
}

/// Starts Caredesk with default settings.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts Caredesk after `adjust` has changed its configuration.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    match try_spawn(adjust).await {
        Ok(app) => app,
        Err(error) => {
            eprintln!("spawn_app failed: {error}");
            std::process::abort();
        }
    }
}

async fn try_spawn(adjust: impl FnOnce(&mut Config)) -> Result<TestApp, Box<dyn std::error::Error>> {
    let scratch = db::scratch::open().await?;
    let mut config = Config::default();
    config.server.listen = "127.0.0.1:0".into();
    config.jobs.worker = false;
    config.storage.data_dir = scratch.data_dir.clone();
    config.storage.database_url = scratch.database_url.clone();
    adjust(&mut config);
    let clock = Arc::new(FixedClock::at(SystemClock.now()));
    let running = caredesk::spawn(&config, scratch.db.clone(), clock.clone()).await?;
    let api = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
    Ok(TestApp {
        base: format!("http://{}", running.addr),
        db: scratch.db.clone(),
        clock,
        config,
        api,
        scratch,
        running: Some(running),
    })
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn stop(mut self) {
        if let Some(running) = self.running.take() {
            running.stop().await;
        }
    }

    /// Adds a user with [`PASSWORD`] directly through the staff ops.
    pub async fn add_user(&self, username: &str, role: Role) -> Result<i64, Box<dyn std::error::Error + Send + Sync>> {
        let new = staff::NewUser {
            username: staff::Username::parse(username)?,
            display_name: staff::model::parse_display_name(&format!("Test {username}"))?,
            email: None,
            role,
        };
        let hash = staff::Password::parse(PASSWORD)?.hash().await?;
        let mut tx = self.db.begin().await?;
        let user = staff::ops::create_user(&mut tx, &Actor::system("test"), new, &hash, self.clock.now()).await?;
        tx.commit().await?;
        Ok(user.user_id)
    }

    /// A bearer token for `username` through the API.
    pub async fn token(&self, username: &str) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
        let response = self
            .api
            .post(self.url("/api/v1/auth/token"))
            .json(&serde_json::json!({ "username": username, "password": PASSWORD }))
            .send()
            .await?;
        let status = response.status();
        let body: serde_json::Value = response.json().await?;
        body["token"].as_str().map(str::to_string).ok_or_else(|| format!("no token ({status}): {body}").into())
    }

    /// A user with `role` and a token, in one step.
    pub async fn user_with_token(
        &self,
        username: &str,
        role: Role,
    ) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
        self.add_user(username, role).await?;
        self.token(username).await
    }

    /// A customer (`customer` is the `POST /api/v1/customers` body) with one account (`account`
    /// is the `POST /api/v1/accounts` body; its `customer_id` is filled in), both through the API.
    pub async fn open_account(
        &self,
        token: &str,
        customer: serde_json::Value,
        mut account: serde_json::Value,
    ) -> Result<OpenedAccount, Error> {
        let response = self.api.post(self.url("/api/v1/customers")).bearer_auth(token).json(&customer).send().await?;
        let status = response.status();
        let created: serde_json::Value = response.json().await?;
        let customer_id =
            created["customer"]["customer_id"].as_i64().ok_or_else(|| format!("no customer ({status}): {created}"))?;
        account["customer_id"] = customer_id.into();
        let response = self.api.post(self.url("/api/v1/accounts")).bearer_auth(token).json(&account).send().await?;
        let status = response.status();
        let opened: serde_json::Value = response.json().await?;
        if status != reqwest::StatusCode::CREATED {
            return Err(format!("account not opened ({status}): {opened}").into());
        }
        let account_id = opened["account_id"].as_i64().ok_or_else(|| format!("no account id: {opened}"))?;
        let account_number = opened["account_number"].as_str().ok_or("no account number")?.to_string();
        Ok(OpenedAccount { customer_id, account_id, account_number })
    }

    /// A bill of `minor` USD cents posted to the account straight through the ledger ops, as
    /// billing would: Dr receivable / Cr revenue, with an open item due in 20 days.
    pub async fn post_bill(&self, account_id: i64, reference: &str, minor: i64) -> Result<(), Error> {
        use ledger::{BusinessDate, EntryDraft, LedgerCode, LineDraft};
        let now = self.clock.now();
        let amount = kernel::Money::new(minor, kernel::Currency::USD);
        let today = BusinessDate::of(now);
        let draft = EntryDraft::new(today, "bill", reference)
            .line(LineDraft::debit(LedgerCode::RECEIVABLE, Some(account_id), amount))
            .line(LineDraft::credit("4020", None, amount));
        let mut tx = self.db.begin().await?;
        let posted = ledger::ops::post(&mut tx, &Actor::system("test"), &draft, now).await?;
        let due = today.plus_days(20);
        ledger::ops::charge(&mut tx, account_id, posted.entry_id, "bill", reference, due, amount, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A count or sum read with a plain query (`select count(*) ...`).
    pub async fn scalar(&self, sql: &'static str) -> Result<i64, Error> {
        let mut tx = self.db.read().await?;
        Ok(db::scalar!(&mut tx, i64, sql)?)
    }

    /// A cookie-keeping client that does not follow redirects, like a browser tab.
    pub fn browser(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_else(|_| reqwest::Client::new())
    }

    /// Signs `username` in through the sign-in form; returns the session's CSRF token.
    pub async fn sign_in(
        &self,
        browser: &reqwest::Client,
        username: &str,
    ) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
        let page = browser.get(self.url("/signin")).send().await?.text().await?;
        let csrf = hidden_csrf(&page).ok_or("sign-in page has no _csrf field")?;
        let response = browser
            .post(self.url("/signin"))
            .form(&[("_csrf", csrf.as_str()), ("username", username), ("password", PASSWORD), ("next", "/")])
            .send()
            .await?;
        if response.status() != reqwest::StatusCode::SEE_OTHER {
            return Err(format!("sign-in answered {}", response.status()).into());
        }
        let profile = browser.get(self.url("/profile")).send().await?.text().await?;
        hidden_csrf(&profile).ok_or_else(|| "profile page has no _csrf field".into())
    }
}

/// The value of the first `_csrf` hidden field in a page.
pub fn hidden_csrf(html: &str) -> Option<String> {
    let marker = "name=\"_csrf\" value=\"";
    let start = html.find(marker)? + marker.len();
    let rest = html.get(start..)?;
    Some(rest.get(..rest.find('"')?)?.to_string())
}

impl TestApp {
    /// Command-line storage flags that point the `caredesk` binary at this test's database.
    pub fn storage_args(&self) -> Vec<String> {
        match (&self.scratch.database_url, &self.scratch.schema) {
            (Some(url), Some(schema)) => {
                let joiner = if url.contains('?') { '&' } else { '?' };
                vec!["--database-url".into(), format!("{url}{joiner}options[search_path]={schema},public")]
            }
            _ => vec!["--data-dir".into(), self.scratch.data_dir.display().to_string()],
        }
    }
}
