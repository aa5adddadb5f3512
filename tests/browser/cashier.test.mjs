// The cashier's browser test: real headless Chromium signs a cashier in, opens a drawer, takes a
// cash payment at the console with the keyboard alone, and sees the receipt number, against a
// real `caredesk serve` on a fresh SQLite data directory.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";

const root = resolve(import.meta.dirname, "../..");
const bin = process.env.TEST_CAREDESK_BIN || join(root, "target/debug/caredesk");
const shots = join(root, "target/browser");
const password = "browser-test-password";
let dataDir, server, baseUrl, browser;

function caredesk(args, input) {
  const result = spawnSync(bin, ["--data-dir", dataDir, ...args], { input, encoding: "utf8" });
  assert.equal(result.status, 0, `caredesk ${args.join(" ")} failed: ${result.stderr}`);
  return result.stdout;
}

async function api(token, path, body) {
  const response = await fetch(baseUrl + path, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const json = await response.json();
  assert.ok(response.ok, `${path} answered ${response.status}: ${JSON.stringify(json)}`);
  return json;
}

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "caredesk-cashier-"));
  mkdirSync(shots, { recursive: true });
  caredesk(["user", "add", "--username", "cora", "--role", "cashier", "--display-name", "Cora Cashier", "--password-stdin"], password + "\n");
  server = spawn(bin, ["--data-dir", dataDir, "serve", "--listen", "127.0.0.1:0"], { stdio: ["ignore", "pipe", "pipe"] });
  baseUrl = await new Promise((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error("caredesk did not start in 20 s")), 20000);
    server.stdout.on("data", (chunk) => {
      const match = /serving (http:\/\/[0-9.:]+)/.exec(chunk.toString());
      if (match) { clearTimeout(timer); resolveUrl(match[1]); }
    });
    server.on("exit", (code) => reject(new Error(`caredesk exited with ${code}`)));
  });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
});

after(async () => {
  if (browser) await browser.close();
  if (server) server.kill("SIGTERM");
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

test("a cashier opens a drawer and takes a cash payment with the keyboard alone", async () => {
  // The customer and account exist already (made through the API, as the desk would).
  const { token } = await api(null, "/api/v1/auth/token", { username: "cora", password });
  const created = await api(token, "/api/v1/customers", { kind: "person", first_name: "Rosa", last_name: "Marsh" });
  const account = await api(token, "/api/v1/accounts", { customer_id: created.customer.customer_id });

  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(baseUrl + "/signin");
  await page.keyboard.type("cora");
  await page.keyboard.press("Tab");
  await page.keyboard.type(password);
  await page.keyboard.press("Enter");
  await page.waitForSelector("nav.sidebar");

  // Open the drawer: the float box has focus; type the count and press Enter.
  await page.goto(baseUrl + "/drawers");
  assert.equal(await page.evaluate(() => document.activeElement.id), "drawer-float");
  await page.keyboard.press("Control+A");
  await page.keyboard.type("150.00");
  await page.keyboard.press("Enter");
  await page.waitForSelector("#cashier-form");
  assert.match(await page.textContent("#cashier-drawer"), /Drawer DRW-\d{6} open/);

  // The console: account number, Tab, amount, Tab, tender key 1 (cash), Enter.
  await page.waitForFunction(() => document.activeElement && document.activeElement.id === "cashier-account");
  await page.keyboard.type(account.account_number);
  await page.keyboard.press("Tab");
  await page.waitForSelector("#cashier-account-info");
  assert.match(await page.textContent("#cashier-account-info"), /Rosa Marsh/);
  await page.keyboard.type("42.50");
  await page.keyboard.press("Tab");
  await page.keyboard.press("1");
  assert.match(await page.textContent("#cashier-tender-name"), /Cash/);
  await page.keyboard.press("Enter");
  await page.waitForSelector("#receipt-number");
  assert.match(await page.textContent("#receipt-number"), /^RCT-\d{7}$/);
  await page.screenshot({ path: join(shots, "cashier.png") });

  // The form reset with the cursor in the account box, ready for the next customer.
  await page.waitForFunction(() => document.activeElement && document.activeElement.id === "cashier-account");
  assert.equal(await page.inputValue("#cashier-account"), "");

  // The printable receipt carries the same number.
  const number = await page.textContent("#receipt-number");
  await page.goto(baseUrl + (await page.getAttribute("#cashier-receipt a", "href")));
  assert.equal(await page.textContent("#receipt-number"), number);
  await page.screenshot({ path: join(shots, "receipt.png") });
  await page.close();
});
