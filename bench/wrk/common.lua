-- Shared by every scenario script: per-thread status counting, random seeding, pacing and a
-- machine-readable summary line ("BENCHJSON {...}") that bench/run.sh collects.
-- Settings come from the environment (wrk passes none to Lua otherwise):
--   BENCH_TOKEN bearer token · BENCH_CLIENTS · BENCH_UPC users per client · BENCH_TERMS
--   BENCH_DELAY_MS per-connection pause between requests (0 = closed loop, saturating)
CORE = "/nevisidm/api/core/v1"
TOKEN = os.getenv("BENCH_TOKEN") or ""
CLIENTS = tonumber(os.getenv("BENCH_CLIENTS") or "1")
UPC = tonumber(os.getenv("BENCH_UPC") or "1000")
TERMS = tonumber(os.getenv("BENCH_TERMS") or "3")
DELAY_MS = tonumber(os.getenv("BENCH_DELAY_MS") or "0")
AUTH = { ["Authorization"] = "Bearer " .. TOKEN }
JSON_AUTH = { ["Authorization"] = "Bearer " .. TOKEN, ["Content-Type"] = "application/json" }

local threads = {}
local counter = 0
statuses = {}

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(os.time() * 1000 + (id or 0) * 7919)
  statuses = {}
end

function count(status)
  local k = tostring(status)
  statuses[k] = (statuses[k] or 0) + 1
end

-- Scenarios that need the response override this and call count() themselves.
function response(status, headers, body)
  count(status)
end

if DELAY_MS > 0 then
  -- Open-ish loop: each connection pauses between requests, so the offered rate is about
  -- connections * 1000 / (DELAY_MS + latency) instead of "as fast as possible".
  function delay()
    return DELAY_MS
  end
end

function random_user()
  local c = math.random(1, CLIENTS)
  local j = math.random(1, UPC)
  return c, j
end

function done(summary, latency, requests)
  local merged = {}
  for _, t in ipairs(threads) do
    local s = t:get("statuses") or {}
    for k, v in pairs(s) do merged[k] = (merged[k] or 0) + v end
  end
  local parts = {}
  for k, v in pairs(merged) do table.insert(parts, string.format('"%s":%d', k, v)) end
  local secs = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests":%d,"seconds":%.3f,"rps":%.1f,"p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f,'
    .. '"mean_ms":%.3f,"statuses":{%s},"socket_errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d}}\n',
    summary.requests, secs, summary.requests / secs,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, latency.mean / 1000,
    table.concat(parts, ","), e.connect, e.read, e.write, e.timeout))
end
