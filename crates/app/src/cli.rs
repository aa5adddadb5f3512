//! The `caredesk` command line. Storage flags apply to every command; each flag can also be set
//! in `caredesk.toml` or as a `CAREDESK_SECTION__KEY` environment variable.

use crate::config::{Config, mask_password};
use clap::{Args, Parser, Subcommand};
use db::Db;
use kernel::{Actor, Clock, SystemClock};
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Parser, Debug)]
#[command(name = "caredesk", version, about = "Caredesk: the customer service desk in one binary")]
pub struct Cli {
    /// Configuration file (default: ./caredesk.toml when present).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Directory for the embedded SQLite database [config: storage.data_dir].
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// A postgres:// URL switches to PostgreSQL [config: storage.database_url].
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the web UI and API (creates and migrates the database on first start).
    Serve(ServeArgs),
    /// Apply database migrations and exit.
    Migrate,
    /// Manage staff users.
    #[command(subcommand)]
    User(UserCommand),
    /// Load the demo data set into an empty database.
    Demo {
        /// How many demo customers to make; above 5,000 a bulk loader writes them (with about five
        /// contacts and one case each, and no audit records).
        #[arg(long, default_value_t = 1_000)]
        customers: u64,
    },
    /// Check integrity (the audit chain and the ledger); exits non-zero and names what is wrong.
    Verify,
    /// Run the bills of one bill cycle for one period (resumable; re-running is harmless).
    BillRun(crate::cli_billing::BillRunArgs),
    /// Billing batch work: meter-read imports.
    #[command(subcommand)]
    Billing(crate::cli_billing::BillingCommand),
    /// Late fees by policy and the review of payment arrangements.
    #[command(subcommand)]
    Charges(crate::cli_charges::ChargesCommand),
    /// Payment batch work: lockbox and payment file imports.
    #[command(subcommand)]
    Payments(crate::cli_payments::PaymentsCommand),
    /// The books: trial balance and general-ledger export.
    #[command(subcommand)]
    Ledger(crate::cli_ledger::LedgerCommand),
    /// Letters: the print batch (one PDF of the waiting letters, which become printed).
    #[command(subcommand)]
    Letters(crate::cli_letters::LettersCommand),
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on [config: server.listen; default 127.0.0.1:8080].
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// On an empty database, load the demo data and print the demo sign-ins [config: server.demo].
    #[arg(long)]
    pub demo: bool,
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Add a user; the password is read from standard input.
    Add {
        #[arg(long)]
        username: String,
        /// agent1, agent2, lead, cashier, billing_clerk, collections_clerk, order_clerk, timekeeper, supervisor, admin
        #[arg(long)]
        role: String,
        #[arg(long)]
        display_name: Option<String>,
        #[arg(long)]
        email: Option<String>,
        /// Read the password from standard input (required).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// List users.
    List,
    /// Disable a user (ends their sessions; their tokens stop working).
    Disable {
        #[arg(long)]
        username: String,
        /// Enable the user again instead.
        #[arg(long)]
        enable: bool,
    },
    /// Set a new password (read from standard input); unlocks the account.
    ResetPassword {
        #[arg(long)]
        username: String,
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// Issue an API token for a user and print it (shown once).
    Token {
        #[arg(long)]
        username: String,
        #[arg(long, default_value = "CLI")]
        name: String,
    },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match load_config(&cli) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("caredesk: {error}");
            return ExitCode::from(2);
        }
    };
    init_logging(&config);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("caredesk: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command, config)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("caredesk: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Defaults, file and environment, then the flags on top.
pub fn load_config(cli: &Cli) -> Result<Config, String> {
    let mut config = Config::load(cli.config.as_deref(), std::env::vars()).map_err(|e| e.to_string())?;
    if let Some(dir) = &cli.data_dir {
        config.storage.data_dir = dir.clone();
    }
    if let Some(url) = &cli.database_url {
        config.storage.database_url = Some(url.clone());
    }
    if let Command::Serve(args) = &cli.command {
        if let Some(listen) = &args.listen {
            config.server.listen = listen.clone();
        }
        config.server.demo |= args.demo;
    }
    config.validate().map_err(|e| e.to_string())?;
    Ok(config)
}

fn init_logging(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(&config.log.level))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if config.log.format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

pub async fn open_db(config: &Config) -> Result<Db, String> {
    let db = Db::open(config.storage.database_url.as_deref(), &config.storage.data_dir)
        .await
        .map_err(|e| format!("cannot open the database ({}): {e}", config.storage_description()))?;
    db.migrate().await.map_err(|e| format!("cannot migrate the database: {e}"))?;
    Ok(db)
}

/// How long a command's end waits for the database to close.
const CLOSE_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// Runs one command, then closes the database: on SQLite the last connection to close copies
/// what is left in the WAL into the database file and removes the WAL, so the next process
/// neither replays nor re-copies it, and starts its writes on an empty WAL.
async fn run(command: Command, config: Config) -> Result<ExitCode, String> {
    let db = open_db(&config).await?;
    let result = run_command(command, config, &db).await;
    // A connection some task still holds must not keep the process alive: after the wait the
    // WAL simply stays, and the next process replays it.
    if tokio::time::timeout(CLOSE_WAIT, db.close()).await.is_err() {
        tracing::warn!("the database did not close within {} s", CLOSE_WAIT.as_secs());
    }
    result
}

async fn run_command(command: Command, config: Config, db: &Db) -> Result<ExitCode, String> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let db = db.clone();
    match command {
        Command::Serve(_) => serve(config, db, clock).await,
        Command::Migrate => {
            println!("database is migrated ({})", config.storage_description());
            Ok(ExitCode::SUCCESS)
        }
        Command::User(user) => crate::cli_user::run(user, &db, clock.as_ref()).await,
        Command::Demo { customers } => {
            load_demo(&db, clock.as_ref(), customers).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Verify => verify(&db).await,
        Command::BillRun(args) => crate::cli_billing::bill_run(args, &db, clock.as_ref()).await,
        Command::Billing(command) => crate::cli_billing::run(command, &db, clock.as_ref()).await,
        Command::Charges(command) => crate::cli_charges::run(command, &db, clock.as_ref()).await,
        Command::Payments(command) => crate::cli_payments::run(command, &db, clock.as_ref()).await,
        Command::Ledger(command) => crate::cli_ledger::run(command, &db, clock.as_ref()).await,
        Command::Letters(command) => crate::cli_letters::run(command, &db, clock.as_ref()).await,
    }
}

async fn serve(config: Config, db: Db, clock: Arc<dyn Clock>) -> Result<ExitCode, String> {
    if config.server.demo {
        load_demo(&db, clock.as_ref(), SERVE_DEMO_CUSTOMERS).await?;
    }
    let app = crate::server::spawn(&config, db, clock)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.server.listen))?;
    println!("Caredesk is serving http://{} ({})", app.addr, mask_password(&config.storage_description()));
    let addr = app.addr;
    tokio::select! {
        _ = shutdown_signal() => {
            tracing::info!(%addr, "shutting down");
            app.stop().await;
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(signal) => signal,
            Err(_) => return std::future::pending().await,
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Demo customers loaded by `serve --demo`: enough to search and browse, quick to make.
const SERVE_DEMO_CUSTOMERS: u64 = 300;

async fn load_demo(db: &Db, clock: &dyn Clock, customer_count: u64) -> Result<(), String> {
    if !crate::demo::is_empty(db).await.map_err(|e| e.to_string())? {
        println!("demo: the database already has staff users; nothing loaded");
        return Ok(());
    }
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("demo {msg:12} [{bar:30}] {pos}/{len}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_message("staff");
    let sign_ins = crate::demo::load(db, clock, &|done, total| {
        bar.set_length(total);
        bar.set_position(done);
    })
    .await?;
    bar.set_message("customers");
    bar.set_length(customer_count);
    bar.set_position(0);
    if customer_count > crate::demo_bulk::BULK_THRESHOLD {
        crate::demo_bulk::load(db, clock, customer_count, &|done| bar.set_position(done)).await?;
    } else {
        crate::demo_customers::load(db, clock, customer_count, &|done| bar.set_position(done)).await?;
        bar.set_message("bills");
        let money = crate::demo_money::load(db, clock).await?;
        bar.println(format!("demo: {} bills, {} payments", money.bills, money.payments));
    }
    bar.finish();
    println!("Demo sign-ins (username / password / role):");
    for s in sign_ins {
        println!("  {:12} {:28} {}", s.username, s.password, s.role.label());
    }
    Ok(())
}

/// Broken references `caredesk verify` lists (it counts them all).
const VERIFY_LISTED: usize = 100;

async fn verify(db: &Db) -> Result<ExitCode, String> {
    let report = db::audit::verify(db).await.map_err(|e| e.to_string())?;
    let mut intact = report.is_intact();
    if intact {
        println!("audit chain: ok ({} records)", report.records_checked);
    } else {
        println!("audit chain: BROKEN ({} records checked)", report.records_checked);
        for problem in &report.problems {
            println!("  - {problem}");
        }
    }
    let broken = db.broken_references().await.map_err(|e| e.to_string())?;
    if broken.is_empty() {
        println!("references: ok");
    } else {
        intact = false;
        println!("references: BROKEN ({} rows name a row that does not exist)", broken.len());
        for problem in broken.iter().take(VERIFY_LISTED) {
            println!("  - {problem}");
        }
    }
    let books = ledger::verify::verify(db).await.map_err(|e| e.to_string())?;
    if books.is_clean() {
        println!("ledger: ok ({} entries, {} lines)", books.entries_checked, books.lines_checked);
    } else {
        intact = false;
        println!("ledger: BROKEN ({} entries, {} lines checked)", books.entries_checked, books.lines_checked);
        for problem in &books.problems {
            println!("  - {problem}");
        }
    }
    Ok(if intact { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// Reads a password from standard input (the first line, without its line ending).
pub fn read_password_stdin() -> Result<String, String> {
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .map_err(|e| format!("cannot read the password from standard input: {e}"))?;
    Ok(text.lines().next().unwrap_or_default().to_string())
}

pub fn cli_actor() -> Actor {
    Actor::system("cli")
}
