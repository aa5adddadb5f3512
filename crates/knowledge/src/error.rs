//! What can go wrong with knowledge articles, call scripts and canned answers, each variant a
//! sentence with a stable code and, for bad input, the field at fault.

use http::StatusCode;

#[derive(Debug, thiserror::Error)]
pub enum KnowledgeError {
    #[error("must not be empty and at most {max_chars} characters without control characters")]
    TextInvalid { field: &'static str, max_chars: usize },
    #[error("each tag is letters, digits and hyphens, at most 40 characters")]
    TagInvalid,
    #[error("at most 20 tags")]
    TooManyTags,
    #[error("must be internal or public")]
    AudienceUnknown,
    #[error("must be draft, published or archived")]
    StatusUnknown,
    #[error("an article cannot go from {from} to {to}")]
    StatusTransitionNotAllowed { from: &'static str, to: &'static str },
    #[error("an archived article cannot be edited; publish it again first")]
    ArchivedArticleCannotChange,
    #[error("the article changed since version {expected}; it is now at version {actual}")]
    VersionConflict { expected: i32, actual: i32 },
    #[error("a call script needs between 1 and 50 steps")]
    StepCountOutOfRange,
    #[error("must be a positive case number")]
    CaseIdInvalid,
    #[error("that name is already in use")]
    NameTaken,
    #[error("no such article")]
    ArticleNotFound,
    #[error("no such version of the article")]
    VersionNotFound,
    #[error("no such call script")]
    ScriptNotFound,
    #[error("no such canned answer")]
    AnswerNotFound,
    #[error(transparent)]
    Db(#[from] db::Error),
}

impl web::Problem for KnowledgeError {
    fn status(&self) -> StatusCode {
        use KnowledgeError as E;
        match self {
            E::ArticleNotFound | E::VersionNotFound | E::ScriptNotFound | E::AnswerNotFound => StatusCode::NOT_FOUND,
            E::StatusTransitionNotAllowed { .. }
            | E::ArchivedArticleCannotChange
            | E::VersionConflict { .. }
            | E::NameTaken => StatusCode::CONFLICT,
            E::Db(_) => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }

    fn code(&self) -> &'static str {
        use KnowledgeError as E;
        match self {
            E::TextInvalid { .. } => "text_invalid",
            E::TagInvalid => "tag_invalid",
            E::TooManyTags => "too_many_tags",
            E::AudienceUnknown => "audience_unknown",
            E::StatusUnknown => "status_unknown",
            E::StatusTransitionNotAllowed { .. } => "article_transition_not_allowed",
            E::ArchivedArticleCannotChange => "archived_article_cannot_change",
            E::VersionConflict { .. } => "article_changed_since_read",
            E::StepCountOutOfRange => "step_count_out_of_range",
            E::CaseIdInvalid => "case_id_invalid",
            E::NameTaken => "name_taken",
            E::ArticleNotFound => "article_not_found",
            E::VersionNotFound => "version_not_found",
            E::ScriptNotFound => "call_script_not_found",
            E::AnswerNotFound => "canned_answer_not_found",
            E::Db(_) => "internal_error",
        }
    }

    fn field(&self) -> Option<&'static str> {
        use KnowledgeError as E;
        match self {
            E::TextInvalid { field, .. } => Some(field),
            E::TagInvalid | E::TooManyTags => Some("tags"),
            E::AudienceUnknown => Some("audience"),
            E::StatusUnknown => Some("status"),
            E::VersionConflict { .. } => Some("expected_version"),
            E::StepCountOutOfRange => Some("steps"),
            E::CaseIdInvalid => Some("case_id"),
            E::NameTaken => Some("name"),
            _ => None,
        }
    }
}
