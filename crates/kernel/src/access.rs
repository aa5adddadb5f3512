//! Who may do what. Roles are the jobs in DESIGN.md; permissions are what a route asks for. The
//! mapping lives here, in one table, so a test can walk every route with every role.

use crate::ids::UserId;
use serde::{Deserialize, Serialize};

/// A staff role. A user has exactly one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Agent1,
    Agent2,
    Lead,
    Cashier,
    BillingClerk,
    CollectionsClerk,
    OrderClerk,
    Timekeeper,
    Supervisor,
    Admin,
}

/// Something a route needs. Each later module adds its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub enum Permission {
    /// One's own profile, password, second factor and tokens.
    #[serde(rename = "profile")]
    Profile,
    /// The global search box.
    #[serde(rename = "search")]
    Search,
    /// Seeing staff users and roles.
    #[serde(rename = "users.read")]
    UsersRead,
    /// Adding, disabling and resetting staff users.
    #[serde(rename = "users.manage")]
    UsersManage,
    /// Reading the audit trail.
    #[serde(rename = "audit.read")]
    AuditRead,
    /// Watching the background job queue.
    #[serde(rename = "jobs.read")]
    JobsRead,
    /// Finding and viewing customers, accounts, premises and agreements.
    #[serde(rename = "customers.read")]
    CustomersRead,
    /// Adding and changing customer information.
    #[serde(rename = "customers.write")]
    CustomersWrite,
    /// Merging duplicate customers.
    #[serde(rename = "customers.merge")]
    CustomersMerge,
    /// Log contacts and read customer timelines.
    #[serde(rename = "contacts.log")]
    ContactsLog,
    /// Define contact reason codes and dispositions.
    #[serde(rename = "contacts.manage")]
    ContactsManage,
    /// Open, work, escalate and resolve cases.
    #[serde(rename = "cases.work")]
    CasesWork,
    /// Queues, SLA policies, business calendars, bulk reassignment.
    #[serde(rename = "cases.manage")]
    CasesManage,
    /// Read articles, call scripts and canned answers.
    #[serde(rename = "knowledge.read")]
    KnowledgeRead,
    /// Write and publish knowledge articles.
    #[serde(rename = "knowledge.manage")]
    KnowledgeManage,
    /// See reports such as repetitive and unusual inquiries.
    #[serde(rename = "reports.read")]
    ReportsRead,
    /// See an account's money: balance, bills, payments, ledger lines.
    #[serde(rename = "billing.read")]
    BillingRead,
    /// Rate schedules, meter reads, bill runs, fees, adjustments, deposits, arrangements.
    #[serde(rename = "billing.manage")]
    BillingManage,
    /// Take a payment (counter, phone, mail) and request a refund of an overpayment.
    #[serde(rename = "payments.take")]
    PaymentsTake,
    /// Cash drawers, bank deposits, payment files, reversals and transfers.
    #[serde(rename = "payments.manage")]
    PaymentsManage,
    /// The books: chart of accounts, journal, trial balance, aging, general-ledger export.
    #[serde(rename = "ledger.read")]
    LedgerRead,
    /// Edit the chart of accounts and post manual journal entries.
    #[serde(rename = "ledger.manage")]
    LedgerManage,
    /// Approve or reject refunds, adjustments above the limit and drawer sign-offs.
    #[serde(rename = "money.approve")]
    MoneyApprove,
    /// Take and answer live chats from the chat console.
    #[serde(rename = "chat.work")]
    ChatWork,
    /// Chat widget origins, the telephony webhook secret and staff telephone extensions.
    #[serde(rename = "chat.manage")]
    ChatManage,
    /// Hand raw inbound email to Caredesk (a mail server piping messages to the API).
    #[serde(rename = "mail.ingest")]
    MailIngest,
    /// Edit email and letter templates, print the day's letters, retry failed emails.
    #[serde(rename = "correspondence.manage")]
    CorrespondenceManage,
}

impl Permission {
    pub const ALL: [Permission; 27] = [
        Permission::Profile,
        Permission::Search,
        Permission::UsersRead,
        Permission::UsersManage,
        Permission::AuditRead,
        Permission::JobsRead,
        Permission::CustomersRead,
        Permission::CustomersWrite,
        Permission::CustomersMerge,
        Permission::ContactsLog,
        Permission::ContactsManage,
        Permission::CasesWork,
        Permission::CasesManage,
        Permission::KnowledgeRead,
        Permission::KnowledgeManage,
        Permission::ReportsRead,
        Permission::BillingRead,
        Permission::BillingManage,
        Permission::PaymentsTake,
        Permission::PaymentsManage,
        Permission::LedgerRead,
        Permission::LedgerManage,
        Permission::MoneyApprove,
        Permission::ChatWork,
        Permission::ChatManage,
        Permission::MailIngest,
        Permission::CorrespondenceManage,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Permission::Profile => "profile",
            Permission::Search => "search",
            Permission::UsersRead => "users.read",
            Permission::UsersManage => "users.manage",
            Permission::AuditRead => "audit.read",
            Permission::JobsRead => "jobs.read",
            Permission::CustomersRead => "customers.read",
            Permission::CustomersWrite => "customers.write",
            Permission::CustomersMerge => "customers.merge",
            Permission::ContactsLog => "contacts.log",
            Permission::ContactsManage => "contacts.manage",
            Permission::CasesWork => "cases.work",
            Permission::CasesManage => "cases.manage",
            Permission::KnowledgeRead => "knowledge.read",
            Permission::KnowledgeManage => "knowledge.manage",
            Permission::ReportsRead => "reports.read",
            Permission::BillingRead => "billing.read",
            Permission::BillingManage => "billing.manage",
            Permission::PaymentsTake => "payments.take",
            Permission::PaymentsManage => "payments.manage",
            Permission::LedgerRead => "ledger.read",
            Permission::LedgerManage => "ledger.manage",
            Permission::MoneyApprove => "money.approve",
            Permission::MailIngest => "mail.ingest",
            Permission::CorrespondenceManage => "correspondence.manage",
            Permission::ChatWork => "chat.work",
            Permission::ChatManage => "chat.manage",
        }
    }

    pub fn parse(code: &str) -> Option<Permission> {
        Permission::ALL.into_iter().find(|p| p.code() == code)
    }

    pub fn describe(self) -> &'static str {
        match self {
            Permission::Profile => "Own profile, password, second factor and API tokens",
            Permission::Search => "Global search",
            Permission::UsersRead => "See staff users and roles",
            Permission::UsersManage => "Add, disable and reset staff users",
            Permission::AuditRead => "Read the audit trail",
            Permission::JobsRead => "Watch the background job queue",
            Permission::CustomersRead => "Find and view customers, accounts, premises and agreements",
            Permission::CustomersWrite => "Add and change customer information",
            Permission::CustomersMerge => "Merge duplicate customers",
            Permission::ContactsLog => "Log contacts and read customer timelines",
            Permission::ContactsManage => "Define contact reason codes and dispositions",
            Permission::CasesWork => "Open, work, escalate and resolve cases",
            Permission::CasesManage => "Queues, SLA policies, business calendars, bulk reassignment",
            Permission::KnowledgeRead => "Read articles, call scripts and canned answers",
            Permission::KnowledgeManage => "Write and publish knowledge articles",
            Permission::ReportsRead => "See reports such as repetitive and unusual inquiries",
            Permission::BillingRead => "See an account's balance, bills, payments and ledger lines",
            Permission::BillingManage => "Rates, meter reads, bill runs, fees, adjustments, deposits, arrangements",
            Permission::PaymentsTake => "Take payments and request refunds of overpayments",
            Permission::PaymentsManage => "Cash drawers, bank deposits, payment files, reversals, transfers",
            Permission::LedgerRead => "Chart of accounts, journal, trial balance, aging, ledger export",
            Permission::LedgerManage => "Edit the chart of accounts and post manual journal entries",
            Permission::MoneyApprove => "Approve refunds, adjustments above the limit and drawer sign-offs",
            Permission::MailIngest => "Hand raw inbound email to Caredesk (for mail servers)",
            Permission::CorrespondenceManage => "Edit email and letter templates, print letters, retry failed emails",
            Permission::ChatWork => "Take and answer live chats",
            Permission::ChatManage => "Chat widget origins, telephony webhook secret and staff extensions",
        }
    }
}

impl Role {
    pub const ALL: [Role; 10] = [
        Role::Agent1,
        Role::Agent2,
        Role::Lead,
        Role::Cashier,
        Role::BillingClerk,
        Role::CollectionsClerk,
        Role::OrderClerk,
        Role::Timekeeper,
        Role::Supervisor,
        Role::Admin,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Role::Agent1 => "agent1",
            Role::Agent2 => "agent2",
            Role::Lead => "lead",
            Role::Cashier => "cashier",
            Role::BillingClerk => "billing_clerk",
            Role::CollectionsClerk => "collections_clerk",
            Role::OrderClerk => "order_clerk",
            Role::Timekeeper => "timekeeper",
            Role::Supervisor => "supervisor",
            Role::Admin => "admin",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Agent1 => "Agent (tier 1)",
            Role::Agent2 => "Agent (tier 2)",
            Role::Lead => "Lead",
            Role::Cashier => "Cashier",
            Role::BillingClerk => "Billing clerk",
            Role::CollectionsClerk => "Collections clerk",
            Role::OrderClerk => "Order clerk",
            Role::Timekeeper => "Timekeeper",
            Role::Supervisor => "Supervisor",
            Role::Admin => "Admin",
        }
    }

    pub fn parse(code: &str) -> Option<Role> {
        let code = code.trim().to_ascii_lowercase().replace('-', "_");
        Role::ALL.into_iter().find(|r| r.code() == code)
    }

    /// The one role-to-permission table.
    pub fn permits(self, permission: Permission) -> bool {
        use Permission as P;
        match permission {
            P::Profile | P::Search => true,
            P::UsersRead | P::AuditRead => matches!(self, Role::Supervisor | Role::Admin),
            P::UsersManage | P::JobsRead => self == Role::Admin,
            P::CustomersRead => self != Role::Timekeeper,
            P::CustomersWrite => !matches!(self, Role::Timekeeper | Role::OrderClerk),
            P::CustomersMerge | P::ContactsManage | P::CasesManage | P::KnowledgeManage | P::ReportsRead => {
                matches!(self, Role::Lead | Role::Supervisor | Role::Admin)
            }
            P::ContactsLog | P::CasesWork | P::KnowledgeRead => self != Role::Timekeeper,
            P::BillingRead => !matches!(self, Role::Timekeeper | Role::OrderClerk),
            P::BillingManage => matches!(self, Role::BillingClerk | Role::Supervisor | Role::Admin),
            P::PaymentsTake => matches!(
                self,
                Role::Agent1 | Role::Agent2 | Role::Cashier | Role::BillingClerk | Role::Supervisor | Role::Admin
            ),
            P::PaymentsManage => matches!(self, Role::Cashier | Role::BillingClerk | Role::Supervisor | Role::Admin),
            P::LedgerRead => matches!(
                self,
                Role::BillingClerk | Role::CollectionsClerk | Role::Cashier | Role::Supervisor | Role::Admin
            ),
            P::LedgerManage => self == Role::Admin,
            // Approval is the supervisor's alone (DESIGN.md, money rules); an admin does not approve.
            P::MoneyApprove => self == Role::Supervisor,
            P::MailIngest => self == Role::Admin,
            P::CorrespondenceManage => matches!(self, Role::Lead | Role::Supervisor | Role::Admin),
            P::ChatWork => matches!(self, Role::Agent1 | Role::Agent2 | Role::Lead | Role::Supervisor),
            P::ChatManage => matches!(self, Role::Lead | Role::Supervisor | Role::Admin),
        }
    }

    pub fn permissions(self) -> Vec<Permission> {
        Permission::ALL.into_iter().filter(|p| self.permits(*p)).collect()
    }
}

/// Who is acting: a signed-in staff user, or the system itself (jobs, CLI, migrations).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    User { user_id: UserId, username: String, role: Role },
    System { name: String },
}

impl Actor {
    pub fn system(name: &str) -> Actor {
        Actor::System { name: name.to_string() }
    }

    pub fn user_id(&self) -> Option<UserId> {
        match self {
            Actor::User { user_id, .. } => Some(*user_id),
            Actor::System { .. } => None,
        }
    }

    /// The name recorded in the audit trail.
    pub fn name(&self) -> String {
        match self {
            Actor::User { username, .. } => username.clone(),
            Actor::System { name } => format!("system:{name}"),
        }
    }
}
