//! A day at the desk, told end to end: a call arrives, the agent finds the customer by four
//! digits of their phone, logs the contact, opens a case, escalates it to tier 2; tier 2 asks the
//! customer for information (the SLA clock pauses), the customer replies through the API (the
//! case reopens and the clock resumes), tier 2 resolves it, and the lead's report counts it.

use kernel::Role;
use serde_json::{Value, json};
use testkit::{TestResult, spawn_app};

#[tokio::test]
async fn a_call_becomes_a_case_that_tier_two_resolves_and_the_report_counts() -> TestResult {
    let app = spawn_app().await;
    let agent = app.user_with_token("amy-agent", Role::Agent1).await?;
    let tier2 = app.user_with_token("tom-tier2", Role::Agent2).await?;
    let lead = app.user_with_token("lena-lead", Role::Lead).await?;
    let customer = json!({
        "kind": "person", "first_name": "Grace", "last_name": "Okafor",
        "phones": [{"label": "home", "number": "(555) 404-7321"}],
        "addresses": [{"line1": "77 River Rd", "city": "Riverton", "region": "WY", "postal_code": "82501"}]
    });
    app.api.post(app.url("/api/v1/customers")).bearer_auth(&agent).json(&customer).send().await?;

    // The phone rings; the caller reads out the last four digits of their number.
    let found: Value = app.api.get(app.url("/api/v1/search?q=7321")).bearer_auth(&agent).send().await?.json().await?;
    let hit = found["groups"].as_array().and_then(|g| g.iter().find(|g| g["kind"] == "customer")).ok_or("not found")?;
    assert_eq!(hit["hits"][0]["title"], "Grace Okafor");
    let customer_id: i64 = hit["hits"][0]["id"].as_str().ok_or("id")?.parse()?;

    // The agent logs the call...
    let contact = json!({
        "customer_id": customer_id, "channel": "phone", "direction": "inbound",
        "reason_code": "billing_question", "sub_reason_code": "high_bill", "disposition_code": "escalated",
        "summary": "Bill doubled since the meter was replaced; wants a review"
    });
    let logged = app.api.post(app.url("/api/v1/contacts")).bearer_auth(&agent).json(&contact).send().await?;
    assert_eq!(logged.status(), 201);
    let contact_id = logged.json::<Value>().await?["contact_id"].as_i64().ok_or("contact id")?;

    // ...opens a case during the call, and escalates it to tier 2.
    let case = json!({
        "customer_id": customer_id, "subject": "Bill doubled after meter replacement", "category": "billing",
        "contact_id": contact_id, "description": "Customer reports the bill doubled after the new meter."
    });
    let opened: Value =
        app.api.post(app.url("/api/v1/cases")).bearer_auth(&agent).json(&case).send().await?.json().await?;
    let case_id = opened["case_id"].as_i64().ok_or("case id")?;
    let escalated: Value = app
        .api
        .post(app.url(&format!("/api/v1/cases/{case_id}/escalate")))
        .bearer_auth(&agent)
        .json(&json!({"reason": "Meter may be faulty; needs a rate and meter review"}))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(escalated["tier"], 2);

    // Tier 2 takes it from their queue and asks the customer for a photo: the clock pauses.
    let queue_id = escalated["queue_id"].as_i64().ok_or("queue")?;
    let taken: Value = app
        .api
        .post(app.url(&format!("/api/v1/queues/{queue_id}/take-next")))
        .bearer_auth(&tier2)
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(taken["case_id"], case_id);
    let ask = json!({"body": "Could you send a photo of the new meter's display?", "await_customer": true});
    app.api.post(app.url(&format!("/api/v1/cases/{case_id}/replies"))).bearer_auth(&tier2).json(&ask).send().await?;
    let waiting: Value =
        app.api.get(app.url(&format!("/api/v1/cases/{case_id}"))).bearer_auth(&tier2).send().await?.json().await?;
    assert_eq!(waiting["case"]["status"], "pending_customer");
    assert_eq!(waiting["sla_clock_paused"], true);
    let left_when_paused = waiting["sla_remaining_seconds"].as_i64().ok_or("remaining")?;

    // A day later the customer answers through the API: the case reopens and the clock runs again.
    app.clock.advance_seconds(24 * 3_600);
    let answer = json!({"body": "Photo attached: display reads 10423", "direction": "inbound"});
    let replied = app
        .api
        .post(app.url(&format!("/api/v1/cases/{case_id}/replies")))
        .bearer_auth(&tier2)
        .json(&answer)
        .send()
        .await?;
    assert_eq!(replied.status(), 201);
    let resumed: Value =
        app.api.get(app.url(&format!("/api/v1/cases/{case_id}"))).bearer_auth(&tier2).send().await?.json().await?;
    assert_eq!(resumed["case"]["status"], "open");
    assert_eq!(resumed["sla_clock_paused"], false);
    assert_eq!(resumed["sla_remaining_seconds"].as_i64(), Some(left_when_paused), "the day waiting did not count");

    // Tier 2 resolves it.
    let resolve = json!({"resolution_code": "credit_issued"});
    let resolved: Value = app
        .api
        .post(app.url(&format!("/api/v1/cases/{case_id}/resolve")))
        .bearer_auth(&tier2)
        .json(&resolve)
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(resolved["status"], "resolved");
    assert_eq!(resolved["first_contact_resolution"], false, "resolved later, not during the call");

    // The customer's timeline shows the call; the lead's report counts it.
    let timeline: Value = app
        .api
        .get(app.url(&format!("/api/v1/customers/{customer_id}/contacts")))
        .bearer_auth(&agent)
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(timeline["items"][0]["contact_id"], contact_id);
    let report: Value =
        app.api.get(app.url("/api/v1/reports/inquiries")).bearer_auth(&lead).send().await?.json().await?;
    let billing = report["reasons"].as_array().and_then(|r| r.iter().find(|r| r["reason_code"] == "billing_question"));
    assert_eq!(billing.map(|b| b["total"].clone()), Some(json!(1)));
    let refused = app.api.get(app.url("/api/v1/reports/inquiries")).bearer_auth(&agent).send().await?;
    assert_eq!(refused.status(), 403, "agents do not see the lead's report");
    app.stop().await;
    Ok(())
}
