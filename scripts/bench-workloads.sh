# Sourced by scripts/bench and scripts/bench-instructions: the workloads both drive, written
# once. Needs $WORK (a scratch directory) to be set.

# Rate-limit accounting stays on; the budget is simply out of the benchmark's reach (the
# largest a limit may be, 100,000, per second), and the resource cap is raised so a 10 s
# create run is not refused half-way.
cat >"$WORK/bench.yaml" <<'YAML'
max_resources: 10000000
journal_capacity: 100
rate_limits:
  dub: {limit: 100000, window_seconds: 1}
YAML

# dub-create: a new partner per request (unique email per wrk thread and request), with a
# report line (RESULT req/s p50 p99 requests errors) for scripts/bench. The path is
# /dub/partners unless wrk is given another after `--` (Prism serves Dub's spec at the root).
cat >"$WORK/create.lua" <<'LUA'
local counter = 0
local thread_id = 0
local threads = {}
local path = "/dub/partners"
function setup(thread)
  thread:set("id", thread_id)
  thread_id = thread_id + 1
end
function init(args)
  if args[1] then path = args[1] end
end
request = function()
  counter = counter + 1
  local n = id .. "-" .. counter
  local body = '{"programId":"prog_understudy","name":"Bench ' .. n .. '","email":"bench-' .. n .. '@example.com","username":"bench-' .. n .. '"}'
  return wrk.format("POST", path, {["Authorization"] = "Bearer dub_understudy_test", ["Content-Type"] = "application/json"}, body)
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %.1f %.3f %.3f %d %d\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.requests,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
LUA
# The same report for plain GET workloads.
sed -n '/^done = function/,$p' "$WORK/create.lua" >"$WORK/report.lua"

# cloudcockpit: the read-only relationship-acceptance link.
CC_PATH="/cloudcockpit/v1/Customers/relationship-acceptance?providerInstanceId=5b0e6a52-3c1f-4f0e-9d47-2a9c8e1f7b30"
CC_HEADERS=(-H "Authorization: Bearer cloudcockpit_understudy_test" -H "X-Tenant: understudy.example")
