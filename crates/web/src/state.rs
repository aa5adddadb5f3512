//! What every handler can reach: the database, the clock and the web settings.

use db::Db;
use kernel::Clock;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Settings the web layer enforces; the app fills them from its typed config.
#[derive(Debug, Clone)]
pub struct WebSettings {
    pub session_idle_seconds: i64,
    pub session_absolute_seconds: i64,
    /// Mark cookies `Secure` (serve behind HTTPS).
    pub secure_cookies: bool,
    pub lockout_threshold: i32,
    pub lockout_seconds: i64,
    /// Sign-in attempts one client address may make per minute on this node.
    pub signin_per_minute_per_ip: u32,
}

impl Default for WebSettings {
    fn default() -> Self {
        WebSettings {
            session_idle_seconds: 30 * 60,
            session_absolute_seconds: 12 * 3_600,
            secure_cookies: false,
            lockout_threshold: 5,
            lockout_seconds: 15 * 60,
            signin_per_minute_per_ip: 30,
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub clock: Arc<dyn Clock>,
    pub settings: Arc<WebSettings>,
    /// Access rules by (method, route pattern); filled when the router is assembled.
    pub access: Arc<HashMap<(String, String), crate::Access>>,
    /// Per-node sign-in attempt counts by client address, for throttling before hashing.
    pub signin_window: Arc<Mutex<HashMap<String, (i64, u32)>>>,
}

impl AppState {
    pub fn new(db: Db, clock: Arc<dyn Clock>, settings: WebSettings) -> AppState {
        AppState {
            db,
            clock,
            settings: Arc::new(settings),
            access: Arc::new(HashMap::new()),
            signin_window: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// Counts one sign-in attempt from `client`; false once it exceeds the per-minute budget.
    pub fn allow_signin_attempt(&self, client: &str) -> bool {
        let minute = self.clock.now().unix_seconds() / 60;
        let Ok(mut window) = self.signin_window.lock() else {
            return true;
        };
        if window.len() > 100_000 {
            window.retain(|_, (m, _)| *m == minute);
        }
        let entry = window.entry(client.to_string()).or_insert((minute, 0));
        if entry.0 != minute {
            *entry = (minute, 0);
        }
        entry.1 += 1;
        entry.1 <= self.settings.signin_per_minute_per_ip
    }
}
