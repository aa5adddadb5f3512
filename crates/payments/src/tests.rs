//! Unit tests of the payments rules (tenders, card-number refusal, the drawer and refund state
//! machines, payment file parsing with every error listed) and store tests that run on SQLite
//! always and on PostgreSQL as well when `TEST_DATABASE_URL` is set.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use crate::PaymentError;
use crate::file;
use crate::model::*;
use crate::ops::{self, NewPayment, Read};
use crate::store;
use db::scratch;
use kernel::{Actor, Currency, Money, Timestamp};
use web::Problem;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn t(seconds: i64) -> Timestamp {
    Timestamp::from_micros(1_800_000_000_000_000).plus_seconds(seconds)
}

fn usd(minor: i64) -> Money {
    Money::new(minor, Currency::USD)
}

#[test]
fn tenders_parse_from_codes_and_keys_follow_the_console_order() {
    for (index, tender) in Tender::ALL.into_iter().enumerate() {
        assert_eq!(Tender::parse(tender.code()).unwrap(), tender);
        assert_eq!(tender.key(), index + 1);
    }
    assert_eq!(Tender::parse("Money Order").unwrap(), Tender::MoneyOrder);
    assert!(matches!(Tender::parse("bitcoin"), Err(PaymentError::TenderUnknown)));
    assert!(Tender::Cash.allowed_when_cash_only() && Tender::MoneyOrder.allowed_when_cash_only());
    assert!(!Tender::Check.allowed_when_cash_only() && !Tender::Card.allowed_when_cash_only());
    assert!(!Tender::Ach.allowed_when_cash_only());
    for channel in PayChannel::ALL {
        assert_eq!(PayChannel::parse(channel.code()).unwrap(), channel);
    }
}

#[test]
fn anything_that_looks_like_a_card_number_is_refused() {
    for pan in
        ["4111111111111111", "4111 1111 1111 1111", "4111-1111-1111-1111", "tok 5500000000000004", "1234567890123"]
    {
        assert!(looks_like_pan(pan), "{pan}");
    }
    for fine in ["tok_1PqRsTuV", "4242", "123456789012", "CHK-100482", "2026-11-30"] {
        assert!(!looks_like_pan(fine), "{fine}");
    }
    let input = TenderInput {
        processor_token: Some("4111111111111111"),
        card_brand: Some("visa"),
        last_four: Some("1111"),
        ..TenderInput::default()
    };
    let error = TenderDetail::parse(Tender::Card, &input).unwrap_err();
    assert_eq!((error.code(), error.field()), ("card_number_refused", Some("processor_token")));
    let input = TenderInput { last_four: Some("4111111111111111"), processor_token: Some("tok"), ..input };
    assert_eq!(TenderDetail::parse(Tender::Card, &input).unwrap_err().field(), Some("last_four"));
}

#[test]
fn each_tender_keeps_only_what_it_needs() {
    let all = TenderInput {
        check_number: Some("1042"),
        processor_token: Some("tok_abc"),
        card_brand: Some("visa"),
        last_four: Some("4242"),
    };
    let card = TenderDetail::parse(Tender::Card, &all).unwrap();
    assert_eq!((card.check_number, card.last_four.as_deref()), (None, Some("4242")));
    let ach = TenderDetail::parse(Tender::Ach, &all).unwrap();
    assert_eq!((ach.card_brand, ach.processor_token.as_deref()), (None, Some("tok_abc")));
    let check = TenderDetail::parse(Tender::Check, &all).unwrap();
    assert_eq!((check.check_number.as_deref(), check.processor_token), (Some("1042"), None));
    assert_eq!(TenderDetail::parse(Tender::Cash, &all).unwrap(), TenderDetail::default());
    let none = TenderInput::default();
    assert!(matches!(TenderDetail::parse(Tender::Check, &none), Err(PaymentError::CheckNumberMissing)));
    assert!(matches!(TenderDetail::parse(Tender::Card, &none), Err(PaymentError::TokenMissing)));
    let no_brand = TenderInput { processor_token: Some("tok"), last_four: Some("4242"), ..none.clone() };
    assert!(matches!(TenderDetail::parse(Tender::Card, &no_brand), Err(PaymentError::CardBrandMissing)));
    let bad_four = TenderInput { last_four: Some("42a2"), ..no_brand };
    assert!(matches!(TenderDetail::parse(Tender::Ach, &bad_four), Err(PaymentError::LastFourInvalid)));
}

#[test]
fn amounts_must_be_positive_decimal_text() {
    assert_eq!(parse_amount("12.30", Currency::USD, "amount").unwrap(), usd(1_230));
    assert_eq!(parse_amount("0", Currency::USD, "amount").unwrap_err().code(), "amount_must_be_positive");
    assert_eq!(parse_amount("-3", Currency::USD, "amount").unwrap_err().code(), "amount_must_be_positive");
    assert_eq!(parse_amount("1.234", Currency::USD, "amount").unwrap_err().code(), "amount_invalid");
    assert_eq!(payment_number(42), "PAY-0000042");
    assert_eq!(receipt_number(42), "RCT-0000042");
}

#[test]
fn the_drawer_state_machine_allows_only_open_closed_signed_off() {
    use DrawerStatus::*;
    for from in DrawerStatus::ALL {
        for to in DrawerStatus::ALL {
            let allowed = matches!((from, to), (Open, Closed) | (Closed, SignedOff));
            assert_eq!(from.can_become(to), allowed, "{from:?} -> {to:?}");
        }
        assert_eq!(DrawerStatus::parse(from.code()).unwrap(), from);
    }
    let count = DrawerCount {
        expected_cash_minor: 14_500,
        expected_check_minor: 2_000,
        counted_cash_minor: 14_300,
        counted_check_minor: 2_000,
    };
    assert_eq!(count.over_short_minor(), -200);
}

#[test]
fn the_refund_state_machine_is_exhaustive() {
    use RefundAction::*;
    use RefundStatus::*;
    let actions = [Approve, Reject, Issue];
    for from in RefundStatus::ALL {
        for action in actions {
            let expected = match (from, action) {
                (Requested, Approve) => Some(Approved),
                (Requested, Reject) => Some(Rejected),
                (Approved, Issue) => Some(Issued),
                _ => None,
            };
            match (from.after(action), expected) {
                (Ok(to), Some(want)) => assert_eq!(to, want),
                (Err(e), None) => assert_eq!(e.code(), "refund_not_in_that_state"),
                (got, want) => panic!("{from:?} {action:?}: got {got:?}, want {want:?}"),
            }
        }
        assert_eq!(RefundStatus::parse(from.code()).unwrap(), from);
    }
}

#[test]
fn a_payment_file_lists_every_bad_line_and_accepts_bom_and_semicolons() {
    let good = customers::model::AccountNumber::for_key(1);
    let good = good.as_str();
    let text = format!(
        "\u{feff}account_number;amount;reference;date\r\n{good};12.30;R-1;2026-11-30\r\n\n{good};abc;R-2;2026-11-30\n\
         123;1.00;R-3;2026-11-30\n{good};1.00;R-1;2026-02-30\n{good};1.00\n{good};0;4111111111111111;2026-11-30\n"
    );
    let parsed = file::parse(&text, Currency::USD);
    assert_eq!(parsed.lines.len(), 1);
    assert_eq!(parsed.lines[0].amount, usd(1_230));
    let found: Vec<(usize, &str)> = parsed.errors.iter().map(|e| (e.line, e.field)).collect();
    assert_eq!(
        found,
        vec![
            (4, "amount"),
            (5, "account_number"),
            (6, "reference"),
            (6, "date"),
            (7, "line"),
            (8, "amount"),
            (8, "reference"),
        ]
    );
    assert_eq!(parsed.error_count, 7);
    let text = format!("{good},5,R-9,2026-11-30");
    let comma = file::parse(&text, Currency::USD);
    assert_eq!((comma.lines.len(), comma.error_count), (1, 0), "no header and commas work too");
    let text = format!("{}-{} {},5,R-9,2026-11-30", &good[..3], &good[3..6], &good[6..]);
    let spaced = file::parse(&text, Currency::USD);
    assert_eq!(spaced.error_count, 0);
    assert_eq!(spaced.lines[0].account_number, good, "dashes and spaces dropped");
    assert_eq!(spaced.lines[0].reference, "R-9");
}

async fn account(tx: &mut db::Tx, cash_only: bool) -> (i64, String) {
    let new = customers::ops::NewCustomer {
        name: customers::model::CustomerName::parse("person", Some("Maria"), Some("Tester"), None, None).unwrap(),
        phones: vec![],
        emails: vec![],
        addresses: vec![],
        preferences: customers::ops::Preferences::default(),
    };
    let actor = Actor::system("test");
    let customer = customers::ops::create_customer(tx, &actor, new, t(-3_600)).await.unwrap().customer.customer_id;
    let account = customers::ops::open_account(
        tx,
        &actor,
        customers::ops::NewAccount {
            customer_id: customer,
            bill_cycle: 1,
            collection_class: "residential".into(),
            credit_rating: "good".into(),
            cash_only,
            paperless: false,
            currency: Currency::USD,
            mailing_address_id: None,
        },
        t(-3_600),
    )
    .await
    .unwrap();
    (account.account_id, account.account_number)
}

fn mailed_check(account_id: i64, minor: i64) -> NewPayment {
    NewPayment {
        account_id,
        amount: usd(minor),
        tender: Tender::Check,
        channel: PayChannel::Mail,
        detail: TenderDetail { check_number: Some("1".into()), ..TenderDetail::default() },
        memo: String::new(),
        log_contact: false,
    }
}

#[tokio::test]
async fn payments_post_balanced_entries_and_list_newest_first() -> TestResult {
    let s = scratch::open().await?;
    let mut tx = s.db.begin().await?;
    let (account_id, _) = account(&mut tx, false).await;
    let actor = Actor::system("desk");
    let first = ops::take_payment(&mut tx, &actor, mailed_check(account_id, 1_000), t(0)).await?;
    let second = ops::take_payment(&mut tx, &actor, mailed_check(account_id, 500), t(1)).await?;
    assert_eq!(second.balance_minor, -1_500);
    let list = ops::payments_for_account(&mut tx, account_id, None, 10).await?;
    assert_eq!(
        list.iter().map(|p| p.payment_id).collect::<Vec<_>>(),
        vec![second.payment.payment_id, first.payment.payment_id]
    );
    let (entry, lines) = ledger::ops::entry(&mut tx, first.entry_id).await?;
    assert_eq!(
        (entry.source_kind.as_str(), entry.source_ref.as_str()),
        ("payment", first.payment.payment_number.as_str())
    );
    assert_eq!(lines.iter().map(|l| l.amount_minor).sum::<i64>(), 0);
    let counter_cash = NewPayment { tender: Tender::Cash, channel: PayChannel::Counter, ..mailed_check(account_id, 1) };
    assert!(matches!(ops::take_payment(&mut tx, &actor, counter_cash, t(2)).await, Err(PaymentError::DrawerRequired)));
    let (cash_only, _) = account(&mut tx, true).await;
    let refused = ops::take_payment(&mut tx, &actor, mailed_check(cash_only, 100), t(3)).await;
    assert!(matches!(refused, Err(PaymentError::AccountIsCashOnly)));
    tx.commit().await?;
    Ok(())
}

#[tokio::test]
async fn a_file_import_posts_in_bulk_keeping_balances_and_day_totals_exact() -> TestResult {
    let s = scratch::open().await?;
    let mut tx = s.db.begin_bulk().await?;
    let (a, a_number) = account(&mut tx, false).await;
    let (b, b_number) = account(&mut tx, false).await;
    let actor = Actor::system("lockbox");
    ops::take_payment(&mut tx, &actor, mailed_check(a, 100), t(0)).await?;
    let mut text = String::from("account_number,amount,reference,date\n");
    for i in 0..250 {
        let number = if i % 2 == 0 { &a_number } else { &b_number };
        text.push_str(&format!("{number},1.00,REF-{i},2026-11-30\n"));
    }
    let imported = crate::import::import_file(&mut tx, &actor, "f.csv", &text, Currency::USD, t(10)).await?;
    assert_eq!((imported.payment_count, imported.total_minor), (250, 25_000));
    assert_eq!(ledger::ops::receivable_balance(&mut tx, a, Currency::USD).await?.amount_minor, -12_600);
    assert_eq!(ledger::ops::receivable_balance(&mut tx, b, Currency::USD).await?.amount_minor, -12_500);
    let day = db::scalar!(
        &mut tx,
        i64,
        "select cast(sum(t.credit_minor) as bigint) from ledger_day_total t
         join ledger_account l on l.ledger_account_id = t.ledger_account_id where l.code = '1100'"
    )?;
    assert_eq!(day, 25_100, "the day totals carry the file and the single payment");
    let again = ops::take_payment(&mut tx, &actor, mailed_check(a, 100), t(20)).await?;
    assert_eq!(again.payment.payment_id, imported.last_payment_id + 1, "numbering continues after the file");
    let duplicate = crate::import::import_file(&mut tx, &actor, "f.csv", &text, Currency::USD, t(30)).await;
    assert!(matches!(duplicate, Err(PaymentError::PaymentFileDuplicate)));
    tx.commit().await?;
    // Written without the foreign-key checks on SQLite (a bulk transaction): every reference holds.
    assert_eq!(s.db.broken_references().await?, Vec::<String>::new());
    Ok(())
}

/// Bills on two accounts, then a file paying one in part and the other in full and more: the
/// open items settle oldest-due first, each allocation names the account's last entry in the
/// file, and the books check clean after.
#[tokio::test]
async fn a_file_import_settles_open_items_oldest_due_first() -> TestResult {
    let s = scratch::open().await?;
    let mut tx = s.db.begin().await?;
    let (a, a_number) = account(&mut tx, false).await;
    let (b, b_number) = account(&mut tx, false).await;
    let actor = Actor::system("billing");
    let mut items = Vec::new();
    for (account_id, reference, due, minor) in
        [(a, "BILL-A2", "2026-10-31", 2_000), (a, "BILL-A1", "2026-09-30", 3_000), (b, "BILL-B1", "2026-10-31", 1_500)]
    {
        let due = ledger::BusinessDate::parse(due, "due")?;
        let draft = ledger::EntryDraft::new(due, "bill", reference)
            .memo("bill")
            .line(ledger::LineDraft::debit(ledger::LedgerCode::RECEIVABLE, Some(account_id), usd(minor)))
            .line(ledger::LineDraft::credit("4010", None, usd(minor)));
        let posted = ledger::ops::post(&mut tx, &actor, &draft, t(0)).await?;
        items.push(
            ledger::ops::charge(&mut tx, account_id, posted.entry_id, "bill", reference, due, usd(minor), t(0)).await?,
        );
    }
    let text = format!(
        "account_number,amount,reference,date\n{a_number},10.00,R-1,2026-11-30\n{b_number},20.00,R-2,2026-11-30\n\
         {a_number},25.00,R-3,2026-11-30\n"
    );
    let imported = crate::import::import_file(&mut tx, &actor, "f.csv", &text, Currency::USD, t(10)).await?;
    assert_eq!(imported.settled_accounts, 2);
    let open: Vec<i64> = {
        let mut open = Vec::new();
        for item in &items {
            open.push(db::scalar!(&mut tx, i64, "select open_minor from open_item where item_id = $1", *item)?);
        }
        open
    };
    assert_eq!(open, vec![1_500, 0, 0], "A1 (due first) paid in full, then 5.00 of A2; B1 paid");
    assert_eq!(ledger::ops::receivable_balance(&mut tx, a, Currency::USD).await?.amount_minor, 1_500);
    assert_eq!(ledger::ops::receivable_balance(&mut tx, b, Currency::USD).await?.amount_minor, -500);
    let allocations: Vec<(i64, i64, i64)> = db::fetch_all!(
        &mut tx,
        (i64, i64, i64),
        "select a.item_id, a.amount_minor, a.entry_id from allocation a join journal_entry e on e.entry_id = a.entry_id
         where e.source_kind = 'payment' order by a.item_id"
    )?;
    let last_of_a = ledger::ops::entry_by_source(&mut tx, "payment", &payment_number(imported.last_payment_id))
        .await?
        .map(|e| e.entry_id);
    assert_eq!(allocations.len(), 3);
    assert_eq!(allocations.iter().map(|(_, m, _)| *m).collect::<Vec<_>>(), vec![500, 3_000, 1_500]);
    assert!(allocations.iter().filter(|(i, _, _)| *i != items[2]).all(|(_, _, e)| Some(*e) == last_of_a));
    tx.commit().await?;
    let report = ledger::verify::verify(&s.db).await?;
    assert!(report.is_clean(), "{:?}", report.problems);
    Ok(())
}

/// The answer of taking a payment is the payment as it reads back.
#[tokio::test]
async fn a_taken_payment_answers_the_row_as_stored() -> TestResult {
    let s = scratch::open().await?;
    let mut tx = s.db.begin().await?;
    let (account_id, _) = account(&mut tx, false).await;
    let card = NewPayment {
        tender: Tender::Card,
        channel: PayChannel::Phone,
        detail: TenderDetail {
            processor_token: Some("tok_1".into()),
            card_brand: Some("visa".into()),
            last_four: Some("4242".into()),
            ..TenderDetail::default()
        },
        memo: "by phone".into(),
        ..mailed_check(account_id, 1_234)
    };
    let taken = ops::take_payment(&mut tx, &Actor::system("desk"), card, t(5)).await?;
    let stored = ops::get_payment(&mut tx, taken.payment.payment_id).await?;
    assert_eq!(serde_json::to_value(&taken.payment)?, serde_json::to_value(&stored)?);
    assert_eq!(taken.balance_minor, -1_234);
    tx.commit().await?;
    Ok(())
}

/// A payment checked against account facts read before its transaction is written only if the
/// account still takes it: one made cash-only or closed in between is read again and refused.
#[tokio::test]
async fn an_account_read_before_the_write_is_checked_again_as_the_payment_is_written() -> TestResult {
    let s = scratch::open().await?;
    let actor = Actor::system("desk");
    let mut tx = s.db.begin().await?;
    let (account_id, _) = account(&mut tx, false).await;
    let (facts, currency) = ops::live_account(&mut tx, account_id).await?;
    // Facts that were stale the other way (cash-only since lifted) refuse nothing by themselves.
    let stale = store::AccountFacts { cash_only: true, ..facts.clone() };
    let taken = ops::take_payment_for(
        &mut tx,
        &actor,
        stale,
        currency,
        mailed_check(account_id, 700),
        Read::BeforeThisTransaction,
        t(0),
    )
    .await?;
    assert_eq!(taken.balance_minor, -700);
    db::execute!(&mut tx, "update account set cash_only = $1 where account_id = $2", true, account_id)?;
    let refused = ops::take_payment_for(
        &mut tx,
        &actor,
        facts.clone(),
        currency,
        mailed_check(account_id, 1),
        Read::BeforeThisTransaction,
        t(1),
    )
    .await;
    assert!(matches!(refused, Err(PaymentError::AccountIsCashOnly)), "{refused:?}");
    let cash = NewPayment { tender: Tender::MoneyOrder, ..mailed_check(account_id, 300) };
    let money_order =
        ops::take_payment_for(&mut tx, &actor, facts.clone(), currency, cash, Read::BeforeThisTransaction, t(2))
            .await?;
    assert_eq!(money_order.balance_minor, -1_000);
    db::execute!(&mut tx, "update account set status = 'closed' where account_id = $1", account_id)?;
    let cash = NewPayment { tender: Tender::MoneyOrder, ..mailed_check(account_id, 300) };
    let closed = ops::take_payment_for(&mut tx, &actor, facts, currency, cash, Read::BeforeThisTransaction, t(3)).await;
    assert!(matches!(closed, Err(PaymentError::AccountNotActive)), "{closed:?}");
    let payments = db::scalar!(&mut tx, i64, "select count(*) from payment where account_id = $1", account_id)?;
    assert_eq!(payments, 2, "nothing is written for a refused payment");
    tx.commit().await?;
    Ok(())
}

#[tokio::test]
async fn drawers_open_once_close_with_the_count_and_are_signed_off_by_someone_else() -> TestResult {
    let s = scratch::open().await?;
    let mut tx = s.db.begin().await?;
    let cashier_id = db::scalar!(
        &mut tx,
        i64,
        "insert into staff_user (username, display_name, role, password_hash, password_changed_at, created_at,
             updated_at)
         values ('cora', 'Cora', 'cashier', 'x', 0, 0, 0) returning user_id"
    )?;
    let cashier =
        Actor::User { user_id: kernel::ids::UserId(cashier_id), username: "cora".into(), role: kernel::Role::Cashier };
    let drawer = ops::open_drawer(&mut tx, &cashier, usd(10_000), t(0)).await?;
    assert!(matches!(ops::open_drawer(&mut tx, &cashier, usd(0), t(1)).await, Err(PaymentError::DrawerAlreadyOpen)));
    let closed = ops::close_drawer(&mut tx, &cashier, drawer.drawer_id, usd(10_050), usd(0), t(2)).await?;
    assert_eq!(closed.over_short_minor, Some(50));
    let own = ops::sign_off_drawer(&mut tx, &cashier, drawer.drawer_id, t(3)).await;
    assert!(matches!(own, Err(PaymentError::SignOffRequiresDifferentUser)));
    let signed = ops::sign_off_drawer(&mut tx, &Actor::system("sup"), drawer.drawer_id, t(4)).await?;
    assert_eq!(signed.status, "signed_off");
    tx.commit().await?;
    Ok(())
}

mod notices;
