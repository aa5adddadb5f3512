//! The charges commands: `caredesk charges late-fees` and `caredesk charges review-arrangements`,
//! the two policies a billing office runs daily (the worker also runs them once a day).

use clap::Subcommand;
use db::Db;
use kernel::Clock;
use std::process::ExitCode;

#[derive(Subcommand, Debug)]
pub enum ChargesCommand {
    /// Charge the late fee on every item overdue past the grace period (once per item).
    LateFees {
        /// The business date to assess on, YYYY-MM-DD (default: today).
        #[arg(long)]
        as_of: Option<String>,
    },
    /// Mark payment-arrangement instalments paid or missed, and arrangements kept or broken.
    ReviewArrangements {
        /// The business date to review on, YYYY-MM-DD (default: today).
        #[arg(long)]
        as_of: Option<String>,
    },
}

pub async fn run(command: ChargesCommand, db: &Db, clock: &dyn Clock) -> Result<ExitCode, String> {
    let now = clock.now();
    let today = || ledger::BusinessDate::of(now).to_string();
    let summary = match command {
        ChargesCommand::LateFees { as_of } => {
            charges::ops::late_fees_cli(db, &as_of.unwrap_or_else(today), now).await.map_err(|e| e.to_string())?
        }
        ChargesCommand::ReviewArrangements { as_of } => {
            charges::ops::review_arrangements_cli(db, &as_of.unwrap_or_else(today), now)
                .await
                .map_err(|e| e.to_string())?
        }
    };
    println!("{summary}");
    Ok(ExitCode::SUCCESS)
}
