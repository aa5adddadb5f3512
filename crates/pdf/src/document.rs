//! A document: its pages and its metadata (title, author, creation date passed in by the caller,
//! since this crate never reads the clock).

use crate::PdfError;
use crate::page::Page;

/// A creation timestamp in UTC, written to the document information dictionary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PdfDateTime {
    year: u16,
    month: u8,
    day: u8,
    hour: u8,
    minute: u8,
    second: u8,
}

impl PdfDateTime {
    /// A UTC timestamp; fails when a field is out of its calendar range.
    pub fn new(year: u16, month: u8, day: u8, hour: u8, minute: u8, second: u8) -> Result<PdfDateTime, PdfError> {
        let in_range = (1..=9999).contains(&year)
            && (1..=12).contains(&month)
            && (1..=31).contains(&day)
            && hour < 24
            && minute < 60
            && second < 60;
        if !in_range {
            return Err(PdfError::DateIsOutOfRange);
        }
        Ok(PdfDateTime { year, month, day, hour, minute, second })
    }

    /// The PDF date string, e.g. `D:20261130061000Z`.
    pub(crate) fn to_pdf_string(self) -> String {
        let PdfDateTime { year, month, day, hour, minute, second } = self;
        format!("D:{year:04}{month:02}{day:02}{hour:02}{minute:02}{second:02}Z")
    }
}

/// What the document information dictionary says about a document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DocumentInfo {
    /// Shown by viewers as the window title.
    pub title: String,
    /// Who the document is from (for bills and letters, the organisation).
    pub author: String,
    /// A one-line description; empty to leave it out.
    pub subject: String,
    /// When the document was made; `None` to leave it out.
    pub created: Option<PdfDateTime>,
}

/// A document being built: pages in order plus metadata. Turn it into bytes with
/// [`Document::to_bytes`].
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub(crate) info: DocumentInfo,
    pub(crate) pages: Vec<Page>,
}

impl Document {
    /// An empty document.
    pub fn new(info: DocumentInfo) -> Document {
        Document { info, pages: Vec::new() }
    }

    /// Appends a page at the end.
    pub fn push_page(&mut self, page: Page) {
        self.pages.push(page);
    }

    /// Appends pages at the end, in order.
    pub fn extend_pages(&mut self, pages: impl IntoIterator<Item = Page>) {
        self.pages.extend(pages);
    }

    /// How many pages the document has so far.
    pub fn page_count(&self) -> usize {
        self.pages.len()
    }

    /// The finished PDF file: fonts subset to the glyphs used and embedded, streams compressed.
    pub fn to_bytes(&self) -> Result<Vec<u8>, PdfError> {
        crate::writer::write(self)
    }
}
