-- Credential lifecycle (issue 12): create user -> set password (argon2id hash) -> delete user
-- (which deletes the credential), as a state machine driven by the Location of each 201:
-- /users/<u> -> password queue; /users/<u>/password -> delete queue; 204 -> one iteration.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local to_password, to_delete = {}, {}
local n = 0
local client = os.getenv("BENCH_LIFECYCLE_CLIENT") or "c1"
local run = os.getenv("BENCH_RUN_ID") or "0"
function request()
  if #to_delete > 0 then
    return wrk.format("DELETE", string.format("%s/%s/users/%s", CORE, client, table.remove(to_delete)), AUTH)
  elseif #to_password > 0 then
    return wrk.format("POST", string.format("%s/%s/users/%s/password", CORE, client, table.remove(to_password)),
      JSON_AUTH, '{"password":"Bench-Passw0rd-1"}')
  end
  n = n + 1
  local ext = string.format("cl-%s-%d-%d", run, id or 0, n)
  return wrk.format("POST", string.format("%s/%s/users", CORE, client), JSON_AUTH,
    string.format('{"extId":"%s","loginId":"%s"}', ext, ext))
end
function response(status, headers, body)
  count(status)
  if status == 201 then
    local loc = headers["Location"] or headers["location"] or ""
    local pwd = loc:match("/users/([^/?]+)/password$")
    if pwd then
      table.insert(to_delete, pwd)
    else
      local ext = loc:match("/users/([^/?]+)$")
      if ext then table.insert(to_password, ext) end
    end
  end
end
