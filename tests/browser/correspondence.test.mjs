// The correspondence screens in real Chromium, signed in as a lead: templates (a refused save
// shows its message beside the body, a save makes version 1, another save version 2, and the
// preview merges a real customer's data); the print queue (a letter queued by the API is printed
// in a batch whose PDF link answers a PDF); and the outbox, where an email to an SMTP server that
// is not there ends failed and Retry swaps its row in place (htmx) and sends it again.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { start, skip, shots, waitForText } from "./harness.mjs";

let app, token, customer, account;

/// A port nothing listens on: bound once by us, then let go.
async function closedPort() {
  const server = createServer();
  await new Promise((ready) => server.listen(0, "127.0.0.1", ready));
  const { port } = server.address();
  await new Promise((done) => server.close(done));
  return port;
}

before(async () => {
  if (skip) return;
  app = await start({
    name: "correspondence",
    users: [["lee", "lead", "Lee Lead"]],
    env: {
      CAREDESK_SMTP__HOST: "127.0.0.1",
      CAREDESK_SMTP__PORT: String(await closedPort()),
      CAREDESK_SMTP__SECURITY: "plain",
      CAREDESK_SMTP__MAX_ATTEMPTS: "1",
      CAREDESK_SMTP__SEND_TIMEOUT_SECONDS: "5",
    },
  });
  token = await app.token("lee");
  const created = await app.post(token, "/api/v1/customers", {
    kind: "person", first_name: "Maria", last_name: "Lopez", emails: [{ address: "maria.lopez@example.org" }],
    addresses: [{ line1: "12 Elm St", city: "Springfield", region: "IL", postal_code: "62701" }],
  });
  customer = created.customer;
  account = await app.post(token, "/api/v1/accounts", { customer_id: customer.customer_id });
});

after(async () => { if (app) await app.stop(); });

test("a template is refused beside its field, saved, saved again and previewed with a customer", { skip }, async () => {
  const page = await app.signedIn("lee");
  await page.goto(app.baseUrl + "/admin/templates");
  await page.fill("#tpl-key", "outage_notice");
  await page.fill("#tpl-language", "en");
  await page.selectOption("#tpl-kind", "letter");
  await page.fill("#tpl-name", "Outage notice");
  await page.fill("#tpl-subject", "Planned outage for {{customer.name}}");
  await page.fill("#tpl-body", "Dear {{customer.nickname}},\n\nThe power is off on Tuesday.");
  await page.click("form[action='/admin/templates'] button[type=submit]");

  // Refused: the message sits beside the body, the form keeps what was typed, nothing is saved.
  await page.waitForSelector("#tpl-body-error");
  assert.match(await page.textContent("#tpl-body-error"), /body names no merge field: "customer\.nickname"/);
  assert.equal(await page.getAttribute("#tpl-body", "aria-invalid"), "true");
  assert.equal(await page.getAttribute("#tpl-body", "aria-describedby"), "tpl-body-error");
  assert.equal(await page.$("#tpl-subject-error"), null, "only the field at fault is marked");
  assert.equal(await page.inputValue("#tpl-key"), "outage_notice");
  assert.match(await page.inputValue("#tpl-body"), /The power is off on Tuesday/);
  const saved = await app.get(token, "/api/v1/templates");
  assert.ok(saved.length > 0, "the seeded templates are listed");
  assert.ok(!saved.some((t) => t.template_key === "outage_notice"), "a refused save makes no version");

  // Fixed: version 1, and its own page.
  await page.fill("#tpl-body", "Dear {{customer.name}},\n\nThe power is off on Tuesday.");
  await page.click("form[action='/admin/templates'] button[type=submit]");
  await page.waitForURL(/\/admin\/templates\/outage_notice\?language=en$/);
  assert.match(await page.textContent("nav[aria-label=Languages]"), /en \(v1\)/);

  // A new version from the edit form.
  await page.fill("#tpl-subject", "Power off on Tuesday for {{customer.name}}");
  await page.fill("#tpl-body", "Dear {{customer.name}},\n\nAccount {{account.number}} has no power on Tuesday.");
  await page.click("button:has-text('Save a new version')");
  await waitForText(page, "nav[aria-label=Languages]", /en \(v2\)/);
  const history = await page.locator("section[aria-labelledby=h-versions] tbody tr").allTextContents();
  assert.equal(history.length, 2, history.join(" | "));
  assert.ok(history.some((r) => /Planned outage for/.test(r)) && history.some((r) => /Power off on Tuesday/.test(r)));

  // The preview merges the newest version with Maria's data, by her customer number (htmx, in place).
  await page.evaluate(() => { window.stillHere = true; });
  await page.fill("#pv-customer", customer.customer_number);
  await page.click("section[aria-labelledby=h-preview] button[type=submit]");
  await waitForText(page, "#preview", /Power off on Tuesday for Maria Lopez/);
  assert.equal(await page.textContent("#preview-subject"), "Power off on Tuesday for Maria Lopez");
  assert.match(await page.textContent("#preview-body"), new RegExp(`Account ${account.account_number} has no power`));
  assert.equal(await page.evaluate(() => window.stillHere), true, "the preview came without a page load");
  await page.screenshot({ path: join(shots, "template-preview.png"), fullPage: true });

  // Version 1 still merges as it was written.
  const first = await page.locator("#pv-version option", { hasText: "version 1" }).getAttribute("value");
  await page.selectOption("#pv-version", first);
  await page.click("section[aria-labelledby=h-preview] button[type=submit]");
  await waitForText(page, "#preview", /Planned outage for Maria Lopez/);

  // A case that does not exist: the preview says why it cannot merge.
  await page.fill("#pv-case", "999999");
  await page.click("section[aria-labelledby=h-preview] button[type=submit]");
  await waitForText(page, "#preview", /no such case/);
  await page.close();
});

test("a letter queued by the API is printed in a batch whose PDF link answers a PDF", { skip }, async () => {
  const letter = await app.post(token, "/api/v1/letters",
    { template_key: "welcome_letter", customer_id: customer.customer_id, account_id: account.account_id });
  const page = await app.signedIn("lee");
  await page.goto(app.baseUrl + "/letters");
  const queue = page.locator("section[aria-labelledby=h-queue]");
  assert.match(await queue.locator("h2").textContent(), /Waiting to be printed \(1\)/);
  assert.match(await queue.textContent(), /Maria Lopez/);
  const single = await page.request.get(app.baseUrl + `/api/v1/letters/${letter.letter_id}/pdf`);
  assert.equal(single.headers()["content-type"], "application/pdf");

  await page.click("button:has-text('Print batch')");
  await page.waitForSelector("#batch-download");
  assert.match(await page.textContent(".flash"), /Print batch \d+ is made/);
  assert.match(await queue.locator("h2").textContent(), /Waiting to be printed \(0\)/);
  assert.match(await queue.textContent(), /No letters are waiting\./);
  const batches = page.locator("section[aria-labelledby=h-batches] tbody tr");
  assert.equal(await batches.count(), 1);
  const cells = (await batches.first().locator("td").allTextContents()).map((c) => c.trim());
  assert.deepEqual([cells[2], cells[3]], ["1", "lee"], `one letter, printed by lee: ${cells.join(" | ")}`);
  await page.screenshot({ path: join(shots, "letters.png"), fullPage: true });

  // The link answers a PDF with the letter in it.
  const href = await page.getAttribute("#batch-download", "href");
  const pdf = await page.request.get(app.baseUrl + href);
  assert.equal(pdf.status(), 200);
  assert.equal(pdf.headers()["content-type"], "application/pdf");
  const bytes = await pdf.body();
  assert.equal(bytes.subarray(0, 5).toString(), "%PDF-");
  const file = join(app.dataDir, "batch.pdf");
  writeFileSync(file, bytes);
  const text = spawnSync("pdftotext", [file, "-"], { encoding: "utf8" });
  if (text.error) console.log("pdftotext is not installed: the batch's text is not read back");
  else assert.match(text.stdout, /Maria Lopez/, "the batch holds Maria's letter");
  await page.close();
});

test("an email to an unreachable SMTP server fails and Retry swaps its row in place", { skip }, async () => {
  const email = await app.post(token, "/api/v1/emails", {
    to: ["maria.lopez@example.org"], subject: "Your meter read", text_body: "Dear Maria,\n\nWe read your meter.",
    customer_id: customer.customer_id,
  });
  const rowId = `#email-${email.email_id}`;
  const page = await app.signedIn("lee");

  // The worker tries once (max_attempts = 1), cannot connect, and gives up: failed, 1/1, with why.
  const deadline = Date.now() + 20000;
  let seen = "";
  while (Date.now() < deadline) {
    await page.goto(app.baseUrl + "/outbox");
    seen = (await page.textContent(rowId)) ?? "";
    if (/failed/.test(seen)) break;
    assert.match(seen, /queued|sending/, "before it fails it waits in the queue");
    await page.waitForTimeout(500);
  }
  assert.match(seen, /Your meter read.*failed.*1\/1/s);
  assert.ok((await page.textContent(`${rowId} .field-error`)).trim().length > 0, "the last error is shown");
  await page.screenshot({ path: join(shots, "outbox.png") });

  // Retry: htmx replaces this row only; the page is not reloaded.
  await page.evaluate((id) => { window.stillHere = true; document.querySelector(id).dataset.before = "yes"; }, rowId);
  await page.click(`${rowId} button:has-text('Retry')`);
  await page.waitForFunction((id) => {
    const row = document.querySelector(id);
    return row && !row.dataset.before;
  }, rowId);
  assert.equal(await page.evaluate(() => window.stillHere), true, "Retry swapped the row without a page load");
  assert.equal(await page.locator("tbody tr[id^=email-]").count(), 1);
  const after = await page.textContent(rowId);
  // Retry allows one more try: 1 of 2 while queued, 2 of 2 once the worker has failed it again.
  assert.match(after, /\/2/, `the retried row: ${after}`);

  // The worker does try again, and the server is still not there.
  const again = Date.now() + 20000;
  let final = "";
  while (Date.now() < again) {
    const listed = await app.get(token, `/api/v1/emails/${email.email_id}`);
    final = `${listed.status} ${listed.attempts}/${listed.max_attempts}`;
    if (listed.status === "failed") break;
    await page.waitForTimeout(300);
  }
  assert.equal(final, "failed 2/2");
  await page.close();
});
