// The supervisor's approval queue in real Chromium: an agent asks (through the API) for a refund
// of an overpayment, a supervisor asks (on the charges page) for an adjustment above the limit;
// each supervisor sees the other's request with Approve and their own as "yours"; each approves
// the other's, the page says "Done.", and the money moves once. An agent has no queue at all.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { start, skip, shots, waitForText } from "./harness.mjs";

let app;

before(async () => {
  if (skip) return;
  app = await start({
    name: "approvals",
    users: [["ada", "agent1", "Ada Agent"], ["sam", "supervisor", "Sam Super"], ["sue", "supervisor", "Sue Senior"]],
  });
});

after(async () => { if (app) await app.stop(); });

async function receivable(token, accountId) {
  const balance = await app.get(token, `/api/v1/accounts/${accountId}/balance`);
  return balance.currencies.length ? balance.currencies[0].receivable_minor : 0;
}

/// The row of table `table` whose text mentions `text`.
function row(page, table, text) {
  return page.locator(`${table} tbody tr`, { hasText: text });
}

test("a refund and an adjustment are each approved by the supervisor who did not ask", { skip }, async () => {
  // Ada takes 80.00 by card on the phone for a customer who owes nothing, then asks to refund 30.00.
  const ada = await app.token("ada");
  const created = await app.post(ada, "/api/v1/customers", { kind: "person", first_name: "Nora", last_name: "Quill" });
  const account = await app.post(ada, "/api/v1/accounts", { customer_id: created.customer.customer_id });
  await app.post(ada, "/api/v1/payments", {
    account_id: account.account_id, amount: "80.00", tender: "card", channel: "phone",
    processor_token: "tok_browser_1", card_brand: "visa", last_four: "4242",
  });
  const refund = await app.post(ada, "/api/v1/refunds",
    { account_id: account.account_id, amount: "30.00", reason: "Paid the bill twice" });
  assert.equal(refund.status, "requested");
  assert.equal(await receivable(ada, account.account_id), -8000, "nothing leaves before a supervisor decides");

  // The agent has no approval queue.
  const adaPage = await app.signedIn("ada");
  const refused = await adaPage.goto(app.baseUrl + "/approvals");
  assert.equal(refused.status(), 403);
  assert.equal(await adaPage.$("#approval-refunds"), null);
  await adaPage.close();

  // Sam asks for a 250.00 debit on the charges page: above the 100.00 limit, so it waits.
  const sam = await app.signedIn("sam");
  await sam.goto(`${app.baseUrl}/accounts/${account.account_id}/charges`);
  await sam.selectOption("#adj-direction", "debit");
  await sam.fill("#adj-amount", "250.00");
  await sam.selectOption("#adj-reason", "billing_error");
  await sam.fill("#adj-note", "Meter was under-read in October");
  await sam.click("form[action$='/charges/adjustments'] button[type=submit]");
  await waitForText(sam, "#charges-adjustments", /pending approval/);
  assert.equal(await receivable(ada, account.account_id), -8000, "the adjustment waits too");

  // Sam's queue: Ada's refund is his to decide; his own adjustment is not.
  await sam.goto(app.baseUrl + "/approvals");
  const refundRow = row(sam, "#approval-refunds", account.account_number);
  assert.match(await refundRow.textContent(), /Nora Quill.*30\.00.*Paid the bill twice.*ada/is);
  assert.equal(await refundRow.locator("button", { hasText: "Approve" }).count(), 1);
  const ownRow = row(sam, "#approval-adjustments", account.account_number);
  assert.match(await ownRow.textContent(), /debit.*250\.00.*Meter was under-read in October/s);
  assert.match(await ownRow.textContent(), /yours — another supervisor decides/);
  assert.equal(await ownRow.locator("button").count(), 0, "no Approve or Reject on one's own request");
  await sam.screenshot({ path: join(shots, "approvals.png"), fullPage: true });

  await refundRow.locator("button", { hasText: "Approve" }).click();
  await sam.waitForSelector(".flash");
  assert.equal((await sam.textContent(".flash")).trim(), "Done.");
  assert.match(await sam.textContent("#approval-refunds"), /No refunds waiting\./);
  assert.match(await sam.textContent("#approval-adjustments"), /yours — another supervisor decides/,
    "his adjustment still waits for someone else");
  assert.equal(await receivable(ada, account.account_id), -5000, "the refunded 30.00 left the credit, once");

  // Sue, in her own browser session, decides Sam's adjustment.
  const sue = await app.signedIn("sue");
  await sue.goto(app.baseUrl + "/approvals");
  assert.match(await sue.textContent("#approval-refunds"), /No refunds waiting\./);
  const adjustmentRow = row(sue, "#approval-adjustments", account.account_number);
  assert.match(await adjustmentRow.textContent(), /sam/i);
  assert.doesNotMatch(await adjustmentRow.textContent(), /yours/);
  await adjustmentRow.locator("button", { hasText: "Approve" }).click();
  await sue.waitForSelector(".flash");
  assert.equal((await sue.textContent(".flash")).trim(), "Done.");
  assert.match(await sue.textContent("#approval-adjustments"), /No adjustments waiting\./);
  assert.equal(await receivable(ada, account.account_id), 20000, "-50.00 credit plus the 250.00 debit");

  // Back on Sam's charges page the adjustment is decided by Sue.
  await sam.goto(`${app.baseUrl}/accounts/${account.account_id}/charges`);
  const decided = await row(sam, "#charges-adjustments", "250.00").textContent();
  assert.doesNotMatch(decided, /pending approval/);
  assert.match(decided, /sue/i);
  await sam.close();
  await sue.close();
});
