//! Merge fields: `{{customer.name}}`-style placeholders in template subjects and bodies, parsed
//! here (no template engine: the set of fields is closed and checked when a template is saved)
//! and filled from the facts the merge-data loader read.

use crate::CorrespondenceError;
use std::collections::BTreeMap;

/// Every field a template may use, besides `extra.<name>` values a caller passes.
pub const FIELDS: [&str; 12] = [
    "customer.name",
    "customer.number",
    "account.number",
    "account.balance",
    "account.due_date",
    "case.number",
    "case.subject",
    "bill.number",
    "bill.amount",
    "bill.due_date",
    "agent.name",
    "today",
];

const EXTRA_PREFIX: &str = "extra.";

/// A piece of a parsed template: text as written, or a field to fill.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Text(String),
    Field(String),
}

fn known(name: &str) -> bool {
    FIELDS.contains(&name)
        || name.strip_prefix(EXTRA_PREFIX).is_some_and(|rest| {
            (1..=40).contains(&rest.len())
                && rest.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        })
}

/// Splits `text` into pieces; `part` (subject or body) names where an error is.
pub fn parse(text: &str, part: &'static str) -> Result<Vec<Piece>, CorrespondenceError> {
    let mut pieces = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let (before, after) = rest.split_at(start);
        if !before.is_empty() {
            pieces.push(Piece::Text(before.to_string()));
        }
        let after = after.get(2..).unwrap_or("");
        let Some(end) = after.find("}}") else {
            return Err(CorrespondenceError::MergeFieldUnclosed { field: part });
        };
        let name = after.get(..end).unwrap_or("").trim();
        if !known(name) {
            return Err(CorrespondenceError::MergeFieldUnknown { field: part, name: name.to_string() });
        }
        pieces.push(Piece::Field(name.to_string()));
        rest = after.get(end + 2..).unwrap_or("");
    }
    if !rest.is_empty() {
        pieces.push(Piece::Text(rest.to_string()));
    }
    Ok(pieces)
}

/// The fields a template uses, each once, in order of first use.
pub fn fields_used(pieces: &[Piece]) -> Vec<String> {
    let mut used: Vec<String> = Vec::new();
    for piece in pieces {
        if let Piece::Field(name) = piece
            && !used.contains(name)
        {
            used.push(name.clone());
        }
    }
    used
}

/// The values to merge, by field name.
pub type MergeValues = BTreeMap<String, String>;

/// Fills every field; a field without a value is an error naming it (a case field with no case
/// chosen, a bill field for an account never billed).
pub fn render(pieces: &[Piece], values: &MergeValues) -> Result<String, CorrespondenceError> {
    let mut out = String::new();
    for piece in pieces {
        match piece {
            Piece::Text(text) => out.push_str(text),
            Piece::Field(name) => match values.get(name) {
                Some(value) => out.push_str(value),
                None => return Err(CorrespondenceError::MergeValueMissing { name: name.clone() }),
            },
        }
    }
    Ok(out)
}

/// Parses and renders in one step.
pub fn merge(text: &str, part: &'static str, values: &MergeValues) -> Result<String, CorrespondenceError> {
    render(&parse(text, part)?, values)
}
