//! The outbound drain benchmark (ignored in normal runs; bench/email_out.sh runs it): enqueue
//! N emails, then time one drain to a local aiosmtpd sink.

use super::sink;
use crate::model::{EmailAddress, OutboundEmail};
use crate::ops;
use crate::outbox::{Mailer, drain};
use db::scratch;
use kernel::{Actor, FixedClock, Timestamp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run by bench/email_out.sh"]
async fn bench_email_out() -> Result<(), Box<dyn std::error::Error>> {
    let Some(sink) = sink::start().await else { return Ok(()) };
    let n: usize = std::env::var("N").ok().and_then(|v| v.parse().ok()).unwrap_or(5_000);
    let concurrency: usize = std::env::var("CONCURRENCY").ok().and_then(|v| v.parse().ok()).unwrap_or(8);
    let scratch = scratch::open().await?;
    let now = Timestamp::from_micros(1_800_000_000_000_000);
    let started = std::time::Instant::now();
    let mut tx = scratch.db.begin().await?;
    for i in 0..n {
        let email = OutboundEmail {
            to: vec![EmailAddress::parse(&format!("c{i}@example.com"), "to")?],
            subject: format!("Your bill number {i}"),
            text_body: "Dear customer,\n\nYour bill is ready. Thank you.\n".repeat(4),
            ..OutboundEmail::default()
        };
        ops::queue_email(&mut tx, &Actor::system("bench"), email, now).await?;
    }
    tx.commit().await?;
    let enqueue = started.elapsed();
    let mut settings = sink.settings();
    settings.concurrency = concurrency;
    settings.send_timeout_seconds = 30;
    let mailer = Mailer::new(&settings)?;
    let started = std::time::Instant::now();
    let outcome = drain(&scratch.db, &mailer, &FixedClock::at(now)).await?;
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(outcome.sent, n as u64);
    let received = sink.messages().len();
    assert_eq!(received, n);
    let rate = n as f64 / seconds;
    println!(
        "email_out backend={:?} n={n} concurrency={concurrency} enqueue_s={:.2} drain_s={seconds:.2} \
         emails_per_s={rate:.0}",
        scratch.db.backend(),
        enqueue.as_secs_f64()
    );
    Ok(())
}
