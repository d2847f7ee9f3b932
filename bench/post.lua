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

-- A body with @CODE@ in it gets a licence activation code never sent before in its place, each
-- request (the thread's number, then a count): every request a first import, one change.
local threads = 0
function setup(thread)
  thread:set("thread_number", threads)
  threads = threads + 1
end

if list[1].body:find("@CODE@", 1, true) then
  local n = 0
  function request()
    n = n + 1
    local code = string.format("%04X-%04X-%04X-%04X-BEEF", thread_number, math.floor(n / 4294967296) % 65536,
                               math.floor(n / 65536) % 65536, n % 65536)
    return wrk.format("POST", list[1].path, nil, (list[1].body:gsub("@CODE@", code)))
  end
elseif #list > 1 then
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
