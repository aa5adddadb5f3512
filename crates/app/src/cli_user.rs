//! `caredesk user ...`: staff administration from the command line, through the same ops as
//! the admin screens and the API.

use crate::cli::{UserCommand, cli_actor, read_password_stdin};
use db::Db;
use kernel::{Clock, PageRequest};
use staff::model::{NewUser, Password, Username, parse_display_name, parse_email, parse_role};
use staff::ops::{self, UserChange};
use std::process::ExitCode;

pub async fn run(command: UserCommand, db: &Db, clock: &dyn Clock) -> Result<ExitCode, String> {
    let fail = |field: &str, e: staff::StaffError| format!("{field}: {e}");
    match command {
        UserCommand::Add { username, role, display_name, email, password_stdin: _ } => {
            let username = Username::parse(&username).map_err(|e| fail("--username", e))?;
            let new = NewUser {
                display_name: parse_display_name(display_name.as_deref().unwrap_or(username.as_str()))
                    .map_err(|e| fail("--display-name", e))?,
                email: parse_email(email.as_deref().unwrap_or_default()).map_err(|e| fail("--email", e))?,
                role: parse_role(&role).map_err(|e| fail("--role", e))?,
                username,
            };
            let hash = Password::parse(&read_password_stdin()?)
                .map_err(|e| fail("password", e))?
                .hash()
                .await
                .map_err(|e| e.to_string())?;
            let mut tx = db.begin().await.map_err(|e| e.to_string())?;
            let user = ops::create_user(&mut tx, &cli_actor(), new, &hash, clock.now())
                .await
                .map_err(|e| fail("--username", e))?;
            tx.commit().await.map_err(|e| e.to_string())?;
            println!("added user {} (id {}, {})", user.username, user.user_id, user.role.label());
        }
        UserCommand::List => {
            let mut tx = db.read().await.map_err(|e| e.to_string())?;
            let mut page = PageRequest::parse(Some(200), None).map_err(|e| e.to_string())?;
            println!("{:>6}  {:24} {:20} {:10} name", "id", "username", "role", "status");
            loop {
                let rows = staff::store::list(&mut tx, &page).await.map_err(|e| e.to_string())?;
                let result = kernel::Page::from_rows(rows, &page, |r| r.user_id);
                for row in &result.items {
                    let view = row.view(clock.now());
                    let status = if view.disabled {
                        "disabled"
                    } else if view.locked {
                        "locked"
                    } else {
                        "active"
                    };
                    println!(
                        "{:>6}  {:24} {:20} {:10} {}",
                        view.user_id,
                        view.username,
                        view.role.code(),
                        status,
                        view.display_name
                    );
                }
                match result.next_cursor {
                    Some(cursor) => page = PageRequest::parse(Some(200), Some(&cursor)).map_err(|e| e.to_string())?,
                    None => break,
                }
            }
        }
        UserCommand::Disable { username, enable } => {
            let mut tx = db.begin().await.map_err(|e| e.to_string())?;
            let user = ops::find_by_username(&mut tx, &username).await.map_err(|e| fail("--username", e))?;
            let change = UserChange { disabled: Some(!enable), ..Default::default() };
            ops::update_user(&mut tx, &cli_actor(), user.id(), change, clock.now()).await.map_err(|e| e.to_string())?;
            tx.commit().await.map_err(|e| e.to_string())?;
            println!("{} user {}", if enable { "enabled" } else { "disabled" }, user.username);
        }
        UserCommand::ResetPassword { username, password_stdin: _ } => {
            let hash = Password::parse(&read_password_stdin()?)
                .map_err(|e| fail("password", e))?
                .hash()
                .await
                .map_err(|e| e.to_string())?;
            let mut tx = db.begin().await.map_err(|e| e.to_string())?;
            let user = ops::find_by_username(&mut tx, &username).await.map_err(|e| fail("--username", e))?;
            ops::reset_password(&mut tx, &cli_actor(), user.id(), &hash, clock.now())
                .await
                .map_err(|e| e.to_string())?;
            tx.commit().await.map_err(|e| e.to_string())?;
            println!("password set for {}; the account is unlocked", user.username);
        }
        UserCommand::Token { username, name } => {
            let mut tx = db.begin().await.map_err(|e| e.to_string())?;
            let user = ops::find_by_username(&mut tx, &username).await.map_err(|e| fail("--username", e))?;
            let (token, token_id) = ops::issue_token(&mut tx, &cli_actor(), user.id(), &name, clock.now())
                .await
                .map_err(|e| fail("--name", e))?;
            tx.commit().await.map_err(|e| e.to_string())?;
            eprintln!("token {} issued for {}; it is shown only this once:", token_id, user.username);
            println!("{token}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
