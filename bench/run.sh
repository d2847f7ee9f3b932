#!/usr/bin/env bash
# Measures fortisim beside nginx on loopback with wrk, over TLS 1.3 with an ECDSA P-256
# certificate. fortisim runs as users run it (every exchange logged, to a pipe that is read) and
# with --quiet; nginx returns fortisim's own reply as a fixed string, the upper bound for a server.
#
# 1. The captured licence import refused with error 14 (scenarios/expired-license.json): keep-alive
#    and new-connection requests/s, latency, server CPU per request, memory (idle, at peak, with
#    1,000 idle TLS connections), each with its ratio to nginx; one client's handshakes per second.
# 2. The answers users get most, keep-alive, each beside nginx returning the same reply: the
#    successful re-import (default.json), a poll of the licence's five tokens (default.json), the
#    captured 7.4.10 ProvisionRequest and the phone's MobileProvisionRequest
#    (provision-7.4.10.json). bench/workload.py sets each up and checks fortisim's answer.
# 3. Durable writes: those four in turn, the provisioning alone and first imports (a code never
#    sent before, each request: one change), with and without --state (on the disk of the
#    checkout): durable changes per second and how many each commit carried, against SQLite's own
#    limit on that disk (one fsync'd one-row transaction after another). BENCH_FLUSH_MS=N makes
#    every flush of that table wait N ms first (bench/slow_flush.c, preloaded into fortisim and
#    into SQLite's own loop alike), as a disk without a power-safe write cache does.
# 4. Start to the ready line, 21 starts, with the data folder reused and fresh.
#
#   bash bench/run.sh                     # 10 s per run
#   BENCH_SECONDS=30 BENCH_CONNECTIONS=64 bash bench/run.sh
#   BENCH_NGINX=0 bash bench/run.sh       # fortisim only
#   BENCH_PEERS=1 bash bench/run.sh       # also mountebank and WireMock (npm, Java), in table 1
#   BENCH_HANDSHAKE_SECONDS=0 bash bench/run.sh   # without the handshake table
#   BENCH_TABLES="1 3" bash bench/run.sh  # only some tables
#   BENCH_TABLES=3 BENCH_FLUSH_MS=2 bash bench/run.sh   # durable writes on a disk that flushes in 2 ms
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
flush_ms=${BENCH_FLUSH_MS:-0}
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
tables=${BENCH_TABLES:-1 2 3 4}
want() { [[ " $tables " == *" $1 "* ]]; }
# Table 1's request list: the captured import alone.
mkdir -p "$work/refused" && echo "/SoftToken/Provisioning.asmx/Process $body" >"$work/refused/requests"

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }           # utime + stime of one process
tree_ticks() { local t=0 p; for p in $1 $(pgrep -P "$1" || true); do t=$((t + $(ticks "$p"))); done; echo $t; }
tree_kb() { local t=0 p v; for p in $1 $(pgrep -P "$1" || true); do v=$(awk -v f="$2:" '$1==f{print $2}' "/proc/$p/status"); t=$((t + ${v:-0})); done; echo $t; }
hz=$(getconf CLK_TCK)
ratio() { [ -n "$2" ] && awk "BEGIN{printf \"%.2f×\", $1/$2}" || echo "–"; }

# load PID PORT REQUESTS CLOSE: one wrk run; prints "requests req/s p99-ms CPU-µs/req errors"
load() {
  local t0 t1 out
  t0=$(tree_ticks "$1")
  out=$(BENCH_REQUESTS=$3 BENCH_CLOSE=$4 timeout $((seconds + 30)) wrk -t "$threads" -c "$conns" -d "${seconds}s" \
        --timeout 5s -s "$root/bench/post.lua" "https://localhost:$2" | awk '/^RESULT/')
  t1=$(tree_ticks "$1")
  read -r _ n rps _ p99 errs <<<"$out"
  echo "$n ${rps%.*} $(awk "BEGIN{printf \"%.2f\", $p99/1000}") $(( (t1 - t0) * 1000000 / hz / (n > 0 ? n : 1) )) $errs"
}

# check NAME PORT REQUESTS REPLY: the first request is answered with REPLY, byte for byte
check() {
  local path file got
  read -r path file <"$3"
  got=$(curl -sS --max-time 5 --cacert "$ca" --resolve "localhost:$2:127.0.0.1" --data-binary @"$file" \
        "https://localhost:$2$path")
  [ "$got" = "$(cat "$4")" ] || { echo "$1: wrong reply: $got" >&2; exit 1; }
}

# Table 1: measure NAME PID PORT prints one row; the first row measured (nginx) is the reference
# shellcheck disable=SC2034  # read through ${!ref_var}
ref_keepalive="" ref_close=""
measure() {
  local name=$1 pid=$2 port=$3 mode
  printf %s "$reply" >"$work/refused/reply"
  check "$name" "$port" "$work/refused/requests" "$work/refused/reply"
  local idle_kb; idle_kb=$(tree_kb "$pid" VmRSS)
  local row="| $name"
  for mode in keepalive close; do
    read -r _ rps p99 cpu errs <<<"$(load "$pid" "$port" "$work/refused/requests" "$([ $mode = close ] && echo 1 || echo 0)")"
    local ref_var=ref_$mode
    [ -n "${!ref_var}" ] || printf -v "$ref_var" %s "$rps"
    row+=" | $rps | $(ratio "$rps" "${!ref_var}") | $p99 | $cpu | $errs"
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

# start_fortisim SCENARIO OPTIONS...: serves SCENARIO with one worker per core, its stderr through a
# pipe that cat reads; sets fpid, fport and fadmin (the control listener, where OPTIONS ask for one)
start_fortisim() {
  local scenario=$1; shift
  : >"$work/ready"
  LD_PRELOAD=${preload:-} "$build/fortisim" serve --listen 127.0.0.1:0 --scenario "$scenario" --cert "$cert" --key "$key" \
    --threads "${workers:-$(nproc)}" --journal-size 1000 "$@" >"$work/ready" 2> >(cat >>"$work/fortisim.log") &
  fpid=$!
  pids+=("$fpid")
  for _ in $(seq 200); do [ -s "$work/ready" ] && break; sleep 0.05; done
  fport=$(sed -n 's/.*"listen":"127.0.0.1:\([0-9]*\)".*/\1/p' "$work/ready")
  fadmin=$(sed -n 's/.*"admin":"\(127.0.0.1:[0-9]*\)".*/\1/p' "$work/ready")
  [ -n "$fport" ] || { echo "fortisim did not start: $(tail -3 "$work/fortisim.log")" >&2; exit 1; }
}
stop_fortisim() { kill "$fpid"; wait "$fpid" 2>/dev/null || true; }

# start_nginx REPLY-FILE: nginx on $nport answering every request with that reply
start_nginx() {
  nport=$(free_port)
  reply=$(cat "$1")
  # shellcheck source=bench/nginx.sh
  . "$root/bench/nginx.sh"
  wait_port "$nport"
}

echo "wrk: $threads threads, $conns connections, ${seconds}s per run; $(nproc) cores; loopback, TLS 1.3, ECDSA P-256"
captured_reply=$reply

if want 1; then
  echo
  echo "Table 1: the captured licence import refused with error 14 (expired-license.json); idle: $idle_conns TLS connections after one request each"
  echo
  echo "| server | keep-alive req/s | vs nginx | p99 ms | CPU µs/req | errors | new-connection req/s | vs nginx | p99 ms | CPU µs/req | errors | RSS idle MiB | RSS peak MiB | RSS with $idle_conns idle TLS MiB |"
  echo "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
  if [ "$want_nginx" = 1 ]; then
    printf %s "$captured_reply" >"$work/captured-reply"
    start_nginx "$work/captured-reply"
    measure "nginx $(nginx -v 2>&1 | sed 's|.*/||')" "${pids[-1]}" "$nport"
    kill "${pids[-1]}"
  fi
  for mode in defaults quiet; do
    quiet=() && [ $mode = defaults ] || quiet=(--quiet)
    start_fortisim "$root/scenarios/expired-license.json" --admin off "${quiet[@]}"
    measure "fortisim $([ $mode = quiet ] && echo --quiet || echo "(defaults: every exchange logged)")" "$fpid" "$fport"
    stop_fortisim
  done
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
fi

# workload_row NAME PID PORT DIR: one keep-alive row of table 2 (the first of a workload is nginx's)
workload_row() {
  read -r _ rps p99 cpu errs <<<"$(load "$2" "$3" "$4/requests" 0)"
  [ -n "$wref" ] || wref=$rps
  echo "| $w | $1 | $rps | $(ratio "$rps" "$wref") | $p99 | $cpu | $errs |"
}

if want 2; then
  echo
  echo "Table 2: the answers users get most, keep-alive; nginx returns fortisim's reply to the same request"
  echo
  echo "| workload | server | req/s | vs nginx | p99 ms | CPU µs/req | errors |"
  echo "|---|---|--:|--:|--:|--:|--:|"
  for spec in reimport:default poll:default provision:provision-7.4.10 phone:provision-7.4.10; do
    w=${spec%%:*} wref=""
    for mode in defaults quiet; do
      quiet=() && [ $mode = defaults ] || quiet=(--quiet)
      start_fortisim "$root/scenarios/${spec#*:}.json" --admin off "${quiet[@]}"
      python3 "$root/bench/workload.py" "$w" "$fport" "$ca" "$work/$w-$mode"
      if [ $mode = defaults ] && [ "$want_nginx" = 1 ]; then
        start_nginx "$work/$w-$mode/reply"
        check "nginx" "$nport" "$work/$w-$mode/requests" "$work/$w-$mode/reply"
        workload_row "nginx" "${pids[-1]}" "$nport" "$work/$w-$mode"
        kill "${pids[-1]}"
      fi
      workload_row "fortisim $([ $mode = quiet ] && echo --quiet || echo defaults)" "$fpid" "$fport" "$work/$w-$mode"
      stop_fortisim
    done
  done
fi

# status_of ADMIN: the "state" object of GET /status, as "changes commits undone"
state_of() {
  curl -sS --max-time 5 --noproxy '*' "http://$1/status" |
    python3 -c 'import json,sys; s=json.load(sys.stdin)["state"]; print(s["changes"], s["commits"], s["undone"])'
}

if want 3; then
  disk=$build/bench-state
  rm -rf "$disk" && mkdir -p "$disk"
  flush="its own flush"
  if [ "$flush_ms" != 0 ]; then
    cc -shared -fPIC -O2 -o "$work/slow_flush.so" "$root/bench/slow_flush.c" -ldl
    preload=$work/slow_flush.so flush="each flush made to wait $flush_ms ms first (bench/slow_flush.c)"
    export BENCH_FLUSH_MS=$flush_ms
  fi
  echo
  echo "Table 3: durable writes; the state on $(df --output=source,fstype "$disk" | tail -1 | tr -s ' ') ($disk)," \
    "$flush; the mix is a re-import, a poll, the 7.4.10 provisioning and the phone, in turn"
  echo
  echo "| fortisim | workload | req/s | vs in memory | p99 ms | CPU µs/req | durable changes/s | changes per commit | vs SQLite's one-row transactions/s |"
  echo "|---|---|--:|--:|--:|--:|--:|--:|--:|"
  sqlite_tps=$(LD_PRELOAD=${preload:-} python3 - "$disk/sqlite-limit.db" <<'PY'
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("PRAGMA journal_mode=WAL")
db.execute("PRAGMA synchronous=FULL")
db.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)")
n, start = 0, time.perf_counter()
while time.perf_counter() - start < 3:
    db.execute("BEGIN IMMEDIATE")
    db.execute("INSERT OR REPLACE INTO t VALUES (?, ?)", (n % 100, "x" * 200))
    db.execute("COMMIT")
    n += 1
print(int(n / (time.perf_counter() - start)))
PY
)
  declare -A mem_ref=()
  # With --state a request waiting for its commit holds no worker (it waits on a thread of its
  # own), so even one worker makes groups of many changes: the last rows show it.
  for mode in "defaults" "defaults --state" "--quiet --state" "defaults --state, 1 worker"; do
    workers=$(nproc) && [[ $mode != *"1 worker" ]] || workers=1
    opts=(--admin 127.0.0.1:0)
    [[ $mode == --quiet* ]] && opts+=(--quiet)
    [[ $mode == *--state* ]] && opts+=(--state "$disk/state-${mode//[ ,]/_}.db")
    start_fortisim "$root/scenarios/provision-7.4.10.json" "${opts[@]}"
    dir=$work/mix-${mode//[ ,]/_}
    python3 "$root/bench/workload.py" mix "$fport" "$ca" "$dir"
    python3 "$root/bench/workload.py" first-import "$fport" "$ca" "$dir-first"
    for w in "the mix:$dir/requests" "provisioning:$dir/requests.provision" "first imports:$dir-first/requests"; do
      name=${w%%:*}
      [[ $mode == *--state* ]] && read -r c0 k0 _ <<<"$(state_of "$fadmin")"
      read -r _ rps p99 cpu _ <<<"$(load "$fpid" "$fport" "${w#*:}" 0)"
      [ -n "${mem_ref[$name]:-}" ] || mem_ref[$name]=$rps
      row="| $mode | $name | $rps | $(ratio "$rps" "${mem_ref[$name]}") | $p99 | $cpu"
      if [[ $mode == *--state* ]]; then
        read -r c1 k1 u1 <<<"$(state_of "$fadmin")"
        [ "$u1" = 0 ] || { echo "fortisim undid $u1 changes: a write failed" >&2; exit 1; }
        cps=$(( (c1 - c0) / seconds ))
        row+=" | $cps | $(awk "BEGIN{printf \"%.1f\", ($c1-$c0)/(($k1-$k0) > 0 ? ($k1-$k0) : 1)}") | $(ratio "$cps" "$sqlite_tps") |"
      else
        row+=" | – | – | – |"
      fi
      echo "$row"
    done
    stop_fortisim
  done
  workers=""
  echo
  echo "SQLite's own limit on this disk: $sqlite_tps one-row transactions/s (WAL, synchronous=FULL, one after another):" \
    "what one fsync per change allows at best"
  rm -rf "$disk"
  preload=""
fi

if want 4; then
  # Start-up: exec to the ready line, as a test fixture sees it.
  python3 - "$build/fortisim" "$root/scenarios/default.json" "$work/data" "$work/fresh" <<'PY'
import json, shutil, statistics, subprocess, sys, time
binary, scenario, data, fresh = sys.argv[1:]
def start(folder):
    t = time.perf_counter()
    p = subprocess.Popen([binary, "serve", "--listen", "127.0.0.1:0", "--scenario", scenario, "--data", folder,
                          "--threads", "1"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    json.loads(p.stdout.readline())
    ms = (time.perf_counter() - t) * 1000
    p.terminate()
    p.wait(timeout=10)
    return ms
print()
for name, folder, wipe in (("the data folder reused", data, False), ("a fresh data folder (a new lab CA)", fresh, True)):
    times = []
    for _ in range(21):
        if wipe:
            shutil.rmtree(folder, ignore_errors=True)
        times.append(start(folder))
    print(f"fortisim start to ready line, {name}: median {statistics.median(times):.1f} ms, max {max(times):.1f} ms (21 starts)")
PY
fi
