-- Replays a request file written by benchmarks/workload.py (METHOD<TAB>target<TAB>body a line), in order,
-- wrapping at the end, and prints one JSON line of results when done.
-- Usage: wrk -t1 -c32 -d5s -s benchmarks/wrk.lua http://127.0.0.1:PORT -- requests.txt

-- Call ids start with "c-LAPX" in the file; each pass through it writes the pass number there (workload.py
-- LAP_MARK), so a replayed request is a new event that exactly-once handling runs again.

local lines = {}
local requests = {}
local next_index = 0
local lap = 0

local function build()
  local mark = string.format("c-%04d", lap % 10000)
  for i, line in ipairs(lines) do
    local method, target, body = line:gsub("c%-LAPX", mark):match("^(%u+)\t([^\t]*)\t(.*)$")
    if method == "POST" then
      requests[i] = wrk.format("POST", target, {["Content-Type"] = "application/json"}, body)
    else
      requests[i] = wrk.format("GET", target)
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
