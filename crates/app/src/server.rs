//! Router assembly and serving. Every module's routes are merged here, the access table is
//! handed to the auth guard, and the cross-cutting layers (metrics, tracing, compression,
//! timeouts, body limits, security headers) are applied once, in one order.

use crate::Config;
use axum::Router;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use db::Db;
use db::jobs::Registry;
use http::{HeaderName, HeaderValue, StatusCode, Uri};
use kernel::Clock;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use web::{AppState, RouteInfo, Routes};

const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;
const CONTENT_SECURITY_POLICY: &str = concat!(
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; ",
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
);

/// Every route of the application, with its declared access.
pub fn all_routes() -> Routes {
    staff::routes()
        .merge(customers::routes())
        .merge(contacts::routes())
        .merge(correspondence::routes())
        .merge(cases::routes())
        .merge(reports::routes())
        .merge(knowledge::routes())
        .merge(ledger::routes())
        .merge(billing::routes())
        .merge(payments::routes())
        .merge(charges::routes())
        .merge(live::routes())
        .merge(mailbox::routes())
        .merge(crate::money_pages::routes())
        .merge(crate::system::routes())
}

/// The table the role-walking test walks.
pub fn route_table() -> Vec<RouteInfo> {
    all_routes().table
}

/// The process-wide metrics recorder (installed once; later calls reuse it).
pub fn metrics_handle() -> Option<PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full("http_request_duration_seconds".into()),
                    web::metrics::LATENCY_BUCKETS,
                )
                .ok()?
                .install_recorder()
                .ok()
        })
        .clone()
}

pub fn router(mut state: AppState, timeout: Duration) -> Router {
    // Installed before the first request, so no measurement is lost to the no-op recorder.
    if metrics_handle().is_none() {
        tracing::warn!("metrics recorder could not be installed; /metrics will be empty");
    }
    let routes = all_routes();
    let access: HashMap<(String, String), web::Access> =
        routes.table.iter().map(|r| ((r.method.as_str().to_string(), r.path.to_string()), r.access)).collect();
    state.access = Arc::new(access);
    routes
        .router
        .fallback(not_found)
        .layer(from_fn_with_state(state.clone(), web::auth::guard))
        .layer(from_fn(web::metrics::track))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("content-security-policy"),
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("x-content-type-options"),
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("referrer-policy"),
            HeaderValue::from_static("same-origin"),
        ))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(CompressionLayer::new())
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, timeout))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

async fn not_found(uri: Uri) -> Response {
    let error = web::ApiError::not_found("page or resource");
    if web::routes::is_api_path(uri.path()) { error.into_response() } else { web::PageError(error).into_response() }
}

/// The background worker's handlers.
pub fn job_registry(settings: Arc<web::WebSettings>, clock: Arc<dyn Clock>) -> Registry {
    let mut registry = Registry::new();
    let sla_clock = clock.clone();
    let bill_clock = clock.clone();
    let (fee_clock, review_clock) = (clock.clone(), clock.clone());
    registry.register(charges::ops::LATE_FEES_JOB, move |db, job| {
        let clock = fee_clock.clone();
        async move { charges::ops::late_fees_job(db, &job.payload, clock.now()).await }
    });
    registry.register(charges::ops::REVIEW_ARRANGEMENTS_JOB, move |db, job| {
        let clock = review_clock.clone();
        async move { charges::ops::review_arrangements_job(db, &job.payload, clock.now()).await }
    });
    registry.register(crate::system::PURGE_SESSIONS_JOB, move |db, _job| {
        let settings = settings.clone();
        let clock = clock.clone();
        async move {
            let removed = staff::ops::purge_sessions(&db, &settings, clock.now()).await.map_err(|e| e.to_string())?;
            tracing::info!(removed, "purged expired sessions");
            Ok(())
        }
    });
    registry.register(cases::SLA_SCAN_JOB, move |db, _job| {
        let clock = sla_clock.clone();
        async move {
            let outcome = cases::ops::sla_scan(&db, clock.now()).await.map_err(|e| e.to_string())?;
            tracing::info!(
                checked = outcome.checked,
                at_risk = outcome.newly_at_risk,
                breached = outcome.newly_breached,
                "SLA scan"
            );
            Ok(())
        }
    });
    // Resumable: a run whose lease lapses picks up at its committed cursor.
    registry.register(billing::BILL_RUN_JOB, move |db, job| {
        let clock = bill_clock.clone();
        async move {
            let run = billing::run::run_job(&db, clock.as_ref(), &job.payload).await?;
            tracing::info!(run = run.bill_run_id, bills = run.bills_written, status = %run.status, "bill run");
            Ok(())
        }
    });
    registry
}

/// A served Caredesk: its address and the means to stop it.
pub struct RunningApp {
    pub addr: SocketAddr,
    pub db: Db,
    stop: watch::Sender<bool>,
    server: tokio::task::JoinHandle<()>,
}

impl RunningApp {
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.server.await;
    }

    /// Waits until the server ends (it ends on ctrl-c or SIGTERM when serving from the CLI).
    pub async fn wait(self) {
        let _ = self.server.await;
    }
}

/// Binds, then serves the router and runs the job worker until stopped.
pub async fn spawn(config: &Config, db: Db, clock: Arc<dyn Clock>) -> std::io::Result<RunningApp> {
    let listener = TcpListener::bind(&config.server.listen).await?;
    let addr = listener.local_addr()?;
    let state = AppState::new(db.clone(), clock.clone(), config.web_settings());
    // Queueing reads the [smtp] Message-ID domain and attempt limit from the database.
    correspondence::settings::install(&db, &config.smtp).await.map_err(std::io::Error::other)?;
    let app = router(state.clone(), Duration::from_secs(config.server.request_timeout_seconds));
    let (stop, mut stopped) = watch::channel(false);
    if config.jobs.worker {
        let mut registry = job_registry(state.settings.clone(), clock.clone());
        correspondence::outbox::register_jobs(&mut registry, &config.smtp, clock.clone());
        mailbox::imap::register_jobs(&mut registry, config.imap.clone(), clock.clone());
        let (jobs, imap) = (config.jobs.clone(), config.imap.clone());
        tokio::spawn(run_worker(db.clone(), registry, clock, jobs, imap, stop.subscribe()));
    }
    let server = tokio::spawn(async move {
        let service = app.into_make_service_with_connect_info::<SocketAddr>();
        let shutdown = async move {
            let _ = stopped.changed().await;
        };
        // Small frames (chat, server-sent events) must go out at once, not wait behind Nagle's
        // algorithm for the peer's delayed acknowledgement (up to 40 ms each on Linux).
        let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
            let _ = tcp.set_nodelay(true);
        });
        if let Err(error) = axum::serve(listener, service).with_graceful_shutdown(shutdown).await {
            tracing::error!(%error, "server stopped with an error");
        }
    });
    Ok(RunningApp { addr, db, stop, server })
}

async fn run_worker(
    db: Db,
    registry: Registry,
    clock: Arc<dyn Clock>,
    jobs: crate::config::JobsConfig,
    imap: mailbox::imap::ImapSettings,
    mut stopped: watch::Receiver<bool>,
) {
    let worker = format!("{}-{}", std::process::id(), db::random_token(4));
    let poll = Duration::from_millis(jobs.poll_milliseconds.max(10));
    loop {
        if let Err(error) = crate::system::schedule_recurring(&db, &imap, clock.now()).await {
            tracing::warn!(%error, "could not schedule recurring jobs");
        }
        loop {
            match registry.run_one(&db, &worker, clock.now(), jobs.lease_seconds).await {
                Ok(true) => continue,
                Ok(false) => break,
                Err(error) => {
                    tracing::warn!(%error, "job worker could not claim work");
                    break;
                }
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(poll) => {}
            _ = stopped.changed() => return,
        }
    }
}
