//! Live channels over the wire: the telephony webhook (secret, screen-pop on the agent's event
//! stream, the contact's duration at hang-up) and chat over real WebSockets (queue positions, an
//! agent taking the chat, messages both ways, resuming after a blip, the transcript saved as a
//! contact and a follow-up case).

use futures_util::{SinkExt, StreamExt};
use kernel::{Clock, Role};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;
use testkit::{TestApp, TestResult, spawn_app};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;
type Error = Box<dyn std::error::Error + Send + Sync>;

const SECRET: &str = "a-long-test-telephony-secret";

async fn settings(app: &TestApp, admin: &str, body: Value) -> Result<Value, Error> {
    let response = app.api.put(app.url("/api/v1/live/settings")).bearer_auth(admin).json(&body).send().await?;
    assert_eq!(response.status(), StatusCode::OK);
    Ok(response.json().await?)
}

async fn new_customer(app: &TestApp, token: &str, body: Value) -> Result<i64, Error> {
    let response = app.api.post(app.url("/api/v1/customers")).bearer_auth(token).json(&body).send().await?;
    assert_eq!(response.status(), StatusCode::CREATED);
    let created: Value = response.json().await?;
    created["customer"]["customer_id"].as_i64().ok_or_else(|| format!("no customer id in {created}").into())
}

async fn user_id(app: &TestApp, username: &str) -> Result<i64, Error> {
    let mut tx = app.db.read().await?;
    Ok(db::scalar!(&mut tx, i64, "select user_id from staff_user where username = $1", username)?)
}

async fn call_event(app: &TestApp, secret: Option<&str>, body: Value) -> Result<reqwest::Response, Error> {
    let mut request = app.api.post(app.url("/api/v1/telephony/events")).json(&body);
    if let Some(secret) = secret {
        request = request.header("x-telephony-secret", secret);
    }
    Ok(request.send().await?)
}

/// Reads the event stream until an event named `name` arrives; yields its data.
async fn next_event(stream: &mut reqwest::Response, buffer: &mut String, name: &str) -> Result<Value, Error> {
    loop {
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let event = block.lines().find_map(|l| l.strip_prefix("event:")).map(str::trim);
            let data = block.lines().find_map(|l| l.strip_prefix("data:")).map(str::trim);
            if event == Some(name) {
                return Ok(serde_json::from_str(data.unwrap_or("null"))?);
            }
        }
        let chunk = stream.chunk().await?.ok_or("the event stream ended")?;
        buffer.push_str(&String::from_utf8_lossy(&chunk));
    }
}

#[tokio::test]
async fn telephony_pops_the_caller_on_the_agents_screen_and_hang_up_fills_the_duration() -> TestResult {
    let app = spawn_app().await;
    let admin = app.user_with_token("root", Role::Admin).await?;
    let agent = app.user_with_token("ana", Role::Agent1).await?;
    let ana = user_id(&app, "ana").await?;
    let ringing = json!({"call_id": "1732958400.42", "event": "ringing", "caller_number": "555-555-0123",
        "called_number": "+15555550100", "extension": "201"});

    let unset = call_event(&app, Some(SECRET), ringing.clone()).await?;
    assert_eq!(unset.status(), StatusCode::FORBIDDEN, "no secret set yet");
    assert_eq!(unset.json::<Value>().await?["code"], "telephony_not_configured");
    settings(&app, &admin, json!({"telephony_secret": SECRET})).await?;
    let bad = call_event(&app, Some("not-the-secret-at-all"), ringing.clone()).await?;
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(bad.json::<Value>().await?["code"], "telephony_secret_invalid");
    assert_eq!(call_event(&app, None, ringing.clone()).await?.status(), StatusCode::UNAUTHORIZED);

    let response = app
        .api
        .put(app.url(&format!("/api/v1/telephony/extensions/{ana}")))
        .bearer_auth(&admin)
        .json(&json!({"extension": "201"}))
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::OK);
    let customer = new_customer(
        &app,
        &agent,
        json!({"kind": "person", "first_name": "Rosa", "last_name": "Diaz", "phones": [{"number": "(555) 555-0123"}]}),
    )
    .await?;

    let mut stream = app.api.get(app.url("/events")).bearer_auth(&agent).send().await?;
    assert_eq!(stream.status(), StatusCode::OK);
    let mut buffer = String::new();
    tokio::time::timeout(Duration::from_secs(5), next_event(&mut stream, &mut buffer, "ready")).await??;

    let now = app.clock.now();
    let mut body = ringing.clone();
    body["at"] = now.minus_seconds(130).to_rfc3339().into();
    let sent = std::time::Instant::now();
    let response = call_event(&app, Some(SECRET), body).await?;
    assert_eq!(response.status(), StatusCode::OK);
    let answer: Value = response.json().await?;
    assert_eq!(answer["popped"], true);
    let pop = tokio::time::timeout(Duration::from_secs(1), next_event(&mut stream, &mut buffer, "call")).await??;
    assert!(sent.elapsed() < Duration::from_secs(1), "the pop arrived within a second");
    assert_eq!(pop["customer_id"], customer);
    assert_eq!(pop["url"], format!("/customers/{customer}"));
    assert_eq!(pop["caller_number"], "+15555550123");

    for (event, ago) in [("answered", 120), ("ended", 10)] {
        let body = json!({"call_id": "1732958400.42", "event": event, "extension": "201",
            "recording_url": "https://pbx.example.org/rec/42.wav", "at": now.minus_seconds(ago).to_rfc3339()});
        let response = call_event(&app, Some(SECRET), body).await?;
        assert_eq!(response.status(), StatusCode::OK, "{event}");
    }
    let again = call_event(&app, Some(SECRET), json!({"call_id": "1732958400.42", "event": "ended"})).await?;
    let again: Value = again.json().await?;
    assert_eq!(again["repeated"], true, "a retried delivery changes nothing");
    let late = call_event(&app, Some(SECRET), json!({"call_id": "1732958400.42", "event": "answered"})).await?;
    assert_eq!(late.status(), StatusCode::CONFLICT);
    let contact_id = again["call"]["contact_id"].as_i64().ok_or("no contact logged at hang-up")?;
    let contact: Value = app
        .api
        .get(app.url(&format!("/api/v1/contacts/{contact_id}")))
        .bearer_auth(&agent)
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(contact["channel"], "phone");
    assert_eq!(contact["duration_seconds"], 110, "from answer to hang-up");
    assert_eq!(contact["customer_id"], customer);
    assert_eq!(contact["agent_user_id"], ana);

    let unknown =
        json!({"call_id": "c-2", "event": "ringing", "caller_number": "+44 20 7946 0958", "extension": "201"});
    assert_eq!(call_event(&app, Some(SECRET), unknown).await?.status(), StatusCode::OK);
    let pop = tokio::time::timeout(Duration::from_secs(1), next_event(&mut stream, &mut buffer, "call")).await??;
    assert!(pop["customer_id"].is_null());
    assert_eq!(pop["url"], "/search?q=%2B442079460958", "an unknown caller opens a search for the number");
    let bad_event = call_event(&app, Some(SECRET), json!({"call_id": "c-3", "event": "exploded"})).await?;
    assert_eq!(bad_event.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad_event.json::<Value>().await?["errors"][0]["field"], "event");
    drop(stream);
    app.stop().await;
    Ok(())
}

fn ws_url(app: &TestApp, path: &str) -> String {
    format!("{}{}", app.base.replacen("http://", "ws://", 1), path)
}

async fn visitor(app: &TestApp) -> Result<Socket, Error> {
    let (socket, _) = tokio_tungstenite::connect_async(ws_url(app, "/chat/ws")).await?;
    Ok(socket)
}

async fn send(socket: &mut Socket, frame: Value) -> Result<(), Error> {
    socket.send(Message::text(frame.to_string())).await?;
    Ok(())
}

/// The next frame of `kind`, skipping others; fails after two seconds.
async fn expect(socket: &mut Socket, kind: &str) -> Result<Value, Error> {
    let wait = async {
        while let Some(message) = socket.next().await {
            if let Message::Text(text) = message? {
                let frame: Value = serde_json::from_str(text.as_str())?;
                if frame["type"] == kind {
                    return Ok(frame);
                }
                if frame["type"] == "error" {
                    return Err(format!("error frame while waiting for {kind}: {frame}").into());
                }
            }
        }
        Err::<Value, Error>(format!("the socket closed before a {kind} frame").into())
    };
    tokio::time::timeout(Duration::from_secs(2), wait).await?
}

#[tokio::test]
async fn a_visitor_and_an_agent_chat_and_the_transcript_becomes_a_contact_and_a_case() -> TestResult {
    let app = spawn_app().await;
    let agent = app.user_with_token("ana", Role::Agent1).await?;
    let customer = new_customer(
        &app,
        &agent,
        json!({"kind": "person", "first_name": "Maria", "last_name": "Lopez",
            "emails": [{"address": "maria@example.org"}]}),
    )
    .await?;

    let mut maria = visitor(&app).await?;
    send(&mut maria, json!({"type": "start", "name": "Maria", "email": "Maria@Example.org", "account": ""})).await?;
    let welcome = expect(&mut maria, "welcome").await?;
    let token = welcome["token"].as_str().ok_or("no resume token")?.to_string();
    let session = welcome["chat_session_id"].as_i64().ok_or("no session id")?;
    assert_eq!(expect(&mut maria, "queue").await?["position"], 1);
    let mut omar = visitor(&app).await?;
    send(&mut omar, json!({"type": "start", "name": "Omar", "email": "omar@example.org"})).await?;
    assert_eq!(expect(&mut omar, "queue").await?["position"], 2);
    let mut bad = visitor(&app).await?;
    send(&mut bad, json!({"type": "start", "name": "", "email": "x@example.org"})).await?;
    assert_eq!(expect(&mut bad, "error").await?["code"], "name_missing");

    let mut request = ws_url(&app, "/chat/agent/ws").into_client_request()?;
    request.headers_mut().insert("authorization", format!("Bearer {agent}").parse()?);
    let (mut console, _) = tokio_tungstenite::connect_async(request).await?;
    assert_eq!(expect(&mut console, "queue").await?["total"], 2);
    send(&mut console, json!({"type": "take"})).await?;
    let assigned = expect(&mut console, "assigned").await?;
    assert_eq!(assigned["session"]["chat_session_id"], session, "the first in the queue is taken first");
    assert_eq!(assigned["session"]["customer_id"], customer, "matched by email");
    expect(&mut maria, "agent").await?;
    assert_eq!(expect(&mut omar, "queue").await?["position"], 1, "the queue moved up");

    send(&mut maria, json!({"type": "message", "body": "Hello, my bill is high"})).await?;
    let heard = expect(&mut console, "message").await?;
    assert_eq!(heard["body"], "Hello, my bill is high");
    assert_eq!(heard["sender"], "visitor");
    send(&mut console, json!({"type": "message", "chat_session_id": session, "body": "Let me look at it."})).await?;
    let echo = expect(&mut maria, "message").await?;
    assert_eq!((echo["sender"].as_str(), echo["body"].as_str()), (Some("visitor"), Some("Hello, my bill is high")));
    assert_eq!(expect(&mut maria, "message").await?["body"], "Let me look at it.");

    // A network blip: the widget reconnects with its token and gets the conversation back.
    drop(maria);
    let mut maria = visitor(&app).await?;
    send(&mut maria, json!({"type": "resume", "token": token})).await?;
    assert_eq!(expect(&mut maria, "welcome").await?["chat_session_id"], session);
    let history = expect(&mut maria, "history").await?;
    assert_eq!(history["messages"].as_array().map(Vec::len), Some(2));
    expect(&mut maria, "agent").await?;

    let end = json!({"type": "end", "chat_session_id": session, "reason_code": "billing_question",
        "disposition_code": "information_given", "needs_follow_up": true});
    send(&mut console, end).await?;
    let ended = expect(&mut console, "ended").await?;
    expect(&mut maria, "ended").await?;
    let contact_id = ended["contact_id"].as_i64().ok_or("no contact")?;
    assert!(ended["case_id"].as_i64().is_some(), "follow-up case opened");
    let contact: Value = app
        .api
        .get(app.url(&format!("/api/v1/contacts/{contact_id}")))
        .bearer_auth(&agent)
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(contact["channel"], "chat");
    assert_eq!(contact["customer_id"], customer);
    let summary = contact["summary"].as_str().unwrap_or_default();
    assert!(summary.contains("Maria: Hello, my bill is high") && summary.contains("Agent: Let me look at it."));

    let transcript: Value =
        app.api.get(app.url(&format!("/api/v1/chats/{session}"))).bearer_auth(&agent).send().await?.json().await?;
    assert_eq!(transcript["session"]["status"], "ended");
    assert_eq!(transcript["messages"].as_array().map(Vec::len), Some(2));
    let waiting: Value =
        app.api.get(app.url("/api/v1/chats?status=waiting")).bearer_auth(&agent).send().await?.json().await?;
    assert_eq!(waiting["items"].as_array().map(Vec::len), Some(1), "Omar still waits");
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn the_widget_is_served_and_other_sites_are_refused_once_origins_are_listed() -> TestResult {
    let app = spawn_app().await;
    let admin = app.user_with_token("root", Role::Admin).await?;
    let widget = app.api.get(app.url("/chat/widget.js")).send().await?;
    assert_eq!(widget.status(), StatusCode::OK);
    assert!(widget.headers()["content-type"].to_str()?.starts_with("text/javascript"));
    assert!(widget.text().await?.contains("sessionStorage"));

    let bad = app.api.put(app.url("/api/v1/live/settings")).bearer_auth(&admin);
    let bad = bad.json(&json!({"widget_origins": "not an origin"})).send().await?;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    settings(&app, &admin, json!({"widget_origins": "https://www.example.org"})).await?;
    let mut request = ws_url(&app, "/chat/ws").into_client_request()?;
    request.headers_mut().insert("origin", "https://evil.example.com".parse()?);
    let refused = tokio_tungstenite::connect_async(request).await;
    assert!(refused.is_err(), "a page on another site may not open a chat");
    let mut request = ws_url(&app, "/chat/ws").into_client_request()?;
    request.headers_mut().insert("origin", "https://www.example.org".parse()?);
    assert!(tokio_tungstenite::connect_async(request).await.is_ok());
    app.stop().await;
    Ok(())
}
