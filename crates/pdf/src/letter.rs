//! Letters to customers as PDF: organisation header, window-envelope address, date, subject,
//! body paragraphs flowing over as many pages as needed, and a signature block; plus a print
//! batch that puts many letters into one file.

use crate::PdfError;
use crate::document::{Document, DocumentInfo, PdfDateTime};
use crate::font::wrap_text;
use crate::page::{Color, Page, PageSize, Stroke, TextStyle};

/// Everything printed on a letter, as plain formatted text.
#[derive(Debug, Clone, PartialEq)]
pub struct LetterDocument {
    /// Paper size; the address sits in the window of a US #10 or DIN DL/C5 envelope.
    pub page_size: PageSize,
    /// Written into the PDF's metadata by [`render`]; `None` leaves it out.
    pub created: Option<PdfDateTime>,
    /// The sending organisation's name.
    pub organisation_name: String,
    /// The organisation's postal address and contact lines.
    pub organisation_address_lines: Vec<String>,
    /// The letter's date, formatted, e.g. "30 November 2026".
    pub date: String,
    /// The recipient's name and address, one line each (at most six print in the window).
    pub recipient_lines: Vec<String>,
    /// The subject line, printed in bold; empty for none.
    pub subject: String,
    /// The body, one string per paragraph (salutation included); each is word-wrapped.
    pub body_paragraphs: Vec<String>,
    /// The closing and signature, one line each, e.g. ["Yours sincerely,", "", "Ana Ruiz", "Customer care"].
    pub signature_lines: Vec<String>,
}

/// Renders one letter into its own PDF.
pub fn render(letter: &LetterDocument) -> Result<Vec<u8>, PdfError> {
    let mut document = Document::new(DocumentInfo {
        title: if letter.subject.is_empty() { "Letter".to_owned() } else { letter.subject.clone() },
        author: letter.organisation_name.clone(),
        subject: String::new(),
        created: letter.created,
    });
    document.extend_pages(pages(letter));
    document.to_bytes()
}

/// Renders many letters into ONE PDF, each starting on a new page, in the order given: a day's
/// print batch for mailing. Fails with [`PdfError::DocumentHasNoPages`] when `letters` is empty.
pub fn render_batch(letters: &[LetterDocument], info: DocumentInfo) -> Result<Vec<u8>, PdfError> {
    let mut document = Document::new(info);
    for letter in letters {
        document.extend_pages(pages(letter));
    }
    document.to_bytes()
}

/// The letter's pages, for callers that assemble their own [`Document`].
pub fn pages(letter: &LetterDocument) -> Vec<Page> {
    let frame = LetterFrame::new(letter.page_size);
    let mut first = Page::new(frame.size);
    first_page_header(&mut first, &frame, letter);
    let mut pages = flow_body(first, &frame, letter);
    let count = pages.len();
    if count > 1 {
        let footer = TextStyle::regular(8.0).with_color(MUTED);
        for (index, page) in pages.iter_mut().enumerate() {
            let label = format!("Page {} of {count}", index + 1);
            page.text_centered(frame.size.width_pt / 2.0, frame.size.height_pt - 30.0, footer, &label);
        }
    }
    pages
}

const ACCENT: Color = Color::rgb(31, 78, 121);
const MUTED: Color = Color::gray(90);
const BODY: TextStyle = TextStyle::regular(10.5);
const BODY_LINE_HEIGHT: f32 = 15.0;
const SUBJECT: TextStyle = TextStyle::bold(11.0);
const SUBJECT_LINE_HEIGHT: f32 = 14.5;
const PARAGRAPH_GAP: f32 = 7.0;
/// The address window of a #10 (US) or DL/C5 (DIN 5008) envelope once the page is folded in three.
const ADDRESS_X: f32 = 63.0;
const ADDRESS_FIRST_BASELINE: f32 = 172.0;
const CONTINUED_TOP_Y: f32 = 92.0;

struct LetterFrame {
    size: PageSize,
    left: f32,
    right: f32,
    bottom: f32,
}

impl LetterFrame {
    fn new(size: PageSize) -> LetterFrame {
        LetterFrame { size, left: 63.0, right: size.width_pt - 63.0, bottom: size.height_pt - 64.0 }
    }
}

fn first_page_header(page: &mut Page, frame: &LetterFrame, letter: &LetterDocument) {
    page.text(frame.left, 58.0, TextStyle::bold(16.0).with_color(ACCENT), &letter.organisation_name);
    let small = TextStyle::regular(8.5).with_color(MUTED);
    for (index, line) in letter.organisation_address_lines.iter().take(4).enumerate() {
        page.text(frame.left, 73.0 + 10.5 * index as f32, small, line);
    }
    page.line((frame.left, 124.0), (frame.right, 124.0), Stroke::solid(0.6, Color::gray(170)));
    for (index, line) in letter.recipient_lines.iter().take(6).enumerate() {
        let style = if index == 0 { TextStyle::bold(10.5) } else { TextStyle::regular(10.5) };
        page.text(ADDRESS_X, ADDRESS_FIRST_BASELINE + 13.0 * index as f32, style, line);
    }
    page.text_right(frame.right, ADDRESS_FIRST_BASELINE, TextStyle::regular(10.5), &letter.date);
    fold_marks(page, frame.size);
}

/// Short ticks at the left edge where the page is folded for a window envelope.
fn fold_marks(page: &mut Page, size: PageSize) {
    // DIN 5008 folds A4 at 105 mm and 210 mm; US Letter is folded in equal thirds.
    let folds =
        if size == PageSize::A4 { [297.64, 595.28] } else { [size.height_pt / 3.0, size.height_pt * 2.0 / 3.0] };
    for fold_y in folds {
        page.line((14.0, fold_y), (24.0, fold_y), Stroke::solid(0.5, Color::gray(140)));
    }
}

/// A line of the letter below the address: what it is and how much room it takes.
enum Block {
    Subject(Vec<String>),
    BodyLine(String),
    ParagraphGap,
    /// The closing and signature; never split across pages.
    Signature(Vec<String>),
}

impl Block {
    fn height(&self) -> f32 {
        match self {
            Block::Subject(lines) => 14.0 + SUBJECT_LINE_HEIGHT * lines.len() as f32,
            Block::BodyLine(_) => BODY_LINE_HEIGHT,
            Block::ParagraphGap => PARAGRAPH_GAP,
            Block::Signature(lines) => 16.0 + BODY_LINE_HEIGHT * lines.len() as f32,
        }
    }
}

fn blocks(letter: &LetterDocument, width: f32) -> Vec<Block> {
    let mut blocks = Vec::new();
    if !letter.subject.trim().is_empty() {
        blocks.push(Block::Subject(wrap_text(&letter.subject, SUBJECT.font, SUBJECT.size_pt, width)));
    }
    for paragraph in &letter.body_paragraphs {
        blocks.extend(wrap_text(paragraph, BODY.font, BODY.size_pt, width).into_iter().map(Block::BodyLine));
        blocks.push(Block::ParagraphGap);
    }
    if !letter.signature_lines.is_empty() {
        blocks.push(Block::Signature(letter.signature_lines.clone()));
    }
    blocks
}

fn flow_body(first: Page, frame: &LetterFrame, letter: &LetterDocument) -> Vec<Page> {
    let mut pages = vec![first];
    // The body starts below the address window and below the lower edge of the address.
    let address_end = ADDRESS_FIRST_BASELINE + 13.0 * letter.recipient_lines.len().min(6) as f32;
    let mut y = address_end.max(262.0) + 14.0;
    for block in blocks(letter, frame.right - frame.left) {
        let fits = y + block.height() <= frame.bottom;
        if !fits && !matches!(block, Block::ParagraphGap) {
            let mut next = Page::new(frame.size);
            continuation_header(&mut next, frame, letter);
            pages.push(next);
            y = CONTINUED_TOP_Y;
        }
        if let Some(page) = pages.last_mut() {
            draw(page, frame, &block, y);
        }
        y += block.height();
    }
    pages
}

fn continuation_header(page: &mut Page, frame: &LetterFrame, letter: &LetterDocument) {
    page.text(frame.left, 50.0, TextStyle::bold(11.0).with_color(ACCENT), &letter.organisation_name);
    let about = [letter.recipient_lines.first().map(String::as_str).unwrap_or_default(), letter.date.as_str()]
        .into_iter()
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" · ");
    page.text_right(frame.right, 50.0, TextStyle::regular(9.0).with_color(MUTED), &about);
    page.line((frame.left, 60.0), (frame.right, 60.0), Stroke::solid(0.6, Color::gray(170)));
}

fn draw(page: &mut Page, frame: &LetterFrame, block: &Block, top: f32) {
    match block {
        Block::Subject(lines) => {
            for (index, line) in lines.iter().enumerate() {
                page.text(frame.left, top + 12.0 + SUBJECT_LINE_HEIGHT * index as f32, SUBJECT, line);
            }
        }
        Block::BodyLine(line) => page.text(frame.left, top + 11.0, BODY, line),
        Block::ParagraphGap => {}
        Block::Signature(lines) => {
            for (index, line) in lines.iter().enumerate() {
                page.text(frame.left, top + 16.0 + 11.0 + BODY_LINE_HEIGHT * index as f32, BODY, line);
            }
        }
    }
}
