//! The low-level page builder: text, lines and rectangles placed in points from the top-left
//! corner, recorded as drawing operations that the writer turns into a PDF content stream.

use crate::font::{Font, text_width, truncate_to_width, wrap_text};

/// A paper size in points (1/72 inch).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PageSize {
    /// Width in points.
    pub width_pt: f32,
    /// Height in points.
    pub height_pt: f32,
}

impl PageSize {
    /// ISO A4, 210 × 297 mm.
    pub const A4: PageSize = PageSize { width_pt: 595.28, height_pt: 841.89 };
    /// US Letter, 8.5 × 11 in.
    pub const US_LETTER: PageSize = PageSize { width_pt: 612.0, height_pt: 792.0 };
}

/// An RGB colour, each channel 0–255.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Color {
    /// Red.
    pub red: u8,
    /// Green.
    pub green: u8,
    /// Blue.
    pub blue: u8,
}

impl Color {
    /// Black, the default for text and lines.
    pub const BLACK: Color = Color::rgb(0, 0, 0);
    /// White.
    pub const WHITE: Color = Color::rgb(255, 255, 255);

    /// A colour from its red, green and blue channels.
    pub const fn rgb(red: u8, green: u8, blue: u8) -> Color {
        Color { red, green, blue }
    }

    /// A neutral grey; `0` is black and `255` white.
    pub const fn gray(level: u8) -> Color {
        Color::rgb(level, level, level)
    }
}

/// How text is set: typeface, size and colour.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TextStyle {
    /// The typeface.
    pub font: Font,
    /// Font size in points.
    pub size_pt: f32,
    /// Fill colour of the glyphs.
    pub color: Color,
}

impl TextStyle {
    /// Black regular text at `size_pt`.
    pub const fn regular(size_pt: f32) -> TextStyle {
        TextStyle { font: Font::Regular, size_pt, color: Color::BLACK }
    }

    /// Black bold text at `size_pt`.
    pub const fn bold(size_pt: f32) -> TextStyle {
        TextStyle { font: Font::Bold, size_pt, color: Color::BLACK }
    }

    /// The same style in another colour.
    pub const fn with_color(self, color: Color) -> TextStyle {
        TextStyle { color, ..self }
    }

    /// Width of `text` in this style, in points.
    pub fn width(&self, text: &str) -> f32 {
        text_width(text, self.font, self.size_pt)
    }
}

/// How a line or an outline is drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stroke {
    /// Line width in points.
    pub width_pt: f32,
    /// Line colour.
    pub color: Color,
    /// `Some((on, off))` dash lengths in points; `None` for a solid line.
    pub dash_pt: Option<(f32, f32)>,
}

impl Stroke {
    /// A solid line.
    pub const fn solid(width_pt: f32, color: Color) -> Stroke {
        Stroke { width_pt, color, dash_pt: None }
    }

    /// A dashed line with `on_pt` of ink then `off_pt` of gap.
    pub const fn dashed(width_pt: f32, color: Color, on_pt: f32, off_pt: f32) -> Stroke {
        Stroke { width_pt, color, dash_pt: Some((on_pt, off_pt)) }
    }
}

/// One recorded drawing operation, in top-left page coordinates.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Op {
    /// Glyphs set from a baseline origin; each glyph keeps its character for ToUnicode.
    Text {
        x: f32,
        baseline_y: f32,
        style: TextStyle,
        glyphs: Vec<(u16, char)>,
    },
    Line {
        from: (f32, f32),
        to: (f32, f32),
        stroke: Stroke,
    },
    Rect {
        x: f32,
        y: f32,
        width: f32,
        height: f32,
        fill: Option<Color>,
        stroke: Option<Stroke>,
    },
}

/// One page being built. Coordinates are points measured from the TOP-LEFT corner, `y` growing
/// downwards; text is positioned by the left end (or right end, or centre) of its baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    size: PageSize,
    pub(crate) ops: Vec<Op>,
}

impl Page {
    /// An empty page of the given size.
    pub fn new(size: PageSize) -> Page {
        Page { size, ops: Vec::new() }
    }

    /// The page's paper size.
    pub fn size(&self) -> PageSize {
        self.size
    }

    /// Sets `text` with its baseline starting at (`x`, `baseline_y`). Control characters are
    /// dropped; characters the font lacks print as `?`.
    pub fn text(&mut self, x: f32, baseline_y: f32, style: TextStyle, text: &str) {
        let glyphs: Vec<(u16, char)> =
            text.chars().filter(|c| !c.is_control()).map(|c| (style.font.glyph(c), c)).collect();
        if !glyphs.is_empty() {
            self.ops.push(Op::Text { x, baseline_y, style, glyphs });
        }
    }

    /// Sets `text` like [`Page::text`], shortened with a trailing `…` if it is wider than
    /// `max_width_pt`; for names and descriptions in fixed columns.
    pub fn text_within(&mut self, x: f32, baseline_y: f32, max_width_pt: f32, style: TextStyle, text: &str) {
        let fitted = truncate_to_width(text, style.font, style.size_pt, max_width_pt);
        self.text(x, baseline_y, style, &fitted);
    }

    /// Sets `text` so that it ends at `right_x` (for amounts in a column).
    pub fn text_right(&mut self, right_x: f32, baseline_y: f32, style: TextStyle, text: &str) {
        self.text(right_x - style.width(text), baseline_y, style, text);
    }

    /// Sets `text` centred on `center_x`.
    pub fn text_centered(&mut self, center_x: f32, baseline_y: f32, style: TextStyle, text: &str) {
        self.text(center_x - style.width(text) / 2.0, baseline_y, style, text);
    }

    /// Sets `text` word-wrapped within `width_pt`, the first baseline at `first_baseline_y` and
    /// `line_height_pt` between baselines. Returns the baseline where a following line would go.
    pub fn paragraph(
        &mut self,
        x: f32,
        first_baseline_y: f32,
        width_pt: f32,
        line_height_pt: f32,
        style: TextStyle,
        text: &str,
    ) -> f32 {
        let mut baseline_y = first_baseline_y;
        for line in wrap_text(text, style.font, style.size_pt, width_pt) {
            self.text(x, baseline_y, style, &line);
            baseline_y += line_height_pt;
        }
        baseline_y
    }

    /// Draws a straight line from `from` to `to`.
    pub fn line(&mut self, from: (f32, f32), to: (f32, f32), stroke: Stroke) {
        self.ops.push(Op::Line { from, to, stroke });
    }

    /// Fills a rectangle whose top-left corner is (`x`, `y`).
    pub fn fill_rect(&mut self, x: f32, y: f32, width: f32, height: f32, color: Color) {
        self.ops.push(Op::Rect { x, y, width, height, fill: Some(color), stroke: None });
    }

    /// Outlines a rectangle whose top-left corner is (`x`, `y`).
    pub fn stroke_rect(&mut self, x: f32, y: f32, width: f32, height: f32, stroke: Stroke) {
        self.ops.push(Op::Rect { x, y, width, height, fill: None, stroke: Some(stroke) });
    }

    /// Fills and outlines a rectangle whose top-left corner is (`x`, `y`).
    pub fn fill_and_stroke_rect(&mut self, x: f32, y: f32, width: f32, height: f32, fill: Color, stroke: Stroke) {
        self.ops.push(Op::Rect { x, y, width, height, fill: Some(fill), stroke: Some(stroke) });
    }
}
