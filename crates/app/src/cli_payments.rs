//! The payments commands: `caredesk payments import FILE` posts a lockbox payment file (CSV
//! `account_number,amount,reference,date`) in one transaction, all or nothing: any bad line
//! refuses the whole file and every error is listed.

use clap::Subcommand;
use db::Db;
use kernel::{Actor, Clock, Currency};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand, Debug)]
pub enum PaymentsCommand {
    /// Imports a lockbox payment file; a file or reference imported before is refused.
    Import {
        /// The CSV file.
        file: PathBuf,
        /// ISO 4217 currency of the amounts.
        #[arg(long, default_value = "USD")]
        currency: String,
    },
}

pub async fn run(command: PaymentsCommand, db: &Db, clock: &dyn Clock) -> Result<ExitCode, String> {
    match command {
        PaymentsCommand::Import { file, currency } => {
            let currency = Currency::parse(&currency).map_err(|_| format!("--currency {currency}: unknown"))?;
            let text = std::fs::read_to_string(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
            let name = file.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
            let actor = Actor::system("payments-import");
            let started = std::time::Instant::now();
            let mut tx = db.begin_bulk().await.map_err(|e| e.to_string())?;
            match payments::import::import_file(&mut tx, &actor, &name, &text, currency, clock.now()).await {
                Ok(done) => {
                    tx.commit().await.map_err(|e| e.to_string())?;
                    let seconds = started.elapsed().as_secs_f64();
                    let rate = done.payment_count as f64 / seconds.max(f64::EPSILON);
                    println!(
                        "payment file {}: {} payments, total {} {}, payments {}..{}, {} accounts settled, \
                         {seconds:.2} s ({rate:.0} payments/s)",
                        done.payment_file_id,
                        done.payment_count,
                        done.total_minor,
                        done.currency,
                        done.first_payment_id,
                        done.last_payment_id,
                        done.settled_accounts
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(payments::PaymentError::PaymentFileInvalid { count, errors }) => {
                    tx.rollback().await.map_err(|e| e.to_string())?;
                    for e in &errors {
                        eprintln!("line {}: {}: {} ({})", e.line, e.field, e.message, e.code);
                    }
                    eprintln!("nothing imported: {count} bad lines");
                    Ok(ExitCode::FAILURE)
                }
                Err(e) => {
                    tx.rollback().await.map_err(|e| e.to_string())?;
                    Err(e.to_string())
                }
            }
        }
    }
}
