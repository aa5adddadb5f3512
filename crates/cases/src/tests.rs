//! Unit tests for the case rules and the business calendar, and store tests (SQLite, and
//! PostgreSQL when TEST_DATABASE_URL is set) for the SLA clock, escalation, queues and reopening.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use crate::calendar::BusinessCalendar;
use crate::model::{CaseStatus, Priority, SlaState, safe_file_name, sniff_content_type};
use crate::ops::{self, NewCase};
use crate::{CaseError, store};
use kernel::{Actor, Timestamp};

/// 2026-11-23 is a Monday. Returns the UTC instant of that week's `day` (0 = Monday) at h:m.
fn at(day: i64, hour: i64, minute: i64) -> Timestamp {
    let monday = 1_795_392_000; // 2026-11-23T00:00:00Z
    Timestamp::from_micros((monday + day * 86_400 + hour * 3_600 + minute * 60) * 1_000_000)
}

#[test]
fn the_monday_anchor_is_a_monday() {
    assert_eq!(at(0, 0, 0).to_rfc3339(), "2026-11-23T00:00:00Z");
    assert_eq!(at(0, 0, 0).to_offset_date_time().weekday(), time::Weekday::Monday);
}

#[test]
fn business_time_skips_nights_and_weekends() {
    let office = BusinessCalendar::office_hours(0);
    assert_eq!(office.business_seconds_between(at(0, 9, 0), at(0, 10, 30)), 90 * 60);
    assert_eq!(
        office.business_seconds_between(at(0, 16, 0), at(1, 9, 0)),
        2 * 3_600,
        "one hour each side of the night"
    );
    assert_eq!(
        office.business_seconds_between(at(4, 16, 0), at(7, 9, 0)),
        2 * 3_600,
        "Friday to Monday skips the weekend"
    );
    assert_eq!(office.business_seconds_between(at(5, 10, 0), at(6, 12, 0)), 0, "a weekend has no business time");
    assert_eq!(office.business_seconds_between(at(1, 10, 0), at(0, 10, 0)), 0);
    assert_eq!(office.add_business_seconds(at(0, 16, 0), 2 * 3_600), Some(at(1, 9, 0)));
    assert_eq!(
        office.add_business_seconds(at(4, 16, 30), 3_600),
        Some(at(7, 8, 30)),
        "Friday evening runs into Monday"
    );
    assert_eq!(
        office.add_business_seconds(at(5, 12, 0), 0),
        Some(at(7, 8, 0)),
        "a clock started on Saturday starts Monday"
    );
}

#[test]
fn holidays_and_time_zones_are_honoured() {
    let mut office = BusinessCalendar::office_hours(0);
    office.holidays.insert(time::Date::from_calendar_date(2026, time::Month::November, 26).unwrap());
    assert_eq!(office.business_seconds_between(at(2, 16, 0), at(4, 9, 0)), 2 * 3_600, "Thursday is a holiday");
    assert_eq!(office.add_business_seconds(at(2, 16, 0), 2 * 3_600), Some(at(4, 9, 0)));
    let eastern = BusinessCalendar::office_hours(-5 * 60);
    assert_eq!(eastern.add_business_seconds(at(0, 12, 0), 0), Some(at(0, 13, 0)), "08:00 at UTC-5 is 13:00 UTC");
    assert_eq!(eastern.business_seconds_between(at(0, 13, 0), at(0, 22, 0)), 9 * 3_600);
}

#[test]
fn business_time_round_trips() {
    let office = BusinessCalendar::office_hours(60);
    for start in [at(0, 7, 15), at(2, 12, 40), at(4, 15, 59), at(6, 23, 0)] {
        for seconds in [0, 1, 3_600, 9 * 3_600, 40 * 3_600, 200 * 3_600] {
            let end = office.add_business_seconds(start, seconds).unwrap();
            assert_eq!(office.business_seconds_between(start, end), seconds, "{} + {seconds}", start.to_rfc3339());
        }
    }
}

#[test]
fn the_case_state_machine_allows_exactly_these_moves() {
    use CaseStatus as S;
    let allowed = [
        (S::New, S::Open),
        (S::New, S::PendingCustomer),
        (S::New, S::PendingInternal),
        (S::New, S::Resolved),
        (S::Open, S::PendingCustomer),
        (S::Open, S::PendingInternal),
        (S::Open, S::Resolved),
        (S::PendingCustomer, S::Open),
        (S::PendingCustomer, S::Resolved),
        (S::PendingCustomer, S::PendingInternal),
        (S::PendingInternal, S::Open),
        (S::PendingInternal, S::Resolved),
        (S::PendingInternal, S::PendingCustomer),
        (S::Resolved, S::Closed),
        (S::Resolved, S::Open),
    ];
    for from in S::ALL {
        for to in S::ALL {
            assert_eq!(from.can_become(to), allowed.contains(&(from, to)), "{} -> {}", from.code(), to.code());
        }
        assert_eq!(S::parse(from.code()).unwrap(), from);
    }
    assert!(S::PendingCustomer.clock_paused() && !S::PendingInternal.clock_paused());
}

#[test]
fn sla_states_and_file_checks() {
    assert_eq!(SlaState::of(10_000, 36_000), SlaState::OnTrack);
    assert_eq!(SlaState::of(3_000, 36_000), SlaState::AtRisk);
    assert_eq!(SlaState::of(0, 36_000), SlaState::Breached);
    assert_eq!(Priority::High.raised(), Priority::Urgent);
    assert_eq!(sniff_content_type(b"%PDF-1.7 ..."), Some("application/pdf"));
    assert_eq!(sniff_content_type(b"hello"), Some("text/plain"));
    assert_eq!(sniff_content_type(&[0x4d, 0x5a, 0x90, 0x00]), None, "executables are refused");
    assert_eq!(safe_file_name("../../etc/passwd").unwrap(), "passwd");
    assert_eq!(safe_file_name("C:\\bills\\May bill.pdf").unwrap(), "May bill.pdf");
    assert!(safe_file_name("..").is_err());
}

fn case(subject: &str, priority: Priority) -> NewCase {
    NewCase { subject: subject.into(), category: "billing".into(), priority: Some(priority), ..NewCase::default() }
}

#[tokio::test]
async fn the_sla_clock_pauses_while_the_customer_is_awaited() {
    let s = db::scratch::open().await.unwrap();
    let actor = Actor::system("test");
    let mut tx = s.db.begin().await.unwrap();
    let opened =
        ops::open_case(&mut tx, &actor, case("Meter reads wrong", Priority::Normal), at(0, 9, 0)).await.unwrap();
    // normal: 2400 business minutes = 40 business hours = 4 days 4 hours of 9-hour days.
    assert_eq!(opened.resolution_due_at, Some(at(4, 13, 0).micros()));
    assert_eq!(opened.first_response_due_at, Some(at(0, 17, 0).micros()), "480 business minutes");
    let view = ops::view(&mut tx, opened.case_id, at(0, 10, 0)).await.unwrap();
    assert_eq!(view.sla_remaining_seconds, Some(39 * 3_600));
    ops::reply(&mut tx, &actor, opened.case_id, "Can you send a photo of the meter?", true, at(0, 10, 0))
        .await
        .unwrap();
    let paused = store::find_case(&mut tx, opened.case_id).await.unwrap().unwrap();
    assert_eq!(paused.status, "pending_customer");
    assert_eq!(paused.sla_paused_remaining, Some(39 * 3_600));
    assert_eq!(paused.first_response_at, Some(at(0, 10, 0).micros()));
    // Two business days later the customer answers: the clock resumes with 39 hours left.
    ops::customer_reply(&mut tx, &actor, opened.case_id, "Photo attached", at(2, 10, 0)).await.unwrap();
    let resumed = store::find_case(&mut tx, opened.case_id).await.unwrap().unwrap();
    assert_eq!(resumed.status, "open");
    assert_eq!(resumed.sla_paused_remaining, None);
    let office = BusinessCalendar::office_hours(0);
    assert_eq!(resumed.resolution_due_at, office.add_business_seconds(at(2, 10, 0), 39 * 3_600).map(|t| t.micros()));
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn escalation_take_next_and_reopening() {
    let s = db::scratch::open().await.unwrap();
    let actor = Actor::system("test");
    let mut tx = s.db.begin().await.unwrap();
    let low = ops::open_case(&mut tx, &actor, case("Low one", Priority::Low), at(0, 9, 0)).await.unwrap();
    let urgent = ops::open_case(&mut tx, &actor, case("Urgent one", Priority::Urgent), at(0, 9, 30)).await.unwrap();
    assert_eq!(low.queue_id, urgent.queue_id, "both land in the first tier-1 queue");
    assert!(matches!(ops::take_next(&mut tx, &actor, low.queue_id, at(0, 10, 0)).await, Err(CaseError::UserNotFound)));
    let escalated =
        ops::escalate(&mut tx, &actor, low.case_id, "Needs a billing specialist", at(0, 10, 0)).await.unwrap();
    assert_eq!(escalated.tier, 2);
    assert!(matches!(
        ops::escalate(&mut tx, &actor, low.case_id, "again", at(0, 10, 0)).await,
        Err(CaseError::AlreadyTierTwo)
    ));
    assert!(matches!(
        ops::escalate(&mut tx, &actor, urgent.case_id, " ", at(0, 10, 0)).await,
        Err(CaseError::TextInvalid { .. })
    ));
    let resolved = ops::resolve(&mut tx, &actor, urgent.case_id, "answered", None, at(0, 11, 0)).await.unwrap();
    assert_eq!(resolved.status, "resolved");
    assert!(!resolved.first_contact_resolution);
    assert!(matches!(
        ops::resolve(&mut tx, &actor, low.case_id, "", None, at(0, 11, 0)).await,
        Err(CaseError::ResolutionCodeMissing)
    ));
    ops::customer_reply(&mut tx, &actor, urgent.case_id, "It happened again", at(3, 11, 0)).await.unwrap();
    let reopened = store::find_case(&mut tx, urgent.case_id).await.unwrap().unwrap();
    assert_eq!(reopened.status, "open", "a reply within 7 days reopens");
    assert_eq!(reopened.resolution_code, None);
    ops::resolve(&mut tx, &actor, urgent.case_id, "fixed", None, at(3, 12, 0)).await.unwrap();
    let late = ops::customer_reply(&mut tx, &actor, urgent.case_id, "Thanks!", at(14, 12, 0)).await;
    assert!(matches!(late, Err(CaseError::CaseClosed)), "too late to reopen");
    let found = store::search(&mut tx, &["happened".into(), "again".into()], 10).await.unwrap();
    assert_eq!(found.first().map(|c| c.case_id), Some(urgent.case_id), "thread text is searchable");
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn the_sla_scan_flags_and_escalates_breaches_once() {
    let s = db::scratch::open().await.unwrap();
    let actor = Actor::system("test");
    let mut tx = s.db.begin().await.unwrap();
    let opened = ops::open_case(&mut tx, &actor, case("No power", Priority::Urgent), at(0, 9, 0)).await.unwrap();
    tx.commit().await.unwrap();
    // urgent: first response within 60 business minutes, resolution within 480.
    let early = ops::sla_scan(&s.db, at(0, 9, 30)).await.unwrap();
    assert_eq!((early.newly_at_risk, early.newly_breached), (0, 0));
    let risky = ops::sla_scan(&s.db, at(0, 9, 55)).await.unwrap();
    assert_eq!(risky.newly_at_risk, 1, "first response due in 5 minutes");
    let breached = ops::sla_scan(&s.db, at(0, 10, 1)).await.unwrap();
    assert_eq!(breached.newly_breached, 1);
    let again = ops::sla_scan(&s.db, at(0, 10, 5)).await.unwrap();
    assert_eq!(again.newly_breached, 0, "flagged once");
    let mut tx = s.db.read().await.unwrap();
    let now = store::find_case(&mut tx, opened.case_id).await.unwrap().unwrap();
    assert_eq!((now.sla_state.as_str(), now.priority.as_str()), ("breached", "urgent"));
    let events: Vec<String> =
        store::entries_of(&mut tx, opened.case_id).await.unwrap().into_iter().map(|e| e.body).collect();
    assert!(events.iter().any(|e| e.starts_with("SLA breached")), "{events:?}");
}

fn utc(y: i32, m: u8, d: u8, h: u8, min: u8) -> Timestamp {
    let date = time::Date::from_calendar_date(y, time::Month::try_from(m).unwrap(), d).unwrap();
    let t = date.with_hms(h, min, 0).unwrap().assume_utc();
    Timestamp::from_micros(t.unix_timestamp() * 1_000_000)
}

#[test]
fn a_named_time_zone_follows_daylight_saving() {
    let mut chicago = BusinessCalendar::office_hours(0);
    chicago.time_zone = Some(jiff::tz::TimeZone::get("America/Chicago").unwrap());
    // Friday 2026-03-06 is standard time (UTC-6): 08:00 local opens at 14:00 UTC.
    assert_eq!(chicago.add_business_seconds(utc(2026, 3, 6, 13, 0), 0), Some(utc(2026, 3, 6, 14, 0)));
    // After Friday's close, daylight saving starts Sunday 2026-03-08: Monday 08:00 local (UTC-5)
    // opens at 13:00 UTC.
    assert_eq!(chicago.add_business_seconds(utc(2026, 3, 6, 23, 30), 0), Some(utc(2026, 3, 9, 13, 0)));
    // Friday 16:00 local (22:00 UTC) to Monday 09:00 local (14:00 UTC) is two business hours.
    assert_eq!(chicago.business_seconds_between(utc(2026, 3, 6, 22, 0), utc(2026, 3, 9, 14, 0)), 2 * 3_600);
    // A fixed offset of UTC-6 would have opened Monday an hour late.
    let fixed = BusinessCalendar::office_hours(-6 * 60);
    assert_eq!(fixed.add_business_seconds(utc(2026, 3, 6, 23, 30), 0), Some(utc(2026, 3, 9, 14, 0)));
}
