// The cashier console's pick list in real Chromium: a cashier types part of a customer's name,
// phone or address instead of the account number, picks the right account with the arrow keys and
// Enter, takes a cash payment with the keyboard alone and sees the receipt number; the money lands
// on the account that was picked, and on no other.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { start, skip, shots, waitForText } from "./harness.mjs";

let app, token;
const accounts = {};

before(async () => {
  if (skip) return;
  app = await start({ name: "picklist", users: [["cora", "cashier", "Cora Cashier"]] });
  token = await app.token("cora");
  const people = [
    ["rosa", "Rosa", "Marsh", "(555) 201-4477", "12 Elm St", "Springfield", "62701"],
    ["rosalind", "Rosalind", "Marsh", "(555) 330-9182", "88 Willow Lane", "Riverton", "82501"],
    ["tomas", "Tomas", "Grady", "(555) 777-4477", "4 Harbor Rd", "Portsmouth", "03801"],
  ];
  for (const [key, first, last, phone, line1, city, postal] of people) {
    const created = await app.post(token, "/api/v1/customers", {
      kind: "person", first_name: first, last_name: last, phones: [{ label: "home", number: phone }],
      addresses: [{ line1, city, region: "NH", postal_code: postal }],
    });
    const account = await app.post(token, "/api/v1/accounts", { customer_id: created.customer.customer_id });
    accounts[key] = { id: account.account_id, number: account.account_number, name: `${first} ${last}` };
  }
  await app.post(token, "/api/v1/drawers", { float: "100.00" });
});

after(async () => { if (app) await app.stop(); });

async function receivable(accountId) {
  const balance = await app.get(token, `/api/v1/accounts/${accountId}/balance`);
  return balance.currencies.length ? balance.currencies[0].receivable_minor : 0;
}

/// Types `fragment` in the account box, expects `count` matches, walks down to `who`'s account
/// with the arrow keys and takes it with Enter.
async function pick(page, fragment, count, who) {
  await page.waitForFunction(() => document.activeElement && document.activeElement.id === "cashier-account");
  await page.keyboard.type(fragment);
  await waitForText(page, "#cashier-account-panel", new RegExp(`${count} accounts? match`));
  const offered = await page.$$eval("#cashier-picks li[data-account]", (lis) => lis.map((li) => li.dataset.account));
  assert.equal(offered.length, count, `"${fragment}" offers ${offered.join(", ")}`);
  const at = offered.indexOf(who.number);
  assert.ok(at >= 0, `"${fragment}" offers ${who.name}'s account ${who.number}: ${offered.join(", ")}`);
  for (let i = 0; i <= at; i++) await page.keyboard.press("ArrowDown");
  assert.equal(await page.evaluate(() => document.activeElement.dataset.account), who.number);
  assert.equal(await page.getAttribute(`#cashier-picks li[data-account='${who.number}']`, "aria-selected"), "true");
  await page.keyboard.press("Enter");
  assert.equal(await page.inputValue("#cashier-account"), who.number, "the pick fills the account box");
  const focused = await page.evaluate(() => document.activeElement.id);
  assert.equal(focused, "cashier-amount", "the cursor moves to the amount");
  await waitForText(page, "#cashier-account-panel", new RegExp(`${who.name}.*${who.number}`, "s"));
  assert.equal(await page.$("#cashier-picks"), null, "the list gives way to the account");
}

/// Amount, Tab, tender key 1 (cash), Enter; returns the receipt number shown.
async function payCash(page, amount, previousReceipt) {
  await page.keyboard.type(amount);
  await page.keyboard.press("Tab");
  await page.keyboard.press("1");
  assert.match(await page.textContent("#cashier-tender-name"), /Cash/);
  await page.keyboard.press("Enter");
  await page.waitForFunction((before) => {
    const shown = document.querySelector("#receipt-number");
    return shown && shown.textContent !== before;
  }, previousReceipt);
  const receipt = await page.textContent("#receipt-number");
  assert.match(receipt, /^RCT-\d{7}$/);
  assert.equal(await page.$("#cashier-error"), null);
  return receipt;
}

test("a cashier finds accounts by name, phone and address and pays them with the keyboard", { skip }, async () => {
  const page = await app.signedIn("cora");
  await page.goto(app.baseUrl + "/cashier");
  await page.waitForSelector("#cashier-form");
  assert.match(await page.textContent("#cashier-drawer"), /Drawer DRW-\d{6} open/);

  // Part of a surname: both Marshes are offered; Escape goes back to the box without picking.
  await page.waitForFunction(() => document.activeElement && document.activeElement.id === "cashier-account");
  await page.keyboard.type("Marsh");
  await waitForText(page, "#cashier-account-panel", /2 accounts match/);
  await page.keyboard.press("ArrowDown");
  await page.keyboard.press("Escape");
  assert.equal(await page.evaluate(() => document.activeElement.id), "cashier-account");
  assert.equal(await page.inputValue("#cashier-account"), "Marsh", "Escape picks nothing");
  await page.keyboard.press("Control+A");
  await page.keyboard.press("Backspace");
  await page.waitForFunction(() => !document.querySelector("#cashier-picks"), null, { timeout: 5000 });

  await pick(page, "Marsh", 2, accounts.rosalind);
  const first = await payCash(page, "20.00", null);
  await page.screenshot({ path: join(shots, "cashier-picklist.png") });
  assert.match(await page.textContent("#cashier-receipt"), new RegExp(`Paid ${accounts.rosalind.number}`));

  // After the post the cursor is back in an empty account box: the last four digits of a phone
  // number two customers share.
  assert.equal(await page.inputValue("#cashier-account"), "");
  await pick(page, "4477", 2, accounts.tomas);
  const second = await payCash(page, "35.25", first);
  assert.match(await page.textContent("#cashier-receipt"), new RegExp(`Paid ${accounts.tomas.number}`));

  // A street name.
  await pick(page, "Elm St", 1, accounts.rosa);
  const third = await payCash(page, "7.50", second);
  assert.equal(new Set([first, second, third]).size, 3, "each payment has its own receipt");

  // Each payment went to the account picked, and only there.
  assert.equal(await receivable(accounts.rosalind.id), -2000);
  assert.equal(await receivable(accounts.tomas.id), -3525);
  assert.equal(await receivable(accounts.rosa.id), -750);

  // Nothing matching: the panel says so and the list stays away.
  await page.keyboard.type("Zzyzx");
  await waitForText(page, "#cashier-account-panel", /\S/);
  assert.equal(await page.$("#cashier-picks"), null);
  assert.ok(await page.$("#cashier-account-error"), "an unknown name is answered with a message");
  await page.close();
});
