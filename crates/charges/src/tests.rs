//! Unit tests of the pure rules (state machines, instalment splitting, late-fee computation),
//! and store tests of every operation on the database the environment selects (SQLite, or
//! PostgreSQL with `TEST_DATABASE_URL`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use crate::ChargeError;
use crate::model::*;
use crate::ops::{self, NewAdjustment, NewArrangement, NewDeposit, NewFee};
use db::scratch;
use kernel::ids::UserId;
use kernel::{Actor, Currency, Money, Role, Timestamp};
use ledger::{BusinessDate, EntryDraft, LedgerCode, LineDraft};
use web::Problem;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn day(text: &str) -> BusinessDate {
    BusinessDate::parse(text, "date").unwrap()
}

#[test]
fn adjustment_transitions_exhaustively() {
    use AdjustmentStatus as S;
    for from in S::ALL {
        for decision in [Decision::Approve, Decision::Reject] {
            let expected = match (from, decision) {
                (S::PendingApproval, Decision::Approve) => Some(S::Approved),
                (S::PendingApproval, Decision::Reject) => Some(S::Rejected),
                _ => None,
            };
            match (from.decide(decision), expected) {
                (Ok(to), Some(want)) => assert_eq!(to, want),
                (Err(ChargeError::AdjustmentNotPending), None) => {}
                (other, _) => panic!("{from:?} {decision:?} gave {other:?}"),
            }
        }
        assert_eq!(S::parse(from.code()).unwrap(), from);
    }
    assert_eq!(S::initial(10_000, 10_000), S::Posted, "at the limit posts directly");
    assert_eq!(S::initial(10_001, 10_000), S::PendingApproval);
    assert!(S::Posted.has_posted() && S::Approved.has_posted());
    assert!(!S::PendingApproval.has_posted() && !S::Rejected.has_posted());
}

#[test]
fn deposit_transitions_exhaustively() {
    use DepositEvent as E;
    use DepositStatus as S;
    for from in S::ALL {
        for event in E::ALL {
            let expected = match (from, event) {
                (S::Required, E::Bill) => Some(S::Billed),
                (S::Billed, E::Paid) => Some(S::Held),
                (S::Held, E::Apply) => Some(S::Applied),
                (S::Held, E::Refund) => Some(S::Refunded),
                (S::Held, E::RequestRefund) => Some(S::RefundPending),
                (S::RefundPending, E::ApproveRefund) => Some(S::Refunded),
                (S::RefundPending, E::RejectRefund) => Some(S::Held),
                (S::Refunded, E::IssueRefund) => Some(S::RefundIssued),
                _ => None,
            };
            match (from.next(event), expected) {
                (Ok(to), Some(want)) => assert_eq!(to, want, "{from:?} {event:?}"),
                (Err(_), None) => {}
                (other, _) => panic!("{from:?} {event:?} gave {other:?}"),
            }
        }
        assert_eq!(S::parse(from.code()).unwrap(), from);
    }
    assert!(matches!(S::Billed.next(E::Apply), Err(ChargeError::DepositNotHeld)));
    assert!(matches!(S::Held.next(E::ApproveRefund), Err(ChargeError::DepositRefundNotPending)));
    assert!(matches!(S::RefundPending.next(E::Apply), Err(ChargeError::DepositStateDoesNotAllowThis)));
    assert!(matches!(S::Held.next(E::IssueRefund), Err(ChargeError::DepositRefundNotToIssue)));
    assert!(matches!(S::RefundIssued.next(E::IssueRefund), Err(ChargeError::DepositRefundNotToIssue)));
    assert_eq!(E::refund(10_000, 10_000), E::Refund, "at the limit refunds directly");
    assert_eq!(E::refund(10_001, 10_000), E::RequestRefund);
}

#[test]
fn arrangement_states_only_leave_active() {
    use ArrangementStatus as S;
    let all = [S::Active, S::Completed, S::Broken, S::Cancelled];
    for from in all {
        for to in all {
            assert_eq!(from.can_become(to), from == S::Active && to != S::Active, "{from:?} -> {to:?}");
        }
    }
}

#[test]
fn instalments_sum_exactly_with_the_remainder_last() {
    assert_eq!(split_instalments(10_000, 3).unwrap(), vec![3_333, 3_333, 3_334]);
    assert_eq!(split_instalments(100, 1).unwrap(), vec![100]);
    for total in [1_i64, 7, 99, 100, 101, 12_345, 999_999] {
        for count in 1..=24_u32 {
            match split_instalments(total, count) {
                Ok(parts) => {
                    assert_eq!(parts.len(), count as usize);
                    assert_eq!(parts.iter().sum::<i64>(), total);
                    assert!(parts.iter().all(|p| *p > 0));
                    let first = parts[0];
                    assert!(parts[..parts.len() - 1].iter().all(|p| *p == first));
                    assert!(parts[parts.len() - 1] >= first);
                }
                Err(_) => assert!(total / i64::from(count) == 0, "{total} in {count}"),
            }
        }
    }
    assert!(split_instalments(100, 0).is_err());
    assert!(split_instalments(100, 25).is_err());
}

#[test]
fn due_dates_weekly_and_monthly_clamped_to_month_end() {
    let first = day("2027-01-31");
    assert_eq!(Frequency::Weekly.due_date(first, 1).to_string(), "2027-02-07");
    assert_eq!(Frequency::Monthly.due_date(first, 1).to_string(), "2027-02-28");
    assert_eq!(Frequency::Monthly.due_date(first, 2).to_string(), "2027-03-31");
    assert_eq!(Frequency::Monthly.due_date(first, 12).to_string(), "2028-01-31");
    assert_eq!(Frequency::Monthly.due_date(day("2027-11-15"), 3).to_string(), "2028-02-15");
}

#[test]
fn late_fee_is_a_percentage_with_a_minimum() {
    let policy = LateFeePolicy { percent_basis_points: 150, minimum_minor: 500, grace_period_days: 5 };
    assert_eq!(policy.fee_minor(10_000), 500, "1.5% of 100.00 is below the minimum");
    assert_eq!(policy.fee_minor(100_000), 1_500);
    assert_eq!(policy.fee_minor(123_433), 1_851, "1851.495 rounds half up to 1851");
    assert_eq!(policy.fee_minor(123_434), 1_852, "1851.51 rounds to 1852");
    assert_eq!(policy.fee_minor(100_100), 1_502, "1501.5 rounds half up");
    let flat = LateFeePolicy { percent_basis_points: 0, minimum_minor: 750, grace_period_days: 0 };
    assert_eq!(flat.fee_minor(1), 750);
    assert_eq!(flat.fee_minor(1_000_000), 750);
    let due = day("2027-01-10");
    assert!(!policy.is_late(due, day("2027-01-15")), "5 days past due is within the grace period");
    assert!(policy.is_late(due, day("2027-01-16")));
    assert_eq!(policy.latest_late_due_date(day("2027-01-16")), due);
}

#[test]
fn review_pays_instalments_in_order_and_breaks_on_a_missed_one() {
    let plan = [
        Instalment { due_date: day("2027-01-10"), amount_minor: 100 },
        Instalment { due_date: day("2027-02-10"), amount_minor: 100 },
    ];
    use InstalmentStatus::*;
    assert_eq!(review(&plan, 0, day("2027-01-10")), (vec![Due, Due], ArrangementStatus::Active));
    assert_eq!(review(&plan, 0, day("2027-01-11")), (vec![Missed, Due], ArrangementStatus::Broken));
    assert_eq!(review(&plan, 150, day("2027-02-10")), (vec![Paid, Due], ArrangementStatus::Active));
    assert_eq!(review(&plan, 150, day("2027-02-11")), (vec![Paid, Missed], ArrangementStatus::Broken));
    assert_eq!(review(&plan, 200, day("2027-01-01")), (vec![Paid, Paid], ArrangementStatus::Completed));
}

#[test]
fn input_is_parsed_with_the_field_named() {
    let bad = NewAdjustment::parse(1, "sideways", "1.00", "goodwill", "").unwrap_err();
    assert_eq!((bad.code(), bad.field()), ("direction_unknown", Some("direction")));
    let bad = parse_amount("-3.00", Currency::USD, "amount").unwrap_err();
    assert_eq!((bad.code(), bad.field()), ("amount_invalid", Some("amount")));
    assert!(parse_amount("1.234", Currency::USD, "amount").is_err());
    assert_eq!(parse_amount("12.5", Currency::USD, "amount").unwrap().amount_minor, 1_250);
    let bad = NewArrangement::parse(1, 0, "monthly", "2027-01-01").unwrap_err();
    assert_eq!(bad.field(), Some("instalment_count"));
    let bad = NewArrangement::parse(1, 3, "daily", "2027-01-01").unwrap_err();
    assert_eq!(bad.field(), Some("frequency"));
    let bad = NewFee::parse(1, "Late Fee", None, "", None).unwrap_err();
    assert_eq!(bad.field(), Some("fee_type"));
    let bad = NewDeposit::parse(0, None, None).unwrap_err();
    assert_eq!(bad.field(), Some("account_id"));
}

#[test]
fn the_openapi_document_lists_every_api_route_with_examples_on_bodies() {
    use utoipa::OpenApi;
    let doc = crate::api::ChargesApi::openapi();
    let json = serde_json::to_value(&doc).unwrap();
    let mut documented = 0;
    for (path, item) in json["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            documented += 1;
            if let Some(body) = operation.get("requestBody") {
                let schema = &body["content"]["application/json"]["schema"]["$ref"];
                let name = schema.as_str().unwrap().rsplit('/').next().unwrap();
                let example = &json["components"]["schemas"][name]["example"];
                assert!(!example.is_null(), "{method} {path}: {name} has no example");
            }
        }
    }
    let routes = crate::api::routes().table.len();
    assert_eq!(documented, routes, "every API route is documented");
}

mod notices;
mod store;
