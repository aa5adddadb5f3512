//! The two embedded faces (DejaVu Sans regular and bold): glyph lookup and widths, so layout can
//! measure text with the same advances the PDF viewer will use.

use std::sync::OnceLock;

use ttf_parser::Face;

static REGULAR_BYTES: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
static BOLD_BYTES: &[u8] = include_bytes!("../fonts/DejaVuSans-Bold.ttf");

/// The typefaces a document can use. Both are DejaVu Sans, compiled into the binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Font {
    /// DejaVu Sans Book.
    Regular,
    /// DejaVu Sans Bold.
    Bold,
}

impl Font {
    pub(crate) fn bytes(self) -> &'static [u8] {
        match self {
            Font::Regular => REGULAR_BYTES,
            Font::Bold => BOLD_BYTES,
        }
    }

    pub(crate) fn postscript_name(self) -> &'static str {
        match self {
            Font::Regular => "DejaVuSans",
            Font::Bold => "DejaVuSans-Bold",
        }
    }

    pub(crate) fn resource_name(self) -> &'static str {
        match self {
            Font::Regular => "F1",
            Font::Bold => "F2",
        }
    }

    /// The parsed face; `None` only if the vendored file were corrupt, which the tests rule out.
    pub(crate) fn face(self) -> Option<&'static Face<'static>> {
        // Parsing walks the table directory; doing it once per process keeps measuring cheap.
        static REGULAR: OnceLock<Option<Face<'static>>> = OnceLock::new();
        static BOLD: OnceLock<Option<Face<'static>>> = OnceLock::new();
        let cell = match self {
            Font::Regular => &REGULAR,
            Font::Bold => &BOLD,
        };
        cell.get_or_init(|| Face::parse(self.bytes(), 0).ok()).as_ref()
    }

    /// The glyph that draws `ch`; characters the font lacks are drawn as `?` so nothing vanishes
    /// silently.
    pub(crate) fn glyph(self, ch: char) -> u16 {
        let Some(face) = self.face() else { return 0 };
        face.glyph_index(ch).or_else(|| face.glyph_index('?')).map_or(0, |g| g.0)
    }

    /// Advance width of a glyph in thousandths of the font size (PDF glyph space).
    pub(crate) fn advance_milli(self, glyph: u16) -> f32 {
        let Some(face) = self.face() else { return 0.0 };
        let advance = face.glyph_hor_advance(ttf_parser::GlyphId(glyph)).unwrap_or(0);
        f32::from(advance) * 1000.0 / f32::from(face.units_per_em().max(1))
    }

    /// A font-unit value scaled to thousandths of the font size.
    pub(crate) fn milli(self, units: i16) -> f32 {
        let per_em = self.face().map_or(1000, |f| f.units_per_em().max(1));
        f32::from(units) * 1000.0 / f32::from(per_em)
    }
}

/// Width of `text` in points when set in `font` at `size_pt`, using the font's real advances
/// (no kerning, matching how the text is drawn).
pub fn text_width(text: &str, font: Font, size_pt: f32) -> f32 {
    let milli: f32 = text.chars().filter(|c| !c.is_control()).map(|c| font.advance_milli(font.glyph(c))).sum();
    milli * size_pt / 1000.0
}

/// Breaks `text` into lines no wider than `width_pt`, at spaces; a word longer than a whole
/// line is broken between characters. A `\n` in the text always starts a new line.
pub fn wrap_text(text: &str, font: Font, size_pt: f32, width_pt: f32) -> Vec<String> {
    let mut lines = Vec::new();
    for hard_line in text.split('\n') {
        let mut current = String::new();
        for word in hard_line.split_whitespace() {
            let candidate = if current.is_empty() { word.to_owned() } else { format!("{current} {word}") };
            if text_width(&candidate, font, size_pt) <= width_pt {
                current = candidate;
                continue;
            }
            if !current.is_empty() {
                lines.push(std::mem::take(&mut current));
            }
            current = break_long_word(word, font, size_pt, width_pt, &mut lines);
        }
        lines.push(current);
    }
    lines
}

/// Pushes full-width pieces of an over-long `word` and returns the remainder that starts the
/// next line.
fn break_long_word(word: &str, font: Font, size_pt: f32, width_pt: f32, lines: &mut Vec<String>) -> String {
    let mut piece = String::new();
    for ch in word.chars() {
        piece.push(ch);
        if text_width(&piece, font, size_pt) > width_pt && piece.chars().count() > 1 {
            piece.pop();
            lines.push(std::mem::take(&mut piece));
            piece.push(ch);
        }
    }
    piece
}

/// `text` shortened with a trailing ellipsis so it fits `width_pt`; for one-line table cells.
pub(crate) fn truncate_to_width(text: &str, font: Font, size_pt: f32, width_pt: f32) -> String {
    if text_width(text, font, size_pt) <= width_pt {
        return text.to_owned();
    }
    let mut kept: String = text.to_owned();
    while !kept.is_empty() {
        kept.pop();
        let candidate = format!("{}…", kept.trim_end());
        if text_width(&candidate, font, size_pt) <= width_pt {
            return candidate;
        }
    }
    String::new()
}
