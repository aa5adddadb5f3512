//! Embeds the fonts a document uses: each is subset to the glyphs drawn (so a bill stays small),
//! written as a CID-keyed TrueType font (`FontFile2`) with real widths and a ToUnicode map so
//! the text can be copied and searched.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use subsetter::GlyphRemapper;

use crate::PdfError;
use crate::font::Font;
use crate::page::{Op, Page};
use crate::writer::{ObjectWriter, num};

/// Per font: the glyphs a document draws, each with the character it stands for.
pub(crate) type GlyphMaps = BTreeMap<Font, UsedGlyphs>;

/// The glyphs drawn in one font and their numbering inside the subset font.
pub(crate) struct UsedGlyphs {
    /// Original glyph id → the first character drawn with it.
    characters: BTreeMap<u16, char>,
    remapper: GlyphRemapper,
}

pub(crate) fn used_glyphs(pages: &[Page]) -> GlyphMaps {
    let mut characters: BTreeMap<Font, BTreeMap<u16, char>> = BTreeMap::new();
    for op in pages.iter().flat_map(|p| &p.ops) {
        if let Op::Text { style, glyphs, .. } = op {
            let map = characters.entry(style.font).or_default();
            for (glyph, ch) in glyphs {
                map.entry(*glyph).or_insert(*ch);
            }
        }
    }
    characters
        .into_iter()
        .map(|(font, characters)| {
            let ids: Vec<u16> = characters.keys().copied().collect();
            let remapper = GlyphRemapper::new_from_glyphs_sorted(&ids);
            (font, UsedGlyphs { characters, remapper })
        })
        .collect()
}

/// The glyphs as a hex string of two-byte subset glyph ids (Identity-H encoding).
pub(crate) fn encode_glyphs(maps: &GlyphMaps, font: Font, glyphs: &[(u16, char)]) -> String {
    let mut hex = String::with_capacity(glyphs.len() * 4);
    for (glyph, _) in glyphs {
        let new_id = maps.get(&font).and_then(|used| used.remapper.get(*glyph)).unwrap_or(0);
        let _ = write!(hex, "{new_id:04X}");
    }
    hex
}

/// Writes the Type0 font and everything it points at; returns the Type0 font's object number.
pub(crate) fn write_font(out: &mut ObjectWriter, font: Font, used: &UsedGlyphs) -> Result<usize, PdfError> {
    let face = font.face().ok_or(PdfError::FontIsMalformed)?;
    let subset = subsetter::subset(font.bytes(), 0, &used.remapper).map_err(|_| PdfError::FontCouldNotBeSubset)?;
    let base_name = format!("{}+{}", subset_tag(used), font.postscript_name());

    let type0 = out.reserve();
    let cid_font = out.reserve();
    let descriptor = out.reserve();
    let font_file = out.reserve();
    let to_unicode = out.reserve();
    out.object(
        type0,
        &format!(
            "<< /Type /Font /Subtype /Type0 /BaseFont /{base_name} /Encoding /Identity-H \
             /DescendantFonts [{cid_font} 0 R] /ToUnicode {to_unicode} 0 R >>"
        ),
    );
    out.object(
        cid_font,
        &format!(
            "<< /Type /Font /Subtype /CIDFontType2 /BaseFont /{base_name} \
             /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> \
             /FontDescriptor {descriptor} 0 R /CIDToGIDMap /Identity /DW 0 /W [0 [{}]] >>",
            widths(font, used)
        ),
    );
    let bbox = face.global_bounding_box();
    let ascent = font.milli(face.ascender());
    let cap_height = font.milli(face.capital_height().unwrap_or(face.ascender()));
    let stem_v = if font == Font::Bold { 140 } else { 80 };
    out.object(
        descriptor,
        &format!(
            "<< /Type /FontDescriptor /FontName /{base_name} /Flags 32 /FontBBox [{} {} {} {}] \
             /ItalicAngle 0 /Ascent {} /Descent {} /CapHeight {} /StemV {stem_v} /FontFile2 {font_file} 0 R >>",
            num(font.milli(bbox.x_min)),
            num(font.milli(bbox.y_min)),
            num(font.milli(bbox.x_max)),
            num(font.milli(bbox.y_max)),
            num(ascent),
            num(font.milli(face.descender())),
            num(cap_height),
        ),
    );
    out.stream(font_file, &format!("/Length1 {}", subset.len()), &subset);
    out.stream(to_unicode, "", to_unicode_cmap(used).as_bytes());
    Ok(type0)
}

/// Advances of the subset glyphs in subset order, in thousandths of the font size.
fn widths(font: Font, used: &UsedGlyphs) -> String {
    used.remapper.remapped_gids().map(|old| num(font.advance_milli(old))).collect::<Vec<_>>().join(" ")
}

/// Six capital letters derived from the glyph set, as PDF asks for subset font names; the same
/// glyphs always give the same tag, so output stays reproducible.
fn subset_tag(used: &UsedGlyphs) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for glyph in used.characters.keys() {
        for byte in glyph.to_be_bytes() {
            hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    (0..6)
        .map(|_| {
            let letter = char::from(b'A' + u8::try_from(hash % 26).unwrap_or(0));
            hash /= 26;
            letter
        })
        .collect()
}

/// The ToUnicode CMap: subset glyph id → the character it was drawn for.
fn to_unicode_cmap(used: &UsedGlyphs) -> String {
    let entries: Vec<String> = used
        .characters
        .iter()
        .filter_map(|(old, ch)| {
            let new_id = used.remapper.get(*old)?;
            let mut units = [0u16; 2];
            let utf16: String = ch.encode_utf16(&mut units).iter().map(|u| format!("{u:04X}")).collect();
            Some(format!("<{new_id:04X}> <{utf16}>"))
        })
        .collect();
    let mut cmap = String::from(
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n\
         /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
         /CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n\
         1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
    );
    // The CMap format allows at most 100 entries per section.
    for chunk in entries.chunks(100) {
        let _ = writeln!(cmap, "{} beginbfchar\n{}\nendbfchar", chunk.len(), chunk.join("\n"));
    }
    cmap.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
    cmap
}
