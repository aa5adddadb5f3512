//! Unit tests for the kernel's rules.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use crate::*;

#[test]
fn money_parses_and_prints_exactly() {
    let m = Money::parse("12.30", Currency::USD);
    assert_eq!(m, Ok(Money::new(1230, Currency::USD)));
    assert_eq!(Money::new(1230, Currency::USD).to_string(), "12.30 USD");
    assert_eq!(Money::new(-5, Currency::USD).to_string(), "-0.05 USD");
    assert_eq!(Money::new(500, Currency::JPY).to_string(), "500 JPY");
    assert_eq!(Money::parse("-7", Currency::USD), Ok(Money::new(-700, Currency::USD)));
    assert_eq!(Money::parse("0.5", Currency::USD), Ok(Money::new(50, Currency::USD)));
}

#[test]
fn money_refuses_bad_text() {
    for bad in ["", "1.234", "abc", "1.", ".5", "1,00", "--1", "99999999999999999999"] {
        assert!(Money::parse(bad, Currency::USD).is_err(), "{bad} should fail");
    }
    assert_eq!(Money::parse("1.5", Currency::JPY), Err(MoneyError::InvalidAmount));
}

#[test]
fn money_arithmetic_is_checked() {
    let a = Money::new(100, Currency::USD);
    assert_eq!(a.checked_add(Money::new(1, Currency::EUR)), Err(MoneyError::CurrencyMismatch));
    assert_eq!(Money::new(i64::MAX, Currency::USD).checked_add(a), Err(MoneyError::Overflow));
    assert_eq!(a.checked_sub(a).map(Money::is_zero), Ok(true));
    assert_eq!(Currency::parse("usd"), Ok(Currency::USD));
    assert!(Currency::parse("XXX").is_err());
}

#[test]
fn cursor_round_trips_and_rejects_forgeries() {
    let c = Cursor { after_key: 42 };
    assert_eq!(Cursor::parse(&c.encode()), Ok(c));
    assert_eq!(Cursor::parse("nonsense!"), Err(PagingError::CursorIsInvalid));
    assert_eq!(PageRequest::parse(Some(0), None), Err(PagingError::LimitOutOfRange));
    assert_eq!(PageRequest::parse(Some(201), None), Err(PagingError::LimitOutOfRange));
}

#[test]
fn page_knows_whether_more_rows_follow() {
    let request = PageRequest::parse(Some(2), None).unwrap_or_default();
    let page = Page::from_rows(vec![1_i64, 2, 3], &request, |r| *r);
    assert_eq!(page.items, vec![1, 2]);
    let next = page.next_cursor.as_deref().map(Cursor::parse);
    assert_eq!(next, Some(Ok(Cursor { after_key: 2 })));
    let last = Page::from_rows(vec![1_i64, 2], &request, |r| *r);
    assert_eq!(last.next_cursor, None);
}

#[test]
fn every_role_can_use_profile_and_search_only_admin_manages_users() {
    for role in Role::ALL {
        assert!(role.permits(Permission::Profile));
        assert!(role.permits(Permission::Search));
        assert_eq!(role.permits(Permission::UsersManage), role == Role::Admin);
        assert_eq!(Role::parse(role.code()), Some(role));
    }
    for permission in Permission::ALL {
        assert_eq!(Permission::parse(permission.code()), Some(permission));
    }
}

#[test]
fn fixed_clock_moves_only_when_told() {
    let clock = FixedClock::at(Timestamp::from_micros(0));
    clock.advance_seconds(90);
    assert_eq!(clock.now(), Timestamp::from_micros(90_000_000));
    assert_eq!(clock.now().to_rfc3339(), "1970-01-01T00:01:30Z");
}
