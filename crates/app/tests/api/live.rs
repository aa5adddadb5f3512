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
    tokio::time::timeout(Duration::from_secs(3), wait).await?
}

/// The next message frame from `sender`, skipping other frames.
async fn expect_message(socket: &mut Socket, sender: &str) -> Result<Value, Error> {
    loop {
        let frame = expect(socket, "message").await?;
        if frame["sender"] == sender {
            return Ok(frame);
        }
    }
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

    let told = expect_message(&mut maria, "system").await?;
    assert_eq!(told["body"], "You are now talking with Test ana.");
    send(&mut maria, json!({"type": "message", "body": "Hello, my bill is high"})).await?;
    let heard = expect_message(&mut console, "visitor").await?;
    assert_eq!(heard["body"], "Hello, my bill is high");
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
    assert_eq!(history["messages"].as_array().map(Vec::len), Some(3), "the greeting line and both messages");
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
    let said = transcript["messages"].as_array().ok_or("no messages")?.iter().filter(|m| m["sender"] != "system");
    assert_eq!(said.count(), 2);
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

async fn console(base_ws: &str, token: &str) -> Result<Socket, Error> {
    let mut request = format!("{base_ws}/chat/agent/ws").into_client_request()?;
    request.headers_mut().insert("authorization", format!("Bearer {token}").parse()?);
    let (socket, _) = tokio_tungstenite::connect_async(request).await?;
    Ok(socket)
}

async fn transfer(app: &TestApp, token: &str, session: i64, body: Value) -> Result<reqwest::Response, Error> {
    let url = app.url(&format!("/api/v1/chats/{session}/transfer"));
    Ok(app.api.post(url).bearer_auth(token).json(&body).send().await?)
}

async fn refused(response: reqwest::Response, status: StatusCode) -> Result<Value, Error> {
    assert_eq!(response.status(), status);
    let problem: Value = response.json().await?;
    Ok(problem)
}

#[tokio::test]
async fn an_agent_transfers_a_chat_to_a_colleague_and_back_to_the_queue() -> TestResult {
    let app = spawn_app().await;
    let ana = app.user_with_token("ana", Role::Agent1).await?;
    let ben = app.user_with_token("ben", Role::Agent2).await?;
    let ben_id = user_id(&app, "ben").await?;
    let ana_id = user_id(&app, "ana").await?;
    let cashier = app.add_user("cash", Role::Cashier).await?;
    let base = app.base.replacen("http://", "ws://", 1);

    let mut maria = visitor(&app).await?;
    send(&mut maria, json!({"type": "start", "name": "Maria", "email": "maria@example.org"})).await?;
    let session = expect(&mut maria, "welcome").await?["chat_session_id"].as_i64().ok_or("no session")?;
    let mut ana_console = console(&base, &ana).await?;
    send(&mut ana_console, json!({"type": "take"})).await?;
    expect(&mut ana_console, "assigned").await?;
    let mut ben_console = console(&base, &ben).await?;
    expect(&mut ben_console, "queue").await?;

    let note = json!({"to_user_id": ana_id, "note": "x"});
    let problem = refused(transfer(&app, &ben, session, note).await?, StatusCode::FORBIDDEN).await?;
    assert_eq!(problem["code"], "chat_not_yours");
    for (body, field) in [
        (json!({"to_user_id": cashier}), "to_user_id"),
        (json!({"to_user_id": ana_id}), "to_user_id"),
        (json!({"to_user_id": 999_999}), "to_user_id"),
        (json!({"to_user_id": ben_id, "note": "n".repeat(501)}), "note"),
    ] {
        let problem = refused(transfer(&app, &ana, session, body).await?, StatusCode::UNPROCESSABLE_ENTITY).await?;
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
    }

    let body = json!({"to_user_id": ben_id, "note": "Wants a payment plan; account checked."});
    let response = transfer(&app, &ana, session, body).await?;
    assert_eq!(response.status(), StatusCode::OK);
    let moved: Value = response.json().await?;
    assert_eq!(moved["session"]["agent_user_id"], ben_id);
    assert_eq!(expect(&mut ana_console, "transferred").await?["to_name"], "Test ben");
    let assigned = expect(&mut ben_console, "assigned").await?;
    assert_eq!(assigned["session"]["chat_session_id"], session);
    while expect(&mut maria, "agent").await?["agent_name"] != "Test ben" {}
    let note = expect_message(&mut ben_console, "note").await?;
    assert!(note["body"].as_str().unwrap_or_default().contains("Wants a payment plan"), "{note}");
    let refused_send = json!({"type": "message", "chat_session_id": session, "body": "still here?"});
    send(&mut ana_console, refused_send).await?;
    let error = tokio::time::timeout(Duration::from_secs(3), ana_console.next()).await?.ok_or("closed")??;
    assert!(error.to_text()?.contains("chat_not_yours"), "the old agent no longer holds the chat");

    send(&mut ben_console, json!({"type": "message", "chat_session_id": session, "body": "Ben here."})).await?;
    // The customer is told who answers now and hears Ben, and never sees the agents' note.
    let mut seen = Vec::new();
    loop {
        let frame = expect(&mut maria, "message").await?;
        seen.push(frame.clone());
        if frame["body"] == "Ben here." {
            break;
        }
    }
    assert!(seen.iter().any(|f| f["body"] == "You are now talking with Test ben."), "{seen:?}");
    assert!(seen.iter().all(|f| f["sender"] != "note"), "{seen:?}");

    let back = json!({"type": "transfer", "chat_session_id": session, "to_user_id": null, "note": ""});
    send(&mut ben_console, back).await?;
    assert!(expect(&mut ben_console, "transferred").await?["to_name"].is_null());
    assert_eq!(expect(&mut maria, "queue").await?["position"], 1, "back in the queue");
    let waiting = transfer(&app, &ben, session, json!({"to_user_id": ana_id})).await?;
    assert_eq!(refused(waiting, StatusCode::CONFLICT).await?["code"], "chat_not_active");

    let mut transcript = Value::Null;
    for _ in 0..50 {
        let url = app.url(&format!("/api/v1/chats/{session}"));
        transcript = app.api.get(url).bearer_auth(&ana).send().await?.json().await?;
        if transcript["messages"].as_array().is_some_and(|m| m.len() >= 5) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(transcript["session"]["status"], "waiting");
    let lines: Vec<(String, String)> = transcript["messages"]
        .as_array()
        .ok_or("no messages")?
        .iter()
        .map(|m| (m["sender"].as_str().unwrap_or("").into(), m["body"].as_str().unwrap_or("").into()))
        .collect();
    let has = |sender: &str, body: &str| lines.iter().any(|(s, b)| s == sender && b == body);
    assert!(has("note", "Test ana transferred the chat to Test ben: Wants a payment plan; account checked."));
    assert!(has("system", "You are now talking with Test ben."), "{lines:?}");
    assert!(has("note", "Test ben transferred the chat to the queue."), "{lines:?}");
    app.stop().await;
    Ok(())
}

/// A second Caredesk node on the test's database, with its own connections (another process
/// would have the same: nothing in memory is shared).
async fn second_node(app: &TestApp) -> Result<caredesk::RunningApp, Error> {
    let db = match (&app.scratch.database_url, &app.scratch.schema) {
        (Some(url), Some(schema)) => db::Db::open_postgres(url, Some(schema)).await?,
        _ => db::Db::open_sqlite(&app.scratch.data_dir).await?,
    };
    Ok(caredesk::spawn(&app.config, db, app.clock.clone()).await?)
}

#[tokio::test]
async fn a_visitor_on_one_node_and_agents_on_another_chat_through_the_shared_database() -> TestResult {
    let app = spawn_app().await;
    let ana = app.user_with_token("ana", Role::Agent1).await?;
    let ben = app.user_with_token("ben", Role::Agent1).await?;
    let ben_id = user_id(&app, "ben").await?;
    let node_b = second_node(&app).await?;
    let base_a = app.base.replacen("http://", "ws://", 1);
    let base_b = format!("ws://{}", node_b.addr);

    let mut maria = visitor(&app).await?;
    send(&mut maria, json!({"type": "start", "name": "Maria", "email": "maria@example.org"})).await?;
    let welcome = expect(&mut maria, "welcome").await?;
    let session = welcome["chat_session_id"].as_i64().ok_or("no session")?;
    let resume = welcome["token"].as_str().ok_or("no token")?.to_string();
    assert_eq!(expect(&mut maria, "queue").await?["position"], 1);

    let mut ana_b = console(&base_b, &ana).await?;
    assert_eq!(expect(&mut ana_b, "queue").await?["total"], 1, "node B sees the chat waiting on node A");
    send(&mut ana_b, json!({"type": "take"})).await?;
    assert_eq!(expect(&mut ana_b, "assigned").await?["session"]["chat_session_id"], session);
    assert_eq!(expect(&mut maria, "agent").await?["agent_name"], "Test ana", "relayed from node B");

    send(&mut maria, json!({"type": "message", "body": "Written on node A"})).await?;
    assert_eq!(expect_message(&mut ana_b, "visitor").await?["body"], "Written on node A");
    send(&mut ana_b, json!({"type": "message", "chat_session_id": session, "body": "Answered on node B"})).await?;
    let heard = expect_message(&mut maria, "agent").await?;
    assert_eq!((heard["body"].as_str(), heard["sender_name"].as_str()), (Some("Answered on node B"), Some("Test ana")));

    // Ana on node B hands the chat to Ben, whose console is on node A.
    let mut ben_a = console(&base_a, &ben).await?;
    expect(&mut ben_a, "queue").await?;
    let handover = json!({"type": "transfer", "chat_session_id": session, "to_user_id": ben_id, "note": "over to you"});
    send(&mut ana_b, handover).await?;
    expect(&mut ana_b, "transferred").await?;
    let assigned = expect(&mut ben_a, "assigned").await?;
    assert_eq!(assigned["session"]["chat_session_id"], session);
    let bodies: Vec<&str> =
        assigned["messages"].as_array().ok_or("no messages")?.iter().filter_map(|m| m["body"].as_str()).collect();
    assert!(bodies.contains(&"Answered on node B"), "the new agent gets the transcript: {bodies:?}");
    assert_eq!(expect(&mut maria, "agent").await?["agent_name"], "Test ben");
    send(&mut ben_a, json!({"type": "message", "chat_session_id": session, "body": "Ben on node A"})).await?;
    assert_eq!(expect_message(&mut maria, "agent").await?["body"], "Ben on node A");

    // The visitor's page reconnects through a balancer and lands on node B this time.
    drop(maria);
    let mut maria = tokio_tungstenite::connect_async(format!("{base_b}/chat/ws")).await?.0;
    send(&mut maria, json!({"type": "resume", "token": resume})).await?;
    let history = expect(&mut maria, "history").await?;
    let senders: Vec<&str> =
        history["messages"].as_array().ok_or("no history")?.iter().filter_map(|m| m["sender"].as_str()).collect();
    assert!(!senders.contains(&"note"), "the agents' note stays with the agents: {senders:?}");
    send(&mut maria, json!({"type": "message", "body": "Now on node B"})).await?;
    assert_eq!(expect_message(&mut ben_a, "visitor").await?["body"], "Now on node B");
    send(&mut ben_a, json!({"type": "end", "chat_session_id": session})).await?;
    expect(&mut ben_a, "ended").await?;
    expect(&mut maria, "ended").await?;
    let mut tx = app.db.read().await?;
    let sql = "select cast(count(*) as bigint) from chat_message where chat_session_id = $1 and sender = 'visitor'";
    assert_eq!(db::scalar!(&mut tx, i64, sql, session)?, 2, "every line is stored once");
    tx.rollback().await?;
    drop((maria, ana_b, ben_a));
    node_b.stop().await;
    app.stop().await;
    Ok(())
}

/// This node's relay status from `GET /api/v1/live/node` on `base` (http://host:port).
async fn node_status(app: &TestApp, base: &str, admin: &str) -> Result<Value, Error> {
    let response = app.api.get(format!("{base}/api/v1/live/node")).bearer_auth(admin).send().await?;
    assert_eq!(response.status(), StatusCode::OK);
    Ok(response.json().await?)
}

/// Waits until the node's `relaying` is `want`; yields how long it took (fails after 5 s).
async fn until_relaying(app: &TestApp, base: &str, admin: &str, want: bool) -> Result<Duration, Error> {
    let started = std::time::Instant::now();
    while started.elapsed() < Duration::from_secs(5) {
        if node_status(app, base, admin).await?["relaying"] == want {
            return Ok(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(format!("{base} never had relaying = {want}").into())
}

#[tokio::test]
async fn a_lone_node_does_no_relay_reads_while_idle_and_relays_once_a_second_node_joins() -> TestResult {
    let app = spawn_app().await;
    let admin = app.user_with_token("root", Role::Admin).await?;
    let ana = app.user_with_token("ana", Role::Agent1).await?;
    let base_a = app.base.clone();
    let before = node_status(&app, &base_a, &admin).await?;
    assert_eq!(before["started"], false, "nothing starts the hub before the first chat or page");

    let mut ana_a = console(&base_a.replacen("http://", "ws://", 1), &ana).await?;
    expect(&mut ana_a, "queue").await?;
    let alone = node_status(&app, &base_a, &admin).await?;
    assert_eq!((alone["started"].as_bool(), alone["relaying"].as_bool()), (Some(true), Some(false)), "{alone}");
    // Idle for a while: the node counts the others (a tiny read) but never reads messages or
    // compares its queue with the database.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let idle = node_status(&app, &base_a, &admin).await?;
    assert_eq!(idle["relay_queries"], 0, "{idle}");
    assert!(idle["presence_checks"].as_u64().unwrap_or(0) >= 1, "{idle}");

    let node_b = second_node(&app).await?;
    let base_b = format!("http://{}", node_b.addr);
    assert_eq!(node_status(&app, &base_b, &admin).await?["started"], false);
    let mut ana_b = console(&base_b.replacen("http://", "ws://", 1), &ana).await?;
    expect(&mut ana_b, "queue").await?;
    let newcomer = node_status(&app, &base_b, &admin).await?;
    assert_eq!((newcomer["relaying"].as_bool(), newcomer["other_nodes"].as_i64()), (Some(true), Some(1)));
    let waited = until_relaying(&app, &base_a, &admin, true).await?;
    assert!(waited < Duration::from_secs(3), "node A noticed node B after {waited:?}");
    tokio::time::sleep(Duration::from_millis(400)).await;
    let relaying = node_status(&app, &base_a, &admin).await?;
    assert!(relaying["relay_queries"].as_u64().unwrap_or(0) > 0, "{relaying}");

    // Node B stops: its row goes, and node A falls quiet again.
    drop(ana_b);
    node_b.stop().await;
    until_relaying(&app, &base_a, &admin, false).await?;
    let quiet = node_status(&app, &base_a, &admin).await?["relay_queries"].clone();
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(node_status(&app, &base_a, &admin).await?["relay_queries"], quiet, "no reads once alone again");
    drop(ana_a);
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn typing_and_a_visitor_coming_back_reach_the_other_node() -> TestResult {
    let app = spawn_app().await;
    let ana = app.user_with_token("ana", Role::Agent1).await?;
    let node_b = second_node(&app).await?;
    let base_b = format!("ws://{}", node_b.addr);

    let mut maria = visitor(&app).await?;
    send(&mut maria, json!({"type": "start", "name": "Maria", "email": "maria@example.org"})).await?;
    let welcome = expect(&mut maria, "welcome").await?;
    let session = welcome["chat_session_id"].as_i64().ok_or("no session")?;
    let resume = welcome["token"].as_str().ok_or("no token")?.to_string();
    let mut ana_b = console(&base_b, &ana).await?;
    send(&mut ana_b, json!({"type": "take", "chat_session_id": session})).await?;
    expect(&mut ana_b, "assigned").await?;
    // The greeting line proves node A relays now.
    expect_message(&mut maria, "system").await?;

    send(&mut maria, json!({"type": "typing"})).await?;
    assert_eq!(expect(&mut ana_b, "typing").await?["chat_session_id"], session, "visitor typing on node A");
    send(&mut ana_b, json!({"type": "typing", "chat_session_id": session})).await?;
    expect(&mut maria, "typing").await?;

    drop(maria);
    let mut maria = visitor(&app).await?;
    send(&mut maria, json!({"type": "resume", "token": resume})).await?;
    expect(&mut maria, "welcome").await?;
    assert_eq!(expect(&mut ana_b, "visitor_back").await?["chat_session_id"], session, "reconnected on node A");
    drop((maria, ana_b));
    node_b.stop().await;
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_call_reported_to_one_node_pops_on_the_agents_screen_on_another() -> TestResult {
    let app = spawn_app().await;
    let admin = app.user_with_token("root", Role::Admin).await?;
    let agent = app.user_with_token("ana", Role::Agent1).await?;
    let ana = user_id(&app, "ana").await?;
    settings(&app, &admin, json!({"telephony_secret": SECRET})).await?;
    let url = app.url(&format!("/api/v1/telephony/extensions/{ana}"));
    let response = app.api.put(url).bearer_auth(&admin).json(&json!({"extension": "201"})).send().await?;
    assert_eq!(response.status(), StatusCode::OK);
    let mut stream = app.api.get(app.url("/events")).bearer_auth(&agent).send().await?;
    let mut buffer = String::new();
    tokio::time::timeout(Duration::from_secs(5), next_event(&mut stream, &mut buffer, "ready")).await??;

    // The phone system reports the call to node B; Ana's page listens on node A.
    let node_b = second_node(&app).await?;
    let ringing = json!({"call_id": "b-1", "event": "ringing", "caller_number": "+15555550199", "extension": "201"});
    let sent = std::time::Instant::now();
    let response = app
        .api
        .post(format!("http://{}/api/v1/telephony/events", node_b.addr))
        .header("x-telephony-secret", SECRET)
        .json(&ringing)
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::OK);
    let answer: Value = response.json().await?;
    assert_eq!((answer["popped"].as_bool(), answer["relayed"].as_bool()), (Some(false), Some(true)), "{answer}");
    let pop = tokio::time::timeout(Duration::from_secs(4), next_event(&mut stream, &mut buffer, "call")).await??;
    assert!(sent.elapsed() < Duration::from_secs(3), "relayed within {:?}", sent.elapsed());
    assert_eq!((pop["call_id"].as_str(), pop["caller_number"].as_str()), (Some("b-1"), Some("+15555550199")));

    // A transfer reported to node B rings again: the second pop arrives too, once.
    let transferred = json!({"call_id": "b-1", "event": "transferred", "extension": "201"});
    let response = app
        .api
        .post(format!("http://{}/api/v1/telephony/events", node_b.addr))
        .header("x-telephony-secret", SECRET)
        .json(&transferred)
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::OK);
    let pop = tokio::time::timeout(Duration::from_secs(4), next_event(&mut stream, &mut buffer, "call")).await??;
    assert_eq!(pop["state"], "transferred");
    let again = tokio::time::timeout(Duration::from_millis(600), next_event(&mut stream, &mut buffer, "call")).await;
    assert!(again.is_err(), "each pop arrives once: {again:?}");
    drop(stream);
    node_b.stop().await;
    app.stop().await;
    Ok(())
}
