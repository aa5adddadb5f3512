//! The demo data set. The foundation seeds one staff user per role with known passwords; each
//! later module adds its part (customers, cases, bills) behind the same command.

use db::Db;
use kernel::{Actor, Clock, Role};
use staff::model::{NewUser, Password, Username, parse_display_name};

/// A demo sign-in, printed so a newcomer can try every role.
pub struct DemoSignIn {
    pub username: String,
    pub password: String,
    pub role: Role,
}

const DEMO_STAFF: &[(&str, &str, Role)] = &[
    ("admin", "Ada Admin", Role::Admin),
    ("supervisor", "Sam Supervisor", Role::Supervisor),
    ("lead", "Lee Lead", Role::Lead),
    ("agent", "Alex Agent", Role::Agent1),
    ("agent2", "Tara Tiertwo", Role::Agent2),
    ("cashier", "Cass Cashier", Role::Cashier),
    ("billing", "Bill Clerk", Role::BillingClerk),
    ("collections", "Colin Collections", Role::CollectionsClerk),
    ("orders", "Orla Orders", Role::OrderClerk),
    ("timekeeper", "Tim Keeper", Role::Timekeeper),
];

/// The password of a demo user: `<username>-demo-pass`, long enough for the policy.
pub fn demo_password(username: &str) -> String {
    format!("{username}-demo-pass")
}

/// Whether the database has no staff yet (the demo loads only into an empty database).
pub async fn is_empty(db: &Db) -> Result<bool, db::Error> {
    let mut tx = db.read().await?;
    let count = staff::store::count(&mut tx).await?;
    tx.rollback().await?;
    Ok(count == 0)
}

/// Loads the demo staff; `progress` is told after each step.
pub async fn load(db: &Db, clock: &dyn Clock, progress: &dyn Fn(u64, u64)) -> Result<Vec<DemoSignIn>, String> {
    let actor = Actor::system("demo");
    let total = DEMO_STAFF.len() as u64;
    let mut sign_ins = Vec::new();
    for (done, (username, name, role)) in DEMO_STAFF.iter().enumerate() {
        let password = demo_password(username);
        let hash = Password::parse(&password).map_err(|e| e.to_string())?.hash().await.map_err(|e| e.to_string())?;
        let new = NewUser {
            username: Username::parse(username).map_err(|e| e.to_string())?,
            display_name: parse_display_name(name).map_err(|e| e.to_string())?,
            email: Some(format!("{username}@demo.caredesk.test")),
            role: *role,
        };
        let mut tx = db.begin().await.map_err(|e| e.to_string())?;
        staff::ops::create_user(&mut tx, &actor, new, &hash, clock.now()).await.map_err(|e| e.to_string())?;
        tx.commit().await.map_err(|e| e.to_string())?;
        sign_ins.push(DemoSignIn { username: username.to_string(), password, role: *role });
        progress(done as u64 + 1, total);
    }
    Ok(sign_ins)
}
