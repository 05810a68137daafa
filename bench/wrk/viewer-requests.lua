-- wrk script for the read-path benchmark: each request is a random line of a targets file
--   <viewer DID> TAB <path and query>
-- sent with the viewer in the X-Bench-Viewer header (honoured only by `appview-bench serve`,
-- never by appview-api; see bench/README.md).
-- Usage: wrk -t 2 -c 8 -d 10s --latency -s viewer-requests.lua http://127.0.0.1:18090 -- targets.tsv [seed]

local targets = {}
local thread_counter = 0

function setup(thread)
  thread_counter = thread_counter + 1
  thread:set("thread_number", thread_counter)
end

function init(args)
  local file = args[1]
  if file == nil then error("usage: -- <targets.tsv> [seed]") end
  for line in io.lines(file) do
    local viewer, path = line:match("^([^\t]+)\t([^\t]+)$")
    if viewer ~= nil then targets[#targets + 1] = { viewer, path } end
  end
  if #targets == 0 then error("no targets in " .. file) end
  local seed = tonumber(args[2] or "42")
  math.randomseed(seed + (thread_number or 0) * 7919)
end

function request()
  local target = targets[math.random(#targets)]
  return wrk.format("GET", target[2], { ["X-Bench-Viewer"] = target[1], ["Accept"] = "application/json" })
end
