//! The page chrome: title, navigation by role, the signed-in user, the CSRF token every form and
//! htmx request echoes, and whether to render the whole page or only its content (htmx).

use crate::CurrentUser;
use askama::Template;
use http::StatusCode;
use kernel::Permission;

/// One navigation entry; shown only to roles that hold its permission.
pub struct NavEntry {
    pub section: &'static str,
    pub href: &'static str,
    pub label: &'static str,
    pub permission: Permission,
}

/// The navigation of the whole application. Each module adds its entries here.
pub const NAV: &[NavEntry] = &[
    NavEntry { section: "Desk", href: "/", label: "Home", permission: Permission::Profile },
    NavEntry { section: "Desk", href: "/search", label: "Search", permission: Permission::Search },
    NavEntry { section: "Desk", href: "/customers", label: "Customers", permission: Permission::CustomersRead },
    NavEntry { section: "Desk", href: "/knowledge", label: "Knowledge", permission: Permission::KnowledgeRead },
    NavEntry { section: "Desk", href: "/cases", label: "My work", permission: Permission::CasesWork },
    NavEntry { section: "Desk", href: "/chat", label: "Chat", permission: Permission::ChatWork },
    NavEntry { section: "Desk", href: "/queues", label: "Queues", permission: Permission::CasesManage },
    NavEntry { section: "Desk", href: "/letters", label: "Print queue", permission: Permission::CorrespondenceManage },
    NavEntry { section: "Desk", href: "/outbox", label: "Outbox", permission: Permission::CorrespondenceManage },
    NavEntry {
        section: "Desk",
        href: "/reports/inquiries",
        label: "Inquiries report",
        permission: Permission::ReportsRead,
    },
    NavEntry { section: "Money", href: "/cashier", label: "Cashier", permission: Permission::PaymentsTake },
    NavEntry { section: "Money", href: "/drawers", label: "Drawers", permission: Permission::PaymentsManage },
    NavEntry {
        section: "Money",
        href: "/bank-deposits",
        label: "Bank deposits",
        permission: Permission::PaymentsManage,
    },
    NavEntry {
        section: "Money",
        href: "/payment-files",
        label: "Payment files",
        permission: Permission::PaymentsManage,
    },
    NavEntry { section: "Money", href: "/billing/runs", label: "Bill runs", permission: Permission::BillingManage },
    NavEntry {
        section: "Money",
        href: "/billing/meter-reads",
        label: "Meter reads",
        permission: Permission::BillingManage,
    },
    NavEntry { section: "Money", href: "/approvals", label: "Approvals", permission: Permission::MoneyApprove },
    NavEntry { section: "Money", href: "/payouts", label: "Refund payouts", permission: Permission::PaymentsManage },
    NavEntry {
        section: "Money",
        href: "/ledger/trial-balance",
        label: "Trial balance",
        permission: Permission::LedgerRead,
    },
    NavEntry { section: "Money", href: "/ledger/aging", label: "Aging", permission: Permission::LedgerRead },
    NavEntry { section: "Admin", href: "/admin/users", label: "Users", permission: Permission::UsersRead },
    NavEntry { section: "Admin", href: "/admin/rates", label: "Rate schedules", permission: Permission::BillingManage },
    NavEntry {
        section: "Admin",
        href: "/admin/charges",
        label: "Fees and charges",
        permission: Permission::LedgerManage,
    },
    NavEntry {
        section: "Admin",
        href: "/admin/ledger-accounts",
        label: "Chart of accounts",
        permission: Permission::LedgerRead,
    },
    NavEntry { section: "Admin", href: "/admin/sla", label: "SLA and hours", permission: Permission::CasesManage },
    NavEntry {
        section: "Admin",
        href: "/admin/templates",
        label: "Templates",
        permission: Permission::CorrespondenceManage,
    },
    NavEntry {
        section: "Admin",
        href: "/admin/reason-codes",
        label: "Reason codes",
        permission: Permission::ContactsManage,
    },
    NavEntry {
        section: "Admin",
        href: "/chat/settings",
        label: "Chat and telephony",
        permission: Permission::ChatManage,
    },
    NavEntry { section: "Admin", href: "/admin/roles", label: "Roles", permission: Permission::UsersRead },
    NavEntry { section: "Admin", href: "/admin/audit", label: "Audit trail", permission: Permission::AuditRead },
    NavEntry { section: "Admin", href: "/admin/jobs", label: "Jobs", permission: Permission::JobsRead },
    NavEntry { section: "You", href: "/profile", label: "Profile", permission: Permission::Profile },
    NavEntry { section: "You", href: "/api/docs", label: "API docs", permission: Permission::Profile },
];

pub struct NavLink {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

pub struct NavSection {
    pub title: &'static str,
    pub links: Vec<NavLink>,
}

/// Everything the base layout needs; every page template carries one as `chrome`.
pub struct Chrome {
    pub title: String,
    pub signed_in: bool,
    pub user_name: String,
    pub role_label: String,
    pub csrf: String,
    pub nav: Vec<NavSection>,
    pub partial: bool,
    pub flash: Option<String>,
    pub version: &'static str,
}

impl Chrome {
    pub fn new(title: &str, user: Option<&CurrentUser>, current_path: &str, partial: bool) -> Chrome {
        let mut nav: Vec<NavSection> = Vec::new();
        if let Some(user) = user {
            for entry in NAV.iter().filter(|e| user.role.permits(e.permission)) {
                let link = NavLink { href: entry.href, label: entry.label, current: current_path == entry.href };
                match nav.iter_mut().find(|s| s.title == entry.section) {
                    Some(section) => section.links.push(link),
                    None => nav.push(NavSection { title: entry.section, links: vec![link] }),
                }
            }
        }
        Chrome {
            title: title.to_string(),
            signed_in: user.is_some(),
            user_name: user.map(|u| u.display_name.clone()).unwrap_or_default(),
            role_label: user.map(|u| u.role.label().to_string()).unwrap_or_default(),
            csrf: user.map(|u| u.csrf_token().to_string()).unwrap_or_default(),
            nav,
            partial,
            flash: None,
            version: env!("CARGO_PKG_VERSION"),
        }
    }

    pub fn with_flash(mut self, flash: impl Into<String>) -> Chrome {
        self.flash = Some(flash.into());
        self
    }

    /// The JSON for `hx-headers`, so every htmx request carries the CSRF token.
    pub fn hx_headers(&self) -> String {
        serde_json::json!({ crate::CSRF_HEADER: self.csrf }).to_string()
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    status: u16,
    reason: &'a str,
    detail: &'a str,
}

/// A standalone error page (no chrome: the error may be that there is no session).
pub fn error_page(status: StatusCode, detail: &str) -> String {
    let page = ErrorPage { status: status.as_u16(), reason: status.canonical_reason().unwrap_or("Error"), detail };
    page.render().unwrap_or_else(|_| format!("{} {}", status.as_u16(), detail))
}

/// Renders a template into an HTML response, or a 500 page if rendering fails.
pub fn render<T: Template>(template: &T) -> Result<axum::response::Html<String>, crate::PageError> {
    template.render().map(axum::response::Html).map_err(|e| crate::PageError(crate::ApiError::internal(e)))
}
