// The bill-run page in real Chromium: a billing clerk starts a cycle's run from the form, the
// server's own job worker bills the accounts, and the run's row, polling by itself (htmx), goes
// from running to done with the bills counted and totalled as the API reports them.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { start, skip, shots, waitForText, major } from "./harness.mjs";

const cycle = 7;
const period = "2026-11";
let app, token;
const accounts = [];

/// A customer with an account on the cycle, a premise with a meter, an active electric agreement
/// on E-RES-1, and two real reads a month apart.
async function startService(index, first, last, usedKwh) {
  const created = await app.post(token, "/api/v1/customers", { kind: "person", first_name: first, last_name: last });
  const account = await app.post(token, "/api/v1/accounts",
    { customer_id: created.customer.customer_id, bill_cycle: cycle });
  const premise = await app.post(token, "/api/v1/premises", {
    premise_type: "residential",
    address: { line1: `${10 + index} Willow Lane`, city: "Springfield", postal_code: "62704" },
  });
  const premiseId = premise.premise?.premise_id ?? premise.premise_id;
  const meter = `MBROWSER${index}`;
  await app.post(token, `/api/v1/premises/${premiseId}/meters`,
    { meter_number: meter, service_type: "electric", installed_on: "2026-01-10" });
  const agreement = await app.post(token, "/api/v1/service-agreements", {
    account_id: account.account_id, premise_id: premiseId, service_type: "electric", rate_code: "E-RES-1",
    start_date: "2026-09-01",
  });
  await app.post(token, `/api/v1/service-agreements/${agreement.agreement_id}/transition`, { status: "active" });
  for (const [date, reading] of [["2026-10-31", 10000], ["2026-11-30", 10000 + usedKwh]]) {
    await app.post(token, "/api/v1/meter-reads", { meter_number: meter, read_date: date, reading });
  }
  accounts.push(account);
}

before(async () => {
  if (skip) return;
  app = await start({ name: "billrun", users: [["bea", "billing_clerk", "Bea Billing"]] });
  token = await app.token("bea");
  await startService(1, "Ines", "Okafor", 640);
  await startService(2, "Paul", "Nguyen", 320);
  await startService(3, "Hana", "Sato", 910);
});

after(async () => { if (app) await app.stop(); });

test("a bill run started from the page shows its live progress until it is done", { skip }, async () => {
  const page = await app.signedIn("bea");
  await page.goto(app.baseUrl + "/billing/runs");
  assert.equal(await page.$("tr[id^=run-]"), null, "no runs yet");
  assert.equal(await page.evaluate(() => document.activeElement.id), "run-cycle");
  await page.keyboard.type(String(cycle));
  await page.fill("#run-period", period);
  await page.click("form[action='/billing/runs'] button[type=submit]");

  // The new run's row is there at once, asking for its own progress every second.
  const row = await page.waitForSelector("tr[id^=run-]");
  const rowId = "#" + (await row.getAttribute("id"));
  const runId = Number(rowId.replace("#run-", ""));
  assert.match(await page.textContent(rowId), new RegExp(`${cycle}\\s*${period}`));
  assert.match(await page.textContent(`${rowId} .badge`), /running/);
  assert.match(await page.getAttribute(rowId, "hx-get") ?? "", new RegExp(`/billing/runs/${runId}/progress`));
  await page.evaluate(() => { window.stillHere = true; });

  // The worker bills the three accounts; the row updates itself to done and stops polling.
  await waitForText(page, `${rowId} .badge`, /done/, 20000);
  assert.equal(await page.evaluate(() => window.stillHere), true, "progress came without a page load");
  assert.equal(await page.getAttribute(rowId, "hx-get"), null, "a finished run stops polling");
  assert.equal(await page.getAttribute(`${rowId} progress`, "value"), "100");
  await page.screenshot({ path: join(shots, "bill-run.png") });

  const run = await app.get(token, `/api/v1/bill-runs/${runId}`);
  assert.equal(run.status, "done");
  assert.equal(run.bills_written, 3, JSON.stringify(run));
  const cells = await page.locator(`${rowId} td`).allTextContents();
  assert.match(cells[3], /3\/3/);
  assert.equal(cells[4].trim(), "3", "bills written");
  assert.equal(cells[5].trim(), "0", "accounts skipped");
  let total = 0;
  for (const account of accounts) {
    const bills = await app.get(token, `/api/v1/accounts/${account.account_id}/bills`);
    assert.equal(bills.length, 1, `one bill for ${account.account_number}`);
    assert.ok(bills[0].total_minor > 0);
    total += bills[0].total_minor;
  }
  assert.equal(run.total_minor, total);
  assert.match(cells[6], new RegExp(major(total).replace(".", "\\.")), "the page's total is the bills' sum");
  await page.close();
});
