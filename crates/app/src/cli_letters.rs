//! The letters command: `caredesk letters print-batch [--date YYYY-MM-DD] --out FILE` takes the
//! letters waiting to be printed (those queued by the end of `--date`, default every one) into
//! one print batch, writes its PDF to FILE and marks the letters printed, like the print queue's
//! button. The file is written before the batch commits, so a full disk leaves the letters queued.

use clap::Subcommand;
use correspondence::CorrespondenceError;
use db::Db;
use kernel::{Actor, Clock};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand, Debug)]
pub enum LettersCommand {
    /// Print batch: every waiting letter into one PDF for mailing; the letters become printed.
    PrintBatch {
        /// Only letters queued on or before this day (YYYY-MM-DD, UTC); default every waiting letter.
        #[arg(long, value_name = "DATE")]
        date: Option<String>,
        /// The PDF file to write.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

pub async fn run(command: LettersCommand, db: &Db, clock: &dyn Clock) -> Result<ExitCode, String> {
    match command {
        LettersCommand::PrintBatch { date, out } => print_batch(db, clock, date.as_deref(), &out).await,
    }
}

async fn print_batch(db: &Db, clock: &dyn Clock, date: Option<&str>, out: &PathBuf) -> Result<ExitCode, String> {
    let now = clock.now();
    let through = match date {
        Some(date) => correspondence::ops::end_of_day(date).map_err(|e| format!("--date {e}"))?,
        None => now,
    };
    let actor = Actor::system("letters-print");
    let mut tx = db.begin().await.map_err(|e| e.to_string())?;
    let batch = match correspondence::ops::print_batch(&mut tx, &actor, through, now).await {
        Ok(batch) => batch,
        Err(CorrespondenceError::PrintQueueEmpty) => {
            tx.rollback().await.map_err(|e| e.to_string())?;
            println!("no letters are waiting to be printed; no file written");
            return Ok(ExitCode::SUCCESS);
        }
        Err(e) => return Err(e.to_string()),
    };
    if let Err(e) = std::fs::write(out, &batch.pdf) {
        tx.rollback().await.map_err(|e| e.to_string())?;
        return Err(format!("cannot write {}: {e}; the letters stay queued", out.display()));
    }
    tx.commit().await.map_err(|e| e.to_string())?;
    println!(
        "print batch {}: {} letters, {} bytes written to {}",
        batch.print_batch_id,
        batch.letter_count,
        batch.pdf.len(),
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}
