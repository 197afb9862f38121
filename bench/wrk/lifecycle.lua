-- Scenario 4: admin lifecycle create user -> patch -> disable -> delete, as a state machine
-- driven by responses (connections interleave, so the next step of a user is only issued once
-- the previous one answered): 201 Location -> patch queue; 200 with userState active ->
-- disable queue; 200 with userState disabled -> delete queue; 204 -> one iteration done.
-- request() prefers finishing users over starting new ones.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local to_patch, to_disable, to_delete = {}, {}, {}
local n = 0
local client = os.getenv("BENCH_LIFECYCLE_CLIENT") or "c1"
local run = os.getenv("BENCH_RUN_ID") or "0"
function request()
  if #to_delete > 0 then
    return wrk.format("DELETE", string.format("%s/%s/users/%s", CORE, client, table.remove(to_delete)), AUTH)
  elseif #to_disable > 0 then
    return wrk.format("PATCH", string.format("%s/%s/users/%s", CORE, client, table.remove(to_disable)),
      JSON_AUTH, '{"userState":"disabled"}')
  elseif #to_patch > 0 then
    return wrk.format("PATCH", string.format("%s/%s/users/%s", CORE, client, table.remove(to_patch)),
      JSON_AUTH, '{"remarks":"patched by bench","name":{"firstName":"Patched"}}')
  end
  n = n + 1
  local ext = string.format("lc-%s-%d-%d", run, id or 0, n)
  return wrk.format("POST", string.format("%s/%s/users", CORE, client), JSON_AUTH,
    string.format('{"extId":"%s","loginId":"%s","name":{"firstName":"Life","familyName":"Cycle"}}', ext, ext))
end
function response(status, headers, body)
  count(status)
  if status == 201 then
    local loc = headers["Location"] or headers["location"] or ""
    local ext = loc:match("/users/([^/?]+)$")
    if ext then table.insert(to_patch, ext) end
  elseif status == 200 then
    local ext = body:match('"extId"%s*:%s*"([^"]+)"')
    if ext then
      if body:find('"userState"%s*:%s*"disabled"') then
        table.insert(to_delete, ext)
      else
        table.insert(to_disable, ext)
      end
    end
  end
end
