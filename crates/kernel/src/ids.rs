//! Typed ids: one newtype per entity so a `UserId` can never be passed where a `CaseId` is
//! expected. Inside the database they are integer surrogate keys.

/// Declares an integer id newtype with the conversions every id needs.
#[macro_export]
macro_rules! typed_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl $name {
            pub fn get(self) -> i64 {
                self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}", self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse::<i64>().map($name)
            }
        }

        impl From<i64> for $name {
            fn from(value: i64) -> Self {
                $name(value)
            }
        }
    };
}

typed_id!(
    /// A staff user.
    UserId
);
typed_id!(
    /// An API token issued to a staff user.
    TokenId
);
typed_id!(
    /// A queued background job.
    JobId
);
typed_id!(
    /// One record of the audit chain; also its position in the chain.
    AuditSeq
);
