//! Letters as PDF and the print queue: letters wait as `queued` during the day; a print batch
//! takes every queued letter into ONE PDF for mailing and marks them printed, in one
//! transaction, so a letter is in exactly one batch.

use crate::CorrespondenceError;
use crate::store::letters::{self as store, LetterRow, PrintBatchRow};
use db::Tx;
use db::audit::{self, AuditEvent};
use kernel::{Actor, Timestamp};
use pdf::letter::LetterDocument;
use serde_json::json;

/// Printed on every letter as the sender.
const ORGANISATION_NAME: &str = "Customer Service";
const ORGANISATION_LINES: [&str; 1] = ["Please quote your account number when you contact us"];

fn long_date(at: Timestamp) -> String {
    let date = at.to_offset_date_time().date();
    format!("{} {} {}", date.day(), date.month(), date.year())
}

/// The letter as the PDF crate lays it out.
pub fn document(letter: &LetterRow) -> LetterDocument {
    LetterDocument {
        page_size: pdf::PageSize::A4,
        created: None,
        organisation_name: ORGANISATION_NAME.into(),
        organisation_address_lines: ORGANISATION_LINES.iter().map(|l| l.to_string()).collect(),
        date: long_date(Timestamp::from_micros(letter.created_at)),
        recipient_lines: letter.recipient.lines().map(str::to_string).collect(),
        subject: letter.subject.clone(),
        body_paragraphs: letter.body.split("\n\n").map(|p| p.trim().to_string()).filter(|p| !p.is_empty()).collect(),
        signature_lines: vec!["Yours sincerely,".into(), String::new(), ORGANISATION_NAME.into()],
    }
}

pub async fn letter(tx: &mut Tx, letter_id: i64) -> Result<LetterRow, CorrespondenceError> {
    store::get_letter(tx, letter_id).await?.ok_or(CorrespondenceError::LetterNotFound)
}

/// Letters newest first; `status` empty means every status.
pub async fn list_letters(
    tx: &mut Tx,
    status: &str,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<LetterRow>, CorrespondenceError> {
    Ok(store::list_letters(tx, status, before.unwrap_or(i64::MAX), limit.clamp(1, 200)).await?)
}

pub async fn letter_pdf(tx: &mut Tx, letter_id: i64) -> Result<Vec<u8>, CorrespondenceError> {
    let row = letter(tx, letter_id).await?;
    pdf::letter::render(&document(&row)).map_err(|e| CorrespondenceError::Pdf(e.to_string()))
}

/// A print batch: its id, how many letters, and the one PDF holding them all.
#[derive(Debug, Clone)]
pub struct PrintBatch {
    pub print_batch_id: i64,
    pub letter_count: usize,
    pub pdf: Vec<u8>,
}

fn batch_pdf_of(letters: &[LetterRow], batch_id: i64) -> Result<Vec<u8>, CorrespondenceError> {
    let documents: Vec<LetterDocument> = letters.iter().map(document).collect();
    let info = pdf::DocumentInfo {
        title: format!("Print batch {batch_id}"),
        author: ORGANISATION_NAME.into(),
        subject: format!("{} letters", letters.len()),
        created: None,
    };
    pdf::letter::render_batch(&documents, info).map_err(|e| CorrespondenceError::Pdf(e.to_string()))
}

/// Takes every letter queued at or before `through` into one batch and one PDF (`through` is
/// `now` for "everything waiting", or the end of a day for that day's letters).
pub async fn print_batch(
    tx: &mut Tx,
    actor: &Actor,
    through: Timestamp,
    now: Timestamp,
) -> Result<PrintBatch, CorrespondenceError> {
    let queued = store::queued_letters(tx, through.micros()).await?;
    if queued.is_empty() {
        return Err(CorrespondenceError::PrintQueueEmpty);
    }
    let count = i64::try_from(queued.len()).unwrap_or(i64::MAX);
    let batch_id = store::insert_batch(tx, count, &actor.name(), now.micros()).await?;
    let mut taken = Vec::with_capacity(queued.len());
    for letter in queued {
        if store::mark_printed(tx, letter.letter_id, batch_id, now.micros()).await? {
            taken.push(letter);
        }
    }
    let pdf = batch_pdf_of(&taken, batch_id)?;
    let detail = json!({ "letters": taken.iter().map(|l| l.letter_id).collect::<Vec<_>>() });
    let event =
        AuditEvent { action: "print_batch.created", entity: "print_batch", entity_id: batch_id.to_string(), detail };
    audit::append(tx, actor, event, now).await?;
    Ok(PrintBatch { print_batch_id: batch_id, letter_count: taken.len(), pdf })
}

/// The last day of a print batch's letters: `YYYY-MM-DD`, read as the end of that UTC day.
pub fn end_of_day(date: &str) -> Result<Timestamp, CorrespondenceError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let day = time::Date::parse(date.trim(), &format).map_err(|_| CorrespondenceError::DateInvalid)?;
    let next = day.next_day().ok_or(CorrespondenceError::DateInvalid)?;
    let micros = next.midnight().assume_utc().unix_timestamp().saturating_mul(kernel::clock::MICROS_PER_SECOND);
    Ok(Timestamp::from_micros(micros - 1))
}

/// The most recent print batches, newest first.
pub async fn print_batches(tx: &mut Tx, limit: i64) -> Result<Vec<PrintBatchRow>, CorrespondenceError> {
    Ok(store::batches(tx, limit.clamp(1, 200)).await?)
}

/// The PDF of an earlier batch, made again from its letters.
pub async fn batch_pdf(tx: &mut Tx, batch_id: i64) -> Result<Vec<u8>, CorrespondenceError> {
    let letters = store::letters_of_batch(tx, batch_id).await?;
    if letters.is_empty() {
        return Err(CorrespondenceError::PrintBatchNotFound);
    }
    batch_pdf_of(&letters, batch_id)
}
