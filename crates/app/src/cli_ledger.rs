//! The ledger commands: `caredesk ledger ...` (being built).

use clap::Subcommand;
use db::Db;
use kernel::Clock;
use std::process::ExitCode;

#[derive(Subcommand, Debug)]
pub enum LedgerCommand {}

pub async fn run(command: LedgerCommand, _db: &Db, _clock: &dyn Clock) -> Result<ExitCode, String> {
    match command {}
}
