//! Billing operations HTTP, CLI, jobs and tests share: rate versions, meter reads (entered one
//! at a time or imported from a file, all or nothing), and reading bills back. The bill run is
//! in `run.rs`.

use crate::BillingError;
use crate::bills_store::{self, BillLineRow, BillRow};
use crate::model::{Period, RateVersion, Read, ReadKind, TaxPercent, Tiers, check_new_read, parse_amount, parse_code};
use crate::store::{self, RateRow, ReadRow, RunRow};
use db::Tx;
use kernel::{Actor, Currency, Timestamp};
use ledger::BusinessDate;
use serde::Serialize;
use serde_json::json;

/// A stored rate row as a rate version.
pub fn version_of_row(row: &RateRow) -> Result<RateVersion, BillingError> {
    Ok(RateVersion {
        rate_code: row.rate_code.clone(),
        service_type: row.service_type.clone(),
        effective_from: BusinessDate::parse(&row.effective_from, "effective_from")
            .map_err(|_| BillingError::DateInvalid { field: "effective_from" })?,
        currency: Currency::parse(&row.currency).map_err(|_| BillingError::CurrencyInvalid)?,
        unit: row.unit.clone(),
        fixed_charge_minor: row.fixed_charge_minor,
        minimum_charge_minor: row.minimum_charge_minor,
        tiers: Tiers::parse(&row.tiers)?,
        tax: TaxPercent::parse(&row.tax_percent)?,
    })
}

/// A new rate version as typed (amounts as decimal text such as `12.50`).
#[derive(Debug, Clone, Default)]
pub struct NewRateVersion {
    pub rate_code: String,
    pub service_type: String,
    pub effective_from: String,
    pub currency: String,
    pub unit: String,
    pub fixed_charge: String,
    pub minimum_charge: String,
    pub tiers: String,
    pub tax_percent: String,
}

fn parse_date(text: &str, field: &'static str) -> Result<BusinessDate, BillingError> {
    BusinessDate::parse(text, field).map_err(|_| BillingError::DateInvalid { field })
}

/// Parses every field, naming the first one at fault.
pub fn parse_rate_version(new: &NewRateVersion) -> Result<RateVersion, BillingError> {
    let currency = Currency::parse(&new.currency).map_err(|_| BillingError::CurrencyInvalid)?;
    let unit = new.unit.trim();
    if unit.is_empty() || unit.len() > 20 || unit.chars().any(char::is_control) {
        return Err(BillingError::CodeInvalid { field: "unit" });
    }
    Ok(RateVersion {
        rate_code: parse_code(&new.rate_code, "rate_code")?,
        service_type: parse_code(&new.service_type, "service_type")?.to_ascii_lowercase(),
        effective_from: parse_date(&new.effective_from, "effective_from")?,
        currency,
        unit: unit.to_string(),
        fixed_charge_minor: parse_amount(&new.fixed_charge, currency, "fixed_charge")?,
        minimum_charge_minor: parse_amount(&new.minimum_charge, currency, "minimum_charge")?,
        tiers: Tiers::parse(&new.tiers)?,
        tax: TaxPercent::parse(&new.tax_percent)?,
    })
}

/// Adds a version of a rate schedule (a new rate code, or a new effective date of one).
pub async fn add_rate_version(
    tx: &mut Tx,
    actor: &Actor,
    version: &RateVersion,
    now: Timestamp,
) -> Result<RateRow, BillingError> {
    let existing = store::rate_versions(tx).await?;
    let same_code: Vec<&RateRow> = existing.iter().filter(|r| r.rate_code == version.rate_code).collect();
    if same_code.iter().any(|r| r.effective_from == version.effective_from.to_string()) {
        return Err(BillingError::RateVersionTaken);
    }
    if same_code.iter().any(|r| r.service_type != version.service_type || r.currency != version.currency.code()) {
        return Err(BillingError::RateVersionMismatch);
    }
    let mut row = RateRow {
        rate_schedule_id: 0,
        rate_code: version.rate_code.clone(),
        service_type: version.service_type.clone(),
        effective_from: version.effective_from.to_string(),
        currency: version.currency.code().to_string(),
        unit: version.unit.clone(),
        fixed_charge_minor: version.fixed_charge_minor,
        minimum_charge_minor: version.minimum_charge_minor,
        tiers: version.tiers.to_string(),
        tax_percent: version.tax.to_string(),
        created_at: now.micros(),
        created_by: actor.name(),
    };
    row.rate_schedule_id = store::insert_rate_version(tx, &row).await?;
    let detail = json!({"rate_code": row.rate_code, "effective_from": row.effective_from, "tiers": row.tiers,
        "fixed_charge_minor": row.fixed_charge_minor, "tax_percent": row.tax_percent});
    let event = db::audit::AuditEvent {
        action: "rate_schedule.version_added",
        entity: "rate_schedule",
        entity_id: row.rate_schedule_id.to_string(),
        detail,
    };
    db::audit::append(tx, actor, event, now).await?;
    Ok(row)
}

pub async fn rate_versions(tx: &mut Tx) -> Result<Vec<RateRow>, BillingError> {
    Ok(store::rate_versions(tx).await?)
}

/// A meter read as typed.
#[derive(Debug, Clone, Default)]
pub struct NewRead {
    pub meter_number: String,
    pub read_date: String,
    pub reading: String,
    pub kind: String,
}

/// Records one read: refused when below the meter's previous reading unless flagged as a
/// rollover or replacement, and when an actual read of that day exists.
pub async fn record_read(tx: &mut Tx, actor: &Actor, new: &NewRead, now: Timestamp) -> Result<ReadRow, BillingError> {
    let number = new.meter_number.trim();
    if number.is_empty() {
        return Err(BillingError::MeterUnknown);
    }
    let date = parse_date(&new.read_date, "read_date")?;
    if date > BusinessDate::of(now).plus_days(1) {
        return Err(BillingError::DateInvalid { field: "read_date" });
    }
    let reading: i64 = new.reading.trim().parse().map_err(|_| BillingError::ReadingInvalid)?;
    let kind = ReadKind::parse_entered(&new.kind)?;
    let meter = store::find_meter(tx, number).await?.ok_or(BillingError::MeterUnknown)?;
    let day = date.to_string();
    if store::read_exists(tx, meter.meter_id, &day).await? {
        return Err(BillingError::ReadAlreadyRecorded);
    }
    let previous = store::previous_read(tx, meter.meter_id, &day).await?;
    let previous = previous.map(|p| Read { date, reading: p.reading, kind: ReadKind::from_stored(&p.kind) });
    check_new_read(previous.as_ref(), &Read { date, reading, kind })?;
    let by = actor.name();
    let id = store::insert_read(tx, meter.meter_id, &day, reading, kind.code(), &by, now).await?;
    let detail = json!({"meter_number": meter.meter_number, "read_date": day, "reading": reading, "kind": kind.code()});
    let event = db::audit::AuditEvent {
        action: "meter_read.recorded",
        entity: "meter_read",
        entity_id: id.to_string(),
        detail,
    };
    db::audit::append(tx, actor, event, now).await?;
    Ok(ReadRow {
        meter_read_id: id,
        meter_id: meter.meter_id,
        read_date: day,
        reading,
        kind: kind.code().to_string(),
        created_at: now.micros(),
        created_by: by,
    })
}

/// What an import did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ImportOutcome {
    pub imported: usize,
}

/// Imports reads from CSV text (`meter_number,read_date,reading[,kind]`, a header line
/// allowed): every line is checked and recorded in the caller's transaction; any bad line
/// refuses the whole file with every line's error, so nothing is written.
pub async fn import_reads(
    tx: &mut Tx,
    actor: &Actor,
    text: &str,
    now: Timestamp,
) -> Result<ImportOutcome, BillingError> {
    let mut errors = Vec::new();
    let mut imported = 0;
    let text = text.trim_start_matches('\u{feff}');
    for (index, line) in text.lines().enumerate() {
        let line_number = index + 1;
        let line = line.trim();
        if line.is_empty() || (line_number == 1 && line.to_ascii_lowercase().starts_with("meter")) {
            continue;
        }
        let fields: Vec<&str> = line.split([',', ';']).map(str::trim).collect();
        if !(3..=4).contains(&fields.len()) {
            errors.push(format!("line {line_number}: expected meter number, read date, reading"));
            continue;
        }
        let new = NewRead {
            meter_number: fields.first().copied().unwrap_or_default().to_string(),
            read_date: fields.get(1).copied().unwrap_or_default().to_string(),
            reading: fields.get(2).copied().unwrap_or_default().to_string(),
            kind: fields.get(3).copied().unwrap_or_default().to_string(),
        };
        match record_read(tx, actor, &new, now).await {
            Ok(_) => imported += 1,
            Err(BillingError::Db(e)) => return Err(BillingError::Db(e)),
            Err(e) => {
                let field = web::Problem::field(&e).unwrap_or("line");
                errors.push(format!("line {line_number}: {field} {e}"));
            }
        }
        if errors.len() >= 100 {
            break;
        }
    }
    if !errors.is_empty() {
        return Err(BillingError::ImportRejected { errors });
    }
    Ok(ImportOutcome { imported })
}

pub async fn recent_reads(tx: &mut Tx, limit: i64) -> Result<Vec<(ReadRow, String)>, BillingError> {
    Ok(store::recent_reads(tx, limit).await?)
}

/// A bill with its lines.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BillWithLines {
    #[serde(flatten)]
    pub bill: BillRow,
    pub lines: Vec<BillLineRow>,
}

pub async fn get_bill(tx: &mut Tx, bill_id: i64) -> Result<BillWithLines, BillingError> {
    let bill = bills_store::find_bill(tx, bill_id).await?.ok_or(BillingError::BillNotFound)?;
    let lines = bills_store::bill_lines(tx, bill_id).await?;
    Ok(BillWithLines { bill, lines })
}

/// An account's bills, newest first: the bill history the customer and account screens show.
pub async fn bills_for_account(tx: &mut Tx, account_id: i64, limit: i64) -> Result<Vec<BillRow>, BillingError> {
    Ok(bills_store::account_bills(tx, account_id, limit.clamp(1, 500)).await?)
}

/// The newest bills, `before_id` paging backwards.
pub async fn list_bills(tx: &mut Tx, before_id: Option<i64>, limit: i64) -> Result<Vec<BillRow>, BillingError> {
    Ok(bills_store::list_bills(tx, before_id.unwrap_or(i64::MAX), limit.clamp(1, 500)).await?)
}

pub async fn get_run(tx: &mut Tx, bill_run_id: i64) -> Result<RunRow, BillingError> {
    store::get_run(tx, bill_run_id).await?.ok_or(BillingError::RunNotFound)
}

pub async fn list_runs(tx: &mut Tx, limit: i64) -> Result<Vec<RunRow>, BillingError> {
    Ok(store::list_runs(tx, limit.clamp(1, 500)).await?)
}

/// Parses a run request's cycle and period.
pub fn parse_period(cycle: i64, period: &str) -> Result<Period, BillingError> {
    Period::parse(cycle, period)
}

/// One bill as a PDF.
pub async fn bill_pdf(tx: &mut Tx, bill_id: i64) -> Result<(String, Vec<u8>), BillingError> {
    let bill = get_bill(tx, bill_id).await?;
    let address = bills_store::mailing_address(tx, bill.bill.account_id).await?;
    let bytes = crate::bill_pdf::render(&bill, address)?;
    Ok((bill.bill.bill_number, bytes))
}

/// An account's bills, refusing an unknown account.
pub async fn account_history(tx: &mut Tx, account_id: i64, limit: i64) -> Result<Vec<BillRow>, BillingError> {
    if !bills_store::account_exists(tx, account_id).await? {
        return Err(BillingError::AccountNotFound);
    }
    bills_for_account(tx, account_id, limit).await
}
