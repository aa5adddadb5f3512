//! Serialises a [`Document`] into PDF 1.7 bytes: numbered objects, page content streams, the
//! cross-reference table and the trailer. Written by hand because the object set is small.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::PdfError;
use crate::document::Document;
use crate::embed::{self, GlyphMaps};
use crate::page::{Color, Op, Page, Stroke};

/// Appends numbered objects and remembers where each starts, for the xref table.
pub(crate) struct ObjectWriter {
    pub(crate) bytes: Vec<u8>,
    offsets: Vec<usize>,
}

impl ObjectWriter {
    fn new() -> ObjectWriter {
        // The comment line of high bytes tells transfer tools the file is binary.
        let mut bytes = b"%PDF-1.7\n%".to_vec();
        bytes.extend_from_slice(&[0xE2, 0xE3, 0xCF, 0xD3, b'\n']);
        ObjectWriter { bytes, offsets: Vec::new() }
    }

    /// Reserves the next object number; its body is written later with [`Self::object`].
    pub(crate) fn reserve(&mut self) -> usize {
        self.offsets.push(0);
        self.offsets.len()
    }

    /// Writes object `id` with a dictionary or other direct body.
    pub(crate) fn object(&mut self, id: usize, body: &str) {
        self.begin(id);
        self.bytes.extend_from_slice(body.as_bytes());
        self.bytes.extend_from_slice(b"\nendobj\n");
    }

    /// Writes object `id` as a Flate-compressed stream; `dict_entries` are extra dictionary keys.
    pub(crate) fn stream(&mut self, id: usize, dict_entries: &str, data: &[u8]) {
        let compressed = miniz_oxide::deflate::compress_to_vec_zlib(data, 9);
        self.begin(id);
        let head = format!("<< /Length {} /Filter /FlateDecode {dict_entries} >>\nstream\n", compressed.len());
        self.bytes.extend_from_slice(head.as_bytes());
        self.bytes.extend_from_slice(&compressed);
        self.bytes.extend_from_slice(b"\nendstream\nendobj\n");
    }

    fn begin(&mut self, id: usize) {
        let offset = self.bytes.len();
        if let Some(slot) = id.checked_sub(1).and_then(|index| self.offsets.get_mut(index)) {
            *slot = offset;
        }
        self.bytes.extend_from_slice(format!("{id} 0 obj\n").as_bytes());
    }

    fn finish(mut self, root: usize, info: usize) -> Vec<u8> {
        let xref_offset = self.bytes.len();
        let mut table = format!("xref\n0 {}\n0000000000 65535 f \n", self.offsets.len() + 1);
        for offset in &self.offsets {
            // Each entry is exactly 20 bytes, as the format requires.
            let _ = writeln!(table, "{offset:010} 00000 n ");
        }
        let _ = write!(
            table,
            "trailer\n<< /Size {} /Root {root} 0 R /Info {info} 0 R >>\nstartxref\n{xref_offset}\n%%EOF\n",
            self.offsets.len() + 1
        );
        self.bytes.extend_from_slice(table.as_bytes());
        self.bytes
    }
}

pub(crate) fn write(document: &Document) -> Result<Vec<u8>, PdfError> {
    if document.pages.is_empty() {
        return Err(PdfError::DocumentHasNoPages);
    }
    let mut out = ObjectWriter::new();
    let catalog = out.reserve();
    let info = out.reserve();
    let pages_root = out.reserve();
    out.object(catalog, &format!("<< /Type /Catalog /Pages {pages_root} 0 R >>"));
    out.object(info, &info_dictionary(document));

    let glyph_maps = embed::used_glyphs(&document.pages);
    let mut font_ids = BTreeMap::new();
    for (font, used) in &glyph_maps {
        font_ids.insert(*font, embed::write_font(&mut out, *font, used)?);
    }
    let font_resources: String =
        font_ids.iter().map(|(font, id)| format!("/{} {id} 0 R ", font.resource_name())).collect();

    let mut kids = Vec::new();
    for page in &document.pages {
        let page_id = out.reserve();
        let content_id = out.reserve();
        let size = page.size();
        out.object(
            page_id,
            &format!(
                "<< /Type /Page /Parent {pages_root} 0 R /MediaBox [0 0 {} {}] /Contents {content_id} 0 R \
                 /Resources << /Font << {font_resources}>> >> >>",
                num(size.width_pt),
                num(size.height_pt)
            ),
        );
        out.stream(content_id, "", content_stream(page, &glyph_maps).as_bytes());
        kids.push(format!("{page_id} 0 R"));
    }
    out.object(pages_root, &format!("<< /Type /Pages /Kids [{}] /Count {} >>", kids.join(" "), kids.len()));
    Ok(out.finish(catalog, info))
}

fn info_dictionary(document: &Document) -> String {
    let info = &document.info;
    let mut dict = format!("<< /Producer {} /Title {}", text_string("Caredesk pdf"), text_string(&info.title));
    if !info.author.is_empty() {
        let _ = write!(dict, " /Author {}", text_string(&info.author));
    }
    if !info.subject.is_empty() {
        let _ = write!(dict, " /Subject {}", text_string(&info.subject));
    }
    if let Some(created) = info.created {
        let _ = write!(dict, " /CreationDate ({})", created.to_pdf_string());
    }
    dict.push_str(" >>");
    dict
}

/// A PDF text string as UTF-16BE hex with a byte-order mark, so any Unicode survives.
pub(crate) fn text_string(text: &str) -> String {
    let mut hex = String::from("<FEFF");
    for unit in text.encode_utf16() {
        let _ = write!(hex, "{unit:04X}");
    }
    hex.push('>');
    hex
}

/// A number for a content stream: at most two decimals, no exponent, never `NaN`.
pub(crate) fn num(value: f32) -> String {
    if !value.is_finite() {
        return "0".to_owned();
    }
    let text = format!("{value:.2}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" || text.is_empty() { "0".to_owned() } else { text.to_owned() }
}

fn color_operands(color: Color) -> String {
    let channel = |c: u8| num(f32::from(c) / 255.0);
    format!("{} {} {}", channel(color.red), channel(color.green), channel(color.blue))
}

fn stroke_state(stroke: &Stroke) -> String {
    let dash =
        stroke.dash_pt.map_or_else(|| "[] 0 d".to_owned(), |(on, off)| format!("[{} {}] 0 d", num(on), num(off)));
    format!("{} w {} RG {dash}", num(stroke.width_pt), color_operands(stroke.color))
}

/// The page's operations as PDF content; the y axis is flipped because PDF measures from the
/// bottom.
fn content_stream(page: &Page, glyph_maps: &GlyphMaps) -> String {
    let height = page.size().height_pt;
    let mut out = String::new();
    for op in &page.ops {
        match op {
            Op::Text { x, baseline_y, style, glyphs } => {
                let hex = embed::encode_glyphs(glyph_maps, style.font, glyphs);
                let _ = writeln!(
                    out,
                    "BT /{} {} Tf {} rg 1 0 0 1 {} {} Tm <{hex}> Tj ET",
                    style.font.resource_name(),
                    num(style.size_pt),
                    color_operands(style.color),
                    num(*x),
                    num(height - baseline_y)
                );
            }
            Op::Line { from, to, stroke } => {
                let _ = writeln!(
                    out,
                    "q {} 0 J {} {} m {} {} l S Q",
                    stroke_state(stroke),
                    num(from.0),
                    num(height - from.1),
                    num(to.0),
                    num(height - to.1)
                );
            }
            Op::Rect { x, y, width, height: rect_height, fill, stroke } => {
                let path =
                    format!("{} {} {} {} re", num(*x), num(height - y - rect_height), num(*width), num(*rect_height));
                let fill_state = fill.map(|c| format!("{} rg ", color_operands(c))).unwrap_or_default();
                let stroke_part = stroke.as_ref().map(|s| format!("{} ", stroke_state(s))).unwrap_or_default();
                let paint = match (fill.is_some(), stroke.is_some()) {
                    (true, true) => "B",
                    (true, false) => "f",
                    _ => "S",
                };
                let _ = writeln!(out, "q {fill_state}{stroke_part}{path} {paint} Q");
            }
        }
    }
    out
}
