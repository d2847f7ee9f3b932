-- wrk script: POST the captured licence-import request; print one machine-readable result line.
-- Env: BENCH_BODY (file), BENCH_CLOSE=1 for one TLS connection per request.
local f = assert(io.open(os.getenv("BENCH_BODY"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.path = "/SoftToken/Provisioning.asmx/Process"
wrk.headers["Content-Type"] = "application/json; charset=utf-8"
if os.getenv("BENCH_CLOSE") == "1" then wrk.headers["Connection"] = "close" end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('RESULT %d %.1f %d %d %d\n', summary.requests, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(99), e.connect + e.read + e.write + e.status + e.timeout))
end
