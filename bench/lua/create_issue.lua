-- POST /api/companies/:id/issues with a small JSON body.
-- usage: wrk ... -s create_issue.lua URL -- COMPANY_ID
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "common.lua")

function init(args)
   seed_random()
   company = args[1]
   n = 0
   headers = { ["Content-Type"] = "application/json" }
end

function request()
   n = n + 1
   local body = string.format(
      '{"title":"wrk issue t%d-%d","description":"created by bench/lua/create_issue.lua","priority":"medium"}',
      tid or 0, n)
   return wrk.format("POST", "/api/companies/" .. company .. "/issues", headers, body)
end
