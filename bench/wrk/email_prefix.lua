-- List scenario: GET core/clients/:c/users?contacts.email_SW=<prefix> for a random seeded
-- user. The prefix `c<i>-u<j>@` matches exactly one user at any database size, so the work per
-- request stays constant and only the index lookup can grow with the table.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
function request()
  local c, j = random_user()
  return wrk.format("GET",
    string.format("%s/clients/c%d/users?contacts.email_SW=c%d-u%d%%40&limit=100", CORE, c, c, j),
    AUTH)
end
