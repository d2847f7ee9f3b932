#!/usr/bin/env python3
"""Opens N TLS connections to a server, sends each one keep-alive request and reads its reply,
then prints the server process tree's resident memory (MiB) while they are all open and idle.
Usage: idle.py PID PORT CA BODY [N]"""
import socket
import ssl
import subprocess
import sys

pid, port, ca, body_file = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
count = int(sys.argv[5]) if len(sys.argv) > 5 else 1000


def tree_rss_kib():
    pids = [pid] + [int(p) for p in subprocess.run(["pgrep", "-P", str(pid)], capture_output=True,
                                                    text=True).stdout.split()]
    total = 0
    for p in pids:
        with open(f"/proc/{p}/status") as f:
            total += next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
    return total


def complete(reply):
    head, sep, rest = reply.partition(b"\r\n\r\n")
    if not sep:
        return False
    fields = {k.strip().lower(): v.strip() for k, _, v in (line.partition(b":") for line in head.split(b"\r\n")[1:])}
    if b"content-length" in fields:
        return len(rest) >= int(fields[b"content-length"])
    if fields.get(b"transfer-encoding", b"").lower() == b"chunked":  # mountebank's replies
        return rest.endswith(b"0\r\n\r\n")
    return True


body = open(body_file, "rb").read()
request = (b"POST /SoftToken/Provisioning.asmx/Process HTTP/1.1\r\nHost: localhost\r\n"
           b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)) + body
ctx = ssl.create_default_context(cafile=ca)
before = tree_rss_kib()
conns = []
for _ in range(count):
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10), server_hostname="localhost")
    s.sendall(request)
    reply = b""
    while not complete(reply):
        chunk = s.recv(65536)
        if not chunk:
            sys.exit("the server closed a keep-alive connection")
        reply += chunk
    conns.append(s)
during = tree_rss_kib()
for s in conns:
    s.close()
print(f"{before / 1024:.0f} {during / 1024:.0f}")
