-- Alternating checkout / release requests, one request in flight per connection,
-- no pipelining. Each issue of the pool has its own agent (and that agent's key).
--
-- POOL_FILE has lines "ISSUE_ID AGENT_ID TOKEN"; thread t of T takes every T-th line.
-- Every pool entry sits in exactly one place: the "to checkout" queue, the
-- "to release" queue, or in flight. request() prefers a release, else a checkout;
-- response() reads the Issue in a 200 answer and queues its next step (in_progress
-- -> release it; anything else -> check it out again). An error loses the entry
-- for the rest of the run (it shows up in wrk's non-2xx count); if every entry is
-- out, the script falls back to round robin. The pool must hold more entries per
-- thread than connections per thread. wrk's req/s counts both kinds: pairs/s = req/s / 2.
--
-- usage: wrk -tT ... -s checkout_release.lua URL -- POOL_FILE T
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "common.lua")

function init(args)
   seed_random()
   local nthreads = tonumber(args[2] or "1")
   local me = (tid or 1) - 1
   pool, to_checkout, to_release, by_id = {}, {}, {}, {}
   for i, line in ipairs(read_lines(args[1])) do
      if (i - 1) % nthreads == me then
         local issue, agent, token = line:match("^(%S+)%s+(%S+)%s+(%S+)$")
         local e = {
            issue = issue,
            checkout = wrk.format("POST", "/api/issues/" .. issue .. "/checkout",
               { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token },
               '{"agentId":"' .. agent .. '","expectedStatuses":["todo","backlog"]}'),
            release = wrk.format("POST", "/api/issues/" .. issue .. "/release",
               { ["Authorization"] = "Bearer " .. token }, ""),
         }
         pool[#pool + 1] = e
         to_checkout[#to_checkout + 1] = e
         by_id[issue] = e
      end
   end
   assert(#pool > 0, "empty pool slice for thread " .. tostring(tid))
   rr = 0
end

function request()
   local e = table.remove(to_release, 1)
   if e then return e.release end
   e = table.remove(to_checkout, 1)
   if e then return e.checkout end
   rr = rr % #pool + 1
   return pool[rr].checkout
end

function response(status, headers, body)
   if status ~= 200 or body == nil then return end
   local e = by_id[body:match('^{"id":"([^"]+)"') or ""]
   if e == nil then return end
   if body:find('"status":"in_progress"', 1, true) then
      to_release[#to_release + 1] = e
   else
      to_checkout[#to_checkout + 1] = e
   end
end
