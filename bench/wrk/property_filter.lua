-- List scenario: GET core/clients/c1/users?<BENCH_PROPERTY_QUERY> (default
-- `properties.employeeNumber=E1-500`: the seed gives every user one employeeNumber).
-- The query matches one user at every size, so p50 compares the index, not the page.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local query = os.getenv("BENCH_PROPERTY_QUERY") or ""
function request()
  return wrk.format("GET", string.format("%s/clients/c1/users?%s&limit=100", CORE, query), AUTH)
end
