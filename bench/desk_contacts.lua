-- wrk script for bench/desk.sh: POST /api/v1/contacts for customers spread over 1..N (N given
-- after `--`), then prints the throughput of successful requests and the latency.
local customers = 1000
local counter = 0
local thread_seed = 0
local seeds = 0

function setup(thread)
  seeds = seeds + 1
  thread:set("thread_seed", seeds)
end

function init(args)
  customers = tonumber(args[1]) or customers
end

function request()
  counter = counter + 1
  local id = (counter * 7919 + thread_seed * 104729) % customers + 1
  local body = string.format('{"customer_id":%d,"channel":"phone","direction":"inbound",' ..
    '"reason_code":"billing_question","summary":"Asked why the bill went up; explained the tiered rate"}', id)
  return wrk.format("POST", "/api/v1/contacts", nil, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  local failed = e.connect + e.read + e.write + e.status + e.timeout
  io.write(string.format("ok_rps %.1f\np50_ms %.2f\np95_ms %.2f\nrequests %d\nerrors %d\n",
    (summary.requests - failed) / (summary.duration / 1000000),
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, summary.requests, failed))
end
