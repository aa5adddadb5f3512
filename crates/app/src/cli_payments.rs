//! The payments commands: `caredesk payments ...` (being built).

use clap::Subcommand;
use db::Db;
use kernel::Clock;
use std::process::ExitCode;

#[derive(Subcommand, Debug)]
pub enum PaymentsCommand {}

pub async fn run(command: PaymentsCommand, _db: &Db, _clock: &dyn Clock) -> Result<ExitCode, String> {
    match command {}
}
