#!/bin/sh
# Builds the container image with podman (no daemon) from the Debian package that
# scripts/package.sh makes into dist/ from build/, and checks the image as a lab
# runs it: it starts as the non-root user, becomes healthy, serves the captured licence import on
# 443 to curl and to `fortisim client` with the CA exported from its volume, answers DNS on 53,
# serves the scenario FORTISIM_SCENARIO names, keeps its CA across a restart, stops cleanly on
# `podman stop`, and is refused by the kernel under --cap-drop ALL as the README says.
#   sh scripts/container-test.sh        CI's "package" stage runs it with FORTISIM_REQUIRE_TOOLS=1
# Exits 0 when every check passed, 1 when one failed, and 77 (skipped) when no container engine
# can run here: podman is missing and cannot be installed, or it cannot start a container, or this
# is not root (the checks enter the container's network namespace). With FORTISIM_REQUIRE_TOOLS=1
# a skip is a failure.
# The base images are Docker Hub's debian:12 and debian:12-slim where a registry answers; where
# none does, one Debian 12 minbase made with debootstrap from this machine's Debian mirror
# (localhost/fortisim-base:bookworm, made once and kept) serves as both.
# The containers have no network but their own loopback (--network none): curl and dig run on
# this machine inside the container's network namespace (nsenter), so no host port is taken.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
dist=$root/dist
image=localhost/fortisim:container-test
name=fortisim-container-test-$$
volume=$name-data
work=$(mktemp -d "${TMPDIR:-/tmp}/fortisim-container-XXXXXX")
# podman with runc. Its complaint that it cannot hand a container's health check to systemd (none
# runs here; the checks below run it by hand) is left out of what it says.
pm() {
  pm_status=0
  podman --runtime runc "$@" 2>"$work/podman.err" || pm_status=$?
  grep -v 'unable to get systemd connection' "$work/podman.err" >&2 || true
  return "$pm_status"
}
run_image() { pm run --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 "$@"; }  # the limits these machines need
cleanup() {
  if command -v podman >/dev/null; then
    pm rm -f -t 0 "$name" "$name-scenario" >/dev/null 2>&1 || true
    pm volume rm -f "$volume" >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT  # dash runs the EXIT trap on exit alone: a signal must exit first
trap 'exit 143' TERM
say() { echo "container-test: $*" >&2; }
fail() {
  say "FAILED: $*"
  for c in "$name" "$name-scenario"; do
    podman logs "$c" 2>&1 | tail -n 20 | sed "s/^/  $c: /" >&2 || true
  done
  exit 1
}
skip() {
  [ "${FORTISIM_REQUIRE_TOOLS:-0}" = 1 ] && fail "$* (FORTISIM_REQUIRE_TOOLS=1: this check must run)"
  say "skipped: $*"
  exit 77
}

# The engine: podman with runc, debootstrap for the base image, as root.
[ "$(id -u)" -eq 0 ] || skip "not root: the checks enter the container's network namespace"
if ! command -v podman >/dev/null || ! command -v runc >/dev/null || ! command -v debootstrap >/dev/null; then
  say "installing podman, runc and debootstrap"
  export DEBIAN_FRONTEND=noninteractive
  if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends podman runc debootstrap uidmap >/dev/null; }; then
    skip "podman could not be installed"
  fi
fi
for tool in curl dig nsenter; do
  command -v $tool >/dev/null || skip "$tool is missing (scripts/install-deps.sh test brings it)"
done
pm info >/dev/null 2>&1 || skip "podman cannot run here: $(pm info 2>&1 | tail -n 1)"

# The image is built from Debian's mirror, reached directly as on CI's machine: this shell's proxy
# settings (a test run's may point nowhere) are not passed on, unless FORTISIM_CONTAINER_PROXY=1.
if [ "${FORTISIM_CONTAINER_PROXY:-0}" = 1 ]; then
  proxy=true
else
  proxy=false
  unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY
fi

# The package, made afresh from build/ (an old one in dist/ would be tested otherwise), then the
# base images.
sh "$root/scripts/package.sh" "$dist" >/dev/null
if timeout 120 podman pull -q docker.io/library/debian:12 >/dev/null 2>&1 &&
  timeout 120 podman pull -q docker.io/library/debian:12-slim >/dev/null 2>&1; then
  base=docker.io/library/debian:12 slim=docker.io/library/debian:12-slim
else
  base=localhost/fortisim-base:bookworm slim=$base
  if ! pm image exists "$base"; then
    mirror=$(awk '/^URIs:/ { print $2; exit } /^deb / { print $2; exit }' \
      /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list 2>/dev/null || true)
    say "no registry answers: making $base with debootstrap from ${mirror:=http://deb.debian.org/debian}"
    debootstrap --variant=minbase bookworm "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 ||
      { tail -n 20 "$work/debootstrap.log" >&2 && fail "debootstrap"; }
    tar -C "$work/rootfs" -c . | pm import -q - "$base" >/dev/null
    rm -rf "$work/rootfs"
  fi
fi

say "building $image from $(basename "$dist"/fortisim_*.deb) on $slim"
pm build -q --isolation=chroot --format docker --http-proxy="$proxy" --build-arg FORTISIM_DEB=given --build-arg BASE="$base" \
  --build-arg BASE_SLIM="$slim" -t "$image" "$root" >"$work/build.log" 2>&1 ||
  { tail -n 30 "$work/build.log" >&2 && fail "podman build"; }

# Helpers: run in the container's network namespace; wait until healthy (the image's own check,
# run by hand: podman schedules health checks through systemd, which a CI machine may not run).
start() {  # podman run arguments...: a container in the background
  run_image "$@" >/dev/null || fail "podman run $*"
}
in_net() {  # container, command...
  c=$1
  shift
  nsenter --net="/proc/$(pm inspect -f '{{.State.Pid}}' "$c")/ns/net" "$@"
}
wait_healthy() {  # container: at most 30 s
  tries=150
  until pm healthcheck run "$1" >/dev/null 2>&1; do
    [ "$(pm inspect -f '{{.State.Running}}' "$1")" = true ] || fail "$1 stopped before it was healthy"
    tries=$((tries - 1))
    [ "$tries" -gt 0 ] || fail "$1 not healthy within 30 s"
    sleep 0.2
  done
}
import='{"d":{"__type":"SoftToken.ActivationLicenseRequest","__version":"4","license_activation_code":"DA8C-0508-1F31-4CF7-C990","serial_number":"FG4H0ETB20900993","__device_version":"6.0","__device_build":"6325","__clustered_sns":[{"sn":"FG4H0ETB20900993"},{"sn":"FG4H0E5819900260"}]}}'
curl_import() {  # container, CA file: the captured import, the reply's body on stdout
  in_net "$1" curl -sS --noproxy '*' --max-time 10 --cacert "$2" \
    --resolve directregistration.fortinet.com:443:127.0.0.1 --data "$import" \
    https://directregistration.fortinet.com/SoftToken/Provisioning.asmx/Process
}

# 1. It starts as the non-root user and becomes healthy, with the DNS responder on 53.
start -d --name "$name" --network none -v "$volume:/data" "$image" --dns 0.0.0.0:53 --dns-answer 192.0.2.10
wait_healthy "$name"
# shellcheck disable=SC2016 # expanded in the container
user=$(pm exec "$name" sh -c 'id -un; awk "/^Uid:/ { print \$2 }" /proc/1/status; id -u')
[ "$(echo "$user" | sed -n 1p)" = fortisim ] || fail "runs as '$(echo "$user" | sed -n 1p)', not fortisim"
[ "$(echo "$user" | sed -n 2p)" = "$(echo "$user" | sed -n 3p)" ] || fail "PID 1 is not the fortisim user: $user"
[ "$(echo "$user" | sed -n 2p)" != 0 ] || fail "PID 1 runs as root"
say "ok: runs as fortisim (uid $(echo "$user" | sed -n 2p)) and is healthy"

# 2. The package on this clean root: its version is the binary's, its files are there.
# shellcheck disable=SC2016 # dpkg-query's format
version=$(pm exec "$name" dpkg-query -W -f '${Version}' fortisim)
[ "$(pm exec "$name" fortisim --version)" = "fortisim $version" ] || fail "package $version, binary $(pm exec "$name" fortisim --version)"
# What dpkg says the package holds (a slim image drops docs and man pages as they are unpacked),
# and those of its files that every image keeps.
listed=$(pm exec "$name" dpkg -L fortisim)
for file in /usr/bin/fortisim /usr/share/fortisim/scenarios/schema.json /usr/share/fortisim/python/pyproject.toml \
  /usr/share/bash-completion/completions/fortisim /usr/share/man/man1/fortisim.1.gz \
  /usr/share/doc/fortisim/copyright /usr/share/doc/fortisim/examples/pytest/test_licence_import.py; do
  echo "$listed" | grep -qx "$file" || fail "the package does not hold $file"
done
pm exec "$name" sh -c 'test -f /usr/share/bash-completion/completions/fortisim &&
  test -f /usr/share/fortisim/scenarios/default.json && test -f /usr/share/doc/fortisim/copyright' ||
  fail "the package's files are not where cmake/install.cmake puts them"
say "ok: the fortisim $version package installed on $slim with apt-get"

# 3. The captured import on 443: curl with the CA exported from the volume, and fortisim client.
run_image --rm --network none -v "$volume:/data" --entrypoint cat "$image" /data/ca.pem >"$work/ca.pem" ||
  fail "exporting the CA"
reply=$(curl_import "$name" "$work/ca.pem") || fail "curl: the import"
case $reply in *'"license":"EFTM'*'"error":null}}') ;; *) fail "the import's reply: $reply" ;; esac
pm exec "$name" fortisim client --server 127.0.0.1:443 --cacert /data/ca.pem --serial FG4H0ETB20900993 \
  --cluster FG4H0E5819900260 import DA8C-0508-1F31-4CF7-C990 >"$work/client.txt" 2>&1 || { cat "$work/client.txt" >&2 && fail "fortisim client import"; }
say "ok: the captured import on 443 (curl, then fortisim client as the same HA pair), trusted through the exported CA"

# 4. DNS on 53, UDP and TCP.
for transport in +notcp +tcp; do
  answer=$(in_net "$name" dig +short +time=5 +tries=1 $transport @127.0.0.1 -p 53 directregistration.fortinet.com A)
  [ "$answer" = 192.0.2.10 ] || fail "dig $transport: '$answer'"
done
say "ok: DNS on 53 (UDP and TCP)"

# 5. FORTISIM_SCENARIO: the expired licence's reply, byte for byte the KB article's error.
start -d --name "$name-scenario" --network none -v "$volume:/data" \
  -e FORTISIM_SCENARIO=/usr/share/fortisim/scenarios/expired-license.json "$image"
wait_healthy "$name-scenario"
reply=$(curl_import "$name-scenario" "$work/ca.pem") || fail "curl: the import"
case $reply in *'"error":{"error_code":14,"error_message":"forticare license expired"}'*) ;; *) fail "FORTISIM_SCENARIO: $reply" ;; esac
pm rm -f -t 10 "$name-scenario" >/dev/null
say "ok: FORTISIM_SCENARIO serves expired-license.json (error 14)"

# 6. The CA survives a restart on the volume: the same file, and the new run's chain verifies with it.
before=$(sha256sum <"$work/ca.pem")
pm restart -t 20 "$name" >/dev/null || fail "podman restart"
wait_healthy "$name"
after=$(pm exec "$name" cat /data/ca.pem | sha256sum)
[ "$before" = "$after" ] || fail "the CA changed across a restart"
curl_import "$name" "$work/ca.pem" >/dev/null || fail "the restarted container's chain does not verify with the kept CA"
say "ok: the CA kept across a restart"

# 7. A clean stop: SIGTERM, then exit 0 well within the grace time (a kill would be 137).
pm stop -t 20 "$name" >/dev/null || fail "podman stop"
code=$(pm inspect -f '{{.State.ExitCode}}' "$name")
[ "$code" = 0 ] || fail "stopped with exit code $code"
say "ok: podman stop: exit 0"

# 8. The capability note: --cap-drop ALL makes the kernel refuse the +ep binary (exit 126);
#    with NET_BIND_SERVICE added back it runs.
status=0
run_image --rm --network none --cap-drop ALL "$image" --version >"$work/capdrop.txt" 2>&1 || status=$?
if [ "$status" != 126 ] || ! grep -q 'Operation not permitted' "$work/capdrop.txt"; then
  fail "--cap-drop ALL: exit $status: $(cat "$work/capdrop.txt")"
fi
run_image --rm --network none --cap-drop ALL --cap-add NET_BIND_SERVICE "$image" --version >/dev/null ||
  fail "--cap-drop ALL --cap-add NET_BIND_SERVICE"
say "ok: --cap-drop ALL is refused (exit 126), --cap-add NET_BIND_SERVICE runs"
say "passed"
