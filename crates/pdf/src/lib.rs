//! Typesets PDF documents (bills, letters) with embedded fonts; a leaf crate with no Caredesk
//! dependencies, so money rules and formatting stay with the callers.
//!
//! A guided tour:
//! - [`bill`]: [`bill::BillDocument`] holds a bill's already formatted data and
//!   [`bill::render`] turns it into a one-page bill with a remittance stub;
//!   [`bill::render_batch`] puts a bill run into one file.
//! - [`letter`]: [`letter::LetterDocument`] and [`letter::render`] for one letter, and
//!   [`letter::render_batch`] for a day's letters in one file for the print room.
//! - The page model underneath both: a [`Document`] of [`Page`]s; each page records text, lines
//!   and rectangles placed in points (1/72 inch) from the top-left corner. [`text_width`] and
//!   [`wrap_text`] measure with the embedded fonts' real advance widths.
//!
//! Fonts are DejaVu Sans regular and bold, compiled into the binary and embedded in every PDF,
//! subset to the glyphs used. Nothing is read from disk or the network, and the clock is never
//! read: a creation date is passed in through [`DocumentInfo`].

pub mod bill;
mod bill_flow;
mod document;
mod embed;
mod font;
pub mod letter;

mod page;
mod writer;

pub use document::{Document, DocumentInfo, PdfDateTime};
pub use font::{Font, text_width, wrap_text};
pub use page::{Color, Page, PageSize, Stroke, TextStyle};

/// Why a document could not be produced.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PdfError {
    /// A PDF needs at least one page.
    #[error("document has no pages")]
    DocumentHasNoPages,
    /// A creation date field is outside its calendar range.
    #[error("date is out of range")]
    DateIsOutOfRange,
    /// An embedded font could not be parsed (the vendored files are checked by the tests).
    #[error("font is malformed")]
    FontIsMalformed,
    /// The font subsetter refused an embedded font.
    #[error("font could not be subset")]
    FontCouldNotBeSubset,
}

#[cfg(test)]
mod tests;
