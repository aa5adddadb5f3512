//! Rating: one account's agreements for one period turned into bill lines and totals, and the
//! journal entry a bill posts. Pure functions, so the bill run computes thousands of bills in
//! memory between its set-based reads and its multi-row writes.

use crate::model::{
    AgreementToRate, BillDraft, BillLineDraft, LineKind, PERCENT_SCALE, Period, RATE_SCALE, RateVersion, Unbillable,
    div_half_even, meter_usage, version_on,
};
use kernel::{Currency, Money};
use ledger::{BusinessDate, EntryDraft, LedgerCode, LineDraft};

/// `amount_minor × numerator / denominator`, rounded half-even.
pub fn prorate(amount_minor: i64, numerator: i64, denominator: i64) -> i64 {
    div_half_even(i128::from(amount_minor) * i128::from(numerator), i128::from(denominator)) as i64
}

/// `units × rate` in minor units of `currency`, rounded half-even.
pub fn usage_charge(units: i64, rate: crate::model::Rate, currency: Currency) -> i64 {
    let minor_per_unit = 10_i128.pow(currency.exponent());
    div_half_even(i128::from(units) * i128::from(rate.0) * minor_per_unit, RATE_SCALE) as i64
}

/// Tax on `base_minor`, rounded half-even.
pub fn tax_on(base_minor: i64, tax: crate::model::TaxPercent) -> i64 {
    div_half_even(i128::from(base_minor) * i128::from(tax.0), 100 * PERCENT_SCALE) as i64
}

/// The days of the period an agreement was in service (0 when none).
pub fn service_days(agreement: &AgreementToRate, period: &Period) -> (BusinessDate, BusinessDate, i64) {
    let first = agreement.start_date.max(period.start());
    let last = agreement.end_date.map_or(period.end(), |end| end.min(period.end()));
    (first, last, (first.days_until(last) + 1).max(0))
}

/// Rates every agreement of one account. Agreements not in service during the period add
/// nothing; one whose rate is unknown or in another currency makes the whole account unbillable.
pub fn rate_account(
    agreements: &[AgreementToRate],
    versions: &[RateVersion],
    period: &Period,
    currency: Currency,
) -> Result<BillDraft, Unbillable> {
    let mut bill = BillDraft::default();
    for agreement in agreements {
        let (first, last, days) = service_days(agreement, period);
        if days == 0 {
            continue;
        }
        let version = version_on(versions, &agreement.rate_code, period.end())
            .ok_or_else(|| Unbillable::RateUnknown(agreement.rate_code.clone()))?;
        if version.currency != currency {
            return Err(Unbillable::CurrencyMismatch(agreement.rate_code.clone()));
        }
        rate_agreement(&mut bill, agreement, version, (first, last, days), period, currency);
    }
    bill.subtotal_minor = bill.revenue_by_service.values().sum();
    bill.total_minor = bill.subtotal_minor + bill.tax_minor;
    Ok(bill)
}

fn rate_agreement(
    bill: &mut BillDraft,
    agreement: &AgreementToRate,
    version: &RateVersion,
    (first, last, days): (BusinessDate, BusinessDate, i64),
    period: &Period,
    currency: Currency,
) {
    let period_days = period.days();
    let line = |kind: LineKind, description: String, amount_minor: i64| BillLineDraft {
        agreement_id: agreement.agreement_id,
        service_type: agreement.service_type.clone(),
        kind,
        description,
        quantity: None,
        rate: None,
        amount_minor,
        meter_number: None,
        read_from: None,
        read_to: None,
        estimated: false,
    };
    let mut lines = Vec::new();
    let fixed = prorate(version.fixed_charge_minor, days, period_days);
    let fixed_text = match days == period_days {
        true => format!("Service charge ({})", version.rate_code),
        false => format!("Service charge ({}), {days} of {period_days} days", version.rate_code),
    };
    lines.push(line(LineKind::Fixed, fixed_text, fixed));
    if let Some((meter_id, meter_number)) = &agreement.meter {
        let usage = meter_usage(&agreement.reads, first, last, &agreement.service_type);
        bill.estimated |= usage.estimated;
        if let Some(read) = usage.new_read {
            bill.new_reads.push((*meter_id, read));
        }
        for (units, rate) in version.tiers.split(usage.quantity) {
            let mut l = line(LineKind::Usage, format!("{units} {} at {rate}", version.unit), 0);
            l.amount_minor = usage_charge(units, rate, currency);
            l.quantity = Some(units);
            l.rate = Some(rate.to_string());
            l.meter_number = Some(meter_number.clone());
            l.read_from = Some(usage.from);
            l.read_to = Some(usage.to);
            l.estimated = usage.estimated;
            lines.push(l);
        }
    }
    let charged: i64 = lines.iter().map(|l| l.amount_minor).sum();
    let minimum = prorate(version.minimum_charge_minor, days, period_days);
    if charged < minimum {
        lines.push(line(LineKind::Minimum, "Minimum charge adjustment".into(), minimum - charged));
    }
    let base: i64 = lines.iter().map(|l| l.amount_minor).sum();
    let tax = tax_on(base, version.tax);
    if tax != 0 {
        lines.push(line(LineKind::Tax, format!("Tax {}%", version.tax), tax));
    }
    *bill.revenue_by_service.entry(agreement.service_type.clone()).or_insert(0) += base;
    bill.tax_minor += tax;
    bill.lines.extend(lines);
}

/// The entry a bill posts: Dr receivable of the account, Cr revenue per service, Cr taxes.
/// Zero lines are dropped; a bill of nothing posts no entry (`None`).
pub fn bill_entry(
    bill: &BillDraft,
    bill_number: &str,
    account_id: i64,
    bill_date: BusinessDate,
    currency: Currency,
) -> Option<EntryDraft> {
    if bill.total_minor == 0 {
        return None;
    }
    let mut entry = EntryDraft::new(bill_date, "bill", bill_number)
        .memo(format!("Bill {bill_number}"))
        .line(LineDraft::debit(LedgerCode::RECEIVABLE, Some(account_id), Money::new(bill.total_minor, currency)));
    for (service, amount) in &bill.revenue_by_service {
        entry = entry.line(LineDraft::credit(
            LedgerCode::revenue_for_service(service),
            None,
            Money::new(*amount, currency),
        ));
    }
    entry = entry.line(LineDraft::credit(LedgerCode::TAXES_PAYABLE, None, Money::new(bill.tax_minor, currency)));
    Some(entry.without_zero_lines())
}
