//! Demo customers: a seeded, repeatable set of people and businesses with phones, emails,
//! addresses, an account each, and most with a premise, a meter and an active service agreement.
//! Everything goes through the customers ops, so the audit trail and the search index are real.

use customers::model::{AgreementStatus, CustomerName, EmailAddress, PhoneNumber, PostalAddress};
use customers::ops::{self, NewAccount, NewAgreement, NewCustomer, Preferences};
use db::Db;
use kernel::{Actor, Clock, Currency};

const FIRST: &[&str] = &[
    "Maria", "James", "Aisha", "Wei", "Olga", "Carlos", "Fatima", "John", "Priya", "Liam", "Sofia", "Noah", "Amara",
    "Diego", "Hana", "Ethan", "Leila", "Mateo", "Grace", "Yusuf", "Chloe", "Ivan", "Nadia", "Samuel",
];
const LAST: &[&str] = &[
    "Lopez",
    "Smith",
    "Khan",
    "Chen",
    "Ivanova",
    "Garcia",
    "Haddad",
    "Johnson",
    "Patel",
    "Murphy",
    "Rossi",
    "Brown",
    "Okafor",
    "Santos",
    "Sato",
    "Miller",
    "Nasser",
    "Fernandez",
    "Kim",
    "Demir",
    "Martin",
    "Petrov",
    "Ali",
    "Wilson",
];
const BUSINESS: &[&str] = &[
    "Bakery",
    "Hardware",
    "Dental Clinic",
    "Laundromat",
    "Print Shop",
    "Auto Repair",
    "Florist",
    "Cafe",
    "Bookstore",
    "Veterinary",
    "Pharmacy",
    "Deli",
];
const STREETS: &[&str] = &[
    "Elm St",
    "Oak Ave",
    "Maple Dr",
    "Cedar Ln",
    "Pine St",
    "Washington Blvd",
    "Lake Rd",
    "Hill St",
    "Park Ave",
    "River Rd",
    "Main St",
    "Church St",
];
const CITIES: &[(&str, &str, &str)] = &[
    ("Springfield", "IL", "627"),
    ("Riverton", "WY", "825"),
    ("Fairview", "OR", "970"),
    ("Greenville", "SC", "296"),
    ("Madison", "WI", "537"),
    ("Franklin", "TN", "370"),
];

/// A small deterministic generator (xorshift64*), so the demo is the same on every machine.
pub struct Seeded(u64);

impl Seeded {
    pub fn new(seed: u64) -> Seeded {
        Seeded(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items.get(self.below(items.len())).copied().unwrap_or_default()
    }
}

/// One demo customer, parsed as a clerk's input would be.
pub fn customer(rng: &mut Seeded, n: u64) -> Result<NewCustomer, customers::CustomerError> {
    let business = rng.below(8) == 0;
    let (first, last) = (rng.pick(FIRST), rng.pick(LAST));
    let name = if business {
        let title = format!("{last} {}", rng.pick(BUSINESS));
        CustomerName::parse("business", None, None, Some(&title), Some(&format!("{first} {last}")))?
    } else {
        CustomerName::parse("person", Some(first), Some(last), None, None)?
    };
    let (city, region, zip) = CITIES.get(rng.below(CITIES.len())).copied().unwrap_or(("Springfield", "IL", "627"));
    let street = format!("{} {}", 1 + rng.below(9_000), rng.pick(STREETS));
    let postal = format!("{zip}{:02}", rng.below(100));
    let address = PostalAddress::parse(&street, None, city, Some(region), &postal, Some("US"))?;
    let phone = PhoneNumber::parse(&format!("{}{:07}", 200 + rng.below(700), rng.next_u64() % 10_000_000))?;
    let domain = if business { "example.com" } else { "example.org" };
    let email = EmailAddress::parse(&format!("{}.{}{n}@{domain}", first.to_lowercase(), last.to_lowercase()))?;
    let language = if rng.below(5) == 0 { "es" } else { "en" };
    Ok(NewCustomer {
        name,
        phones: vec![(if business { "work" } else { "mobile" }.to_string(), phone)],
        emails: vec![("email".to_string(), email)],
        addresses: vec![("mailing".to_string(), address)],
        preferences: Preferences { language: language.into(), ..Preferences::default() },
    })
}

/// Loads `count` customers in batches, reporting progress after each batch.
pub async fn load(db: &Db, clock: &dyn Clock, count: u64, progress: &dyn Fn(u64)) -> Result<(), String> {
    const BATCH: u64 = 250;
    let actor = Actor::system("demo");
    let mut rng = Seeded::new(0x00C0_FFEE);
    let mut done = 0;
    while done < count {
        let mut tx = db.begin().await.map_err(|e| e.to_string())?;
        let now = clock.now();
        for n in done..(done + BATCH).min(count) {
            let new = customer(&mut rng, n).map_err(|e| e.to_string())?;
            let address = new.addresses.first().map(|(_, a)| a.clone());
            let business = new.name.business_name.is_some();
            let view = ops::create_customer(&mut tx, &actor, new, now).await.map_err(|e| e.to_string())?;
            let account = NewAccount {
                customer_id: view.customer.customer_id,
                bill_cycle: 1 + (rng.below(28) as i32),
                collection_class: if business { "commercial" } else { "residential" }.into(),
                credit_rating: ["excellent", "good", "good", "fair", "poor"]
                    .get(rng.below(5))
                    .copied()
                    .unwrap_or("good")
                    .into(),
                cash_only: rng.below(40) == 0,
                paperless: rng.below(3) == 0,
                currency: Currency::USD,
                mailing_address_id: view.addresses.first().map(|a| a.address_id),
            };
            let account = ops::open_account(&mut tx, &actor, account, now).await.map_err(|e| e.to_string())?;
            if let (Some(address), true) = (address, rng.below(10) < 8) {
                let premise = ops::add_premise(
                    &mut tx,
                    &actor,
                    if business { "commercial" } else { "residential" },
                    &address,
                    now,
                )
                .await
                .map_err(|e| e.to_string())?;
                let meter = format!("M{:08}", premise.premise_id);
                ops::add_meter(&mut tx, &actor, premise.premise_id, &meter, "electric", "2020-01-15", now)
                    .await
                    .map_err(|e| e.to_string())?;
                let agreement = NewAgreement {
                    account_id: account.account_id,
                    premise_id: premise.premise_id,
                    service_type: "electric".into(),
                    rate_code: if business { "E-COM-1" } else { "E-RES-1" }.into(),
                    start_date: "2021-03-01".into(),
                    end_date: None,
                };
                let agreement =
                    ops::start_agreement(&mut tx, &actor, agreement, now).await.map_err(|e| e.to_string())?;
                ops::transition_agreement(&mut tx, &actor, agreement.agreement_id, AgreementStatus::Active, None, now)
                    .await
                    .map_err(|e| e.to_string())?;
            }
            if rng.below(25) == 0 {
                ops::add_alert(
                    &mut tx,
                    &actor,
                    view.customer.customer_id,
                    "hard_of_hearing",
                    "Speak slowly; offer a relay call.",
                    now,
                )
                .await
                .map_err(|e| e.to_string())?;
            }
        }
        tx.commit().await.map_err(|e| e.to_string())?;
        done = (done + BATCH).min(count);
        progress(done);
    }
    Ok(())
}
