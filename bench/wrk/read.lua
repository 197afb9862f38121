-- Scenario 1: GET core/:c/profiles/:p/unit for a random seeded profile.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
function request()
  local c, j = random_user()
  return wrk.format("GET", string.format("%s/c%d/profiles/c%d-u%d-p/unit", CORE, c, c, j), AUTH)
end
