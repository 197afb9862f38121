-- A fixed request (health, paging): only the counting and the summary line.
-- BENCH_PATH overrides the URL's path; the bearer token is sent when BENCH_TOKEN is set.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local path = os.getenv("BENCH_PATH")
function request()
  if TOKEN ~= "" then
    return wrk.format("GET", path, AUTH)
  end
  return wrk.format("GET", path)
end
