-- Scenario 3: PATCH core/clients/:extId with `version` from many connections on few clients
-- (BENCH_PATCH_CLIENTS, default 1 = all connections fight over c1). Run with one wrk thread so
-- all connections share one Lua state: the newest version any 200 reported is what every
-- connection sends next, and requests in flight with an older one lose with 409 — the
-- realistic race. Expect a 200/409 mix and nothing >= 500.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local targets = tonumber(os.getenv("BENCH_PATCH_CLIENTS") or "1")
local known = {}
local n = 0
function request()
  local c = math.random(1, targets)
  local v = known[c] or 1
  n = n + 1
  return wrk.format("PATCH", string.format("%s/clients/c%d", CORE, c), JSON_AUTH,
    string.format('{"remarks":"bench %d-%d","version":%d}', id or 0, n, v))
end
function response(status, headers, body)
  count(status)
  local c = tonumber(body:match('"extId"%s*:%s*"c(%d+)"') or "")
  local v = tonumber(body:match('"version"%s*:%s*(%d+)') or "")
  if status == 200 and c and v then
    known[c] = math.max(known[c] or 1, v)
  end
end
