// Live chat in real Chromium: a customer's web site (a static page on another port that embeds the
// widget with one script tag) and a signed-in agent's chat console exchange messages both ways,
// against a real `caredesk serve` on a fresh SQLite data directory.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { createServer } from "node:http";
import { existsSync, mkdtempSync, rmSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";

const root = resolve(import.meta.dirname, "../..");
const bin = process.env.TEST_CAREDESK_BIN || join(root, "target/debug/caredesk");
const chromiumPath = process.env.CHROMIUM || "/usr/bin/chromium";
const shots = join(root, "target/browser");
const password = "browser-test-password";
const skip = !existsSync(chromiumPath) ? `skipped: chromium not installed (${chromiumPath})`
  : !existsSync(bin) ? `skipped: caredesk binary not built (${bin})` : false;
if (skip) console.log(skip);
let dataDir, server, baseUrl, site, siteUrl, browser;

function caredesk(args, input) {
  const result = spawnSync(bin, ["--data-dir", dataDir, ...args], { input, encoding: "utf8" });
  assert.equal(result.status, 0, `caredesk ${args.join(" ")} failed: ${result.stderr}`);
  return result.stdout;
}

before(async () => {
  if (skip) return;
  dataDir = mkdtempSync(join(tmpdir(), "caredesk-chat-"));
  mkdirSync(shots, { recursive: true });
  caredesk(["user", "add", "--username", "ana", "--role", "agent1", "--display-name", "Ana Agent", "--password-stdin"], password + "\n");
  server = spawn(bin, ["--data-dir", dataDir, "serve", "--listen", "127.0.0.1:0"], { stdio: ["ignore", "pipe", "pipe"] });
  baseUrl = await new Promise((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error("caredesk did not start in 20 s")), 20000);
    server.stdout.on("data", (chunk) => {
      const match = /serving (http:\/\/[0-9.:]+)/.exec(chunk.toString());
      if (match) { clearTimeout(timer); resolveUrl(match[1]); }
    });
    server.on("exit", (code) => reject(new Error(`caredesk exited with ${code}`)));
  });
  // The customer's own web site, on another origin, with the one tag.
  site = createServer((request, response) => {
    response.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    response.end(`<!doctype html><html lang="en"><head><title>Example Utility</title></head>
      <body><h1>Example Utility</h1><p>Questions? Chat with us.</p>
      <script src="${baseUrl}/chat/widget.js" data-caredesk async></script></body></html>`);
  });
  await new Promise((ready) => site.listen(0, "127.0.0.1", ready));
  siteUrl = `http://127.0.0.1:${site.address().port}/`;
  browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
});

after(async () => {
  if (browser) await browser.close();
  if (site) site.close();
  if (server) server.kill("SIGTERM");
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

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

test("a customer on a web site and an agent at the console chat both ways", { skip }, async () => {
  // Maria is a customer already, so the transcript lands on her timeline.
  const { token } = await api(null, "/api/v1/auth/token", { username: "ana", password });
  await api(token, "/api/v1/customers", {
    kind: "person", first_name: "Maria", last_name: "Lopez", emails: [{ address: "maria@example.org" }],
  });
  const customer = await browser.newPage({ viewport: { width: 1024, height: 800 } });
  await customer.goto(siteUrl);
  // The widget lives in a shadow root; Playwright's CSS selectors reach into open ones.
  await customer.click("button.launcher");
  await customer.fill("input[name=name]", "Maria Lopez");
  await customer.fill("input[name=email]", "maria@example.org");
  await customer.click("form.start button[type=submit]");
  await customer.waitForSelector("text=You are number 1 in the queue");

  const agent = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await agent.goto(baseUrl + "/signin");
  await agent.keyboard.type("ana");
  await agent.keyboard.press("Tab");
  await agent.keyboard.type(password);
  await agent.keyboard.press("Enter");
  await agent.waitForSelector("nav.sidebar");
  await agent.goto(baseUrl + "/chat");
  await agent.click("#queue-list button.take");
  await agent.waitForSelector(".chat-panel:not([hidden]) .chat-title:has-text('Maria Lopez')");
  await customer.waitForSelector("text=Ana Agent is with you");

  await customer.fill("textarea[name=body]", "Hello, my bill looks too high.");
  await customer.press("textarea[name=body]", "Enter");
  await agent.waitForSelector(".chat-log li.visitor:has-text('Hello, my bill looks too high.')");

  await agent.fill(".chat-panel:not([hidden]) .chat-send textarea", "I can help with that. Let me look.");
  await agent.press(".chat-panel:not([hidden]) .chat-send textarea", "Enter");
  await customer.waitForSelector(".log li.agent:has-text('I can help with that. Let me look.')");
  await customer.screenshot({ path: join(shots, "chat-widget.png") });
  await agent.screenshot({ path: join(shots, "chat-console.png") });

  // Ana hands the chat back to the queue with a note; Maria is told, the note stays with agents.
  await agent.click(".chat-panel:not([hidden]) .chat-transfer summary");
  await agent.fill(".chat-panel:not([hidden]) .chat-transfer-form textarea", "Asked about a payment plan.");
  await agent.click(".chat-panel:not([hidden]) .transfer-button");
  await agent.waitForSelector("#chat-status:has-text('transferred to the queue')");
  await customer.waitForSelector("text=You are back in the queue");
  assert.equal(await customer.locator("text=Asked about a payment plan.").count(), 0);
  await agent.click("#queue-list button.take");
  await agent.waitForSelector(".chat-log li.note:has-text('Asked about a payment plan.')");
  await customer.waitForSelector("text=You are now talking with Ana Agent.");

  await agent.click(".chat-panel:not([hidden]) .chat-end summary");
  await agent.click(".chat-panel:not([hidden]) .end-button");
  await agent.waitForSelector("#chat-status:has-text('transcript saved as contact')");
  await customer.waitForSelector("text=The chat has ended");
  await customer.close();
  await agent.close();
});
