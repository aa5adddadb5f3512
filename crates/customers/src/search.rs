//! Customer search: one text document per live customer (names, phone digits, emails, account
//! numbers, addresses, premises, meters, former numbers), kept in step inside every writing
//! transaction. SQLite matches it with FTS5's trigram tokenizer; PostgreSQL with a pg_trgm GIN
//! index. Any fragment of three or more characters matches; every word of the query must.

use crate::model::search_document;
use crate::store;
use db::{Backend, Result, Tx};
use serde::Serialize;

/// The longest query text considered, and the most words taken from it.
const MAX_QUERY_CHARS: usize = 100;
const MAX_TERMS: usize = 6;
const MIN_TERM_CHARS: usize = 3;
/// The most matches ranked for one query (see `find`).
const RANK_CANDIDATES: i64 = 300;

/// Rebuilds the search document of one customer (or removes it once merged away).
pub async fn reindex(tx: &mut Tx, customer_id: i64) -> Result<()> {
    let Some(customer) = store::find_customer(tx, customer_id).await? else {
        return Ok(());
    };
    remove(tx, customer_id).await?;
    if customer.merged_into.is_some() {
        return Ok(());
    }
    let mut parts = vec![customer.display_name.clone(), customer.customer_number.clone()];
    parts.extend(customer.contact_person.clone());
    for phone in store::phones_of(tx, customer_id).await? {
        parts.push(phone.e164.trim_start_matches('+').to_string());
    }
    parts.extend(store::emails_of(tx, customer_id).await?.into_iter().map(|e| e.address));
    parts.extend(store::addresses_of(tx, customer_id).await?.iter().map(store::AddressRow::one_line));
    parts.extend(store::accounts_of(tx, customer_id).await?.into_iter().map(|a| a.account_number));
    parts.extend(store::premise_text_of(tx, customer_id).await?);
    parts.extend(store::former_numbers_of(tx, customer_id).await?);
    let doc = search_document(&parts);
    match tx.backend() {
        Backend::Sqlite => {
            db::execute!(tx, "insert into customer_search (rowid, doc) values ($1, $2)", customer_id, &doc)?
        }
        Backend::Postgres => {
            db::execute!(tx, "insert into customer_search (customer_id, doc) values ($1, $2)", customer_id, &doc)?
        }
    };
    Ok(())
}

async fn remove(tx: &mut Tx, customer_id: i64) -> Result<()> {
    match tx.backend() {
        Backend::Sqlite => db::execute!(tx, "delete from customer_search where rowid = $1", customer_id)?,
        Backend::Postgres => db::execute!(tx, "delete from customer_search where customer_id = $1", customer_id)?,
    };
    Ok(())
}

/// The words of a query that can use the index: lower case, digits of phone-like words only.
pub fn terms(query: &str) -> Vec<String> {
    let query: String = query.chars().take(MAX_QUERY_CHARS).collect();
    query
        .split_whitespace()
        .map(|word| {
            let digits: String = word.chars().filter(char::is_ascii_digit).collect();
            let phone_like = word.chars().all(|c| c.is_ascii_digit() || "()+-.".contains(c)) && !digits.is_empty();
            if phone_like { digits } else { word.to_lowercase().replace('"', "") }
        })
        .filter(|t| t.chars().count() >= MIN_TERM_CHARS)
        .take(MAX_TERMS)
        .collect()
}

/// Drops LIKE's wildcard characters from a term so it matches literally.
fn like_escape(term: &str) -> String {
    term.chars().filter(|c| !matches!(c, '%' | '_' | '\\')).collect()
}

/// A customer found by the search.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct CustomerHit {
    pub customer_id: i64,
    pub customer_number: String,
    pub display_name: String,
    pub kind: String,
    /// The first phone on file, E.164.
    pub phone: Option<String>,
    /// The first address on file, one line.
    pub address: Option<String>,
}

/// Customers matching every term, best first.
pub async fn find(tx: &mut Tx, query: &str, limit: i64) -> Result<Vec<CustomerHit>> {
    let terms = terms(query);
    if terms.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<(i64,)> = match tx {
        Tx::Sqlite(_) => {
            let expression = terms.iter().map(|t| format!("\"{t}\"")).collect::<Vec<_>>().join(" AND ");
            db::fetch_all!(
                tx,
                (i64,),
                // BM25 costs per matching row: rank at most RANK_CANDIDATES matches, so a very
                // common name stays fast (the best of those few hundred are shown).
                "select rowid from (select rowid, rank from customer_search where customer_search match $1 limit $3)
                 order by rank limit $2",
                expression,
                limit,
                RANK_CANDIDATES
            )?
        }
        Tx::Pg(t) => {
            let patterns: Vec<String> = terms.iter().map(|t| format!("%{}%", like_escape(t))).collect();
            sqlx::query_as::<_, (i64,)>(
                "select customer_id from customer_search where doc like all($1)
                 order by similarity(doc, $2) desc, customer_id limit $3",
            )
            .bind(patterns)
            .bind(terms.join(" "))
            .bind(limit)
            .fetch_all(&mut **t)
            .await
            .map_err(db::Error::from)?
        }
    };
    let ids: Vec<i64> = ids.into_iter().map(|(id,)| id).collect();
    let mut hits = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(hit) = hit(tx, id).await? {
            hits.push(hit);
        }
    }
    Ok(hits)
}

/// The hit line for one customer (lists use it too).
pub async fn find_by_id(tx: &mut Tx, customer_id: i64) -> Result<Option<CustomerHit>> {
    hit(tx, customer_id).await
}

async fn hit(tx: &mut Tx, customer_id: i64) -> Result<Option<CustomerHit>> {
    db::fetch_optional!(
        tx,
        CustomerHit,
        "select c.customer_id, c.customer_number, c.display_name, c.kind,
                (select p.e164 from customer_phone p where p.customer_id = c.customer_id
                  order by p.is_primary desc, p.phone_id limit 1) as phone,
                (select a.line1 || ', ' || a.city || ' ' || a.postal_code from customer_address a
                  where a.customer_id = c.customer_id order by a.address_id limit 1) as address
           from customer c where c.customer_id = $1",
        customer_id
    )
}
