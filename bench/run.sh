#!/usr/bin/env bash
# Measures fortisim beside nginx on loopback with wrk: keep-alive requests/s, new-TLS-connection
# requests/s, latency, server CPU per request, and memory. Both answer the captured licence import
# with the captured error-14 reply (fortisim from scenarios/expired-license.json, nginx from a
# fixed string), over TLS 1.3 with an ECDSA P-256 certificate.
#
#   bash bench/run.sh                     # 10 s per run
#   BENCH_SECONDS=30 BENCH_CONNECTIONS=64 bash bench/run.sh
#   BENCH_NGINX=0 bash bench/run.sh       # fortisim only
#
# Installs wrk (and nginx) from Debian's packages when missing. Loopback only; bounded in time.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${BENCH_SECONDS:-10}
conns=${BENCH_CONNECTIONS:-32}
threads=${BENCH_THREADS:-$(nproc)}
want_nginx=${BENCH_NGINX:-1}

need=(wrk curl)
[ "$want_nginx" = 1 ] && need+=(nginx)
missing=()
for c in "${need[@]}"; do command -v "$c" >/dev/null || missing+=("$c"); done
[ ${#missing[@]} -eq 0 ] || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null; }

build=$root/build-bench
sh "$root/scripts/install-deps.sh"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DFORTISIM_TESTS=OFF >/dev/null
cmake --build "$build" -j "$(nproc)" >/dev/null

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

body=$work/request.json
cat >"$body" <<'JSON'
{"d":{"__type":"SoftToken.ActivationLicenseRequest","__version":"4","license_activation_code":"DA8C-0508-1F31-4CF7-C990","serial_number":"FG4H0ETB20900993","__device_version":"6.0","__device_build":"6325","__clustered_sns":[{"sn":"FG4H0ETB20900993"},{"sn":"FG4H0E5819900260"}]}}
JSON
reply='{"d":{"__type":"SoftToken.ActivationLicenseResponse","__version":"4","serial_number":"FG4H0ETB20900993","__device_version":"6.0","__device_build":"6325","__clustered_sns":[{"sn":"FG4H0E5819900260","error":null},{"sn":"FG4H0ETB20900993","error":null}],"license_activation_code":"DA8C-0508-1F31-4CF7-C990","license":"","tokens":null,"result":0,"error":{"error_code":14,"error_message":"forticare license expired"}}}'

"$build/fortisim" certs --data "$work/data" >/dev/null
cert=$work/data/ecdsa/server.pem key=$work/data/ecdsa/server-key.pem ca=$work/data/ca.pem

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }           # utime + stime of one process
tree_ticks() { local t=0 p; for p in $1 $(pgrep -P "$1" || true); do t=$((t + $(ticks "$p"))); done; echo $t; }
tree_kb() { local t=0 p v; for p in $1 $(pgrep -P "$1" || true); do v=$(awk -v f="$2:" '$1==f{print $2}' "/proc/$p/status"); t=$((t + ${v:-0})); done; echo $t; }
hz=$(getconf CLK_TCK)

# measure NAME PID PORT: prints one table row
measure() {
  local name=$1 pid=$2 port=$3 got
  got=$(curl -sS --max-time 5 --cacert "$ca" --resolve "localhost:$port:127.0.0.1" --data-binary @"$body" \
        "https://localhost:$port/SoftToken/Provisioning.asmx/Process")
  [ "$got" = "$reply" ] || { echo "$name: wrong reply: $got" >&2; exit 1; }
  local idle_kb; idle_kb=$(tree_kb "$pid" VmRSS)
  local row="| $name"
  for mode in keepalive close; do
    local t0 t1 out
    t0=$(tree_ticks "$pid")
    out=$(BENCH_BODY=$body BENCH_CLOSE=$([ $mode = close ] && echo 1 || echo 0) \
          timeout $((seconds + 30)) wrk -t "$threads" -c "$conns" -d "${seconds}s" --timeout 5s -s "$root/bench/post.lua" \
          "https://localhost:$port" | awk '/^RESULT/')
    t1=$(tree_ticks "$pid")
    read -r _ n rps p50 p99 errs <<<"$out"
    local cpu_us=$(( (t1 - t0) * 1000000 / hz / (n > 0 ? n : 1) ))
    row+=" | ${rps%.*} | $(awk "BEGIN{printf \"%.2f\", $p50/1000}") | $(awk "BEGIN{printf \"%.2f\", $p99/1000}") | $cpu_us | $errs"
  done
  local peak_kb; peak_kb=$(tree_kb "$pid" VmHWM)
  echo "$row | $((idle_kb / 1024)) | $((peak_kb / 1024)) |"
}

echo "wrk: $threads threads, $conns connections, ${seconds}s per run; $(nproc) cores; loopback, TLS, ECDSA P-256"
echo
echo "| server | keep-alive req/s | p50 ms | p99 ms | CPU µs/req | errors | new-connection req/s | p50 ms | p99 ms | CPU µs/req | errors | RSS idle MiB | RSS peak MiB |"
echo "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"

"$build/fortisim" serve --listen 127.0.0.1:0 --admin off --scenario "$root/scenarios/expired-license.json" \
  --cert "$cert" --key "$key" --threads "$(nproc)" --journal-size 1000 --quiet >"$work/ready" 2>"$work/fortisim.log" &
pids+=($!)
for _ in $(seq 100); do [ -s "$work/ready" ] && break; sleep 0.05; done
port=$(sed -n 's/.*"listen":"127.0.0.1:\([0-9]*\)".*/\1/p' "$work/ready")
measure "fortisim ($(nproc) threads)" "${pids[-1]}" "$port"

if [ "$want_nginx" = 1 ]; then
  nport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  mkdir -p "$work/nginx/tmp"
  cat >"$work/nginx/nginx.conf" <<CONF
worker_processes auto;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path $work/nginx/tmp;
  server {
    listen 127.0.0.1:$nport ssl;
    ssl_certificate $cert;
    ssl_certificate_key $key;
    ssl_protocols TLSv1.2 TLSv1.3;
    location / { default_type "application/json; charset=utf-8"; return 200 '$reply'; }
  }
}
CONF
  nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" &
  pids+=($!)
  for _ in $(seq 100); do curl -s -o /dev/null --cacert "$ca" "https://localhost:$nport/" && break; sleep 0.05; done
  measure "nginx $(nginx -v 2>&1 | sed 's|.*/||')" "${pids[-1]}" "$nport"
fi

# Start-up: exec to the ready line, as a test fixture sees it (the lab CA already exists).
python3 - "$build/fortisim" "$root/scenarios/default.json" "$work/data" <<'PY'
import json, statistics, subprocess, sys, time
binary, scenario, data = sys.argv[1:]
times = []
for _ in range(20):
    t = time.perf_counter()
    p = subprocess.Popen([binary, "serve", "--listen", "127.0.0.1:0", "--scenario", scenario, "--data", data, "--threads", "1"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    json.loads(p.stdout.readline())
    times.append((time.perf_counter() - t) * 1000)
    p.terminate()
    p.wait(timeout=10)
print(f"\nfortisim start to ready line: median {statistics.median(times):.1f} ms, max {max(times):.1f} ms (20 starts)")
PY

