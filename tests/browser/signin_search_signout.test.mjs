// The browser test: real headless Chromium signs in, searches with the "/" shortcut, and signs
// out, against a real `caredesk serve` on a fresh SQLite data directory.
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

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "caredesk-browser-"));
  mkdirSync(shots, { recursive: true });
  caredesk(["user", "add", "--username", "bea", "--role", "admin", "--display-name", "Bea Browser", "--password-stdin"], password + "\n");
  caredesk(["user", "add", "--username", "carl", "--role", "agent1", "--display-name", "Carl Counter", "--password-stdin"], password + "\n");
  caredesk(["user", "add", "--username", "ada", "--role", "agent1", "--display-name", "Ada Agent", "--password-stdin"], password + "\n");
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

test("a wrong password is refused with a clear message", async () => {
  const page = await browser.newPage();
  await page.goto(baseUrl + "/");
  assert.match(page.url(), /\/signin\?next=/);
  await page.fill("#username", "bea");
  await page.fill("#password", "not the password");
  await page.press("#password", "Enter");
  await page.waitForSelector("#signin-error");
  assert.match(await page.textContent("#signin-error"), /username or password is wrong/);
  await page.close();
});

test("sign in, search with the / key, sign out", async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(baseUrl + "/");
  await page.fill("#username", "bea");
  await page.fill("#password", password);
  await page.click("button[type=submit]");
  await page.waitForSelector("h1");
  assert.equal(new URL(page.url()).pathname, "/");
  assert.match(await page.textContent("h1"), /Good to see you, Bea/);
  await page.screenshot({ path: join(shots, "home.png") });

  await page.keyboard.press("/");
  assert.equal(await page.evaluate(() => document.activeElement && document.activeElement.id), "global-search");
  await page.keyboard.type("carl");
  await page.keyboard.press("Enter");
  await page.waitForSelector("#search-results");
  assert.equal(new URL(page.url()).pathname, "/search");
  assert.match(await page.textContent("#search-results"), /Carl Counter/);
  await page.screenshot({ path: join(shots, "search.png") });

  // The search page's own box searches as you type (htmx), without leaving the page.
  await page.fill("#search-q", "bea");
  await page.waitForFunction(() => /Bea Browser/.test(document.querySelector("#search-results").textContent));
  assert.equal(new URL(page.url()).searchParams.get("q"), "bea");

  await page.click("#signout");
  await page.waitForSelector("text=You have signed out.");
  assert.equal(new URL(page.url()).pathname, "/signin");
  await page.goto(baseUrl + "/profile");
  assert.equal(new URL(page.url()).pathname, "/signin", "after sign-out the session no longer works");
  await page.close();
});

test("every main screen is reachable by keyboard alone", async () => {
  const page = await browser.newPage();
  await page.goto(baseUrl + "/signin");
  assert.equal(await page.evaluate(() => document.activeElement.id), "username", "the username field has focus");
  await page.keyboard.type("bea");
  await page.keyboard.press("Tab");
  await page.keyboard.type(password);
  await page.keyboard.press("Enter");
  await page.waitForSelector("nav.sidebar");
  const links = await page.$$eval("nav.sidebar a", (as) => as.map((a) => a.getAttribute("href")));
  for (const href of ["/", "/search", "/admin/users", "/admin/roles", "/admin/audit", "/admin/jobs", "/profile"]) {
    assert.ok(links.includes(href), `navigation offers ${href}`);
  }
  await page.focus("a[href='/admin/users']");
  await page.keyboard.press("Enter");
  await page.waitForSelector("text=Staff users");
  assert.match(await page.textContent("main"), /Carl Counter/);
  await page.close();
});

test("the API docs render from embedded files", async () => {
  const page = await browser.newPage();
  const external = [];
  page.on("request", (request) => { if (!request.url().startsWith(baseUrl)) external.push(request.url()); });
  await page.goto(baseUrl + "/api/docs");
  await page.waitForSelector(".swagger-ui .info .title", { timeout: 15000 });
  assert.match(await page.textContent(".swagger-ui .info .title"), /Caredesk API/);
  assert.deepEqual(external, [], "nothing is fetched from another host");
  await page.screenshot({ path: join(shots, "api-docs.png") });
  await page.close();
});

test("an agent finds a caller by four digits, logs the contact and opens a case", async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(baseUrl + "/signin");
  await page.fill("#username", "ada");
  await page.fill("#password", password);
  await page.press("#password", "Enter");
  await page.waitForSelector("nav.sidebar");

  // A new caller: add them through the form, as a clerk would.
  await page.goto(baseUrl + "/customers/new");
  await page.fill("#first_name", "Grace");
  await page.fill("#last_name", "Okafor");
  await page.fill("#phone", "(555) 404-7321");
  await page.fill("#line1", "77 River Rd");
  await page.fill("#city", "Riverton");
  await page.fill("#postal_code", "82501");
  await page.click("form[action='/customers'] button[type=submit]");
  await page.waitForSelector("#customer-name");

  // Later she calls back: the agent presses / and types the last four digits of her phone.
  await page.goto(baseUrl + "/");
  await page.keyboard.press("/");
  await page.keyboard.type("7321");
  await page.keyboard.press("Enter");
  await page.waitForSelector("#search-results");
  await page.click("#search-results a:has-text('Grace Okafor')");
  await page.waitForSelector("#customer-name");
  assert.match(await page.textContent("#customer-name"), /Grace Okafor/);

  // The contact panel is on her screen; the reason is picked and the summary typed, then Ctrl+Enter.
  await page.waitForSelector("#contact-form");
  await page.selectOption("#contact-reason", { label: "Billing question" });
  await page.fill("#contact-summary", "Bill doubled after the meter was replaced");
  await page.focus("#contact-summary");
  await page.keyboard.press("Control+Enter");
  await page.waitForFunction(() => /Bill doubled after the meter/.test(document.querySelector("#contact-timeline")?.textContent || ""));
  await page.screenshot({ path: join(shots, "customer.png"), fullPage: true });

  // She needs follow-up: the agent opens a case from her screen.
  await page.click("#open-case");
  await page.waitForSelector("#subject");
  assert.match(await page.textContent("main"), /For Grace Okafor/);
  await page.fill("#subject", "Bill doubled after meter replacement");
  await page.selectOption("#category", "billing");
  await page.click("form[action='/cases'] button[type=submit]");
  await page.waitForSelector("#case-number");
  assert.match(await page.textContent("#case-number"), /^CASE-\d{6}$/);
  assert.match(await page.textContent("#case-status"), /New/);

  // A photo of the bill arrives by email; the agent attaches it to the case.
  await page.setInputFiles("#attachment-file", { name: "bill-may.txt", mimeType: "text/plain", buffer: Buffer.from("Amount due 212.40") });
  await page.click("form[data-upload] button[type=submit]");
  await page.waitForSelector("a:has-text('bill-may.txt')");
  await page.screenshot({ path: join(shots, "case.png") });
  await page.goto(baseUrl + "/");
  await page.screenshot({ path: join(shots, "agent-home.png") });
  await page.close();
});
