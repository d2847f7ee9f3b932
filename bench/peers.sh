# Sourced by run.sh with BENCH_PEERS=1: the same load against mountebank and WireMock, the mock
# servers users compare fortisim with. Installs them from npm into bench/.deps (git-ignored) and
# Java and jq from Debian when missing; each answers every POST with $reply.
deps=$root/bench/.deps
peer_pkgs=(mountebank@2.9.1 wiremock@3.13.2)
missing=()
for c in node:nodejs npm:npm java:openjdk-17-jre-headless jq:jq; do command -v "${c%%:*}" >/dev/null || missing+=("${c#*:}"); done
[ ${#missing[@]} -eq 0 ] || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }
if [ ! -x "$deps/node_modules/.bin/mb" ] || ! ls "$deps"/node_modules/wiremock/build/wiremock-standalone-*.jar >/dev/null 2>&1; then
  mkdir -p "$deps"
  [ -f "$deps/package.json" ] || echo '{"name":"fortisim-bench-peers","private":true}' >"$deps/package.json"
  (cd "$deps" && timeout 900 npm install --no-audit --no-fund --loglevel=error "${peer_pkgs[@]}")
fi
printf %s "$reply" >"$work/reply.json"

# mountebank: one https imposter; "Connection: close" requests get close, the others keep-alive.
mport=$(free_port)
mkdir -p "$work/mb"
jq -n --rawfile body "$work/reply.json" --rawfile cert "$cert" --rawfile key "$key" --argjson port "$mport" '
  def reply(conn): { is: { statusCode: 200, headers: { "Content-Type": "application/json", "Connection": conn }, body: $body } };
  { imposters: [ { protocol: "https", port: $port, host: "127.0.0.1", key: $key, cert: $cert, recordRequests: false,
      stubs: [ { predicates: [ { equals: { headers: { "Connection": "close" } } } ], responses: [ reply("close") ] },
               { responses: [ reply("keep-alive") ] } ] } ] }' >"$work/mb/imposters.json"
(cd "$work/mb" && exec node "$(readlink -f "$deps/node_modules/.bin/mb")" start --configfile imposters.json --noParse \
  --port "$(free_port)" --host 127.0.0.1 --localOnly --nologfile --loglevel warn --pidfile mb.pid) >/dev/null 2>&1 &
pids+=($!)
wait_port "$mport"
measure "mountebank $(jq -r .version "$deps/node_modules/mountebank/package.json")" "${pids[-1]}" "$mport"
kill "${pids[-1]}"

# WireMock: the standalone jar, HTTPS only, request journal and logging off, Content-Length replies.
wport=$(free_port)
mkdir -p "$work/wm/mappings" "$work/wm/__files"
openssl pkcs12 -export -in "$cert" -inkey "$key" -name bench -out "$work/wm/keystore.p12" -passout pass:benchpass
jq -n --rawfile body "$work/reply.json" '{ request: { method: "POST", urlPattern: "/.*" },
  response: { status: 200, headers: { "Content-Type": "application/json" }, body: $body } }' >"$work/wm/mappings/import.json"
java -jar "$(ls "$deps"/node_modules/wiremock/build/wiremock-standalone-*.jar | head -n1)" --root-dir "$work/wm" \
  --bind-address 127.0.0.1 --disable-http --https-port "$wport" --https-keystore "$work/wm/keystore.p12" \
  --keystore-type PKCS12 --keystore-password benchpass --key-manager-password benchpass \
  --use-chunked-encoding never --no-request-journal --disable-request-logging --disable-banner >/dev/null 2>&1 &
pids+=($!)
wait_port "$wport"
measure "WireMock $(jq -r .version "$deps/node_modules/wiremock/package.json")" "${pids[-1]}" "$wport"
kill "${pids[-1]}"
