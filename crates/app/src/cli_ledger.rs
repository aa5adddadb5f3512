//! The ledger commands: `caredesk ledger trial-balance`, `caredesk ledger export`, and the
//! benchmark's bulk filler `caredesk ledger fill-demo` (hidden: it writes straight into the
//! tables of an empty demo database, never real books).

use clap::Subcommand;
use db::bulk::{Rows, Statements, Value};
use db::{Db, Tx};
use kernel::Clock;
use ledger::BusinessDate;
use ledger::reports::{self, TrialBalance};
use std::collections::BTreeMap;
use std::process::ExitCode;

#[derive(Subcommand, Debug)]
pub enum LedgerCommand {
    /// Print the trial balance as of the end of a day (default today).
    TrialBalance {
        /// YYYY-MM-DD
        #[arg(long, value_name = "DATE")]
        as_of: Option<String>,
        /// CSV instead of aligned columns.
        #[arg(long)]
        csv: bool,
    },
    /// Write the general-ledger export (one row per day, ledger account and currency) as CSV.
    Export {
        #[arg(long, value_name = "DATE")]
        from: String,
        #[arg(long, value_name = "DATE")]
        to: String,
        /// File to write (default: standard output).
        #[arg(long, value_name = "FILE")]
        out: Option<std::path::PathBuf>,
    },
    /// Benchmark data: fill an EMPTY journal with this many balanced lines over many days and
    /// ledger accounts, with matching day totals (no customer accounts, no audit records).
    #[command(hide = true)]
    FillDemo {
        #[arg(long, default_value_t = 10_000_000)]
        lines: u64,
        /// Business days the entries spread over, ending yesterday.
        #[arg(long, default_value_t = 3_650)]
        days: u64,
    },
}

pub async fn run(command: LedgerCommand, db: &Db, clock: &dyn Clock) -> Result<ExitCode, String> {
    let today = BusinessDate::of(clock.now());
    match command {
        LedgerCommand::TrialBalance { as_of, csv } => {
            let as_of = parse_date(as_of.as_deref(), "--as-of", today)?;
            let mut tx = db.read().await.map_err(|e| e.to_string())?;
            let tb = reports::trial_balance(&mut tx, as_of).await.map_err(|e| e.to_string())?;
            tx.rollback().await.map_err(|e| e.to_string())?;
            print!("{}", if csv { reports::trial_balance_csv(&tb) } else { aligned(&tb) });
            let balanced = tb.totals.iter().all(|t| t.balanced);
            Ok(if balanced { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
        LedgerCommand::Export { from, to, out } => {
            let from = parse_date(Some(&from), "--from", today)?;
            let to = parse_date(Some(&to), "--to", today)?;
            if to < from {
                return Err("--to must be on or after --from".into());
            }
            let mut tx = db.read().await.map_err(|e| e.to_string())?;
            let csv = reports::export_csv(&mut tx, from, to).await.map_err(|e| e.to_string())?;
            tx.rollback().await.map_err(|e| e.to_string())?;
            match out {
                Some(path) => {
                    std::fs::write(&path, csv).map_err(|e| format!("cannot write {}: {e}", path.display()))?
                }
                None => print!("{csv}"),
            }
            Ok(ExitCode::SUCCESS)
        }
        LedgerCommand::FillDemo { lines, days } => {
            fill_demo(db, today, lines, days.max(1)).await.map_err(|e| e.to_string())?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn parse_date(text: Option<&str>, flag: &str, default: BusinessDate) -> Result<BusinessDate, String> {
    match text {
        Some(t) => BusinessDate::parse(t, "date").map_err(|_| format!("{flag} must be a date such as 2026-11-30")),
        None => Ok(default),
    }
}

/// The trial balance as aligned columns: text left, amounts right, totals under a rule.
pub fn aligned(tb: &TrialBalance) -> String {
    let mut rows: Vec<[String; 6]> =
        vec![["code".into(), "name".into(), "kind".into(), "currency".into(), "debit".into(), "credit".into()]];
    for r in &tb.rows {
        rows.push([
            r.code.clone(),
            r.name.clone(),
            r.kind.clone(),
            r.currency.clone(),
            reports::decimal(r.debit_minor, &r.currency),
            reports::decimal(r.credit_minor, &r.currency),
        ]);
    }
    let body = rows.len();
    for t in &tb.totals {
        let label = if t.balanced { "total" } else { "total (NOT BALANCED)" };
        rows.push([
            String::new(),
            label.into(),
            String::new(),
            t.currency.clone(),
            reports::decimal(t.debit_minor, &t.currency),
            reports::decimal(t.credit_minor, &t.currency),
        ]);
    }
    let mut widths = [0_usize; 6];
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row.iter()) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = format!("Trial balance as of {}\n", tb.as_of);
    for (i, row) in rows.iter().enumerate() {
        if i == body {
            out.push_str(&"-".repeat(widths.iter().sum::<usize>() + 10));
            out.push('\n');
        }
        let mut line = String::new();
        for (c, (cell, w)) in row.iter().zip(widths.iter()).enumerate() {
            let pad = w.saturating_sub(cell.chars().count());
            if c >= 4 {
                line.push_str(&" ".repeat(pad));
                line.push_str(cell);
            } else {
                line.push_str(cell);
                line.push_str(&" ".repeat(pad));
            }
            if c < 5 {
                line.push_str("  ");
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Entries written per transaction by the filler.
const ENTRIES_PER_TRANSACTION: u64 = 100_000;

/// Fills an empty journal with `lines` lines (two per entry) spread evenly over `days` days
/// before `today`, across every pair of ledger accounts, then writes the matching day totals.
async fn fill_demo(db: &Db, today: BusinessDate, lines: u64, days: u64) -> Result<(), db::Error> {
    let mut tx = db.begin().await?;
    let existing = db::scalar!(&mut tx, i64, "select count(*) from journal_entry")?;
    if existing > 0 {
        return Err(db::Error::Malformed("fill-demo needs an empty journal".into()));
    }
    let accounts: Vec<i64> =
        db::fetch_all!(&mut tx, (i64,), "select ledger_account_id from ledger_account order by ledger_account_id")?
            .into_iter()
            .map(|(id,)| id)
            .collect();
    tx.rollback().await?;
    let count = accounts.len() as u64;
    if count < 2 {
        return Err(db::Error::Malformed("the chart needs two accounts".into()));
    }
    let entries = lines / 2;
    let first_day = today.plus_days(-(days as i64));
    let mut totals: BTreeMap<(i64, String), (i64, i64)> = BTreeMap::new();
    let mut statements = Statements::new(db.backend());
    let mut entry_rows = Rows::new(
        "journal_entry",
        "entry_id, entry_date, source_kind, source_ref, memo, reverses_entry_id, posted_by, posted_at",
    );
    let mut line_rows =
        Rows::new("journal_line", "line_id, entry_id, ledger_account_id, account_id, currency, amount_minor");
    let mut tx = db.begin().await?;
    for n in 0..entries {
        let id = n as i64 + 1;
        let date = first_day.plus_days((n * days / entries.max(1)) as i64).to_string();
        let debit_index = (n % count) as usize;
        let credit_index = ((n * 7 + 3 + n / count) % count) as usize;
        let credit_index = if credit_index == debit_index { (credit_index + 1) % count as usize } else { credit_index };
        let (Some(&debit), Some(&credit)) = (accounts.get(debit_index), accounts.get(credit_index)) else {
            continue;
        };
        let amount = 100 + ((n * 7_919) % 100_000) as i64;
        entry_rows.push([
            Value::Int(id),
            Value::Text(date.clone()),
            Value::Static("transfer"),
            Value::Text(format!("FILL-{id:09}")),
            Value::Static("benchmark fill"),
            Value::NullInt,
            Value::Static("fill-demo"),
            Value::Int(0),
        ]);
        for (line, account, signed) in [(2 * id - 1, debit, amount), (2 * id, credit, -amount)] {
            line_rows.push([
                Value::Int(line),
                Value::Int(id),
                Value::Int(account),
                Value::NullInt,
                Value::Static("USD"),
                Value::Int(signed),
            ]);
            let total = totals.entry((account, date.clone())).or_insert((0, 0));
            if signed > 0 { total.0 += signed } else { total.1 -= signed }
        }
        if (n + 1) % ENTRIES_PER_TRANSACTION == 0 {
            flush(&mut tx, &mut statements, &mut entry_rows, &mut line_rows).await?;
            tx.commit().await?;
            tx = db.begin().await?;
        }
    }
    flush(&mut tx, &mut statements, &mut entry_rows, &mut line_rows).await?;
    let mut total_rows =
        Rows::new("ledger_day_total", "ledger_account_id, currency, entry_date, debit_minor, credit_minor");
    for ((account, date), (debit, credit)) in totals {
        total_rows.push([
            Value::Int(account),
            Value::Static("USD"),
            Value::Text(date),
            Value::Int(debit),
            Value::Int(credit),
        ]);
    }
    statements.flush(&mut tx, &mut total_rows).await?;
    tx.commit().await?;
    println!("filled {} entries, {} lines over {days} days", entries, entries * 2);
    Ok(())
}

async fn flush(
    tx: &mut Tx,
    statements: &mut Statements,
    entries: &mut Rows,
    lines: &mut Rows,
) -> Result<(), db::Error> {
    statements.flush(tx, entries).await?;
    statements.flush(tx, lines).await
}
