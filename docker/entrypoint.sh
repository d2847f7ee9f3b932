#!/bin/sh
# The image's entry point: `fortisim serve` with the image's paths and the ready file its health
# check reads. The control API listens on 0.0.0.0:8080 only with a token (FORTISIM_ADMIN_TOKEN,
# e.g. from an env file); without one it stays on the container's loopback, where
# `docker exec CONTAINER fortisim-control GET /status` reaches it.
#   docker run fortisim                          serve default.json on 443
#   docker run fortisim --dns 0.0.0.0:53 --dns-answer 192.0.2.10    more options for serve
#   docker run fortisim lab-config --address 192.0.2.10 --no-upstream   any other subcommand
# FORTISIM_SCENARIO and FORTISIM_LISTEN change the scenario file and the HTTPS address.
set -eu
case "${1:-}" in
  validate | certs | lab-config | client | help | -h | --help | --version) exec fortisim "$@" ;;
  serve) shift ;;
esac
ready=${FORTISIM_READY_FILE:-/tmp/ready.json}
rm -f "$ready"  # a restarted container's old ready line says nothing about this run
if [ -n "${FORTISIM_ADMIN_TOKEN:-}" ]; then
  set -- --admin 0.0.0.0:8080 --admin-token "$FORTISIM_ADMIN_TOKEN" "$@"
else
  echo "fortisim: FORTISIM_ADMIN_TOKEN is not set: the control API stays on the container's loopback" \
    "(127.0.0.1:8080; docker exec CONTAINER fortisim-control GET /status)" >&2
  set -- --admin 127.0.0.1:8080 "$@"
fi
exec fortisim serve --listen "${FORTISIM_LISTEN:-0.0.0.0:443}" --data "${FORTISIM_DATA:-/data}" \
  --scenario "${FORTISIM_SCENARIO:-/usr/share/fortisim/scenarios/default.json}" --ready-file "$ready" "$@"
