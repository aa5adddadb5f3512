//! A bulk loader for demo data only: millions of customers, contacts and cases in minutes.
//!
//! `caredesk demo --customers N` uses it when N is large (see [`BULK_THRESHOLD`]); small demos go
//! through the customers ops so their audit trail is real. This loader writes rows straight into
//! the tables with explicit ids, in big transactions of multi-row `insert` statements, and fills
//! the search indexes (`customer_search`, `case_search`) with the same documents the modules
//! build. Bulk demo rows carry no audit records, and no business rule runs on them: it is only
//! ever pointed at an empty demo database, never at real data.

use crate::demo_customers::{Seeded, customer};
use customers::model::{AccountNumber, customer_number, search_document};
use db::bulk::{Rows, Statements, Value};
use db::sqlx;
use db::{Backend, Db, Tx};
use kernel::Clock;
use kernel::clock::MICROS_PER_SECOND;

/// Above this many customers the demo takes the bulk path.
pub const BULK_THRESHOLD: u64 = 5_000;
/// Customers written per transaction.
const CUSTOMERS_PER_TRANSACTION: u64 = 10_000;
/// The longest case search document, as `cases::store::reindex` cuts it.
const MAX_CASE_DOC_CHARS: usize = 20_000;

/// Staff, queues and reason codes the demo rows point at.
struct Refs {
    agents: Vec<(i64, String)>,
    queues: Vec<i64>,
    /// (reason, sub-reason or none)
    reasons: Vec<(String, Option<String>)>,
}

async fn refs(db: &Db) -> Result<Refs, db::Error> {
    let mut tx = db.read().await?;
    let agents = db::fetch_all!(
        &mut tx,
        (i64, String),
        "select user_id, display_name from staff_user where role in ('agent1', 'agent2', 'lead') order by user_id"
    )?;
    let queues = db::fetch_all!(&mut tx, (i64,), "select queue_id from queue order by queue_id")?;
    let reasons = db::fetch_all!(
        &mut tx,
        (String, Option<String>),
        "select coalesce(parent_code, code), case when parent_code is null then null else code end
           from reason_code where active = $1 order by reason_code_id",
        true
    )?;
    tx.rollback().await?;
    let queues: Vec<i64> = queues.into_iter().map(|(id,)| id).collect();
    if queues.is_empty() || reasons.is_empty() {
        return Err(db::Error::Malformed("the demo needs the seeded queues and reason codes".into()));
    }
    Ok(Refs { agents, queues, reasons })
}

/// Every table the loader writes, in foreign-key order.
struct Tables {
    customer: Rows,
    phone: Rows,
    email: Rows,
    address: Rows,
    account: Rows,
    premise: Rows,
    meter: Rows,
    agreement: Rows,
    alert: Rows,
    customer_search: Rows,
    contact: Rows,
    case: Rows,
    entry: Rows,
    case_search: Rows,
}

impl Tables {
    fn new(backend: Backend) -> Tables {
        // FTS5 tables are keyed by rowid; PostgreSQL's search tables by the entity's id.
        let (search_columns, case_search_columns) = match backend {
            Backend::Sqlite => ("rowid, doc", "rowid, doc"),
            Backend::Postgres => ("customer_id, doc", "case_id, doc"),
        };
        Tables {
            customer: Rows::new(
                "customer",
                "customer_id, customer_number, kind, display_name, first_name, last_name, business_name, \
                 contact_person, preferred_language, preferred_channel, do_not_call, do_not_email, do_not_mail, \
                 created_at, updated_at",
            ),
            phone: Rows::new("customer_phone", "phone_id, customer_id, label, e164, is_primary"),
            email: Rows::new("customer_email", "email_id, customer_id, label, address, is_primary"),
            address: Rows::new(
                "customer_address",
                "address_id, customer_id, label, line1, line2, city, region, postal_code, country",
            ),
            account: Rows::new(
                "account",
                "account_id, account_number, customer_id, status, bill_cycle, collection_class, credit_rating, \
                 cash_only, paperless, currency, mailing_address_id, opened_at, updated_at",
            ),
            premise: Rows::new(
                "premise",
                "premise_id, premise_type, line1, line2, city, region, postal_code, country, created_at",
            ),
            meter: Rows::new("meter", "meter_id, meter_number, premise_id, service_type, installed_on"),
            agreement: Rows::new(
                "service_agreement",
                "agreement_id, account_id, premise_id, service_type, rate_code, start_date, status, created_at, \
                 updated_at",
            ),
            alert: Rows::new("customer_alert", "alert_id, customer_id, kind, message, created_at, created_by"),
            customer_search: Rows::new("customer_search", search_columns),
            contact: Rows::new(
                "contact",
                "contact_id, customer_id, account_id, channel, direction, reason_code, sub_reason_code, \
                 disposition_code, summary, started_at, ended_at, agent_user_id, agent_name, created_at",
            ),
            case: Rows::new(
                "support_case",
                "case_id, case_number, customer_id, account_id, subject, category, priority, tier, queue_id, \
                 status, opened_at, opened_by, first_response_at, first_response_due_at, resolution_due_at, \
                 sla_state, resolved_at, closed_at, resolution_code, updated_at",
            ),
            entry: Rows::new("case_entry", "entry_id, case_id, kind, body, author, created_at"),
            case_search: Rows::new("case_search", case_search_columns),
        }
    }

    async fn flush(&mut self, statements: &mut Statements, tx: &mut Tx) -> Result<(), db::Error> {
        for rows in [
            &mut self.customer,
            &mut self.phone,
            &mut self.email,
            &mut self.address,
            &mut self.account,
            &mut self.premise,
            &mut self.meter,
            &mut self.agreement,
            &mut self.alert,
            &mut self.customer_search,
            &mut self.contact,
            &mut self.case,
            &mut self.entry,
            &mut self.case_search,
        ] {
            statements.flush(tx, rows).await?;
        }
        Ok(())
    }
}

/// Next ids of the tables whose rows per customer vary.
#[derive(Default)]
struct Counters {
    contact: i64,
    case: i64,
    entry: i64,
    alert: i64,
}

/// Loads `count` customers with their accounts, premises, contacts and cases; `progress` is told
/// the number of customers written after each transaction.
pub async fn load(db: &Db, clock: &dyn Clock, count: u64, progress: &dyn Fn(u64)) -> Result<(), String> {
    let refs = refs(db).await.map_err(|e| e.to_string())?;
    let now = clock.now().micros();
    set_load_pragmas(db, true).await.map_err(|e| e.to_string())?;
    let loaded = load_all(db, &refs, now, count, progress).await;
    let restored = set_load_pragmas(db, false).await;
    loaded.map_err(|e| e.to_string())?;
    restored.map_err(|e| e.to_string())?;
    Ok(())
}

async fn load_all(db: &Db, refs: &Refs, now: i64, count: u64, progress: &dyn Fn(u64)) -> Result<(), db::Error> {
    let mut rng = Seeded::new(0x00C0_FFEE);
    let mut tables = Tables::new(db.backend());
    let mut statements = Statements::new(db.backend());
    let mut counters = Counters::default();
    let mut done = 0;
    while done < count {
        let end = (done + CUSTOMERS_PER_TRANSACTION).min(count);
        let mut tx = db.begin().await?;
        for n in done..end {
            let customer_id = n as i64 + 1;
            add_customer(&mut tables, &mut rng, &mut counters, customer_id, now)?;
            add_contacts(&mut tables, &mut rng, &mut counters, refs, customer_id, now);
            add_cases(&mut tables, &mut rng, &mut counters, refs, customer_id, now);
            if tables.contact.values.len() >= 50_000 {
                tables.flush(&mut statements, &mut tx).await?;
            }
        }
        tables.flush(&mut statements, &mut tx).await?;
        tx.commit().await?;
        done = end;
        progress(done);
    }
    if db.backend() == Backend::Postgres {
        bump_sequences(db).await?;
    }
    Ok(())
}

/// On SQLite, a one-off load into an empty file may skip the fsync of every commit (a crash
/// mid-load leaves a demo to throw away, never real data) and use a large page cache; the
/// defaults come back when the load ends. PostgreSQL needs nothing.
async fn set_load_pragmas(db: &Db, loading: bool) -> Result<(), db::Error> {
    let Db::Sqlite { writer, .. } = db else { return Ok(()) };
    let pragmas: &[&str] = if loading {
        &["pragma synchronous = off", "pragma cache_size = -1000000"]
    } else {
        &["pragma synchronous = full", "pragma cache_size = -32000", "pragma wal_checkpoint(truncate)"]
    };
    // The writer pool holds exactly one connection, so these reach the one the loader uses.
    for pragma in pragmas {
        sqlx::query(*pragma).execute(writer).await?;
    }
    Ok(())
}

/// Identity columns on PostgreSQL continue after the explicit ids the loader wrote.
async fn bump_sequences(db: &Db) -> Result<(), db::Error> {
    const KEYS: &[(&str, &str)] = &[
        ("customer", "customer_id"),
        ("customer_phone", "phone_id"),
        ("customer_email", "email_id"),
        ("customer_address", "address_id"),
        ("account", "account_id"),
        ("premise", "premise_id"),
        ("meter", "meter_id"),
        ("service_agreement", "agreement_id"),
        ("customer_alert", "alert_id"),
        ("contact", "contact_id"),
        ("support_case", "case_id"),
        ("case_entry", "entry_id"),
    ];
    let mut tx = db.begin().await?;
    for (table, key) in KEYS {
        let sql = format!(
            "select setval(pg_get_serial_sequence('{table}', '{key}'),
                           coalesce((select max({key}) from {table}), 0) + 1, false)"
        );
        if let Tx::Pg(t) = &mut tx {
            sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut **t).await?;
        }
    }
    tx.commit().await
}

fn text(value: Option<String>) -> Value {
    value.map(Value::Text).unwrap_or(Value::NullText)
}

fn add_customer(
    tables: &mut Tables,
    rng: &mut Seeded,
    counters: &mut Counters,
    id: i64,
    now: i64,
) -> Result<(), db::Error> {
    let new = customer(rng, id as u64 - 1).map_err(|e| db::Error::Malformed(e.to_string()))?;
    let display = new.name.display();
    let business = new.name.business_name.is_some();
    let number = customer_number(id);
    let mut doc = vec![display.clone(), number.clone()];
    doc.extend(new.name.contact_person.clone());
    tables.customer.push([
        Value::Int(id),
        Value::Text(number),
        Value::Static(new.name.kind.code()),
        Value::Text(display),
        text(new.name.first_name),
        text(new.name.last_name),
        text(new.name.business_name),
        text(new.name.contact_person),
        Value::Text(new.preferences.language),
        Value::Text(new.preferences.channel),
        Value::Bool(false),
        Value::Bool(false),
        Value::Bool(false),
        Value::Int(now),
        Value::Int(now),
    ]);
    for (label, phone) in new.phones.into_iter().take(1) {
        doc.push(phone.e164().trim_start_matches('+').to_string());
        tables.phone.push([
            Value::Int(id),
            Value::Int(id),
            Value::Text(label),
            Value::Text(phone.e164().to_string()),
            Value::Bool(true),
        ]);
    }
    for (label, email) in new.emails.into_iter().take(1) {
        doc.push(email.as_str().to_string());
        tables.email.push([
            Value::Int(id),
            Value::Int(id),
            Value::Text(label),
            Value::Text(email.as_str().to_string()),
            Value::Bool(true),
        ]);
    }
    let address = new.addresses.into_iter().next();
    if let Some((label, a)) = &address {
        let mut one_line = vec![a.line1.clone()];
        one_line.extend(a.line2.clone());
        one_line.push(a.city.clone());
        one_line.extend(a.region.clone());
        one_line.push(a.postal_code.clone());
        doc.push(one_line.join(", "));
        tables.address.push([
            Value::Int(id),
            Value::Int(id),
            Value::Text(label.clone()),
            Value::Text(a.line1.clone()),
            text(a.line2.clone()),
            Value::Text(a.city.clone()),
            text(a.region.clone()),
            Value::Text(a.postal_code.clone()),
            Value::Text(a.country.clone()),
        ]);
    }
    let account_number = AccountNumber::for_key(id).as_str().to_string();
    doc.push(account_number.clone());
    let class = if business { "commercial" } else { "residential" };
    tables.account.push([
        Value::Int(id),
        Value::Text(account_number),
        Value::Int(id),
        Value::Static("active"),
        Value::Int(1 + rng.below(28) as i64),
        Value::Static(class),
        Value::Static(["excellent", "good", "good", "fair", "poor"].get(rng.below(5)).copied().unwrap_or("good")),
        Value::Bool(rng.below(40) == 0),
        Value::Bool(rng.below(3) == 0),
        Value::Static("USD"),
        if address.is_some() { Value::Int(id) } else { Value::NullInt },
        Value::Int(now),
        Value::Int(now),
    ]);
    if let (Some((_, a)), true) = (&address, rng.below(10) < 8) {
        add_premise(tables, id, class, a, business, now, &mut doc);
    }
    if rng.below(25) == 0 {
        counters.alert += 1;
        tables.alert.push([
            Value::Int(counters.alert),
            Value::Int(id),
            Value::Static("hard_of_hearing"),
            Value::Static("Speak slowly; offer a relay call."),
            Value::Int(now),
            Value::Static("system:demo"),
        ]);
    }
    tables.customer_search.push([Value::Int(id), Value::Text(search_document(&doc))]);
    Ok(())
}

/// One premise per customer that has one, keyed by the customer id, with a meter and an active
/// electric agreement on the customer's account (also keyed by the customer id).
fn add_premise(
    tables: &mut Tables,
    id: i64,
    class: &'static str,
    a: &customers::model::PostalAddress,
    business: bool,
    now: i64,
    doc: &mut Vec<String>,
) {
    let meter = format!("M{id:08}");
    doc.push(format!("{}, {} {}", a.line1, a.city, a.postal_code));
    doc.push(meter.clone());
    tables.premise.push([
        Value::Int(id),
        Value::Static(class),
        Value::Text(a.line1.clone()),
        text(a.line2.clone()),
        Value::Text(a.city.clone()),
        text(a.region.clone()),
        Value::Text(a.postal_code.clone()),
        Value::Text(a.country.clone()),
        Value::Int(now),
    ]);
    tables.meter.push([
        Value::Int(id),
        Value::Text(meter),
        Value::Int(id),
        Value::Static("electric"),
        Value::Static("2020-01-15"),
    ]);
    tables.agreement.push([
        Value::Int(id),
        Value::Int(id),
        Value::Int(id),
        Value::Static("electric"),
        Value::Static(if business { "E-COM-1" } else { "E-RES-1" }),
        Value::Static("2021-03-01"),
        Value::Static("active"),
        Value::Int(now),
        Value::Int(now),
    ]);
}

const CHANNELS: &[(&str, &str)] = &[
    ("phone", "inbound"),
    ("phone", "inbound"),
    ("phone", "inbound"),
    ("phone", "outbound"),
    ("email", "inbound"),
    ("email", "outbound"),
    ("chat", "inbound"),
    ("in_person", "inbound"),
    ("portal", "inbound"),
    ("letter", "outbound"),
];
const DISPOSITIONS: &[&str] =
    &["resolved", "resolved", "information_given", "information_given", "callback_scheduled", "transferred"];

/// A realistic one-line summary for a contact about `reason`, so the inquiries report has words.
fn summary(rng: &mut Seeded, reason: &str) -> String {
    let what: &[&str] = match reason {
        "billing_question" => &[
            "Asked why this month's bill is higher than last month; explained the estimated read",
            "Questioned a late fee on the bill; explained the due date and the grace period",
            "Wanted the bill explained line by line; walked through the tiered rate",
            "Asked about a duplicate charge on the bill; confirmed only one payment posted",
        ],
        "payment" => &[
            "Made a payment by card over the phone; gave the confirmation number",
            "Asked for a payment arrangement over three months; set it up",
            "Reported a returned check; explained the NSF fee",
            "Asked whether yesterday's online payment posted; it did",
        ],
        "start_service" => &[
            "Moving in next week; scheduled the start of service and a meter read",
            "New tenant asked to start service in their name; took the deposit details",
        ],
        "stop_service" => &[
            "Moving out at the end of the month; scheduled the stop and the final bill",
            "Asked to close the account after selling the house; final read booked",
        ],
        "outage" => &[
            "Reported no power on the whole street since this morning; gave the restoration estimate",
            "Lights flickering during the storm; logged the outage report",
            "Asked when service will be back after the outage; crews on site",
        ],
        "complaint" => &[
            "Unhappy with the wait time on the phone; apologised and noted the feedback",
            "Complained that the meter reader left the gate open; passed it to the field supervisor",
        ],
        "order_status" => &[
            "Asked where the replacement meter order is; gave the tracking number",
            "Order delayed; confirmed the new delivery date",
        ],
        "claim" => &[
            "Filed a claim for a damaged package; listed the documents needed",
            "Lost item claim; asked for proof of value",
        ],
        _ => &[
            "General question about paperless billing; turned it on",
            "Updated the mailing address and the preferred language",
            "Asked about the autopay enrolment; sent the form by email",
        ],
    };
    rng.pick(what).to_string()
}

fn add_contacts(tables: &mut Tables, rng: &mut Seeded, counters: &mut Counters, refs: &Refs, id: i64, now: i64) {
    let days = 24 * 3600 * MICROS_PER_SECOND;
    for _ in 0..rng.below(11) {
        counters.contact += 1;
        let (channel, direction) = CHANNELS.get(rng.below(CHANNELS.len())).copied().unwrap_or(("phone", "inbound"));
        let (reason, sub_reason) =
            refs.reasons.get(rng.below(refs.reasons.len())).cloned().unwrap_or(("other".into(), None));
        let agent = refs.agents.get(rng.below(refs.agents.len().max(1)));
        let started = now - (rng.below(720) as i64) * days - (rng.below(36_000) as i64) * MICROS_PER_SECOND;
        let ended = started + (30 + rng.below(900) as i64) * MICROS_PER_SECOND;
        let summary = summary(rng, &reason);
        tables.contact.push([
            Value::Int(counters.contact),
            Value::Int(id),
            Value::Int(id),
            Value::Static(channel),
            Value::Static(direction),
            Value::Text(reason),
            text(sub_reason),
            Value::Static(DISPOSITIONS.get(rng.below(DISPOSITIONS.len())).copied().unwrap_or("resolved")),
            Value::Text(summary),
            Value::Int(started),
            Value::Int(ended),
            agent.map(|a| Value::Int(a.0)).unwrap_or(Value::NullInt),
            Value::Text(agent.map(|a| a.1.clone()).unwrap_or_else(|| "Demo Agent".into())),
            Value::Int(ended),
        ]);
    }
}

/// (subject, category, first note, reply to the customer)
const CASE_STORIES: &[(&str, &str, &str, &str)] = &[
    (
        "High bill after meter exchange",
        "billing",
        "Customer disputes the first bill after the meter exchange; \
      checking the final read on the old meter.",
        "We are reviewing the reads from your old and new meter.",
    ),
    (
        "Estimated reads for three months",
        "billing",
        "No actual read since spring; gate locked, dog on premises.",
        "We will book an appointment to read your meter.",
    ),
    (
        "Refund of overpayment",
        "payment",
        "Customer paid twice by mistake; refund needs supervisor approval.",
        "Your refund has been requested and will arrive within ten business days.",
    ),
    (
        "Payment not applied to account",
        "payment",
        "Bank shows the payment cleared; lockbox file missing the stub.",
        "We found your payment and applied it to your account.",
    ),
    (
        "Streetlight out on corner",
        "service",
        "Streetlight reported dark for a week; work order raised.",
        "A crew is scheduled to replace the lamp.",
    ),
    (
        "Low water pressure upstairs",
        "service",
        "Pressure drops in the evening; checking the regulator at the curb.",
        "A technician will visit to test the pressure.",
    ),
    (
        "Repeated outages in the neighbourhood",
        "outage",
        "Third outage this month on the same feeder; escalated \
      to engineering.",
        "Our engineers are inspecting the line serving your street.",
    ),
    (
        "Flickering lights after storm",
        "outage",
        "Possible loose neutral; safety visit booked.",
        "An electrician from our team will check the connection.",
    ),
    (
        "Replacement thermostat never arrived",
        "order",
        "Carrier tracking shows delivered; customer says no parcel.",
        "We have opened a trace with the carrier.",
    ),
    (
        "Wrong part shipped",
        "order",
        "Customer received a gas meter gasket instead of a water one; RMA issued.",
        "Please return the part with the enclosed label; the right one is on its way.",
    ),
    (
        "Damaged parcel claim",
        "claim",
        "Box crushed in transit; photos received, proof of value pending.",
        "Please send a receipt or invoice showing the value of the item.",
    ),
    (
        "Lost envelope with check",
        "claim",
        "Customer mailed a check that never arrived at the lockbox.",
        "Please stop the check with your bank; we have waived the late fee.",
    ),
    (
        "Rude technician during visit",
        "complaint",
        "Complaint about conduct during the meter exchange; passed to \
      the field supervisor.",
        "We are sorry for your experience and have spoken with the team.",
    ),
    (
        "Disconnect notice sent in error",
        "complaint",
        "Notice generated although the arrangement was current.",
        "The notice was sent in error; no disconnection will take place.",
    ),
    (
        "Change of account holder after bereavement",
        "other",
        "Spouse asks to move the account to their name; \
      documents requested.",
        "Please send a copy of the certificate and we will update the account.",
    ),
    (
        "Paperless billing not received",
        "other",
        "Bill emails bouncing; address had a typo.",
        "We corrected your email address and resent the bill.",
    ),
];
/// Mostly settled history with about a tenth still running, as on a real desk.
const CASE_STATUSES: &[&str] = &[
    "new",
    "open",
    "pending_customer",
    "pending_internal",
    "resolved",
    "resolved",
    "resolved",
    "closed",
    "closed",
    "closed",
    "closed",
    "closed",
    "closed",
    "closed",
    "closed",
    "closed",
    "closed",
    "closed",
    "closed",
    "closed",
];
const PRIORITIES: &[&str] = &["low", "normal", "normal", "normal", "high", "urgent"];

fn add_cases(tables: &mut Tables, rng: &mut Seeded, counters: &mut Counters, refs: &Refs, id: i64, now: i64) {
    let day = 24 * 3600 * MICROS_PER_SECOND;
    for _ in 0..rng.below(3) {
        counters.case += 1;
        let case_id = counters.case;
        let (subject, category, note, reply) =
            CASE_STORIES.get(rng.below(CASE_STORIES.len())).copied().unwrap_or(("Question", "other", "-", "-"));
        let status = CASE_STATUSES.get(rng.below(CASE_STATUSES.len())).copied().unwrap_or("open");
        let priority = PRIORITIES.get(rng.below(PRIORITIES.len())).copied().unwrap_or("normal");
        let tier = if category == "claim" || priority == "urgent" { 2 } else { 1 };
        let queue = match (tier, category) {
            (2, _) => refs.queues.get(2),
            (_, "billing" | "payment") => refs.queues.get(1),
            _ => refs.queues.first(),
        };
        // Running clocks are a fortnight old or more and already marked breached, as the SLA
        // scan would mark them, so the first scan after the load has nothing to change.
        let running = matches!(status, "new" | "open" | "pending_internal");
        let opened = now - (14 + rng.below(351) as i64) * day - (rng.below(36_000) as i64) * MICROS_PER_SECOND;
        let responded = opened + (1 + rng.below(8) as i64) * 3600 * MICROS_PER_SECOND;
        let done = matches!(status, "resolved" | "closed");
        let resolved = opened + (1 + rng.below(10) as i64) * day;
        let number = cases::model::case_number(case_id);
        tables.case.push([
            Value::Int(case_id),
            Value::Text(number.clone()),
            Value::Int(id),
            Value::Int(id),
            Value::Static(subject),
            Value::Static(category),
            Value::Static(priority),
            Value::Int(tier),
            queue.map(|q| Value::Int(*q)).unwrap_or(Value::NullInt),
            Value::Static(status),
            Value::Int(opened),
            Value::Static("system:demo"),
            if status == "new" { Value::NullInt } else { Value::Int(responded) },
            Value::Int(opened + 8 * 3600 * MICROS_PER_SECOND),
            Value::Int(opened + 5 * day),
            Value::Static(if running { "breached" } else { "on_track" }),
            if done { Value::Int(resolved) } else { Value::NullInt },
            if status == "closed" { Value::Int(resolved + 7 * day) } else { Value::NullInt },
            if done { Value::Static("fixed") } else { Value::NullText },
            Value::Int(if done { resolved } else { responded }),
        ]);
        for (kind, body, at) in [("note", note, opened), ("reply_out", reply, responded)] {
            counters.entry += 1;
            tables.entry.push([
                Value::Int(counters.entry),
                Value::Int(case_id),
                Value::Static(kind),
                Value::Static(body),
                Value::Static("system:demo"),
                Value::Int(at),
            ]);
        }
        let doc: String = [number.as_str(), subject, note, reply].join(" | ").to_lowercase();
        let doc: String = doc.chars().take(MAX_CASE_DOC_CHARS).collect();
        tables.case_search.push([Value::Int(case_id), Value::Text(doc)]);
    }
}
