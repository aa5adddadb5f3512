//! Money for the demo data set: the last three bill periods billed for every cycle (only those
//! that have ended), then most accounts paid, some in full and some in part, and a few left
//! unpaid, so the account screens, the aging report and the trial balance have something true to
//! show. Everything goes through the billing and payments ops, so the demo's books balance.

use billing::model::Period;
use db::Db;
use kernel::{Actor, Clock, Currency, Money};
use payments::model::{PayChannel, Tender, TenderDetail};
use payments::ops::NewPayment;

/// What the money demo made.
pub struct MoneyDemo {
    pub bills: i64,
    pub payments: u64,
}

/// The `(year, month)` of `months_back` months before the clock's month.
fn month_before(year: i32, month: u8, months_back: i32) -> (i32, u8) {
    let index = year * 12 + i32::from(month) - 1 - months_back;
    (index.div_euclid(12), (index.rem_euclid(12) + 1) as u8)
}

pub async fn load(db: &Db, clock: &dyn Clock) -> Result<MoneyDemo, String> {
    let actor = Actor::system("demo");
    let today = ledger::BusinessDate::of(clock.now());
    let (year, month) = (today.date().year(), u8::from(today.date().month()));
    let mut bills = 0;
    for back in (0..3).rev() {
        let (y, m) = month_before(year, month, back);
        for cycle in 1..=28 {
            let period = Period::parse(cycle, &format!("{y:04}-{m:02}")).map_err(|e| e.to_string())?;
            if period.bill_date() > today {
                continue;
            }
            let run = billing::run::bill_run(db, &actor, period, clock, &|_| {}).await.map_err(|e| e.to_string())?;
            bills += run.bills_written;
        }
    }
    let payments = pay_most(db, &actor, clock).await?;
    Ok(MoneyDemo { bills, payments })
}

/// Three accounts in four (not cash-only ones) pay what they owe (every third of those by check in the mail, the rest
/// by card on the phone); every fifth pays half; the rest owe.
async fn pay_most(db: &Db, actor: &Actor, clock: &dyn Clock) -> Result<u64, String> {
    let mut tx = db.read().await.map_err(|e| e.to_string())?;
    let accounts =
        db::fetch_all!(&mut tx, (i64, bool), "select account_id, cash_only from account order by account_id")
            .map_err(|e| e.to_string())?;
    tx.rollback().await.map_err(|e| e.to_string())?;
    let mut paid = 0;
    for (index, (account_id, cash_only)) in accounts.into_iter().enumerate() {
        // Cash-only accounts pay at the counter, into a cashier's drawer: not part of the demo.
        if index % 4 == 3 || cash_only {
            continue;
        }
        let mut tx = db.begin().await.map_err(|e| e.to_string())?;
        let owed = ledger::ops::receivable_balance(&mut tx, account_id, Currency::USD)
            .await
            .map_err(|e| e.to_string())?
            .amount_minor;
        let amount = if index % 5 == 0 { owed / 2 } else { owed };
        if amount <= 0 {
            tx.rollback().await.map_err(|e| e.to_string())?;
            continue;
        }
        let by_mail = index % 3 == 0;
        let detail = if by_mail {
            TenderDetail { check_number: Some(format!("{}", 1000 + index)), ..TenderDetail::default() }
        } else {
            TenderDetail {
                processor_token: Some(format!("tok_demo_{account_id}")),
                card_brand: Some("visa".into()),
                last_four: Some("4242".into()),
                ..TenderDetail::default()
            }
        };
        let new = NewPayment {
            account_id,
            amount: Money::new(amount, Currency::USD),
            tender: if by_mail { Tender::Check } else { Tender::Card },
            channel: if by_mail { PayChannel::Mail } else { PayChannel::Phone },
            detail,
            memo: String::new(),
            log_contact: true,
        };
        payments::ops::take_payment(&mut tx, actor, new, clock.now()).await.map_err(|e| format!("{e:?}"))?;
        tx.commit().await.map_err(|e| e.to_string())?;
        paid += 1;
    }
    Ok(paid)
}
