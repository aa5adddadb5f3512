//! Flows a bill's tables (charges, meter reads) and message down the first page and onto
//! continuation pages when they do not fit above the tear line, repeating table headers.

use crate::bill::{ACCENT, BillDocument, ChargeLine, Frame, MUTED, MeterReadLine, RULE, TINT};
use crate::font::truncate_to_width;
use crate::page::{Color, Page, Stroke, TextStyle};

/// Which table a row belongs to, so a header can be repeated after a page break.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Table {
    Charges,
    Usage,
}

enum Row<'a> {
    /// A section title; kept on the same page as the table header and first row below it.
    Title(&'a str),
    Header(Table),
    Charge(&'a ChargeLine),
    Total {
        label: &'a str,
        amount: &'a str,
        strong: bool,
    },
    Usage(&'a MeterReadLine),
    Gap,
    MessageBox {
        lines: Vec<String>,
    },
}

const ROW_HEIGHT: f32 = 14.0;
const TITLE_HEIGHT: f32 = 18.0;
const HEADER_HEIGHT: f32 = 16.0;
const MESSAGE_LINE_HEIGHT: f32 = 12.0;
const MESSAGE_STYLE: TextStyle = TextStyle::regular(9.0);
/// Top of the flow area on continuation pages.
const CONTINUED_TOP_Y: f32 = 86.0;

impl Row<'_> {
    fn height(&self) -> f32 {
        match self {
            Row::Title(_) => TITLE_HEIGHT,
            Row::Header(_) => HEADER_HEIGHT,
            Row::Charge(_) | Row::Total { .. } | Row::Usage(_) => ROW_HEIGHT,
            Row::Gap => 10.0,
            Row::MessageBox { lines } => 10.0 + MESSAGE_LINE_HEIGHT * lines.len() as f32,
        }
    }

    /// Space that must remain below this row for it to start here (no lonely titles).
    fn keep_with_next(&self) -> f32 {
        match self {
            Row::Title(_) => HEADER_HEIGHT + ROW_HEIGHT,
            Row::Header(_) => ROW_HEIGHT,
            _ => 0.0,
        }
    }

    fn table(&self) -> Option<Table> {
        match self {
            Row::Charge(_) | Row::Total { .. } => Some(Table::Charges),
            Row::Usage(_) => Some(Table::Usage),
            _ => None,
        }
    }
}

fn rows<'a>(bill: &'a BillDocument, frame: &Frame) -> Vec<Row<'a>> {
    let mut rows = vec![Row::Title("Charges this period"), Row::Header(Table::Charges)];
    rows.extend(bill.charge_lines.iter().map(Row::Charge));
    // The amount due includes earlier balances, so it belongs to the summary box, not here.
    rows.push(Row::Total { label: "Current charges", amount: &bill.current_charges_total, strong: true });
    rows.push(Row::Total { label: "Taxes", amount: &bill.taxes, strong: false });
    if !bill.meter_reads.is_empty() {
        rows.extend([Row::Gap, Row::Title("Meter readings"), Row::Header(Table::Usage)]);
        rows.extend(bill.meter_reads.iter().map(Row::Usage));
    }
    if !bill.message.trim().is_empty() {
        let width = frame.right - frame.left - 24.0;
        let lines = crate::font::wrap_text(&bill.message, MESSAGE_STYLE.font, MESSAGE_STYLE.size_pt, width);
        // A very long message is split into boxes so each can move to the next page whole.
        for chunk in lines.chunks(20) {
            rows.push(Row::Gap);
            rows.push(Row::MessageBox { lines: chunk.to_vec() });
        }
    }
    rows
}

/// Lays the rows out from `top_y` on `first` and on as many continuation pages as needed.
pub(crate) fn flow(first: Page, frame: &Frame, bill: &BillDocument, top_y: f32) -> Vec<Page> {
    let mut pages = vec![first];
    let mut page = pages.len() - 1;
    let mut y = top_y;
    let mut bottom = frame.tear_y - 20.0;
    for row in rows(bill, frame) {
        if y + row.height() + row.keep_with_next() > bottom && y > CONTINUED_TOP_Y {
            let mut next = Page::new(frame.size);
            continuation_header(&mut next, frame, bill);
            pages.push(next);
            page = pages.len() - 1;
            y = CONTINUED_TOP_Y;
            bottom = frame.size.height_pt - 60.0;
            if let Some(table) = row.table() {
                if let Some(target) = pages.get_mut(page) {
                    draw(target, frame, &Row::Header(table), y);
                }
                y += HEADER_HEIGHT;
            }
        }
        if let Some(target) = pages.get_mut(page) {
            draw(target, frame, &row, y);
        }
        y += row.height();
    }
    pages
}

/// Adds "page i of n" footers and a pointer to the continuation, when there is more than one page.
pub(crate) fn number_pages(pages: &mut [Page], frame: &Frame, bill: &BillDocument) {
    let count = pages.len();
    if count < 2 {
        return;
    }
    let note = TextStyle::regular(8.0).with_color(MUTED);
    for (index, page) in pages.iter_mut().enumerate() {
        let label = format!("Bill {} · page {} of {count}", bill.bill_number, index + 1);
        if index == 0 {
            let text = format!("Continued on the next page. {label}");
            page.text_right(frame.right, frame.tear_y - 10.0, note, &text);
        } else {
            page.text_centered(frame.size.width_pt / 2.0, frame.size.height_pt - 30.0, note, &label);
        }
    }
}

fn continuation_header(page: &mut Page, frame: &Frame, bill: &BillDocument) {
    page.text(frame.left, 50.0, TextStyle::bold(11.0).with_color(ACCENT), &bill.organisation_name);
    let reference = format!("Bill {} · Account {} · continued", bill.bill_number, bill.account_number);
    page.text_right(frame.right, 50.0, TextStyle::regular(9.0).with_color(MUTED), &reference);
    page.line((frame.left, 60.0), (frame.right, 60.0), Stroke::solid(0.6, RULE));
}

/// Right edges of the numeric charge columns and the description's width.
struct ChargeColumns {
    quantity_right: f32,
    rate_right: f32,
    amount_right: f32,
    description_width: f32,
}

impl ChargeColumns {
    fn new(frame: &Frame) -> ChargeColumns {
        let amount_right = frame.right - 6.0;
        let rate_right = amount_right - 100.0;
        let quantity_right = rate_right - 100.0;
        ChargeColumns {
            quantity_right,
            rate_right,
            amount_right,
            description_width: quantity_right - frame.left - 92.0,
        }
    }
}

/// Positions of the meter-read columns: meter left-aligned, readings and usage right-aligned.
struct UsageColumns {
    previous_right: f32,
    current_right: f32,
    kind_x: f32,
    usage_right: f32,
}

impl UsageColumns {
    fn new(frame: &Frame) -> UsageColumns {
        let usage_right = frame.right - 6.0;
        let kind_x = usage_right - 190.0;
        let current_right = kind_x - 24.0;
        UsageColumns { previous_right: current_right - 96.0, current_right, kind_x, usage_right }
    }
}

fn draw(page: &mut Page, frame: &Frame, row: &Row<'_>, top: f32) {
    let baseline = top + 10.0;
    let cell = TextStyle::regular(9.0);
    let text_x = frame.left + 6.0;
    match row {
        Row::Title(title) => {
            page.text(frame.left, top + 12.0, TextStyle::bold(11.0).with_color(ACCENT), title);
        }
        Row::Header(table) => header(page, frame, *table, top),
        Row::Charge(line) => {
            let columns = ChargeColumns::new(frame);
            page.text_within(text_x, baseline, columns.description_width, cell, &line.description);
            // Amounts are never shortened; quantity and rate texts give way before they collide.
            let quantity = truncate_to_width(&line.quantity, cell.font, cell.size_pt, 76.0);
            page.text_right(columns.quantity_right, baseline, cell, &quantity);
            let rate = truncate_to_width(&line.rate, cell.font, cell.size_pt, 92.0);
            page.text_right(columns.rate_right, baseline, cell, &rate);
            page.text_right(columns.amount_right, baseline, cell, &line.amount);
            page.line((frame.left, top + ROW_HEIGHT), (frame.right, top + ROW_HEIGHT), Stroke::solid(0.3, RULE));
        }
        Row::Total { label, amount, strong } => {
            let columns = ChargeColumns::new(frame);
            let style = if *strong { TextStyle::bold(10.0) } else { TextStyle::regular(9.0) };
            if *strong {
                let x = columns.quantity_right - 60.0;
                page.fill_rect(x, top, frame.right - x, ROW_HEIGHT, TINT);
            }
            page.text_right(columns.rate_right, baseline, style, label);
            page.text_right(columns.amount_right, baseline, style, amount);
        }
        Row::Usage(read) => {
            let columns = UsageColumns::new(frame);
            page.text_within(text_x, baseline, columns.previous_right - text_x - 70.0, cell, &read.meter_number);
            page.text_right(columns.previous_right, baseline, cell, &read.previous_read);
            page.text_right(columns.current_right, baseline, cell, &read.current_read);
            page.text(columns.kind_x, baseline, cell, if read.estimated { "Estimated" } else { "Actual" });
            page.text_right(columns.usage_right, baseline, cell, &read.usage);
            page.line((frame.left, top + ROW_HEIGHT), (frame.right, top + ROW_HEIGHT), Stroke::solid(0.3, RULE));
        }
        Row::Gap => {}
        Row::MessageBox { lines } => message_box(page, frame, lines, top),
    }
}

fn header(page: &mut Page, frame: &Frame, table: Table, top: f32) {
    page.fill_rect(frame.left, top, frame.right - frame.left, 14.0, Color::gray(232));
    let style = TextStyle::bold(8.5);
    let baseline = top + 10.0;
    let text_x = frame.left + 6.0;
    match table {
        Table::Charges => {
            let columns = ChargeColumns::new(frame);
            page.text(text_x, baseline, style, "Description");
            page.text_right(columns.quantity_right, baseline, style, "Quantity");
            page.text_right(columns.rate_right, baseline, style, "Rate");
            page.text_right(columns.amount_right, baseline, style, "Amount");
        }
        Table::Usage => {
            let columns = UsageColumns::new(frame);
            page.text(text_x, baseline, style, "Meter");
            page.text_right(columns.previous_right, baseline, style, "Previous read");
            page.text_right(columns.current_right, baseline, style, "Current read");
            page.text(columns.kind_x, baseline, style, "Read type");
            page.text_right(columns.usage_right, baseline, style, "Usage");
        }
    }
}

fn message_box(page: &mut Page, frame: &Frame, lines: &[String], top: f32) {
    let height = 10.0 + MESSAGE_LINE_HEIGHT * lines.len() as f32;
    page.fill_and_stroke_rect(frame.left, top, frame.right - frame.left, height, TINT, Stroke::solid(0.6, ACCENT));
    for (index, line) in lines.iter().enumerate() {
        page.text(frame.left + 12.0, top + 14.5 + MESSAGE_LINE_HEIGHT * index as f32, MESSAGE_STYLE, line);
    }
}
