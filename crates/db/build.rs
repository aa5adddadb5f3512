//! Rebuilds the db crate when a migration file is added or changed, since `sqlx::migrate!`
//! embeds the migration directories at compile time.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
