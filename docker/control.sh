#!/bin/bash
# fortisim-control: calls the control API of the fortisim in this container, with bash alone (the
# image has no curl). FORTISIM_CONTROL is where (127.0.0.1:8080); FORTISIM_ADMIN_TOKEN, when set,
# goes along as its bearer token.
#   docker exec CONTAINER fortisim-control GET /status
#   docker exec CONTAINER fortisim-control POST /clock '{"advance_s": 3600}'
#   fortisim-control --health     the image's health check: fortisim wrote its ready line, and its
#                                 control API answers GET /health
# Prints the reply's body; exits 0 on a 2xx status, 1 on any other, 2 when nothing answered.
set -eu
if [ "${1:-}" = "--health" ]; then
  test -s "${FORTISIM_READY_FILE:-/tmp/ready.json}" || { echo "fortisim-control: not ready yet" >&2 && exit 1; }
  set -- GET /health
fi
if [ $# -lt 2 ]; then
  echo "usage: fortisim-control METHOD PATH [JSON-BODY] | --health" >&2
  exit 2
fi
method=$1 path=$2 body=${3:-}
where=${FORTISIM_CONTROL:-127.0.0.1:8080}
host=${where%:*} host=${host#[} host=${host%]}
if ! exec 3<>"/dev/tcp/$host/${where##*:}"; then
  echo "fortisim-control: nothing answers on $where" >&2
  exit 2
fi
{
  printf '%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n' "$method" "$path" "$where"
  [ -z "${FORTISIM_ADMIN_TOKEN:-}" ] || printf 'Authorization: Bearer %s\r\n' "$FORTISIM_ADMIN_TOKEN"
  [ -z "$body" ] || printf 'Content-Type: application/json\r\nContent-Length: %d\r\n' "$(printf %s "$body" | wc -c)"
  printf '\r\n%s' "$body"
} >&3
reply=$(timeout 10 cat <&3) || true
exec 3<&-
status=${reply#HTTP/1.? } status=${status:0:3}
printf '%s\n' "${reply#*$'\r\n\r\n'}"
case $status in
  2??) exit 0 ;;
  '') echo "fortisim-control: no reply from $where within 10 s" >&2 && exit 2 ;;
  *) echo "fortisim-control: HTTP $status" >&2 && exit 1 ;;
esac
