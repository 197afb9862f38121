-- Scenario 2: POST core/:c/users/:u/consents for a random user and random terms. A repeat of
-- the same (user, terms, version) is a 422 duplicateValue: counted, not a failure.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
function request()
  local c, j = random_user()
  local k = math.random(1, TERMS)
  return wrk.format("POST", string.format("%s/c%d/users/c%d-u%d/consents", CORE, c, c, j),
    JSON_AUTH, string.format('{"termsExtId":"t%d"}', k))
end
