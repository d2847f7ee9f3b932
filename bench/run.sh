#!/usr/bin/env bash
# Measures fortisim beside nginx on loopback with wrk: keep-alive requests/s, new-TLS-connection
# requests/s, latency, server CPU per request, memory (idle, at peak, and with 1,000 idle TLS
# connections), each with its ratio to nginx, and one client's handshakes per second with and
# without session resumption. Every server answers the captured licence import with
# the captured error-14 reply (fortisim from scenarios/expired-license.json, the others from a
# fixed string), over TLS 1.3 with an ECDSA P-256 certificate. fortisim runs twice: as users run it
# (every exchange logged, to a pipe that is read) and with --quiet.
#
#   bash bench/run.sh                     # 10 s per run
#   BENCH_SECONDS=30 BENCH_CONNECTIONS=64 bash bench/run.sh
#   BENCH_NGINX=0 bash bench/run.sh       # fortisim only
#   BENCH_PEERS=1 bash bench/run.sh       # also mountebank and WireMock (npm, Java)
#   BENCH_HANDSHAKE_SECONDS=0 bash bench/run.sh   # without the handshake table
#
# Installs wrk (and nginx) from Debian's packages when missing. Loopback only; bounded in time.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${BENCH_SECONDS:-10}
conns=${BENCH_CONNECTIONS:-32}
threads=${BENCH_THREADS:-$(nproc)}
want_nginx=${BENCH_NGINX:-1}
want_peers=${BENCH_PEERS:-0}
idle_conns=${BENCH_IDLE:-1000}
hs_seconds=${BENCH_HANDSHAKE_SECONDS:-5}
ulimit -n 8192 2>/dev/null || true

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

# measure NAME PID PORT: prints one table row; the first row measured (nginx) is the reference
ref_keepalive="" ref_close=""
ratio() { [ -n "$2" ] && awk "BEGIN{printf \"%.2f×\", $1/$2}" || echo "–"; }
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
    local ref_var=ref_$mode
    [ -n "${!ref_var}" ] || printf -v "$ref_var" %s "${rps%.*}"
    row+=" | ${rps%.*} | $(ratio "${rps%.*}" "${!ref_var}") | $(awk "BEGIN{printf \"%.2f\", $p99/1000}") | $cpu_us | $errs"
  done
  local peak_kb; peak_kb=$(tree_kb "$pid" VmHWM)
  local idle; idle=$(timeout 300 python3 "$root/bench/idle.py" "$pid" "$port" "$ca" "$body" "$idle_conns" | awk '{print $2}')
  echo "$row | $((idle_kb / 1024)) | $((peak_kb / 1024)) | ${idle:-–} |"
  [ "$hs_seconds" = 0 ] || handshake_rows+=("| $name$(handshakes "$port") |")
}

# handshakes PORT: one client's handshakes per second (openssl s_time, no request): full TLS 1.3,
# full TLS 1.2, and TLS 1.2 resuming its session (a ticket, or the server's session cache)
handshake_rows=()
handshakes() {
  local opts v out=""
  for opts in "-tls1_3 -new" "-tls1_2 -new" "-tls1_2 -reuse"; do
    # shellcheck disable=SC2086
    v=$(timeout $((hs_seconds + 30)) openssl s_time -connect "127.0.0.1:$1" $opts -time "$hs_seconds" 2>/dev/null |
        awk '/real seconds/{n=$1; t=$4} END{if (t > 0) printf "%d", n/t}')
    out+=" | ${v:-–}"
  done
  echo "$out"
}

# wait_port PORT: until the server answers TLS there (bounded)
wait_port() { for _ in $(seq 600); do curl -s -o /dev/null --max-time 1 --cacert "$ca" "https://localhost:$1/" && return; sleep 0.1; done; echo "no server on $1" >&2; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# fortisim NAME OPTIONS...: serves the scenario with 2 workers; its stderr goes through a pipe that cat reads
fortisim() {
  local name=$1; shift
  "$build/fortisim" serve --listen 127.0.0.1:0 --admin off --scenario "$root/scenarios/expired-license.json" \
    --cert "$cert" --key "$key" --threads "$(nproc)" --journal-size 1000 "$@" >"$work/ready" 2> >(cat >>"$work/fortisim.log") &
  local pid=$!
  pids+=("$pid")
  for _ in $(seq 100); do [ -s "$work/ready" ] && break; sleep 0.05; done
  local port; port=$(sed -n 's/.*"listen":"127.0.0.1:\([0-9]*\)".*/\1/p' "$work/ready")
  : >"$work/ready"
  measure "fortisim $name" "$pid" "$port"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

echo "wrk: $threads threads, $conns connections, ${seconds}s per run; $(nproc) cores; loopback, TLS, ECDSA P-256;" \
  "idle: $idle_conns TLS connections after one request each"
echo
echo "| server | keep-alive req/s | vs nginx | p99 ms | CPU µs/req | errors | new-connection req/s | vs nginx | p99 ms | CPU µs/req | errors | RSS idle MiB | RSS peak MiB | RSS with $idle_conns idle TLS MiB |"
echo "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"

if [ "$want_nginx" = 1 ]; then
  nport=$(free_port)
  # shellcheck source=bench/nginx.sh
  . "$root/bench/nginx.sh"
  wait_port "$nport"
  measure "nginx $(nginx -v 2>&1 | sed 's|.*/||')" "${pids[-1]}" "$nport"
  kill "${pids[-1]}"
fi
fortisim "(defaults: every exchange logged)"
fortisim "--quiet" --quiet
if [ "$want_peers" = 1 ]; then
  # shellcheck source=bench/peers.sh
  . "$root/bench/peers.sh"
fi

if [ ${#handshake_rows[@]} -gt 0 ]; then
  echo
  echo "Handshakes per second, one client (openssl s_time, ${hs_seconds}s each, no request):"
  echo
  echo "| server | TLS 1.3 full | TLS 1.2 full | TLS 1.2 resumed |"
  echo "|---|--:|--:|--:|"
  printf '%s\n' "${handshake_rows[@]}"
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

