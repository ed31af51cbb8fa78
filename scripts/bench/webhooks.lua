-- wrk script: replays pre-signed webhooks (scripts/bench/webhooks.py), each event once; thread k
-- of n takes every n-th line so no two requests carry the same webhook id. When a thread runs out
-- it starts again (those requests are duplicates, answered as such); the summary says how many.
--   wrk -s webhooks.lua URL -- EVENTS_FILE THREADS
local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local file, n = args[1], tonumber(args[2])
  events = {}
  local i = 0
  for line in io.lines(file) do
    if i % n == tid then
      local id, ts, sig, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
      events[#events + 1] = wrk.format("POST", "/webhooks/verification", {
        ["Content-Type"] = "application/json",
        ["webhook-id"] = id,
        ["webhook-timestamp"] = ts,
        ["webhook-signature"] = sig,
      }, body)
    end
    i = i + 1
  end
  next_event = 0
  sent = 0
end

function request()
  next_event = next_event % #events + 1
  sent = sent + 1
  return events[next_event]
end

function done(summary, latency, requests)
  local repeated = 0
  for _, t in ipairs(threads) do
    local s, n = t:get("sent"), #t:get("events")
    if s > n then repeated = repeated + (s - n) end
  end
  io.write(string.format("repeated %d\n", repeated))
end
