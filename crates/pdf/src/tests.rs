//! Checks the PDF bytes: structure, xref offsets, embedded fonts, extractable text, layouts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use crate::bill::{self, BillDocument, ChargeLine, MeterReadLine};
use crate::letter::{self, LetterDocument};
use crate::{Document, DocumentInfo, Font, Page, PageSize, PdfDateTime, PdfError, Stroke, TextStyle};

fn charge(description: &str, quantity: &str, rate: &str, amount: &str) -> ChargeLine {
    ChargeLine {
        description: description.to_owned(),
        quantity: quantity.to_owned(),
        rate: rate.to_owned(),
        amount: amount.to_owned(),
    }
}

pub(crate) fn sample_bill() -> BillDocument {
    BillDocument {
        page_size: PageSize::US_LETTER,
        created: Some(PdfDateTime::new(2026, 11, 30, 6, 10, 0).unwrap()),
        organisation_name: "Riverside Water & Power".to_owned(),
        organisation_address_lines: vec![
            "120 Harbour Street".to_owned(),
            "Springfield, OR 97477".to_owned(),
            "(541) 555-0100 · billing@riverside.example".to_owned(),
        ],
        bill_number: "B-2026-000451".to_owned(),
        account_number: "ACC-0042-7781".to_owned(),
        customer_name: "Margarethe Øster-Łukasiewicz".to_owned(),
        mailing_address_lines: vec!["Apartment 4B".to_owned(), "77 Elm Road".to_owned(), "Eugene, OR 97401".to_owned()],
        bill_date: "30 Nov 2026".to_owned(),
        period_from: "1 Oct 2026".to_owned(),
        period_to: "31 Oct 2026".to_owned(),
        due_date: "21 Dec 2026".to_owned(),
        previous_balance: "$112.40".to_owned(),
        payments_received: "-$112.40".to_owned(),
        adjustments: "$0.00".to_owned(),
        charge_lines: vec![
            charge("Water service charge", "1 month", "$18.50", "$18.50"),
            charge("Water consumption", "14.2 m³", "$1.8400 / m³", "$26.13"),
            charge("Electricity consumption", "412 kWh", "$0.1320 / kWh", "$54.38"),
            charge("Wastewater", "14.2 m³", "$1.1000 / m³", "$15.62"),
        ],
        current_charges_total: "$114.63".to_owned(),
        taxes: "$9.17".to_owned(),
        amount_due: "$123.80".to_owned(),
        message: "Thank you for paying on time. From January the office opens at 8:00 on weekdays. \
                  Pay online at riverside.example/pay or call us to set up automatic payments."
            .to_owned(),
        meter_reads: vec![
            MeterReadLine {
                meter_number: "W-55102".to_owned(),
                previous_read: "10,482".to_owned(),
                current_read: "10,496".to_owned(),
                estimated: false,
                usage: "14.2 m³".to_owned(),
            },
            MeterReadLine {
                meter_number: "E-88017".to_owned(),
                previous_read: "38,120".to_owned(),
                current_read: "38,532".to_owned(),
                estimated: true,
                usage: "412 kWh".to_owned(),
            },
        ],
    }
}

/// Every `N 0 R`-addressed offset in the xref table, checked against the bytes.
fn assert_xref_offsets_point_at_objects(pdf: &[u8]) {
    let text = String::from_utf8_lossy(pdf);
    let startxref = text.rfind("startxref\n").expect("startxref");
    let xref_offset: usize = text[startxref + 10..].lines().next().unwrap().trim().parse().unwrap();
    assert!(pdf[xref_offset..].starts_with(b"xref\n"), "startxref points at the xref table");
    let table = std::str::from_utf8(&pdf[xref_offset..]).unwrap();
    let mut lines = table.lines().skip(1);
    let header: Vec<usize> = lines.next().unwrap().split(' ').map(|n| n.parse().unwrap()).collect();
    assert_eq!(header[0], 0);
    let count = header[1];
    assert!(count > 5);
    for (number, line) in lines.take(count).enumerate() {
        if number == 0 {
            assert_eq!(line, "0000000000 65535 f ");
            continue;
        }
        let offset: usize = line[..10].parse().unwrap();
        let expected = format!("{number} 0 obj");
        assert!(pdf[offset..].starts_with(expected.as_bytes()), "object {number} at offset {offset}");
    }
    assert!(text.contains(&format!("/Size {count}")));
}

#[test]
fn a_bill_is_a_well_formed_pdf_with_correct_xref_offsets() {
    let pdf = bill::render(&sample_bill()).unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    assert!(pdf.trim_ascii_end().ends_with(b"%%EOF"));
    assert_xref_offsets_point_at_objects(&pdf);
}

#[test]
fn a_bill_embeds_subset_fonts_and_stays_small() {
    let pdf = bill::render(&sample_bill()).unwrap();
    let text = String::from_utf8_lossy(&pdf);
    assert!(text.contains("/FontFile2"), "font embedded");
    assert!(text.contains("+DejaVuSans-Bold"), "bold subset embedded");
    assert!(text.contains("/ToUnicode"), "text can be copied");
    assert!(pdf.len() < 100_000, "one-page bill is {} bytes", pdf.len());
}

#[test]
fn the_same_bill_renders_to_the_same_bytes() {
    assert_eq!(bill::render(&sample_bill()).unwrap(), bill::render(&sample_bill()).unwrap());
}

#[test]
fn the_vendored_fonts_parse() {
    assert!(Font::Regular.face().is_some());
    assert!(Font::Bold.face().is_some());
    assert!(crate::text_width("Amount due", Font::Bold, 10.0) > crate::text_width("Amount due", Font::Regular, 10.0));
}

/// Writes the sample bill where a person can look at it: `cargo test -p pdf -- --ignored`.
#[test]
#[ignore = "writes /tmp/sample-bill.pdf for a visual check"]
fn write_sample_bill() {
    std::fs::write("/tmp/sample-bill.pdf", bill::render(&sample_bill()).unwrap()).unwrap();
    let mut long = sample_bill();
    for index in 0..30 {
        long.charge_lines.push(charge(&format!("Extra service {index}"), "1", "$1.00", "$1.00"));
    }
    std::fs::write("/tmp/sample-bill-long.pdf", bill::render(&long).unwrap()).unwrap();
    let mut a4 = sample_bill();
    a4.page_size = PageSize::A4;
    std::fs::write("/tmp/sample-bill-a4.pdf", bill::render(&a4).unwrap()).unwrap();
    let mut wide = sample_bill();
    let long = "Extraordinarily Long Name Of Something That Never Ends ".repeat(4);
    for field in [&mut wide.organisation_name, &mut wide.customer_name, &mut wide.period_from] {
        *field = long.clone();
    }
    wide.charge_lines[0].description = long.clone();
    wide.charge_lines[0].rate = long.clone();
    wide.charge_lines[0].quantity = long.clone();
    wide.meter_reads[0].meter_number = long.clone();
    std::fs::write("/tmp/sample-bill-wide.pdf", bill::render(&wide).unwrap()).unwrap();
}

/// Runs `pdftotext` (Debian package poppler-utils) on `pdf`; `None` when it is not installed.
fn pdftotext(pdf: &[u8], name: &str) -> Option<String> {
    let dir = std::env::temp_dir().join(format!("caredesk-pdf-test-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("in.pdf");
    std::fs::write(&path, pdf).unwrap();
    let output = std::process::Command::new("pdftotext").arg(&path).arg("-").output();
    let _ = std::fs::remove_dir_all(&dir);
    match output {
        Ok(output) => {
            assert!(output.status.success(), "pdftotext failed: {}", String::from_utf8_lossy(&output.stderr));
            Some(String::from_utf8(output.stdout).unwrap())
        }
        Err(_) => {
            eprintln!("NOTICE: pdftotext not found (install poppler-utils); skipping the text extraction check");
            None
        }
    }
}

#[test]
fn a_bills_text_can_be_extracted() {
    let Some(text) = pdftotext(&bill::render(&sample_bill()).unwrap(), "bill") else { return };
    assert!(text.contains("ACC-0042-7781"), "account number in:\n{text}");
    assert!(text.contains("$123.80"), "amount due in:\n{text}");
    assert!(text.contains("Margarethe Øster-Łukasiewicz"), "non-ASCII name survives:\n{text}");
    assert!(text.contains("REMITTANCE STUB"));
}

#[test]
fn many_charge_lines_flow_onto_a_second_page() {
    let mut long = sample_bill();
    for index in 0..40 {
        long.charge_lines.push(charge(&format!("Extra service {index}"), "1", "$1.00", "$1.00"));
    }
    let pages = bill::pages(&long);
    assert_eq!(pages.len(), 2);
    let pdf = bill::render(&long).unwrap();
    assert!(String::from_utf8_lossy(&pdf).contains("/Count 2"));
    assert_xref_offsets_point_at_objects(&pdf);
    let Some(text) = pdftotext(&pdf, "long") else { return };
    assert!(text.contains("Extra service 39"));
    assert!(text.contains("page 2 of 2"));
}

#[test]
fn right_aligned_text_ends_at_the_given_edge() {
    let mut page = Page::new(PageSize::A4);
    let style = TextStyle::regular(10.0);
    page.text_right(300.0, 100.0, style, "$1,234.56");
    let crate::page::Op::Text { x, .. } = &page.ops[0] else { panic!("text op") };
    assert!((x + style.width("$1,234.56") - 300.0).abs() < 0.001);
    assert!(style.width("$1,234.56") > 40.0);
}

#[test]
fn paragraphs_wrap_within_their_width() {
    let text = "The quick brown fox jumps over the lazy dog. ".repeat(6);
    let lines = crate::wrap_text(&text, Font::Regular, 10.0, 200.0);
    assert!(lines.len() > 3);
    assert!(lines.iter().all(|line| crate::text_width(line, Font::Regular, 10.0) <= 200.0));
    let unbroken = crate::wrap_text(&"x".repeat(300), Font::Regular, 10.0, 100.0);
    assert!(unbroken.len() > 2, "an over-long word is broken");
}

#[test]
fn the_page_builder_writes_metadata_shapes_and_several_pages() {
    let mut document = Document::new(DocumentInfo {
        title: "Shapes".to_owned(),
        author: "Caredesk".to_owned(),
        subject: String::new(),
        created: Some(PdfDateTime::new(2026, 1, 2, 3, 4, 5).unwrap()),
    });
    for _ in 0..3 {
        let mut page = Page::new(PageSize::US_LETTER);
        page.text_centered(306.0, 100.0, TextStyle::bold(14.0), "Centred");
        page.line((50.0, 120.0), (550.0, 120.0), Stroke::dashed(1.0, crate::Color::BLACK, 4.0, 2.0));
        page.stroke_rect(50.0, 140.0, 100.0, 40.0, Stroke::solid(1.0, crate::Color::gray(100)));
        document.push_page(page);
    }
    let pdf = document.to_bytes().unwrap();
    let text = String::from_utf8_lossy(&pdf);
    assert!(text.contains("/Count 3"));
    assert!(text.contains("/CreationDate (D:20260102030405Z)"));
    assert!(!text.contains("+DejaVuSans /"), "only the bold font is used, so only it is embedded");
    assert_xref_offsets_point_at_objects(&pdf);
}

#[test]
fn bad_input_is_refused() {
    let empty = Document::new(DocumentInfo::default());
    assert_eq!(empty.to_bytes(), Err(PdfError::DocumentHasNoPages));
    assert_eq!(PdfDateTime::new(2026, 13, 1, 0, 0, 0), Err(PdfError::DateIsOutOfRange));
}

pub(crate) fn sample_letter(recipient: &str) -> LetterDocument {
    LetterDocument {
        page_size: PageSize::US_LETTER,
        created: Some(PdfDateTime::new(2026, 11, 30, 6, 10, 0).unwrap()),
        organisation_name: "Riverside Water & Power".to_owned(),
        organisation_address_lines: vec!["120 Harbour Street".to_owned(), "Springfield, OR 97477".to_owned()],
        date: "30 November 2026".to_owned(),
        recipient_lines: vec![recipient.to_owned(), "77 Elm Road".to_owned(), "Eugene, OR 97401".to_owned()],
        subject: "Your account ACC-0042-7781: planned water supply interruption on 14 December".to_owned(),
        body_paragraphs: vec![
            format!("Dear {recipient},"),
            "We will replace the water main on Elm Road on Monday 14 December between 09:00 and 15:00. \
             During this time your water supply will be interrupted. Please keep some drinking water at hand."
                .to_owned(),
            "If anyone in your household depends on a continuous water supply for medical reasons, call us on \
             (541) 555-0100 before 10 December and we will arrange a temporary supply."
                .to_owned(),
            "We apologise for the inconvenience and thank you for your patience.".to_owned(),
        ],
        signature_lines: vec![
            "Yours sincerely,".to_owned(),
            String::new(),
            "Ana Ruiz".to_owned(),
            "Customer Care".to_owned(),
        ],
    }
}

#[test]
fn a_letter_renders_with_its_text_extractable() {
    let pdf = letter::render(&sample_letter("Margarethe Øster")).unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    assert_xref_offsets_point_at_objects(&pdf);
    let Some(text) = pdftotext(&pdf, "letter") else { return };
    assert!(text.contains("Dear Margarethe Øster,"));
    assert!(text.contains("Ana Ruiz"));
}

#[test]
fn a_batch_holds_every_letter_each_on_its_own_pages() {
    let mut long = sample_letter("Long Reader");
    long.body_paragraphs = vec!["A paragraph that goes on and on about the water main. ".repeat(12); 8];
    let letters = vec![sample_letter("First Reader"), long.clone(), sample_letter("Third Reader")];
    let long_pages = letter::pages(&long).len();
    assert!(long_pages >= 2, "a long letter flows onto more pages");
    let info = DocumentInfo { title: "Letters 30 Nov 2026".to_owned(), ..DocumentInfo::default() };
    let pdf = letter::render_batch(&letters, info).unwrap();
    assert!(String::from_utf8_lossy(&pdf).contains(&format!("/Count {}", long_pages + 2)));
    assert_xref_offsets_point_at_objects(&pdf);
    assert_eq!(letter::render_batch(&[], DocumentInfo::default()), Err(PdfError::DocumentHasNoPages));
}

/// Writes sample letters where a person can look at them: `cargo test -p pdf -- --ignored`.
#[test]
#[ignore = "writes /tmp/sample-letter.pdf for a visual check"]
fn write_sample_letter() {
    std::fs::write("/tmp/sample-letter.pdf", letter::render(&sample_letter("Margarethe Øster")).unwrap()).unwrap();
    let mut long = sample_letter("Long Reader");
    long.page_size = PageSize::A4;
    long.body_paragraphs = vec!["A paragraph that goes on and on about the water main. ".repeat(12); 8];
    std::fs::write("/tmp/sample-letter-long.pdf", letter::render(&long).unwrap()).unwrap();
}

/// Every text run's right end, for checking that nothing runs off the page.
fn text_extents(page: &Page) -> Vec<(f32, f32)> {
    page.ops
        .iter()
        .filter_map(|op| match op {
            crate::page::Op::Text { x, style, glyphs, .. } => {
                let text: String = glyphs.iter().map(|(_, ch)| *ch).collect();
                Some((*x, x + style.width(&text)))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn over_long_fields_are_shortened_instead_of_running_off_the_page() {
    let mut bill = sample_bill();
    let long = "Extraordinarily Long Name Of Something That Never Ends ".repeat(4);
    bill.organisation_name = long.clone();
    bill.customer_name = long.clone();
    bill.mailing_address_lines = vec![long.clone()];
    bill.charge_lines[0].description = long.clone();
    bill.charge_lines[0].rate = long.clone();
    bill.meter_reads[0].meter_number = long.clone();
    bill.period_from = long.clone();
    for page in bill::pages(&bill) {
        for (left, right) in text_extents(&page) {
            assert!(left >= 0.0 && right <= page.size().width_pt, "text from {left} to {right}");
        }
    }
    let pdf = bill::render(&bill).unwrap();
    let Some(text) = pdftotext(&pdf, "long-fields") else { return };
    assert!(text.contains("…"), "shortened text ends with an ellipsis");
}

#[test]
fn bills_on_a4_and_in_a_batch() {
    let mut a4 = sample_bill();
    a4.page_size = PageSize::A4;
    let pdf = bill::render(&a4).unwrap();
    assert!(String::from_utf8_lossy(&pdf).contains("/MediaBox [0 0 595.28 841.89]"));
    let info = DocumentInfo { title: "Bill run".to_owned(), ..DocumentInfo::default() };
    let batch = bill::render_batch(&[sample_bill(), a4], info).unwrap();
    assert!(String::from_utf8_lossy(&batch).contains("/Count 2"));
    assert_xref_offsets_point_at_objects(&batch);
    let Some(text) = pdftotext(&pdf, "a4") else { return };
    assert!(text.contains("ACC-0042-7781") && text.contains("$123.80"));
}
