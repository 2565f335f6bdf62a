-- Shared helpers for the wrk scripts (loaded with dofile from each script).
-- setup() numbers the threads so every thread seeds its own random stream.
local thread_count = 0
function setup(thread)
   thread_count = thread_count + 1
   thread:set("tid", thread_count)
end

function seed_random()
   math.randomseed(os.time() * 7919 + (tid or 0) * 104729)
   for _ = 1, 10 do math.random() end
end

function read_lines(path)
   local out = {}
   for line in io.lines(path) do
      if #line > 0 then out[#out + 1] = line end
   end
   assert(#out > 0, "no lines in " .. path)
   return out
end
