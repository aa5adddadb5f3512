//! HTML from email made safe to show: an allow-list of tags and attributes, rebuilt from scratch
//! rather than filtered, so anything not recognised becomes escaped text. Scripts, styles, event
//! handlers, `javascript:` and other non-web links are gone; remote images become a placeholder
//! so no tracking pixel loads when an agent opens the message. (Written here rather than taking
//! the `ammonia` crate, whose html5ever tree costs a minute of build on our 2-core machines.)

/// Tags kept (their attributes are dropped unless named in [`allowed_attribute`]).
const ALLOWED_TAGS: [&str; 38] = [
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "caption",
    "center",
    "cite",
    "code",
    "dd",
    "div",
    "dl",
    "dt",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "li",
    "ol",
    "p",
    "pre",
    "s",
    "small",
    "span",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "tr",
];
/// More table and text tags kept.
const ALLOWED_MORE: [&str; 6] = ["thead", "tfoot", "u", "ul", "strike", "font"];
/// Tags without an end tag.
const VOID_TAGS: [&str; 3] = ["br", "hr", "img"];
/// Tags whose whole content is dropped with them.
const DROPPED_WITH_CONTENT: [&str; 14] = [
    "script", "style", "head", "title", "iframe", "object", "embed", "noscript", "template", "svg", "math", "textarea",
    "select", "xmp",
];
/// Deepest nesting kept; deeper tags are dropped (their text stays).
const MAX_DEPTH: usize = 100;

/// Whether the sanitiser keeps a tag of this (lower-case) name.
pub fn allowed_tag(name: &str) -> bool {
    ALLOWED_TAGS.contains(&name) || ALLOWED_MORE.contains(&name)
}

fn allowed_attribute(tag: &str, name: &str) -> bool {
    matches!((tag, name), (_, "title") | ("a", "href") | ("img", "alt" | "src") | ("td" | "th", "colspan" | "rowspan"))
}

/// Escapes text for an HTML text node or a quoted attribute.
pub fn escape(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && !matches!(c, '\n' | '\t' | '\r') => {}
            c => out.push(c),
        }
    }
}

/// Decodes the character references that could hide a scheme (`jav&#x61;script:`); unknown
/// named references stay as written (and are escaped on output).
pub fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(rest.get(..at).unwrap_or_default());
        let tail = rest.get(at..).unwrap_or_default();
        let end = tail.char_indices().take(12).find(|(_, c)| *c == ';' || c.is_whitespace()).map(|(i, _)| i);
        let decoded = end.filter(|i| tail.get(*i..).is_some_and(|t| t.starts_with(';'))).and_then(|i| {
            let name = tail.get(1..i)?;
            let c = match name {
                "amp" => '&',
                "lt" => '<',
                "gt" => '>',
                "quot" => '"',
                "apos" => '\'',
                "nbsp" => '\u{a0}',
                "colon" => ':',
                "tab" | "Tab" => '\t',
                "newline" | "NewLine" => '\n',
                _ => {
                    let number = name.strip_prefix('#')?;
                    let value = match number.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                        None => number.parse::<u32>().ok()?,
                    };
                    char::from_u32(value)?
                }
            };
            Some((c, i + 1))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = tail.get(len..).unwrap_or_default();
            }
            None => {
                out.push('&');
                rest = tail.get(1..).unwrap_or_default();
            }
        }
    }
    out.push_str(rest);
    out
}

/// A link target kept only for the web and mail: `http:`, `https:`, `mailto:`.
fn safe_href(value: &str) -> Option<String> {
    let decoded = decode_entities(value);
    let compact: String = decoded.chars().filter(|c| !c.is_whitespace() && !c.is_control()).collect();
    let lower = compact.to_ascii_lowercase();
    ["http://", "https://", "mailto:"].iter().any(|s| lower.starts_with(s)).then_some(compact)
}

/// An image source that loads nothing from outside: a small inline PNG, JPEG or GIF.
fn inline_image(value: &str) -> Option<String> {
    let compact: String = decode_entities(value).chars().filter(|c| !c.is_whitespace()).collect();
    let lower = compact.to_ascii_lowercase();
    let inline = ["data:image/png;base64,", "data:image/jpeg;base64,", "data:image/gif;base64,"]
        .iter()
        .any(|p| lower.starts_with(p));
    (inline && compact.len() <= 200_000).then_some(compact)
}

/// One parsed tag: its lower-case name, whether it closes, and its attributes (names lower-case).
struct Tag {
    name: String,
    closing: bool,
    attributes: Vec<(String, String)>,
}

/// Reads a tag starting just after `<`; yields the tag and the bytes consumed (through `>`).
fn read_tag(input: &str) -> Option<(Tag, usize)> {
    let closing = input.starts_with('/');
    let body_start = usize::from(closing);
    let first = input.get(body_start..)?.chars().next()?;
    if !first.is_ascii_alphabetic() {
        return None;
    }
    let mut chars = input.char_indices().skip(body_start).peekable();
    let mut name = String::new();
    while let Some((_, c)) = chars.peek().copied() {
        if c.is_ascii_alphanumeric() {
            name.push(c.to_ascii_lowercase());
            chars.next();
        } else {
            break;
        }
    }
    let mut attributes = Vec::new();
    loop {
        while chars.peek().is_some_and(|(_, c)| c.is_whitespace() || *c == '/') {
            chars.next();
        }
        let (at, c) = chars.next()?;
        if c == '>' {
            return Some((Tag { name, closing, attributes }, at + 1));
        }
        let mut attr = String::from(c.to_ascii_lowercase());
        while let Some((_, c)) = chars.peek().copied() {
            if c.is_whitespace() || matches!(c, '=' | '>' | '/') {
                break;
            }
            attr.push(c.to_ascii_lowercase());
            chars.next();
        }
        while chars.peek().is_some_and(|(_, c)| c.is_whitespace()) {
            chars.next();
        }
        let mut value = String::new();
        if chars.peek().is_some_and(|(_, c)| *c == '=') {
            chars.next();
            while chars.peek().is_some_and(|(_, c)| c.is_whitespace()) {
                chars.next();
            }
            match chars.peek().copied() {
                Some((_, quote @ ('"' | '\''))) => {
                    chars.next();
                    for (_, c) in chars.by_ref() {
                        if c == quote {
                            break;
                        }
                        value.push(c);
                    }
                }
                _ => {
                    while let Some((_, c)) = chars.peek().copied() {
                        if c.is_whitespace() || c == '>' {
                            break;
                        }
                        value.push(c);
                        chars.next();
                    }
                }
            }
        }
        attributes.push((attr, value));
    }
}

/// Writes one allowed start tag with its allowed attributes.
fn write_start(tag: &Tag, out: &mut String) {
    if tag.name == "img" {
        let alt = tag.attributes.iter().find(|(n, _)| n == "alt").map(|(_, v)| decode_entities(v));
        let src = tag.attributes.iter().find(|(n, _)| n == "src").and_then(|(_, v)| inline_image(v));
        match src {
            Some(src) => {
                out.push_str("<img src=\"");
                escape(&src, out);
                out.push_str("\" alt=\"");
                escape(alt.as_deref().unwrap_or_default(), out);
                out.push_str("\">");
            }
            None => {
                out.push_str("<span class=\"blocked-image\">[image");
                if let Some(alt) = alt.filter(|a| !a.trim().is_empty()) {
                    out.push_str(": ");
                    escape(alt.trim(), out);
                }
                out.push_str(" not loaded]</span>");
            }
        }
        return;
    }
    out.push('<');
    out.push_str(&tag.name);
    for (name, value) in &tag.attributes {
        if !allowed_attribute(&tag.name, name) || name == "src" {
            continue;
        }
        let value = match name.as_str() {
            "href" => match safe_href(value) {
                Some(href) => href,
                None => continue,
            },
            "colspan" | "rowspan" => match value.trim().parse::<u16>() {
                Ok(n) if (1..=100).contains(&n) => n.to_string(),
                _ => continue,
            },
            _ => decode_entities(value),
        };
        out.push(' ');
        out.push_str(name);
        out.push_str("=\"");
        escape(&value, out);
        out.push('"');
    }
    if tag.name == "a" {
        out.push_str(" rel=\"nofollow noopener noreferrer\" target=\"_blank\"");
    }
    out.push('>');
}

/// Index just past the end of a dropped element's content (`</name ...>`), or the end.
fn skip_content(input: &str, name: &str) -> usize {
    let lower = input.to_ascii_lowercase();
    let closing = format!("</{name}");
    let mut from = 0;
    while let Some(found) = lower.get(from..).and_then(|l| l.find(&closing)) {
        let at = from + found;
        let after = lower.get(at + closing.len()..).and_then(|a| a.chars().next());
        if after.is_none_or(|c| !c.is_ascii_alphanumeric()) {
            return lower.get(at..).and_then(|l| l.find('>')).map(|gt| at + gt + 1).unwrap_or(input.len());
        }
        from = at + closing.len();
    }
    input.len()
}

/// Text between tags: character references decoded, then everything escaped again.
fn write_text(text: &str, out: &mut String) {
    escape(&decode_entities(text), out);
}

/// The HTML made safe to show inside a Caredesk page.
pub fn sanitize_html(input: &str) -> String {
    let mut out = String::with_capacity(input.len().min(1 << 20));
    let mut open: Vec<String> = Vec::new();
    let mut rest = input;
    while !rest.is_empty() {
        let Some(lt) = rest.find('<') else {
            write_text(rest, &mut out);
            break;
        };
        write_text(rest.get(..lt).unwrap_or_default(), &mut out);
        let after = rest.get(lt + 1..).unwrap_or_default();
        if let Some(comment) = after.strip_prefix("!--") {
            rest = comment.find("-->").and_then(|end| comment.get(end + 3..)).unwrap_or_default();
            continue;
        }
        if after.starts_with(['!', '?']) {
            rest = after.find('>').and_then(|end| after.get(end + 1..)).unwrap_or_default();
            continue;
        }
        let Some((tag, used)) = read_tag(after) else {
            out.push_str("&lt;");
            rest = after;
            continue;
        };
        rest = after.get(used..).unwrap_or_default();
        if !tag.closing && DROPPED_WITH_CONTENT.contains(&tag.name.as_str()) {
            rest = rest.get(skip_content(rest, &tag.name)..).unwrap_or_default();
            continue;
        }
        if !allowed_tag(&tag.name) {
            continue;
        }
        if tag.closing {
            if let Some(depth) = open.iter().rposition(|t| *t == tag.name) {
                for name in open.drain(depth..).rev() {
                    out.push_str("</");
                    out.push_str(&name);
                    out.push('>');
                }
            }
        } else if open.len() < MAX_DEPTH {
            write_start(&tag, &mut out);
            if !VOID_TAGS.contains(&tag.name.as_str()) {
                open.push(tag.name);
            }
        }
    }
    for name in open.into_iter().rev() {
        out.push_str("</");
        out.push_str(&name);
        out.push('>');
    }
    out
}
