-- wrk script: POSTs the workload's requests (bench/workload.py wrote them), in turn when there are
-- several; prints one machine-readable result line.
-- Env: BENCH_REQUESTS (a file of "PATH BODY-FILE" lines), BENCH_CLOSE=1 for one TLS connection per request.
local list = {}
for line in io.lines(os.getenv("BENCH_REQUESTS")) do
  local path, file = line:match("^(%S+) (%S+)$")
  local f = assert(io.open(file, "rb"))
  list[#list + 1] = {path = path, body = f:read("*a")}
  f:close()
end
wrk.method = "POST"
wrk.path = list[1].path
wrk.body = list[1].body
wrk.headers["Content-Type"] = "application/json; charset=utf-8"
if os.getenv("BENCH_CLOSE") == "1" then wrk.headers["Connection"] = "close" end

if #list > 1 then
  -- Each request built once; each connection's thread goes round them.
  local built, n = {}, 0
  for i, r in ipairs(list) do built[i] = wrk.format("POST", r.path, nil, r.body) end
  function request()
    n = n % #built + 1
    return built[n]
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('RESULT %d %.1f %d %d %d\n', summary.requests, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(99), e.connect + e.read + e.write + e.status + e.timeout))
end
