-- Stand-in read that exists since the foundation: GET core/clients/:extId of a random seeded
-- client with the bearer token — the same request path as scenario 1 (JWT verification, caller
-- resolution, one indexed lookup, serialization) on a smaller table.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
function request()
  local c = math.random(1, CLIENTS)
  return wrk.format("GET", string.format("%s/clients/c%d", CORE, c), AUTH)
end
