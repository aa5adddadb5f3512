//! The customer notice of a returned payment (`payment_returned`): sent through
//! `correspondence::ops::send_notice` in the reversal's own transaction, keyed to the payment
//! (which is reversed once), beside the system contact the reversal logs for its timeline.

use crate::PaymentError;
use crate::model::ReversalReason;
use crate::store::PaymentRow;
use correspondence::ops::{NoticeOutcome, SendRequest};
use db::Tx;
use kernel::{Actor, Money, Timestamp};

/// The notice (and template key) of a payment returned by the bank, with the NSF fee.
pub const PAYMENT_RETURNED_NOTICE: &str = "payment_returned";

/// How the customer knows which payment it was: the check number, the card or bank account's
/// last four digits, or the lockbox reference.
pub fn payment_reference(payment: &PaymentRow) -> String {
    let last_four = payment.last_four.as_deref().unwrap_or("");
    match payment.tender.as_str() {
        "check" | "money_order" if payment.check_number.is_some() => {
            format!("{} {}", payment.tender.replace('_', " "), payment.check_number.as_deref().unwrap_or(""))
        }
        "card" if !last_four.is_empty() => {
            format!("{} card ending {last_four}", payment.card_brand.as_deref().unwrap_or("card"))
        }
        "ach" if !last_four.is_empty() => format!("bank account ending {last_four}"),
        _ => match &payment.file_reference {
            Some(reference) => format!("reference {reference}"),
            None => format!("{} received {}", payment.tender.replace('_', " "), payment.received_date),
        },
    }
}

/// Sends the notice for a payment returned (`nsf` or `returned_check`); a reversal made for an
/// error is our correction, not the customer's news, and sends none.
pub async fn payment_returned_notice(
    tx: &mut Tx,
    actor: &Actor,
    payment: &PaymentRow,
    reason: ReversalReason,
    fee: Money,
    now: Timestamp,
) -> Result<Option<NoticeOutcome>, PaymentError> {
    if !reason.charges_fee() {
        return Ok(None);
    }
    let amount = Money::new(payment.amount_minor, fee.currency);
    let why = match reason {
        ReversalReason::Nsf => "insufficient funds",
        _ => "returned by the bank",
    };
    let extra = [
        ("payment_number", crate::model::payment_number(payment.payment_id)),
        ("payment_amount", amount.to_string()),
        ("payment_reference", payment_reference(payment)),
        ("payment_date", payment.received_date.clone()),
        ("return_reason", why.to_string()),
        ("fee_amount", fee.to_string()),
    ];
    let request = SendRequest {
        template_key: PAYMENT_RETURNED_NOTICE.to_string(),
        customer_id: payment.customer_id,
        account_id: Some(payment.account_id),
        extra: extra.into_iter().map(|(name, value)| (name.to_string(), value)).collect(),
        ..SendRequest::default()
    };
    let event_key = crate::model::payment_number(payment.payment_id);
    Ok(Some(correspondence::ops::send_notice(tx, actor, &event_key, request, now).await?))
}
