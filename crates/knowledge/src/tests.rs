//! Unit tests (Markdown sanitising, the article state machine, parsing) and store tests that run
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! on SQLite always and on PostgreSQL too when `TEST_DATABASE_URL` is set.

use crate::model::{
    AnswerDraft, ArticleDraft, ArticleStatus, Audience, ScriptDraft, ScriptStep, Tags, is_safe_url, render_markdown,
    search_terms, summary,
};
use crate::{KnowledgeError, ops, search, store};
use db::audit::{self, AuditFilter};
use db::scratch;
use kernel::{Actor, PageRequest, Timestamp};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn t(seconds: i64) -> Timestamp {
    Timestamp::from_micros(1_700_000_000_000_000).plus_seconds(seconds)
}

fn draft(title: &str, body: &str, tags: &str, audience: &str) -> ArticleDraft {
    ArticleDraft::parse(title, body, "Billing", &Tags::parse(tags).unwrap(), audience).unwrap()
}

// ---- Markdown sanitising -------------------------------------------------------------------

#[test]
fn a_script_tag_never_survives_rendering() {
    for markdown in [
        "<script>alert(1)</script>",
        "Hello <script>alert(1)</script> world",
        "<div>\n<script>alert(1)</script>\n</div>",
        "<img src=x onerror=alert(1)>",
        "*<script>*alert(1)",
    ] {
        let html = render_markdown(markdown);
        assert!(!html.contains("<script"), "{markdown:?} rendered as {html:?}");
        assert!(!html.contains("<img"), "{markdown:?} rendered as {html:?}");
        assert!(!html.contains("<div"), "{markdown:?} rendered as {html:?}");
    }
    let html = render_markdown("Hello <script>alert(1)</script>");
    assert!(html.contains("&lt;script&gt;"), "raw HTML is shown as text: {html}");
}

#[test]
fn a_javascript_link_never_survives_rendering() {
    for markdown in [
        "[click](javascript:alert(1))",
        "[click](JavaScript:alert(1))",
        "[click](javascript&#58;alert(1))",
        "[click](<javascript:alert(1)>)",
        "<javascript:alert(1)>",
        "[click][x]\n\n[x]: javascript:alert(1)",
        "![img](javascript:alert(1))",
        "![img](data:text/html;base64,PHNjcmlwdD4=)",
        "[click](vbscript:msgbox(1))",
        "[click](\u{1}javascript:alert(1))",
    ] {
        let html = render_markdown(markdown).to_lowercase();
        assert!(!html.contains("<a ") && !html.contains("<img"), "{markdown:?} rendered as {html:?}");
        assert!(!html.contains("href=") && !html.contains("src="), "{markdown:?} rendered as {html:?}");
    }
    assert!(render_markdown("[click](javascript:alert(1))").contains("click"), "the link text stays");
}

#[test]
fn safe_links_and_formatting_survive() {
    let html = render_markdown(
        "# Title\n\n**bold** [site](https://example.org/a?b=c) [mail](mailto:help@example.org) \
         [rel](/knowledge/2) ![pic](https://example.org/p.png)\n\n| a | b |\n|---|---|\n| 1 | 2 |",
    );
    assert!(html.contains("<h1>Title</h1>"), "{html}");
    assert!(html.contains("<strong>bold</strong>"), "{html}");
    assert!(html.contains("href=\"https://example.org/a?b=c\""), "{html}");
    assert!(html.contains("href=\"mailto:help@example.org\""), "{html}");
    assert!(html.contains("href=\"/knowledge/2\""), "{html}");
    assert!(html.contains("<img src=\"https://example.org/p.png\""), "{html}");
    assert!(html.contains("<table>"), "{html}");
}

#[test]
fn url_schemes_are_judged_conservatively() {
    for url in ["https://x.org", "HTTP://x.org", "mailto:a@b.org", "/a/b", "a/b:c", "#top", "?q=a:b", "page"] {
        assert!(is_safe_url(url), "{url}");
    }
    for url in ["javascript:x", " javascript:x", "data:text/html,x", "file:///etc/passwd", "java\tscript:x", "ftp://x"]
    {
        assert!(!is_safe_url(url), "{url}");
    }
}

#[test]
fn summaries_are_plain_text_cut_on_a_word() {
    assert_eq!(summary("# Heading\n\nSome **bold** text.", 160), "Heading Some bold text.");
    let long = summary(&"word ".repeat(100), 20);
    assert!(long.chars().count() <= 21 && long.ends_with('…'), "{long}");
}

// ---- State machine -----------------------------------------------------------------------

#[test]
fn the_article_state_machine_allows_exactly_these_moves() {
    use ArticleStatus as S;
    let allowed =
        [(S::Draft, S::Published), (S::Draft, S::Archived), (S::Published, S::Archived), (S::Archived, S::Published)];
    for from in S::ALL {
        for to in S::ALL {
            let expected = allowed.contains(&(from, to));
            assert_eq!(from.can_become(to), expected, "{from:?} -> {to:?}");
            assert_eq!(from.transition(to).is_ok(), expected, "{from:?} -> {to:?}");
        }
    }
    assert!(S::Draft.is_editable() && S::Published.is_editable() && !S::Archived.is_editable());
    for status in S::ALL {
        assert_eq!(S::parse(status.code()), Some(status));
    }
    assert_eq!(S::parse("deleted"), None);
}

// ---- Parsing -----------------------------------------------------------------------------

fn field_of(error: KnowledgeError) -> Option<&'static str> {
    web::Problem::field(&error)
}

#[test]
fn article_input_is_parsed_and_the_field_at_fault_named() {
    let tags = Tags::parse("Billing, refund  late-fee,billing").unwrap();
    assert_eq!(tags.as_slice(), ["billing", "refund", "late-fee"]);
    assert_eq!(tags.joined(), "billing refund late-fee");
    assert_eq!(field_of(Tags::parse("no_underscores").unwrap_err()), Some("tags"));
    assert_eq!(field_of(Tags::parse("<b>").unwrap_err()), Some("tags"));
    let many: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
    assert!(matches!(Tags::from_list(&many), Err(KnowledgeError::TooManyTags)));
    let ok = Tags::default();
    assert_eq!(field_of(ArticleDraft::parse(" ", "b", "c", &ok, "public").unwrap_err()), Some("title"));
    assert_eq!(field_of(ArticleDraft::parse("t", "", "c", &ok, "public").unwrap_err()), Some("body"));
    assert_eq!(field_of(ArticleDraft::parse("t", "b", "", &ok, "public").unwrap_err()), Some("category"));
    assert_eq!(field_of(ArticleDraft::parse("t", "b", "c", &ok, "secret").unwrap_err()), Some("audience"));
    assert_eq!(field_of(ArticleDraft::parse("a\u{7}b", "b", "c", &ok, "public").unwrap_err()), Some("title"));
    let parsed = ArticleDraft::parse(" Title ", "line 1\r\nline 2", "Meters", &ok, "public").unwrap();
    assert_eq!((parsed.title.as_str(), parsed.body.as_str()), ("Title", "line 1\nline 2"));
    assert_eq!(parsed.audience, Audience::Public);
}

#[test]
fn scripts_and_answers_are_parsed() {
    let step = ScriptStep::parse("Ask for the account number", Some(" "), Some("10 digits")).unwrap();
    assert_eq!(step.expected_answer, None);
    assert_eq!(field_of(ScriptDraft::parse("Verify", None, Vec::new()).unwrap_err()), Some("steps"));
    assert_eq!(field_of(ScriptDraft::parse("", None, vec![step.clone()]).unwrap_err()), Some("name"));
    assert_eq!(field_of(ScriptStep::parse("", None, None).unwrap_err()), Some("steps"));
    assert!(ScriptDraft::parse("Verify", Some("Who is calling"), vec![step]).is_ok());
    assert_eq!(field_of(AnswerDraft::parse("n", "c", &"x".repeat(4_001)).unwrap_err()), Some("body"));
    assert!(AnswerDraft::parse("Thanks", "General", "Thank you for calling.").is_ok());
}

#[test]
fn search_terms_carry_no_query_syntax() {
    assert_eq!(search_terms("Late-fee \"refund\" OR NEAR(x) *"), ["late", "fee", "refund", "or", "near", "x"]);
    assert!(search_terms("\"*():^").is_empty());
    assert_eq!(search_terms(&"a ".repeat(50)).len(), 8);
}

// ---- Store tests (both backends) ---------------------------------------------------------

#[tokio::test]
async fn a_published_article_is_found_in_the_same_transaction() -> TestResult {
    let s = scratch::open().await?;
    let actor = Actor::system("test");
    let mut tx = s.db.begin().await?;
    let body = "When a customer disputes a **late fee**, check the payment history first.";
    let article =
        ops::create_article(&mut tx, &actor, &draft("Waiving late fees", body, "fees billing", "public"), t(0)).await?;
    assert_eq!((article.status.as_str(), article.version), ("draft", 1));
    assert!(search::find(&mut tx, "late fee", true, 10).await?.is_empty(), "drafts are not searchable");
    ops::set_status(&mut tx, &actor, article.article_id, ArticleStatus::Published, t(1)).await?;
    for query in ["late fee", "waiving", "disputes payment", "BILLING", "wai"] {
        let hits = search::find(&mut tx, query, false, 10).await?;
        assert_eq!(hits.len(), 1, "{query}");
        assert_eq!(hits[0].article_id, article.article_id);
        assert_eq!(hits[0].title, "Waiving late fees");
        assert!(hits[0].summary.starts_with("When a customer disputes a late fee"), "{}", hits[0].summary);
    }
    assert!(search::find(&mut tx, "meter", true, 10).await?.is_empty());
    assert!(search::find(&mut tx, "\"*() OR", true, 10).await?.is_empty(), "query syntax is harmless");
    ops::set_status(&mut tx, &actor, article.article_id, ArticleStatus::Archived, t(2)).await?;
    assert!(search::find(&mut tx, "late fee", true, 10).await?.is_empty(), "archived articles leave the search");
    let refused = ops::set_status(&mut tx, &actor, article.article_id, ArticleStatus::Draft, t(3)).await;
    assert!(matches!(refused, Err(KnowledgeError::StatusTransitionNotAllowed { .. })));
    tx.commit().await?;
    Ok(())
}

#[tokio::test]
async fn an_edit_makes_version_two_and_keeps_version_one() -> TestResult {
    let s = scratch::open().await?;
    let actor = Actor::system("test");
    let mut tx = s.db.begin().await?;
    let id = ops::create_article(&mut tx, &actor, &draft("Meter reads", "Read the dial.", "meters", "internal"), t(0))
        .await?
        .article_id;
    ops::set_status(&mut tx, &actor, id, ArticleStatus::Published, t(1)).await?;
    let edited = draft("Reading meters", "Read the **black** digits, left to right.", "meters water", "internal");
    let article = ops::revise_article(&mut tx, &actor, id, &edited, Some(1), t(2)).await?;
    assert_eq!((article.version, article.title.as_str(), article.status.as_str()), (2, "Reading meters", "published"));
    let versions = store::versions_of(&mut tx, id).await?;
    assert_eq!(versions.iter().map(|v| v.version).collect::<Vec<_>>(), [2, 1]);
    assert_eq!(versions[1].title, "Meter reads");
    assert_eq!(versions[1].body, "Read the dial.");
    assert_eq!(versions[0].author, "system:test");
    let stale = ops::revise_article(&mut tx, &actor, id, &edited, Some(1), t(3)).await;
    assert!(matches!(stale, Err(KnowledgeError::VersionConflict { expected: 1, actual: 2 })));
    let found = search::find(&mut tx, "black digits", true, 10).await?;
    assert_eq!(found.len(), 1, "the index follows the latest version");
    assert!(search::find(&mut tx, "dial", true, 10).await?.is_empty(), "the old text is no longer indexed");
    let view = ops::article_view(&mut tx, id, false).await?;
    assert!(view.html.contains("<strong>black</strong>"));
    assert_eq!(view.tags, ["meters", "water"]);
    let filter = AuditFilter { entity: Some("article".into()), entity_id: Some(id.to_string()), actor_name: None };
    let trail = audit::list(&mut tx, &filter, &PageRequest::parse(Some(10), None)?).await?;
    let mut actions: Vec<String> = trail.items.into_iter().map(|r| r.action).collect();
    actions.sort();
    assert_eq!(actions, ["article.created", "article.published", "article.revised"]);
    tx.commit().await?;
    Ok(())
}

#[tokio::test]
async fn internal_articles_are_hidden_from_public_search() -> TestResult {
    let s = scratch::open().await?;
    let actor = Actor::system("test");
    let mut tx = s.db.begin().await?;
    let public =
        ops::create_article(&mut tx, &actor, &draft("Outage map", "Check the outage map.", "", "public"), t(0)).await?;
    let internal = ops::create_article(
        &mut tx,
        &actor,
        &draft("Outage escalation", "Call the outage desk.", "", "internal"),
        t(0),
    )
    .await?;
    for id in [public.article_id, internal.article_id] {
        ops::set_status(&mut tx, &actor, id, ArticleStatus::Published, t(1)).await?;
    }
    let staff: Vec<i64> = search::find(&mut tx, "outage", true, 10).await?.into_iter().map(|h| h.article_id).collect();
    assert_eq!(staff.len(), 2);
    let everyone: Vec<i64> =
        search::find(&mut tx, "outage", false, 10).await?.into_iter().map(|h| h.article_id).collect();
    assert_eq!(everyone, [public.article_id]);
    tx.commit().await?;
    Ok(())
}

#[tokio::test]
async fn drafts_are_hidden_from_readers_and_cases_link_once() -> TestResult {
    let s = scratch::open().await?;
    let actor = Actor::system("test");
    let mut tx = s.db.begin().await?;
    let id = ops::create_article(&mut tx, &actor, &draft("Draft", "Not yet.", "", "internal"), t(0)).await?.article_id;
    assert!(matches!(ops::article_view(&mut tx, id, false).await, Err(KnowledgeError::ArticleNotFound)));
    assert!(ops::article_view(&mut tx, id, true).await.is_ok());
    let link = ops::link_case(&mut tx, &actor, id, 42, t(1)).await?;
    assert_eq!((link.case_id, link.linked_by.as_str()), (42, "system:test"));
    ops::link_case(&mut tx, &actor, id, 42, t(2)).await?;
    assert_eq!(store::cases_of(&mut tx, id).await?.len(), 1);
    assert_eq!(store::articles_for_case(&mut tx, 42).await?.len(), 1);
    assert!(matches!(ops::link_case(&mut tx, &actor, id, 0, t(3)).await, Err(KnowledgeError::CaseIdInvalid)));
    let drafts = store::ArticleFilter { category: "", tag: "", status: "draft" };
    assert_eq!(store::list_articles(&mut tx, &drafts, 0, 10).await?.len(), 1);
    let published = store::ArticleFilter { category: "", tag: "", status: "published" };
    assert!(store::list_articles(&mut tx, &published, 0, 10).await?.is_empty());
    tx.commit().await?;
    Ok(())
}

#[tokio::test]
async fn scripts_keep_step_order_and_answers_refuse_a_taken_name() -> TestResult {
    let s = scratch::open().await?;
    let actor = Actor::system("test");
    let mut tx = s.db.begin().await?;
    let steps = vec![
        ScriptStep::parse("Greet the caller", None, None)?,
        ScriptStep::parse("Ask for the account number", Some("10 digits"), Some("Check digit catches typos"))?,
    ];
    let view =
        ops::create_script(&mut tx, &actor, &ScriptDraft::parse("Verify caller", None, steps.clone())?, t(0)).await?;
    assert_eq!(view.steps.iter().map(|s| s.position).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(view.steps[1].expected_answer.as_deref(), Some("10 digits"));
    let reversed: Vec<ScriptStep> = steps.into_iter().rev().collect();
    let id = view.script.script_id;
    let revised =
        ops::revise_script(&mut tx, &actor, id, &ScriptDraft::parse("Verify caller", None, reversed)?, t(1)).await?;
    assert_eq!(revised.script.version, 2);
    assert_eq!(revised.steps[0].prompt, "Ask for the account number");
    let answer = AnswerDraft::parse("Payment received", "Billing", "We received your payment, thank you.")?;
    ops::create_answer(&mut tx, &actor, &answer, t(2)).await?;
    assert_eq!(store::search_answers(&mut tx, "RECEIVED", "", 10).await?.len(), 1);
    assert_eq!(store::search_answers(&mut tx, "", "Billing", 10).await?.len(), 1);
    assert!(store::search_answers(&mut tx, "", "Meters", 10).await?.is_empty());
    tx.commit().await?;
    let mut tx = s.db.begin().await?;
    let taken = ops::create_answer(&mut tx, &actor, &answer, t(3)).await;
    assert!(matches!(taken, Err(KnowledgeError::NameTaken)), "{taken:?}");
    tx.rollback().await?;
    Ok(())
}
