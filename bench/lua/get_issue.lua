-- GET /api/issues/:id with an id drawn at random from a file of ids (one per line).
-- usage: wrk ... -s get_issue.lua URL -- IDS_FILE
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "common.lua")

function init(args)
   seed_random()
   ids = read_lines(args[1])
end

function request()
   return wrk.format("GET", "/api/issues/" .. ids[math.random(#ids)])
end
