-- List scenario hook: GET core/clients/c1/users?<BENCH_PROPERTY_QUERY>, e.g.
-- `properties.tier=t42` once custom properties are merged and the seed writes a property
-- value per user. The query should match a constant number of users at every size.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local query = os.getenv("BENCH_PROPERTY_QUERY") or ""
function request()
  return wrk.format("GET", string.format("%s/clients/c1/users?%s&limit=100", CORE, query), AUTH)
end
