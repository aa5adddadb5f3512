-- wrk script for bench/desk.sh: cycles through the request paths listed in a file (one per
-- line, given after `--`) and prints the p50 and p95 latency, which wrk's own report lacks.
local paths = {}
local next_path = 0

function init(args)
  for line in io.lines(args[1]) do
    if line ~= "" then paths[#paths + 1] = line end
  end
end

function request()
  next_path = next_path % #paths + 1
  return wrk.format(nil, paths[next_path])
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("p50_ms %.2f\np95_ms %.2f\nrps %.1f\nrequests %d\nerrors %d\n",
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    summary.requests / (summary.duration / 1000000), summary.requests,
    e.connect + e.read + e.write + e.status + e.timeout))
end
