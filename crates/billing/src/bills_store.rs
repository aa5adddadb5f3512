//! The SQL that reads bills and their lines back (history, bill page, API, PDF).

use db::{Result, Tx};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct BillRow {
    pub bill_id: i64,
    pub bill_number: String,
    pub account_id: i64,
    pub account_number: String,
    pub customer_id: i64,
    pub customer_name: String,
    /// YYYY-MM
    pub period: String,
    pub bill_run_id: Option<i64>,
    pub period_start: String,
    pub period_end: String,
    pub bill_date: String,
    pub due_date: String,
    pub currency: String,
    pub subtotal_minor: i64,
    pub tax_minor: i64,
    pub total_minor: i64,
    pub entry_id: Option<i64>,
    /// Some usage on it was estimated.
    pub estimated: bool,
    pub created_at: i64,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct BillLineRow {
    pub bill_line_id: i64,
    pub agreement_id: Option<i64>,
    pub service_type: String,
    /// fixed, usage, minimum or tax
    pub kind: String,
    pub description: String,
    pub quantity: Option<i64>,
    pub rate: Option<String>,
    pub amount_minor: i64,
    pub meter_number: Option<String>,
    pub read_from: Option<i64>,
    pub read_to: Option<i64>,
    pub estimated: bool,
}

macro_rules! select_bills {
    ($tail:literal) => {
        concat!(
            "select b.bill_id, b.bill_number, b.account_id, a.account_number, b.customer_id, ",
            "c.display_name as customer_name, b.period, b.bill_run_id, b.period_start, b.period_end, ",
            "b.bill_date, b.due_date, b.currency, b.subtotal_minor, b.tax_minor, b.total_minor, b.entry_id, ",
            "b.estimated, b.created_at ",
            "from bill b join account a on a.account_id = b.account_id ",
            "join customer c on c.customer_id = b.customer_id ",
            $tail
        )
    };
}

pub async fn find_bill(tx: &mut Tx, bill_id: i64) -> Result<Option<BillRow>> {
    db::fetch_optional!(tx, BillRow, select_bills!("where b.bill_id = $1"), bill_id)
}

pub async fn bill_lines(tx: &mut Tx, bill_id: i64) -> Result<Vec<BillLineRow>> {
    db::fetch_all!(
        tx,
        BillLineRow,
        "select bill_line_id, agreement_id, service_type, kind, description, quantity, rate, amount_minor,
                meter_number, read_from, read_to, estimated
           from bill_line where bill_id = $1 order by bill_line_id",
        bill_id
    )
}

pub async fn account_bills(tx: &mut Tx, account_id: i64, limit: i64) -> Result<Vec<BillRow>> {
    db::fetch_all!(
        tx,
        BillRow,
        select_bills!("where b.account_id = $1 order by b.bill_id desc limit $2"),
        account_id,
        limit
    )
}

pub async fn list_bills(tx: &mut Tx, before_id: i64, limit: i64) -> Result<Vec<BillRow>> {
    db::fetch_all!(
        tx,
        BillRow,
        select_bills!("where b.bill_id < $1 order by b.bill_id desc limit $2"),
        before_id,
        limit
    )
}

pub async fn account_exists(tx: &mut Tx, account_id: i64) -> Result<bool> {
    Ok(db::scalar!(tx, i64, "select count(*) from account where account_id = $1", account_id)? > 0)
}

/// The account's mailing address as printed lines (none when it has none).
pub async fn mailing_address(tx: &mut Tx, account_id: i64) -> Result<Vec<String>> {
    let row = db::fetch_optional!(
        tx,
        (String, Option<String>, String, Option<String>, String),
        "select ad.line1, ad.line2, ad.city, ad.region, ad.postal_code
           from account a join customer_address ad on ad.address_id = a.mailing_address_id
          where a.account_id = $1",
        account_id
    )?;
    Ok(match row {
        None => Vec::new(),
        Some((line1, line2, city, region, postal_code)) => {
            let mut lines = vec![line1];
            lines.extend(line2);
            let region = region.map(|r| format!(" {r}")).unwrap_or_default();
            lines.push(format!("{city}{region} {postal_code}"));
            lines
        }
    })
}
