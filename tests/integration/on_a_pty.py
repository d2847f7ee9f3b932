"""Runs a command on a pty until its ready line and its DNS responder's start-up event are both on
the terminal, stops it with SIGTERM, and prints what the terminal got, then "exit status N".

Used by log_test.cpp ("stderr a terminal"). Every wait is bounded: the start at 20 s (a sanitizer
build on a busy machine starts slowly), the stop at 30 s. The terminal is read until the command
exits (a process writing to a terminal nobody reads would wait forever). If it has not exited 30 s
after SIGTERM, the script prints "did not exit" and each thread's state (what it waits in, its
pending, blocked and caught signals), then kills its session, so a failure shows what happened.
Named on_a_pty, not tty: that would shadow the tty module pty imports.
"""
import os
import pty
import select
import signal
import sys
import time

pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
try:
    exited = os.pidfd_open(pid)
except OSError as e:  # a kernel or seccomp without pidfd_open: say so, leave nothing running
    os.killpg(pid, signal.SIGKILL)
    sys.exit(f"on_a_pty.py: pidfd_open: {e}")
seen, terminal = b"", [fd]


def read_until(seconds, enough):
    """Reads the terminal until enough(), or the command has exited and the terminal has nothing
    more to read (then True), or `seconds` pass."""
    global seen, terminal
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not enough():
        ready = select.select(terminal + [exited], [], [], 0.5)[0]
        if fd in ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                chunk = b""
            seen += chunk
            if not chunk:
                terminal = []  # closed: every writer has gone
        if exited in ready and fd not in ready:
            return True
    return False


def read(path):
    """A /proc file's text, or why it could not be read (ptrace limits in a container)."""
    try:
        with open(path) as f:
            return f.read()
    except OSError as e:
        return f"({e.strerror})"


def threads():
    """Each thread of the command: its name, state, signal masks, and what it waits in."""
    out = ""
    keep = ("Name", "State", "SigPnd", "ShdPnd", "SigBlk", "SigIgn", "SigCgt")
    for t in sorted(os.listdir(f"/proc/{pid}/task")):
        d = f"/proc/{pid}/task/{t}/"
        status = [line for line in read(d + "status").splitlines() if line.split(":")[0] in keep]
        out += f"  {t}: {'; '.join(status)}; wchan {read(d + 'wchan')}; syscall {read(d + 'syscall').strip()}\n"
    return out


read_until(20, lambda: b'"ready"' in seen and b" dns " in seen)
os.kill(pid, signal.SIGTERM)
if read_until(30, lambda: False):
    read_until(2, lambda: not terminal)  # what it wrote last
    verdict = f"\nexit status {os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])}"
else:
    verdict = "\nfortisim did not exit within 30 s of SIGTERM; its threads:\n" + threads()
    os.killpg(pid, signal.SIGKILL)  # its whole session
    os.waitpid(pid, 0)
sys.stdout.write(seen.decode(errors="replace") + verdict)
