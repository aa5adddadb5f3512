//! A stored bill drawn as a PDF through `pdf::bill::render`: billing formats every amount and
//! date here, so the PDF crate holds no money or calendar rules.

use crate::BillingError;
use crate::ops::BillWithLines;
use crate::run::format_money;
use kernel::Currency;

fn money(amount_minor: i64, currency: Currency) -> String {
    format_money(amount_minor, currency)
}

/// The PDF of one bill.
pub fn render(bill: &BillWithLines, mailing_address_lines: Vec<String>) -> Result<Vec<u8>, BillingError> {
    let b = &bill.bill;
    let currency = Currency::parse(&b.currency).map_err(|_| BillingError::CurrencyInvalid)?;
    let charge_lines = bill
        .lines
        .iter()
        .filter(|l| l.kind != "tax")
        .map(|l| pdf::bill::ChargeLine {
            description: l.description.clone(),
            quantity: l.quantity.map(|q| q.to_string()).unwrap_or_default(),
            rate: l.rate.clone().unwrap_or_default(),
            amount: money(l.amount_minor, currency),
        })
        .collect();
    let mut meter_reads: Vec<pdf::bill::MeterReadLine> = Vec::new();
    for line in bill.lines.iter().filter(|l| l.kind == "usage") {
        let (Some(number), Some(from), Some(to)) = (&line.meter_number, line.read_from, line.read_to) else {
            continue;
        };
        if meter_reads.iter().any(|m| &m.meter_number == number) {
            continue;
        }
        meter_reads.push(pdf::bill::MeterReadLine {
            meter_number: number.clone(),
            previous_read: from.to_string(),
            current_read: to.to_string(),
            estimated: line.estimated,
            usage: (to - from).max(0).to_string(),
        });
    }
    let document = pdf::bill::BillDocument {
        page_size: pdf::PageSize::US_LETTER,
        created: None,
        organisation_name: "Caredesk Utilities".into(),
        organisation_address_lines: vec!["PO Box 100".into(), "Springfield".into()],
        bill_number: b.bill_number.clone(),
        account_number: b.account_number.clone(),
        customer_name: b.customer_name.clone(),
        mailing_address_lines,
        bill_date: b.bill_date.clone(),
        period_from: b.period_start.clone(),
        period_to: b.period_end.clone(),
        due_date: b.due_date.clone(),
        previous_balance: String::new(),
        payments_received: String::new(),
        adjustments: String::new(),
        charge_lines,
        current_charges_total: money(b.subtotal_minor, currency),
        taxes: money(b.tax_minor, currency),
        amount_due: money(b.total_minor, currency),
        message: if b.estimated { "Some usage on this bill is estimated.".into() } else { String::new() },
        meter_reads,
    };
    pdf::bill::render(&document).map_err(|_| BillingError::PdfFailed)
}
