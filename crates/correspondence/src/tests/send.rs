//! Merge fields, templates, the send op (email and letter, contact logged), the print batch and
//! the case-reply email, on SQLite and (with `TEST_DATABASE_URL`) PostgreSQL.

use crate::CorrespondenceError;
use crate::merge::{self, MergeValues, Piece};
use crate::model::{Channel, NewTemplateVersion};
use crate::ops::{self, MergeSubject, SendRequest};
use db::scratch;
use kernel::{Actor, Timestamp};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn t0() -> Timestamp {
    Timestamp::from_micros(1_800_000_000_000_000)
}

#[test]
fn merge_fields_parse_render_and_name_what_is_wrong() {
    let pieces = merge::parse("Dear {{customer.name}}, owe {{ account.balance }}.{{extra.note}}", "body").unwrap();
    assert_eq!(pieces[0], Piece::Text("Dear ".into()));
    assert_eq!(pieces[1], Piece::Field("customer.name".into()));
    assert_eq!(merge::fields_used(&pieces), ["customer.name", "account.balance", "extra.note"]);
    let values: MergeValues = [("customer.name", "Ana"), ("account.balance", "$1.00"), ("extra.note", "!")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    assert_eq!(merge::render(&pieces, &values).unwrap(), "Dear Ana, owe $1.00.!");
    match merge::parse("Hi {{customer.nmae}}", "subject") {
        Err(CorrespondenceError::MergeFieldUnknown { field: "subject", name }) => assert_eq!(name, "customer.nmae"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(merge::parse("Hi {{customer.name", "body"), Err(CorrespondenceError::MergeFieldUnclosed { .. })));
    assert!(merge::parse("{{extra.Bad}}", "body").is_err());
    assert!(merge::parse("no fields at all", "body").unwrap().len() == 1);
    match merge::render(&merge::parse("{{case.number}}", "body").unwrap(), &MergeValues::new()) {
        Err(CorrespondenceError::MergeValueMissing { name }) => assert_eq!(name, "case.number"),
        other => panic!("{other:?}"),
    }
    assert!(NewTemplateVersion::parse("k1", "en", "email", "N", "S {{today}}", "B {{bogus}}").is_err());
    assert!(NewTemplateVersion::parse("K", "en", "email", "N", "S", "B").is_err());
    assert!(NewTemplateVersion::parse("key", "eng", "email", "N", "S", "B").is_err());
    assert!(NewTemplateVersion::parse("key", "en", "fax", "N", "S", "B").is_err());
}

/// A customer with an email and an address, an account, and a case; returns their ids.
async fn fixture(tx: &mut db::Tx, channel: &str) -> Result<(i64, i64, i64), db::Error> {
    let customer = db::scalar!(
        &mut *tx,
        i64,
        "insert into customer (customer_number, kind, display_name, preferred_language, preferred_channel,
                               created_at, updated_at)
         values ($1, 'person', 'Ana Ruiz', 'es', $2, 0, 0) returning customer_id",
        format!("C-{}", db::random_token(4)),
        channel
    )?;
    db::execute!(
        &mut *tx,
        "insert into customer_email (customer_id, label, address, is_primary)
         values ($1, 'home', 'ana@example.com', $2)",
        customer,
        true
    )?;
    db::execute!(
        &mut *tx,
        "insert into customer_address (customer_id, label, line1, city, postal_code, country)
         values ($1, 'home', '1 Main St', 'Springfield', '12345', 'US')",
        customer
    )?;
    let account = db::scalar!(
        &mut *tx,
        i64,
        "insert into account (account_number, customer_id, status, bill_cycle, collection_class, credit_rating,
                              currency, opened_at, updated_at)
         values ($1, $2, 'active', 1, 'standard', 'good', 'USD', 0, 0) returning account_id",
        format!("A-{}", db::random_token(4)),
        customer
    )?;
    db::execute!(
        &mut *tx,
        "insert into bill (bill_number, account_id, customer_id, period, period_start, period_end, bill_date, due_date,
                           currency, subtotal_minor, tax_minor, total_minor, estimated, created_at)
         values ($1, $2, $3, '2026-10', '2026-10-01', '2026-10-31', '2026-11-01', '2026-11-21', 'USD', 4000, 200,
                 4200, $4, 0)",
        format!("B-{}", db::random_token(4)),
        account,
        customer,
        false
    )?;
    let queue = db::scalar!(&mut *tx, i64, "select queue_id from queue order by queue_id limit 1")?;
    let case = db::scalar!(
        &mut *tx,
        i64,
        "insert into support_case (case_number, customer_id, account_id, subject, category, priority, tier, queue_id,
                                   status, opened_at, opened_by, sla_state, updated_at)
         values ($1, $2, $3, 'Bill too high', 'billing', 'normal', 1, $4, 'open', 0, 'test', 'ok', 0)
         returning case_id",
        format!("CASE-{}", db::random_token(3)),
        customer,
        account,
        queue
    )?;
    Ok((customer, account, case))
}

#[tokio::test]
async fn templates_version_and_preview_with_real_data() -> TestResult {
    let scratch = scratch::open().await?;
    let mut tx = scratch.db.begin().await?;
    let seeded = ops::templates(&mut tx).await?;
    for key in ["payment_reminder", "final_notice", "case_acknowledgement", "case_reply", "welcome_letter"] {
        for language in ["en", "es", "fr"] {
            let found = seeded.iter().find(|t| t.template_key == key && t.language == language).unwrap();
            let subject = merge::parse(&found.subject, "subject");
            assert!(subject.is_ok() && merge::parse(&found.body, "body").is_ok(), "{key} {language}");
        }
    }
    let (customer, account, case) = fixture(&mut tx, "email").await?;
    let new = NewTemplateVersion::parse(
        "payment_reminder",
        "en",
        "email",
        "Payment reminder",
        "Balance {{account.balance}}, bill {{bill.amount}} due {{bill.due_date}}",
        "Dear {{customer.name}} ({{customer.number}}), case {{case.number}}: {{extra.note}}",
    )?;
    let saved = ops::save_template(&mut tx, &Actor::system("t"), new.clone(), t0()).await?;
    assert_eq!(saved.version, 2, "a save is a new version");
    let letter = NewTemplateVersion { kind: Channel::Letter, ..new };
    assert!(matches!(
        ops::save_template(&mut tx, &Actor::system("t"), letter, t0()).await,
        Err(CorrespondenceError::TemplateKindMismatch { .. })
    ));
    let subject = MergeSubject {
        customer_id: customer,
        account_id: Some(account),
        case_id: Some(case),
        extra: [("note".to_string(), "thanks".to_string())].into_iter().collect(),
        agent_user_id: None,
    };
    let preview = ops::preview(&mut tx, &Actor::system("t"), saved.template_id, &subject, t0()).await?;
    assert_eq!(preview.subject, "Balance 0.00 USD, bill 42.00 USD due 2026-11-21");
    assert!(preview.body.starts_with("Dear Ana Ruiz (C-") && preview.body.ends_with(": thanks"), "{}", preview.body);
    let no_case = MergeSubject { case_id: None, ..subject };
    assert!(matches!(
        ops::preview(&mut tx, &Actor::system("t"), saved.template_id, &no_case, t0()).await,
        Err(CorrespondenceError::MergeValueMissing { .. })
    ));
    assert_eq!(ops::template_versions(&mut tx, "payment_reminder").await?.len(), 4);
    Ok(())
}

#[tokio::test]
async fn send_queues_email_or_letter_logs_the_contact_and_prints_a_batch() -> TestResult {
    let scratch = scratch::open().await?;
    let mut tx = scratch.db.begin().await?;
    let (customer, account, _) = fixture(&mut tx, "email").await?;
    let request =
        SendRequest { template_key: "case_acknowledgement".into(), customer_id: customer, ..SendRequest::default() };
    assert!(matches!(
        ops::send(&mut tx, &Actor::system("t"), request.clone(), t0()).await,
        Err(CorrespondenceError::MergeValueMissing { .. })
    ));
    let email_request = SendRequest { template_key: "payment_reminder".into(), account_id: Some(account), ..request };
    let sent = ops::send(&mut tx, &Actor::system("t"), email_request.clone(), t0()).await?;
    assert_eq!(sent.channel, Channel::Email);
    let queued = ops::get_email(&mut tx, sent.email.as_ref().unwrap().email_id).await?;
    assert!(queued.subject.starts_with("Recordatorio de pago"), "the customer's language: {}", queued.subject);
    assert_eq!(queued.to_addresses, "ana@example.com");
    let letter_request = SendRequest {
        template_key: "welcome_letter".into(),
        language: Some("fr".into()),
        channel: Some(Channel::Letter),
        ..email_request
    };
    let sent_letter = ops::send(&mut tx, &Actor::system("t"), letter_request.clone(), t0()).await?;
    ops::send(&mut tx, &Actor::system("t"), letter_request, t0()).await?;
    let letter = ops::letter(&mut tx, sent_letter.letter_id.unwrap()).await?;
    assert!(letter.recipient.starts_with("Ana Ruiz\n1 Main St"));
    assert!(letter.subject.starts_with("Bienvenue"));
    let contacts = db::scalar!(
        &mut tx,
        i64,
        "select count(*) from contact where customer_id = $1 and direction = 'outbound'",
        customer
    )?;
    assert_eq!(contacts, 3, "every email and letter on the timeline");
    assert!(ops::letter_pdf(&mut tx, letter.letter_id).await?.starts_with(b"%PDF"));
    let before = ops::end_of_day("2020-01-01")?;
    assert!(matches!(
        ops::print_batch(&mut tx, &Actor::system("t"), before, t0()).await,
        Err(CorrespondenceError::PrintQueueEmpty)
    ));
    let batch = ops::print_batch(&mut tx, &Actor::system("t"), t0(), t0()).await?;
    assert_eq!(batch.letter_count, 2);
    assert!(batch.pdf.starts_with(b"%PDF"));
    assert!(matches!(
        ops::print_batch(&mut tx, &Actor::system("t"), t0(), t0()).await,
        Err(CorrespondenceError::PrintQueueEmpty)
    ));
    assert_eq!(ops::print_batches(&mut tx, 10).await?[0].letter_count, 2);
    assert_eq!(ops::batch_pdf(&mut tx, batch.print_batch_id).await?, batch.pdf, "a past batch made again");
    tx.commit().await?;
    Ok(())
}

#[tokio::test]
async fn a_case_reply_is_emailed_once_with_the_case_number() -> TestResult {
    let scratch = scratch::open().await?;
    let mut tx = scratch.db.begin().await?;
    let (_, _, case) = fixture(&mut tx, "phone").await?;
    let entry = db::scalar!(
        &mut tx,
        i64,
        "insert into case_entry (case_id, kind, body, author, created_at)
         values ($1, 'reply_out', 'We corrected the read.', 'agent', 0) returning entry_id",
        case
    )?;
    let sent = ops::email_case_reply(&mut tx, case, entry, None, t0()).await?.unwrap();
    let email = ops::get_email(&mut tx, sent.email.unwrap().email_id).await?;
    assert!(email.subject.starts_with("Re: [CASE-") && email.subject.ends_with("] Bill too high"), "{}", email.subject);
    assert!(email.text_body.starts_with("We corrected the read."));
    assert!(ops::email_case_reply(&mut tx, case, entry, None, t0()).await?.is_none(), "a second run queues nothing");
    let entry2 = db::scalar!(
        &mut tx,
        i64,
        "insert into case_entry (case_id, kind, body, author, created_at)
         values ($1, 'reply_out', 'And one more thing.', 'agent', 0) returning entry_id",
        case
    )?;
    let second = ops::email_case_reply(&mut tx, case, entry2, None, t0()).await?.unwrap();
    let second = ops::get_email(&mut tx, second.email.unwrap().email_id).await?;
    assert_eq!(second.in_reply_to.as_deref(), Some(email.message_id.as_str()), "threaded to our earlier email");
    Ok(())
}
