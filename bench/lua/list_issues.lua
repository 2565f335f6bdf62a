-- GET /api/companies/:id/issues?limit=50&offset=<random 0..MAX_OFFSET>
-- usage: wrk ... -s list_issues.lua URL -- COMPANY_ID MAX_OFFSET
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "common.lua")

function init(args)
   seed_random()
   company = args[1]
   max_offset = tonumber(args[2] or "9950")
end

function request()
   local path = "/api/companies/" .. company .. "/issues?limit=50&offset=" .. math.random(0, max_offset)
   return wrk.format("GET", path)
end
