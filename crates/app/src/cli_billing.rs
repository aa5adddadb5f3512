//! The billing commands: `caredesk bill-run` and `caredesk billing ...` (being built).

use clap::{Args, Subcommand};
use db::Db;
use kernel::Clock;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct BillRunArgs {
    /// The bill cycle (1–28).
    #[arg(long)]
    pub cycle: u32,
    /// The billing period, YYYY-MM.
    #[arg(long)]
    pub period: String,
}

#[derive(Subcommand, Debug)]
pub enum BillingCommand {}

pub async fn bill_run(args: BillRunArgs, _db: &Db, _clock: &dyn Clock) -> Result<ExitCode, String> {
    Err(format!("bill runs are not available yet (cycle {}, period {})", args.cycle, args.period))
}

pub async fn run(command: BillingCommand, _db: &Db, _clock: &dyn Clock) -> Result<ExitCode, String> {
    match command {}
}
