#!/usr/bin/env python3
"""Prepares one benchmark workload on a fortisim just started: the requests that set the world up
(a licence bound, a token provisioned), then the request (or round of requests) the load repeats,
once, to check that fortisim answers it as intended. Writes into OUT:

  requests   one line per request the load sends, in turn: "PATH FILE"
  requests.KIND   the same for one kind of request alone (the mix's provisioning, for one)
  body.N     each request's body
  reply      the first request's reply, which nginx then returns as a fixed string

Usage: workload.py NAME PORT CA OUT
Names (each with the scenario run.sh serves it from):
  refused     expired-license.json: the captured licence import, refused with error 14
  reimport    default.json: the captured import, a re-import (bound once first)
  poll        default.json: a PollingRequest of the licence's five tokens
  provision   provision-7.4.10.json: the captured ProvisionRequest (the reply is the capture's)
  phone       provision-7.4.10.json: the phone's MobileProvisionRequest with the captured code
  mix         provision-7.4.10.json: import, poll, provision and phone in turn
  first-import  provision-7.4.10.json: an import of a code never seen, five tokens made: one change
              a request (post.lua puts a new code where the body says @CODE@)
Loopback only; every call bounded."""
import base64
import http.client
import json
import os
import ssl
import sys

PROCESS = "/SoftToken/Provisioning.asmx/Process"
MOBILE = "/SoftToken/Provisioning.asmx/Mobile"
HA = [{"sn": "FG4H0ETB20900993"}, {"sn": "FG4H0E5819900260"}]
IMPORT = {"d": {"__type": "SoftToken.ActivationLicenseRequest", "__version": "4",
                "license_activation_code": "DA8C-0508-1F31-4CF7-C990", "serial_number": "FG4H0ETB20900993",
                "__device_version": "6.0", "__device_build": "6325", "__clustered_sns": HA}}
# FortiOS 7.4.10 b5309, as captured (docs/protocol.md §4.4).
PROVISION = {"d": {"__type": "SoftToken.ProvisionRequest", "__version": "4", "__device_version": "7.0",
                   "__device_build": "5309", "serial_number": "FGT40FHA25099UXR",
                   "__clustered_sns": [{"sn": "FGT40FHA25099UXR"}],
                   "tokens": [{"token": "FTKMOB5CA3C29179", "seed": "FC8CEE4B56D93C40D590ACBB958840AF2FE76117",
                               "code_expire": 4320, "type": "totp", "period": 60, "digits": 6}]}}


# The check's own code: the load's codes begin with wrk's thread number, never FFFF.
CHECK_CODE = b"FFFF-FFFF-FFFF-FFFF-BEEF"


def compact(message):
    return json.dumps(message, separators=(",", ":")).encode()


def post(port, ca, path, body):
    context = ssl.create_default_context(cafile=ca)
    conn = http.client.HTTPSConnection("localhost", port, context=context, timeout=10)
    try:
        conn.request("POST", path, body, {"Content-Type": "application/json; charset=utf-8"})
        reply = conn.getresponse()
        data = reply.read()
        if reply.status != 200:
            sys.exit("%s: HTTP %d: %s" % (path, reply.status, data[:300]))
        return data
    finally:
        conn.close()


def poll_of(tokens):
    """The HA pair's PollingRequest for the tokens an import gave."""
    return {"d": {"__type": "SoftToken.PollingRequest", "__version": "4", "serial_number": "FG4H0ETB20900993",
                  "__device_version": "6.0", "__device_build": "6325", "__clustered_sns": HA,
                  "tokens": [{"token": t["token"]} for t in tokens]}}


def phone_request(user_code):
    """The app's request for a user's activation code: its last 8 bytes as hex (docs/protocol.md §5)."""
    raw = base64.b32decode(user_code + "=" * (-len(user_code) % 8))
    return {"d": {"mobile_id": "0123456789abcdef", "__type": "SoftToken.MobileProvisionRequest",
                  "token_activation_code": raw[2:10].hex(), "registration_id": "bench-push-0001",
                  "__device_version": "4.9.9_IOS", "__device_build": "100", "__version": "5"}}


def success(name, reply):
    d = json.loads(reply)["d"]
    if name == "refused":
        return d["error"] is not None and d["error"]["error_code"] == 14
    if name == "provision":
        return d["result"] == 2 and d["tokens"][0]["token_activation_code"] == "EEIAI6ZLEYIRKOYV"
    if name == "first-import":
        return d["error"] is None and len(d["tokens"]) == 5
    if name == "poll":
        return d.get("error") is None and len(d["tokens"]) == 5 and all(t["license"] for t in d["tokens"])
    return d["error"] is None


def main():
    name, port, ca, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    requests = []  # (path, body, kind to check)
    if name in ("refused", "reimport"):
        if name == "reimport":
            post(port, ca, PROCESS, compact(IMPORT))  # the first import binds; the load re-imports
        requests.append((PROCESS, compact(IMPORT), name))
    elif name == "poll":
        tokens = json.loads(post(port, ca, PROCESS, compact(IMPORT)))["d"]["tokens"]
        requests.append((PROCESS, compact(poll_of(tokens)), "poll"))
    elif name in ("provision", "phone", "mix"):
        provisioned = json.loads(post(port, ca, PROCESS, compact(PROVISION)))["d"]["tokens"][0]
        phone = compact(phone_request(provisioned["token_activation_code"]))
        if name == "provision":
            requests.append((PROCESS, compact(PROVISION), "provision"))
        elif name == "phone":
            requests.append((MOBILE, phone, "phone"))
        else:
            tokens = json.loads(post(port, ca, PROCESS, compact(IMPORT)))["d"]["tokens"]
            requests += [(PROCESS, compact(IMPORT), "reimport"), (PROCESS, compact(poll_of(tokens)), "poll"),
                         (PROCESS, compact(PROVISION), "provision"), (MOBILE, phone, "phone")]
    elif name == "first-import":
        first = json.loads(json.dumps(IMPORT))
        first["d"]["license_activation_code"] = "@CODE@"
        requests.append((PROCESS, compact(first), name))
    else:
        sys.exit("unknown workload " + name)
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "requests"), "w") as listing:
        for i, (path, body, kind) in enumerate(requests):
            reply = post(port, ca, path, body.replace(b"@CODE@", CHECK_CODE))
            if not success(kind, reply):
                sys.exit("%s: fortisim did not answer as intended: %s" % (name, reply[:400]))
            if i == 0:
                with open(os.path.join(out, "reply"), "wb") as f:
                    f.write(reply)
            with open(os.path.join(out, "body.%d" % i), "wb") as f:
                f.write(body)
            listing.write("%s %s\n" % (path, os.path.join(out, "body.%d" % i)))
            with open(os.path.join(out, "requests." + kind), "w") as alone:
                alone.write("%s %s\n" % (path, os.path.join(out, "body.%d" % i)))


if __name__ == "__main__":
    main()
