//! Knowledge domain types, each built only through `parse`, the article state machine, and the
//! safe Markdown renderer. No I/O here.

use crate::KnowledgeError;
use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
use serde::{Deserialize, Serialize};

pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_BODY_CHARS: usize = 100_000;
pub const MAX_CATEGORY_CHARS: usize = 60;
pub const MAX_TAGS: usize = 20;
pub const MAX_TAG_CHARS: usize = 40;
pub const MAX_NAME_CHARS: usize = 100;
pub const MAX_ANSWER_CHARS: usize = 4_000;
pub const MAX_STEPS: usize = 50;
pub const MAX_STEP_CHARS: usize = 2_000;
pub const SUMMARY_CHARS: usize = 160;

/// Trims a one-line text and checks it is present, short enough and free of control characters.
pub fn line(text: &str, max_chars: usize, field: &'static str) -> Result<String, KnowledgeError> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > max_chars || text.chars().any(char::is_control) {
        return Err(KnowledgeError::TextInvalid { field, max_chars });
    }
    Ok(text.to_string())
}

/// Trims a multi-line text (newlines and tabs allowed) and checks it is present and short enough.
pub fn block(text: &str, max_chars: usize, field: &'static str) -> Result<String, KnowledgeError> {
    let text = text.trim();
    let bad_control = |c: char| c.is_control() && !matches!(c, '\n' | '\r' | '\t');
    if text.is_empty() || text.chars().count() > max_chars || text.chars().any(bad_control) {
        return Err(KnowledgeError::TextInvalid { field, max_chars });
    }
    Ok(text.replace("\r\n", "\n"))
}

/// Like [`block`], but empty means none.
pub fn optional_block(
    text: Option<&str>,
    max_chars: usize,
    field: &'static str,
) -> Result<Option<String>, KnowledgeError> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        Some(text) => block(text, max_chars, field).map(Some),
        None => Ok(None),
    }
}

/// The tags of an article: lower case letters, digits and hyphens, separated by commas or
/// spaces in the input, kept unique in the order given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Tags(Vec<String>);

impl Tags {
    pub fn parse(text: &str) -> Result<Tags, KnowledgeError> {
        let mut tags: Vec<String> = Vec::new();
        for word in text.split(|c: char| c == ',' || c.is_whitespace()).filter(|w| !w.is_empty()) {
            let tag = word.to_lowercase();
            let valid = tag.chars().count() <= MAX_TAG_CHARS
                && tag.chars().all(|c| c.is_alphanumeric() || c == '-')
                && !tag.starts_with('-');
            if !valid {
                return Err(KnowledgeError::TagInvalid);
            }
            if !tags.contains(&tag) {
                tags.push(tag);
            }
        }
        if tags.len() > MAX_TAGS {
            return Err(KnowledgeError::TooManyTags);
        }
        Ok(Tags(tags))
    }

    pub fn from_list(list: &[String]) -> Result<Tags, KnowledgeError> {
        Tags::parse(&list.join(" "))
    }

    /// As stored: single spaces between tags.
    pub fn joined(&self) -> String {
        self.0.join(" ")
    }

    pub fn as_slice(&self) -> &[String] {
        &self.0
    }
}

/// The stored tag text split back into tags.
pub fn split_tags(stored: &str) -> Vec<String> {
    stored.split_whitespace().map(str::to_string).collect()
}

/// Who may read an article: staff only, or also customers (later, the portal).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    Internal,
    Public,
}

impl Audience {
    pub const ALL: [Audience; 2] = [Audience::Internal, Audience::Public];

    pub fn code(self) -> &'static str {
        match self {
            Audience::Internal => "internal",
            Audience::Public => "public",
        }
    }

    pub fn parse(text: &str) -> Result<Audience, KnowledgeError> {
        Audience::ALL.into_iter().find(|a| a.code() == text.trim()).ok_or(KnowledgeError::AudienceUnknown)
    }
}

/// Where an article stands in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ArticleStatus {
    Draft,
    Published,
    Archived,
}

impl ArticleStatus {
    pub const ALL: [ArticleStatus; 3] = [ArticleStatus::Draft, ArticleStatus::Published, ArticleStatus::Archived];

    pub fn code(self) -> &'static str {
        match self {
            ArticleStatus::Draft => "draft",
            ArticleStatus::Published => "published",
            ArticleStatus::Archived => "archived",
        }
    }

    pub fn parse(text: &str) -> Option<ArticleStatus> {
        ArticleStatus::ALL.into_iter().find(|s| s.code() == text.trim())
    }

    /// The one transition rule: a draft is published or shelved; a published article is
    /// archived; an archived article may be published again. Nothing goes back to draft.
    pub fn can_become(self, next: ArticleStatus) -> bool {
        use ArticleStatus as S;
        matches!(
            (self, next),
            (S::Draft, S::Published)
                | (S::Draft, S::Archived)
                | (S::Published, S::Archived)
                | (S::Archived, S::Published)
        )
    }

    pub fn transition(self, next: ArticleStatus) -> Result<ArticleStatus, KnowledgeError> {
        if self.can_become(next) {
            Ok(next)
        } else {
            Err(KnowledgeError::StatusTransitionNotAllowed { from: self.code(), to: next.code() })
        }
    }

    /// Whether the article's text may still be edited.
    pub fn is_editable(self) -> bool {
        self != ArticleStatus::Archived
    }
}

/// A new article or a new version of one, fully parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArticleDraft {
    pub title: String,
    pub body: String,
    pub category: String,
    pub tags: Tags,
    pub audience: Audience,
}

impl ArticleDraft {
    /// Parses every field; the first at fault is named.
    pub fn parse(
        title: &str,
        body: &str,
        category: &str,
        tags: &Tags,
        audience: &str,
    ) -> Result<ArticleDraft, KnowledgeError> {
        Ok(ArticleDraft {
            title: line(title, MAX_TITLE_CHARS, "title")?,
            body: block(body, MAX_BODY_CHARS, "body")?,
            category: line(category, MAX_CATEGORY_CHARS, "category")?,
            tags: tags.clone(),
            audience: Audience::parse(audience)?,
        })
    }
}

/// One step of a call script as the agent reads it out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ScriptStep {
    pub prompt: String,
    pub expected_answer: Option<String>,
    pub notes: Option<String>,
}

impl ScriptStep {
    pub fn parse(prompt: &str, expected: Option<&str>, notes: Option<&str>) -> Result<ScriptStep, KnowledgeError> {
        Ok(ScriptStep {
            prompt: block(prompt, MAX_STEP_CHARS, "steps")?,
            expected_answer: optional_block(expected, MAX_STEP_CHARS, "steps")?,
            notes: optional_block(notes, MAX_STEP_CHARS, "steps")?,
        })
    }
}

/// A call script, fully parsed: a unique name and one to fifty steps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptDraft {
    pub name: String,
    pub description: String,
    pub steps: Vec<ScriptStep>,
}

impl ScriptDraft {
    pub fn parse(name: &str, description: Option<&str>, steps: Vec<ScriptStep>) -> Result<ScriptDraft, KnowledgeError> {
        if steps.is_empty() || steps.len() > MAX_STEPS {
            return Err(KnowledgeError::StepCountOutOfRange);
        }
        Ok(ScriptDraft {
            name: line(name, MAX_NAME_CHARS, "name")?,
            description: optional_block(description, MAX_STEP_CHARS, "description")?.unwrap_or_default(),
            steps,
        })
    }
}

/// A canned answer, fully parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerDraft {
    pub name: String,
    pub category: String,
    pub body: String,
}

impl AnswerDraft {
    pub fn parse(name: &str, category: &str, body: &str) -> Result<AnswerDraft, KnowledgeError> {
        Ok(AnswerDraft {
            name: line(name, MAX_NAME_CHARS, "name")?,
            category: line(category, MAX_CATEGORY_CHARS, "category")?,
            body: block(body, MAX_ANSWER_CHARS, "body")?,
        })
    }
}

/// Whether a link or image target may be rendered: http, https, mailto, or a relative path.
/// Anything that looks like another scheme (`javascript:`, `data:`, `vbscript:`, or a scheme
/// hidden behind odd characters) is refused.
pub fn is_safe_url(url: &str) -> bool {
    let scheme_end = url.find(':');
    let path_start = url.find(['/', '?', '#']);
    match (scheme_end, path_start) {
        (None, _) => true,
        (Some(colon), Some(path)) if path < colon => true,
        (Some(colon), _) => {
            let scheme = url.get(..colon).unwrap_or_default();
            ["http", "https", "mailto"].iter().any(|s| scheme.eq_ignore_ascii_case(s))
        }
    }
}

fn markdown_options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS
}

/// Renders Markdown to HTML that is safe to put in a page: raw HTML is shown as text, and links
/// or images to any scheme but http, https and mailto keep their text but lose their target.
pub fn render_markdown(markdown: &str) -> String {
    // One entry per open link or image: whether its end tag is to be written.
    let mut open: Vec<bool> = Vec::new();
    let events = Parser::new_ext(markdown, markdown_options()).filter_map(|event| match event {
        Event::Html(text) | Event::InlineHtml(text) => Some(Event::Text(text)),
        Event::Start(Tag::HtmlBlock) | Event::End(TagEnd::HtmlBlock) => None,
        Event::Start(Tag::Link { ref dest_url, .. }) | Event::Start(Tag::Image { ref dest_url, .. }) => {
            let keep = is_safe_url(dest_url);
            open.push(keep);
            keep.then_some(event)
        }
        Event::End(TagEnd::Link) | Event::End(TagEnd::Image) => {
            let keep = open.pop().unwrap_or(false);
            keep.then_some(event)
        }
        other => Some(other),
    });
    let mut html = String::with_capacity(markdown.len() + markdown.len() / 4);
    pulldown_cmark::html::push_html(&mut html, events);
    html
}

/// The plain text of a Markdown body, cut to `max_chars` on a word boundary, for hit lists.
pub fn summary(markdown: &str, max_chars: usize) -> String {
    let mut text = String::new();
    for event in Parser::new_ext(markdown, markdown_options()) {
        match event {
            Event::Text(t) | Event::Code(t) => text.push_str(&t),
            Event::SoftBreak | Event::HardBreak | Event::End(_) => text.push(' '),
            _ => {}
        }
        if text.chars().count() > max_chars * 2 {
            break;
        }
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut out = String::new();
    for word in words {
        if out.chars().count() + word.chars().count() + 1 > max_chars {
            out.push('…');
            return out;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// The words of a search query: letters and digits only, lower case, at most eight. Both
/// backends build their query from these, so no query syntax from the user ever reaches them.
pub fn search_terms(query: &str) -> Vec<String> {
    query
        .chars()
        .take(200)
        .collect::<String>()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .take(8)
        .collect()
}
