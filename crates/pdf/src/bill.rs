//! A customer's bill as a PDF: header, window-envelope address, account summary with the amount
//! due, charges and meter-read tables, and a remittance stub below a tear line. Every value
//! arrives as a formatted string, so money and date rules stay with billing.

use crate::document::{Document, DocumentInfo, PdfDateTime};
use crate::font::{Font, truncate_to_width};
use crate::page::{Color, Page, PageSize, Stroke, TextStyle};
use crate::{PdfError, bill_flow};

/// One line of the charges table; every field is already formatted for print.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChargeLine {
    /// What the charge is for, e.g. "Water consumption".
    pub description: String,
    /// How much was charged for, e.g. "12.4 m³"; may be empty.
    pub quantity: String,
    /// The unit price, e.g. "$1.20 / m³"; may be empty.
    pub rate: String,
    /// The line's amount, e.g. "$14.88".
    pub amount: String,
}

/// One meter's reading for the period; every field is already formatted for print.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MeterReadLine {
    /// The meter's number as printed on it.
    pub meter_number: String,
    /// The reading at the start of the period.
    pub previous_read: String,
    /// The reading at the end of the period.
    pub current_read: String,
    /// True when the current reading was estimated rather than read.
    pub estimated: bool,
    /// Usage for the period with its unit, e.g. "1,234 kWh".
    pub usage: String,
}

/// Everything printed on a bill. Plain data: amounts and dates arrive formatted
/// (e.g. "$1,234.56", "30 Nov 2026") so this crate holds no money or calendar rules.
#[derive(Debug, Clone, PartialEq)]
pub struct BillDocument {
    /// Paper size; the window-envelope address position suits both A4 and US Letter.
    pub page_size: PageSize,
    /// Written into the PDF's metadata; `None` leaves it out.
    pub created: Option<PdfDateTime>,
    /// The billing organisation's name.
    pub organisation_name: String,
    /// The organisation's postal address, one line each (also the remit-to address).
    pub organisation_address_lines: Vec<String>,
    /// The bill's number.
    pub bill_number: String,
    /// The customer's account number.
    pub account_number: String,
    /// The addressee's name, the first line in the envelope window.
    pub customer_name: String,
    /// The mailing address below the name, one line each.
    pub mailing_address_lines: Vec<String>,
    /// When the bill was issued.
    pub bill_date: String,
    /// First day of the service period.
    pub period_from: String,
    /// Last day of the service period.
    pub period_to: String,
    /// When payment is due.
    pub due_date: String,
    /// Balance brought forward from the last bill.
    pub previous_balance: String,
    /// Payments received since the last bill (formatted as the caller wants, e.g. "-$50.00").
    pub payments_received: String,
    /// Adjustments since the last bill.
    pub adjustments: String,
    /// The period's charges, in print order.
    pub charge_lines: Vec<ChargeLine>,
    /// Sum of the charge lines.
    pub current_charges_total: String,
    /// Taxes on the current charges.
    pub taxes: String,
    /// What the customer must pay by the due date.
    pub amount_due: String,
    /// A note to the customer; empty for none. Word-wrapped; `\n` starts a new line.
    pub message: String,
    /// Meter readings for the period; empty for unmetered services.
    pub meter_reads: Vec<MeterReadLine>,
}

/// Renders a bill: one page (more if the tables do not fit), with the remittance stub at the
/// foot of the first page.
pub fn render(bill: &BillDocument) -> Result<Vec<u8>, PdfError> {
    let mut document = Document::new(DocumentInfo {
        title: format!("Bill {}", bill.bill_number),
        author: bill.organisation_name.clone(),
        subject: format!("Bill for account {}", bill.account_number),
        created: bill.created,
    });
    document.extend_pages(layout(bill));
    document.to_bytes()
}

/// Renders many bills into ONE PDF, each starting on a new page with its own stub, in the order
/// given: a bill run's print file. Fails with [`PdfError::DocumentHasNoPages`] when `bills` is empty.
pub fn render_batch(bills: &[BillDocument], info: DocumentInfo) -> Result<Vec<u8>, PdfError> {
    let mut document = Document::new(info);
    for bill in bills {
        document.extend_pages(layout(bill));
    }
    document.to_bytes()
}

/// The bill's pages, for callers that assemble their own [`Document`].
pub fn pages(bill: &BillDocument) -> Vec<Page> {
    layout(bill)
}

/// Shared measurements of the bill layout, in points from the top-left corner.
pub(crate) struct Frame {
    pub(crate) size: PageSize,
    pub(crate) left: f32,
    pub(crate) right: f32,
    /// Where the right-hand column (account summary, stub details) starts.
    pub(crate) column: f32,
    /// The dashed tear line above the remittance stub.
    pub(crate) tear_y: f32,
}

impl Frame {
    fn new(size: PageSize) -> Frame {
        let margin = 54.0;
        Frame {
            size,
            left: margin,
            right: size.width_pt - margin,
            column: (size.width_pt * 0.54).round(),
            // A 3.25 in stub fits a standard return envelope on both paper sizes.
            tear_y: size.height_pt - 234.0,
        }
    }
}

pub(crate) const ACCENT: Color = Color::rgb(31, 78, 121);
pub(crate) const MUTED: Color = Color::gray(90);
pub(crate) const RULE: Color = Color::gray(170);
pub(crate) const TINT: Color = Color::rgb(233, 240, 247);

/// Where the charges and meter tables start on the first page.
const FLOW_TOP_Y: f32 = 302.0;
/// The address window of a #10 (US) or DL/C5 (DIN 5008) window envelope, once folded in three.
const ADDRESS_X: f32 = 63.0;
const ADDRESS_FIRST_BASELINE: f32 = 172.0;

fn layout(bill: &BillDocument) -> Vec<Page> {
    let frame = Frame::new(bill.page_size);
    let mut first = Page::new(frame.size);
    header(&mut first, &frame, bill);
    address_block(&mut first, &frame, bill);
    summary_box(&mut first, &frame, bill);
    remittance_stub(&mut first, &frame, bill);
    let mut pages = bill_flow::flow(first, &frame, bill, FLOW_TOP_Y);
    bill_flow::number_pages(&mut pages, &frame, bill);
    pages
}

fn header(page: &mut Page, frame: &Frame, bill: &BillDocument) {
    let width = frame.column - frame.left - 16.0;
    page.text_within(frame.left, 58.0, width, TextStyle::bold(16.0).with_color(ACCENT), &bill.organisation_name);
    let small = TextStyle::regular(8.5).with_color(MUTED);
    for (index, line) in bill.organisation_address_lines.iter().take(4).enumerate() {
        page.text_within(frame.left, 73.0 + 10.5 * index as f32, width, small, line);
    }
    page.text_right(frame.right, 58.0, TextStyle::bold(16.0), "Bill");
    let period = format!("{} – {}", bill.period_from, bill.period_to);
    let rows = [
        ("Bill number", bill.bill_number.as_str()),
        ("Account number", bill.account_number.as_str()),
        ("Bill date", bill.bill_date.as_str()),
        ("Service period", period.as_str()),
    ];
    let label_x = frame.column;
    for (index, (label, value)) in rows.iter().enumerate() {
        let baseline = 76.0 + 12.5 * index as f32;
        page.text(label_x, baseline, TextStyle::regular(8.5).with_color(MUTED), label);
        let value = truncate_to_width(value, Font::Bold, 8.5, frame.right - label_x - 72.0);
        page.text_right(frame.right, baseline, TextStyle::bold(8.5), &value);
    }
    page.line((frame.left, 128.0), (frame.right, 128.0), Stroke::solid(0.6, RULE));
}

fn address_block(page: &mut Page, frame: &Frame, bill: &BillDocument) {
    let name_style = TextStyle::bold(10.0);
    // The summary box starts at the frame's column; the address must stay clear of it.
    let width = frame.column - 8.0 - ADDRESS_X - 12.0;
    page.text_within(ADDRESS_X, ADDRESS_FIRST_BASELINE, width, name_style, &bill.customer_name);
    for (index, line) in bill.mailing_address_lines.iter().take(5).enumerate() {
        let baseline = ADDRESS_FIRST_BASELINE + 12.0 * (index as f32 + 1.0);
        page.text_within(ADDRESS_X, baseline, width, TextStyle::regular(10.0), line);
    }
}

fn summary_box(page: &mut Page, frame: &Frame, bill: &BillDocument) {
    let (x, top, width) = (frame.column - 8.0, 142.0, frame.right - frame.column + 8.0);
    let pad = 10.0;
    page.fill_rect(x, top, width, 20.0, ACCENT);
    page.text(x + pad, top + 14.0, TextStyle::bold(10.0).with_color(Color::WHITE), "Account summary");
    let rows = [
        ("Previous balance", &bill.previous_balance),
        ("Payments received", &bill.payments_received),
        ("Adjustments", &bill.adjustments),
        ("Current charges", &bill.current_charges_total),
        ("Taxes", &bill.taxes),
    ];
    for (index, (label, value)) in rows.iter().enumerate() {
        let baseline = top + 36.0 + 14.0 * index as f32;
        page.text(x + pad, baseline, TextStyle::regular(9.0), label);
        page.text_right(x + width - pad, baseline, TextStyle::regular(9.0), value);
    }
    let band_top = top + 102.0;
    page.fill_rect(x, band_top, width, 48.0, TINT);
    page.text(x + pad, band_top + 19.0, TextStyle::bold(11.0).with_color(ACCENT), "Amount due");
    page.text_right(x + width - pad, band_top + 22.0, TextStyle::bold(18.0).with_color(ACCENT), &bill.amount_due);
    let due = format!("Please pay by {}", bill.due_date);
    page.text(x + pad, band_top + 38.0, TextStyle::bold(9.0), &due);
    page.stroke_rect(x, top, width, 150.0, Stroke::solid(0.8, ACCENT));
}

fn remittance_stub(page: &mut Page, frame: &Frame, bill: &BillDocument) {
    let tear = frame.tear_y;
    page.line((42.0, tear), (frame.size.width_pt - 24.0, tear), Stroke::dashed(0.8, Color::gray(110), 5.0, 3.0));
    let note = TextStyle::regular(7.5).with_color(MUTED);
    page.text(24.0, tear + 4.5, TextStyle::regular(13.0).with_color(Color::gray(110)), "✂");
    page.text_centered(
        frame.size.width_pt / 2.0,
        tear + 12.0,
        note,
        "Please detach this stub and return it with your payment.",
    );
    page.text(frame.left, tear + 38.0, TextStyle::bold(12.0).with_color(ACCENT), "REMITTANCE STUB");
    let width = frame.column - 8.0 - ADDRESS_X - 12.0;
    page.text_within(frame.left, tear + 54.0, width, TextStyle::regular(9.0), &bill.customer_name);
    let label = TextStyle::regular(7.5).with_color(MUTED);
    page.text(ADDRESS_X, tear + 102.0, label, "Remit to");
    page.text_within(ADDRESS_X, tear + 116.0, width, TextStyle::bold(10.0), &bill.organisation_name);
    for (index, line) in bill.organisation_address_lines.iter().take(4).enumerate() {
        page.text_within(ADDRESS_X, tear + 128.0 + 12.0 * index as f32, width, TextStyle::regular(10.0), line);
    }
    stub_details(page, frame, bill);
}

fn stub_details(page: &mut Page, frame: &Frame, bill: &BillDocument) {
    let (x, top, width) = (frame.column - 8.0, frame.tear_y + 28.0, frame.right - frame.column + 8.0);
    let pad = 10.0;
    let rows =
        [("Account number", &bill.account_number), ("Bill number", &bill.bill_number), ("Due date", &bill.due_date)];
    for (index, (label, value)) in rows.iter().enumerate() {
        let baseline = top + 16.0 + 15.0 * index as f32;
        page.text(x + pad, baseline, TextStyle::regular(9.0).with_color(MUTED), label);
        page.text_right(x + width - pad, baseline, TextStyle::bold(9.5), value);
    }
    let band_top = top + 58.0;
    page.fill_rect(x, band_top, width, 28.0, TINT);
    page.text(x + pad, band_top + 18.0, TextStyle::bold(10.0).with_color(ACCENT), "Amount due");
    page.text_right(x + width - pad, band_top + 19.0, TextStyle::bold(14.0).with_color(ACCENT), &bill.amount_due);
    page.stroke_rect(x, top, width, 86.0, Stroke::solid(0.8, ACCENT));
    let enclosed_top = band_top + 46.0;
    page.text(x, enclosed_top + 17.0, TextStyle::bold(9.5), "Amount enclosed");
    let box_x = x + width * 0.48;
    page.stroke_rect(box_x, enclosed_top, x + width - box_x, 26.0, Stroke::solid(0.8, Color::BLACK));
    let hint = "Write the amount you are paying";
    page.text(x, enclosed_top + 40.0, TextStyle::regular(7.0).with_color(MUTED), hint);
}
