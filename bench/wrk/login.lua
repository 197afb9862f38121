-- Password login (issue 12): POST auth/v1/c1/users/c1-u<j>/password/login with the right
-- password for a random one of the first BENCH_LOGIN_USERS seeded users (run.sh gave them
-- that password). Each request verifies an argon2id hash: this is the hash's ceiling.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local users = tonumber(os.getenv("BENCH_LOGIN_USERS") or "32")
function request()
  local j = math.random(1, users)
  return wrk.format("POST", string.format("/nevisidm/api/auth/v1/c1/users/c1-u%d/password/login", j),
    JSON_AUTH, '{"password":"Bench-Passw0rd-1"}')
end
