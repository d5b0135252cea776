-- Replays a request file written by benchmarks/workload.py (METHOD<TAB>target<TAB>body, then <TAB>Name: value
-- per header, a line), in order, wrapping at the end, and prints one JSON line of results when done.
-- Usage: wrk -t1 -c32 -d5s -s benchmarks/wrk.lua http://127.0.0.1:PORT -- requests.txt

-- Call ids start with "c-LAPX" in the file; each pass through it writes the pass number there (workload.py
-- LAP_MARK), so a replayed request is a new event that exactly-once handling runs again. (Twilio's requests
-- carry it in the I-Twilio-Idempotency-Token header only, which their signature does not cover.)

local lines = {}
local requests = {}
local next_index = 0
local lap = 0

local function build()
  local mark = string.format("c-%04d", lap % 10000)
  for i, line in ipairs(lines) do
    local parts = {}
    for part in (line:gsub("c%-LAPX", mark) .. "\t"):gmatch("([^\t]*)\t") do
      parts[#parts + 1] = part
    end
    local headers = {}
    for h = 4, #parts do
      local name, value = parts[h]:match("^([^:]+): (.*)$")
      headers[name] = value
    end
    if parts[1] == "POST" then
      requests[i] = wrk.format("POST", parts[2], headers, parts[3])
    else
      requests[i] = wrk.format("GET", parts[2], headers)
    end
  end
end

function init(args)
  for line in io.lines(args[1]) do
    lines[#lines + 1] = line
  end
  build()
end

function request()
  if next_index == #requests then
    next_index = 0
    lap = lap + 1
    build()
  end
  next_index = next_index + 1
  return requests[next_index]
end

function done(summary, latency, _)
  local errors = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "non_2xx": %d, ' ..
    '"socket_errors": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), errors.status,
    errors.connect + errors.read + errors.write + errors.timeout))
end
