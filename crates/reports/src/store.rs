//! The report's SQL: contact counts per UTC day and reason, and summaries in a period.

use db::{Result, Tx};

const MICROS_PER_DAY: i64 = 86_400_000_000;
/// The most summaries read for the word analysis.
const MAX_SUMMARIES: i64 = 200_000;

/// (day number since the epoch, reason code, count) for contacts started in `[from_day, to_day]`.
pub async fn counts_by_day(tx: &mut Tx, from_day: i64, to_day: i64) -> Result<Vec<(i64, String, i64)>> {
    db::fetch_all!(
        tx,
        (i64, String, i64),
        "select cast(started_at / 86400000000 as bigint) as day, reason_code, cast(count(*) as bigint)
           from contact
          where started_at >= $1 and started_at < $2
          group by cast(started_at / 86400000000 as bigint), reason_code
          order by 1, 2",
        from_day * MICROS_PER_DAY,
        (to_day + 1) * MICROS_PER_DAY
    )
}

/// Contact summaries of the days `[from_day, to_day]`.
pub async fn summaries(tx: &mut Tx, from_day: i64, to_day: i64) -> Result<Vec<String>> {
    let rows = db::fetch_all!(
        tx,
        (String,),
        "select summary from contact where started_at >= $1 and started_at < $2 order by contact_id desc limit $3",
        from_day * MICROS_PER_DAY,
        (to_day + 1) * MICROS_PER_DAY,
        MAX_SUMMARIES
    )?;
    Ok(rows.into_iter().map(|(s,)| s).collect())
}

/// Reason labels by code.
pub async fn reason_labels(tx: &mut Tx) -> Result<Vec<(String, String)>> {
    db::fetch_all!(tx, (String, String), "select code, label from reason_code order by code")
}
