-- Replays a request file written by benchmarks/workload.py (METHOD<TAB>target<TAB>body a line), in order,
-- wrapping at the end, and prints one JSON line of results when done.
-- Usage: wrk -t1 -c32 -d5s -s benchmarks/wrk.lua http://127.0.0.1:PORT -- requests.txt

local requests = {}
local next_index = 0

function init(args)
  for line in io.lines(args[1]) do
    local method, target, body = line:match("^(%u+)\t([^\t]*)\t(.*)$")
    if method == "POST" then
      requests[#requests + 1] = wrk.format("POST", target, {["Content-Type"] = "application/json"}, body)
    else
      requests[#requests + 1] = wrk.format("GET", target)
    end
  end
end

function request()
  next_index = next_index % #requests + 1
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
