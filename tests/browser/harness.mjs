// What every browser test file needs, in one place: a real `caredesk serve` on a fresh SQLite data
// directory (port 0, its own environment), staff users made with the CLI, headless Chromium, the
// JSON API with a bearer token, and signing in through the real form. Not a test file itself
// (node --test runs only *.test.mjs).
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";

export const root = resolve(import.meta.dirname, "../..");
export const bin = process.env.TEST_CAREDESK_BIN || join(root, "target/debug/caredesk");
export const chromiumPath = process.env.CHROMIUM || "/usr/bin/chromium";
export const shots = join(root, "target/browser");
export const password = "browser-test-password";

/// Why the file's tests cannot run here, or false.
export const skip = !existsSync(chromiumPath) ? `skipped: chromium not installed (${chromiumPath})`
  : !existsSync(bin) ? `skipped: caredesk binary not built (${bin})` : false;
if (skip) console.log(skip);

/// Starts a Caredesk with the given staff users ([username, role, display name]) and extra
/// environment (CAREDESK_SECTION__KEY settings), and a browser. `stop()` ends both and removes
/// the data directory.
export async function start({ name, users, env = {} }) {
  const dataDir = mkdtempSync(join(tmpdir(), `caredesk-${name}-`));
  mkdirSync(shots, { recursive: true });
  const childEnv = { ...process.env, ...env };
  delete childEnv.CAREDESK_STORAGE__DATABASE_URL;
  const caredesk = (args, input) => {
    const result = spawnSync(bin, ["--data-dir", dataDir, ...args], { input, encoding: "utf8", env: childEnv });
    assert.equal(result.status, 0, `caredesk ${args.join(" ")} failed: ${result.stderr}`);
    return result.stdout;
  };
  for (const [username, role, displayName] of users) {
    caredesk(["user", "add", "--username", username, "--role", role, "--display-name", displayName, "--password-stdin"],
      password + "\n");
  }
  const server = spawn(bin, ["--data-dir", dataDir, "serve", "--listen", "127.0.0.1:0"],
    { stdio: ["ignore", "pipe", "pipe"], env: childEnv });
  let log = "";
  server.stderr.on("data", (chunk) => { log = (log + chunk.toString()).slice(-20000); });
  const baseUrl = await new Promise((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`caredesk did not start in 20 s: ${log}`)), 20000);
    server.stdout.on("data", (chunk) => {
      const match = /serving (http:\/\/[0-9.:]+)/.exec(chunk.toString());
      if (match) { clearTimeout(timer); resolveUrl(match[1]); }
    });
    server.on("exit", (code) => { clearTimeout(timer); reject(new Error(`caredesk exited with ${code}: ${log}`)); });
  });
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  const app = {
    baseUrl, browser, dataDir, caredesk,
    serverLog: () => log,

    /// A bearer token for `username`.
    async token(username) {
      return (await app.post(null, "/api/v1/auth/token", { username, password })).token;
    },

    async post(token, path, body, { status } = {}) {
      return app.call("POST", token, path, body, status);
    },

    async get(token, path) {
      return app.call("GET", token, path, undefined);
    },

    async call(method, token, path, body, expectStatus) {
      const response = await fetch(baseUrl + path, {
        method,
        headers: {
          ...(body === undefined ? {} : { "content-type": "application/json" }),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      const json = text ? JSON.parse(text) : null;
      if (expectStatus) assert.equal(response.status, expectStatus, `${method} ${path}: ${text}`);
      else assert.ok(response.ok, `${method} ${path} answered ${response.status}: ${text}`);
      return json;
    },

    /// A new page (its own cookie jar) signed in as `username` through the sign-in form.
    async signedIn(username, viewport = { width: 1280, height: 900 }) {
      const context = await browser.newContext({ viewport });
      const page = await context.newPage();
      await page.goto(baseUrl + "/signin");
      await page.fill("#username", username);
      await page.fill("#password", password);
      await page.press("#password", "Enter");
      await page.waitForSelector("nav.sidebar");
      return page;
    },

    async stop() {
      await browser.close().catch(() => {});
      server.removeAllListeners("exit");
      server.kill("SIGTERM");
      await new Promise((done) => { if (server.exitCode !== null) done(); else server.once("exit", done); });
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return app;
}

/// Waits until `predicate(text of selector)` holds, and returns that text (clearer failures
/// than a bare waitForFunction: the last text seen is in the message).
export async function waitForText(page, selector, pattern, timeout = 10000) {
  const deadline = Date.now() + timeout;
  let seen = "";
  while (Date.now() < deadline) {
    seen = (await page.textContent(selector).catch(() => null)) ?? "";
    if (pattern.test(seen)) return seen;
    await page.waitForTimeout(100);
  }
  assert.fail(`${selector} never matched ${pattern}; last seen: ${JSON.stringify(seen.replace(/\s+/g, " ").trim())}`);
}

/// `1234` minor units as the API's `12.34` text.
export function major(minor) {
  const sign = minor < 0 ? "-" : "";
  const abs = Math.abs(minor);
  return `${sign}${Math.trunc(abs / 100)}.${String(abs % 100).padStart(2, "0")}`;
}
