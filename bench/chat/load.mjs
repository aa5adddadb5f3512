// Live chat load generator: opens VISITORS visitor WebSockets to one Caredesk node, has AGENTS
// agents take them all (each holds VISITORS/AGENTS chats at once), then every visitor and its
// agent trade MESSAGES messages each way, and measures delivery latency: from the moment a side
// sends a message until the other side receives it (after the server has stored it).
// Usage: node load.mjs BASE_URL ADMIN_TOKEN AGENT_TOKEN...   (bench/chat.sh prepares all three)
// Environment: VISITORS (default 5000), MESSAGES (per visitor and direction, default 5),
// SPREAD_MS (messages are spread over this window, default 20000), OPEN_CONCURRENCY (default 200),
// AGENT_BASE (the node the agents' consoles connect to, default BASE_URL: another node on the same
// database makes every message cross the relay).
import WebSocket from "ws";
import { monitorEventLoopDelay } from "node:perf_hooks";

const [base, adminToken, ...agentTokens] = process.argv.slice(2);
if (!base || !adminToken || agentTokens.length === 0) {
  console.error("usage: node load.mjs BASE_URL ADMIN_TOKEN AGENT_TOKEN...");
  process.exit(2);
}
const visitors = Number(process.env.VISITORS || 5000);
const messages = Number(process.env.MESSAGES || 5);
const spreadMs = Number(process.env.SPREAD_MS || 20000);
const openConcurrency = Number(process.env.OPEN_CONCURRENCY || 200);
const wsBase = base.replace(/^http/, "ws");
const agentWsBase = (process.env.AGENT_BASE || base).replace(/^http/, "ws");
// Caredesk does not compress frames; not offering it saves a negotiation and a zlib per socket.
const socketOptions = { perMessageDeflate: false };
// A late event loop here would be counted as delivery latency: its delay is measured and
// reported, so a run can show the generator was not the bottleneck.
const loopDelay = monitorEventLoopDelay({ resolution: 5 });
const latencies = [];
let errors = 0;

function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

function waitFor(socket, predicate, timeoutMs = 60000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { socket.off("message", on); reject(new Error("timed out")); }, timeoutMs);
    function on(data) {
      const frame = JSON.parse(data.toString());
      if (predicate(frame)) { clearTimeout(timer); socket.off("message", on); resolve(frame); }
    }
    socket.on("message", on);
  });
}

function record(data, from) {
  const text = data.toString();
  // Only message frames are timed; skip parsing the rest.
  if (!text.includes('"type":"message"')) { if (text.includes('"type":"error"')) errors += 1; return; }
  const frame = JSON.parse(text);
  if (frame.type !== "message" || frame.sender !== from) return;
  const sent = Number(frame.body.split(" ")[0]);
  if (Number.isFinite(sent)) latencies.push(performance.now() - sent);
}

async function openVisitor(i) {
  const socket = new WebSocket(`${wsBase}/chat/ws`, socketOptions);
  await new Promise((resolve, reject) => { socket.once("open", resolve); socket.once("error", reject); });
  const welcome = waitFor(socket, (f) => f.type === "welcome" || f.type === "error");
  socket.send(JSON.stringify({ type: "start", name: `Visitor ${i}`, email: `visitor${i}@load.example.org` }));
  const frame = await welcome;
  if (frame.type !== "welcome") throw new Error(`visitor ${i}: ${JSON.stringify(frame)}`);
  socket.on("message", (data) => record(data, "agent"));
  return { socket, session: frame.chat_session_id };
}

async function main() {
  const put = await fetch(`${base}/api/v1/live/settings`, {
    method: "PUT",
    headers: { "content-type": "application/json", authorization: `Bearer ${adminToken}` },
    body: JSON.stringify({ visitor_chats_per_minute: 100000, widget_origins: "" }),
  });
  if (!put.ok) throw new Error(`settings: ${put.status} ${await put.text()}`);

  const t0 = performance.now();
  const open = [];
  for (let start = 0; start < visitors; start += openConcurrency) {
    const batch = [];
    for (let i = start; i < Math.min(visitors, start + openConcurrency); i++) batch.push(openVisitor(i));
    open.push(...(await Promise.all(batch)));
  }
  const openSeconds = (performance.now() - t0) / 1000;

  const agents = [];
  for (const token of agentTokens) {
    const socket = new WebSocket(`${agentWsBase}/chat/agent/ws`, { ...socketOptions, headers: { authorization: `Bearer ${token}` } });
    await new Promise((resolve, reject) => { socket.once("open", resolve); socket.once("error", reject); });
    agents.push({ socket, sessions: [] });
  }
  // Each agent takes its share of the queue, one take at a time (as a person would click).
  const share = Math.ceil(visitors / agents.length);
  const t1 = performance.now();
  await Promise.all(agents.map(async (agent) => {
    while (agent.sessions.length < share) {
      const answer = waitFor(agent.socket, (f) => f.type === "assigned" || f.type === "error");
      agent.socket.send(JSON.stringify({ type: "take" }));
      const frame = await answer;
      if (frame.type === "assigned") agent.sessions.push(frame.session.chat_session_id);
      else if (frame.code === "queue_empty") break;
      // chat_already_taken: another agent was quicker; take the next one.
    }
    agent.socket.on("message", (data) => record(data, "visitor"));
  }));
  const takeSeconds = (performance.now() - t1) / 1000;
  const taken = agents.reduce((n, a) => n + a.sessions.length, 0);
  latencies.length = 0;

  // Both sides send MESSAGES messages each, spread evenly over SPREAD_MS.
  const bySession = new Map(open.map((v) => [v.session, v]));
  const sends = [];
  for (const agent of agents) {
    for (const session of agent.sessions) {
      const visitor = bySession.get(session);
      for (let m = 0; m < messages; m++) {
        sends.push([Math.random() * spreadMs, () => visitor.socket.send(JSON.stringify({ type: "message", body: `${performance.now()} hello ${m}` }))]);
        sends.push([Math.random() * spreadMs, () => agent.socket.send(JSON.stringify({ type: "message", chat_session_id: session, body: `${performance.now()} answer ${m}` }))]);
      }
    }
  }
  sends.sort((a, b) => a[0] - b[0]);
  loopDelay.enable();
  const t2 = performance.now();
  for (const [at, send] of sends) {
    const wait = at - (performance.now() - t2);
    if (wait > 1) await sleep(wait);
    send();
  }
  const expected = sends.length;
  const deadline = performance.now() + 30000;
  while (latencies.length < expected && performance.now() < deadline) await sleep(100);

  latencies.sort((a, b) => a - b);
  const q = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] || NaN;
  const stillOpen = open.filter((v) => v.socket.readyState === WebSocket.OPEN).length;
  console.log(JSON.stringify({
    visitors, agents: agents.length, agent_node: agentWsBase === wsBase ? "same" : "other", taken,
    open_at_end: stillOpen, messages_sent: expected,
    messages_delivered: latencies.length, errors, open_s: +openSeconds.toFixed(1), take_s: +takeSeconds.toFixed(1),
    p50_ms: +q(0.5).toFixed(1), p99_ms: +q(0.99).toFixed(1), max_ms: +latencies[latencies.length - 1]?.toFixed(1),
    loop_delay_p99_ms: +(loopDelay.percentile(99) / 1e6).toFixed(1),
  }));
  for (const v of open) v.socket.terminate();
  for (const a of agents) a.socket.terminate();
}

main().catch((error) => { console.error(error); process.exit(1); });
