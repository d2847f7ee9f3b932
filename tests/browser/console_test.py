"""The web console in a real browser: headless Chromium against a running fortisim on port 0.

    python3 console_test.py FORTISIM_BINARY SOURCE_DIR SCREENSHOT.png

Asserts what a lab engineer sees, at 1280 px wide: the page loads with no console error; a licence
import made by curl over TLS appears in the live table within a second; rows are coloured by
outcome (answer, fault, error; a DNS answer is an answer), the phone's row names its token and
phone, the why column is within the viewport with its whole text as tooltip, a pending token shows
its activation code, expiry and QR image, the header shows the addresses and the CA fingerprint of
GET /status; the rule form arms a rule that the next
import meets, and "disarm" deletes it; a reset that shrinks the world under page 2 brings back page 1; a bad reload shows its problems; a click on "refuse 5 s" makes the next connection fail with
ECONNREFUSED; with --admin-token, a link carrying the token opens a working console. Writes a
screenshot. Exits 77 (skipped) without Chromium, unless FORTISIM_REQUIRE_TOOLS (CI: every check
whose tool is missing fails) or its older name for this test, FORTISIM_REQUIRE_BROWSER, is set to
anything but "" or "0", when that is a failure.
"""

import base64
import json
import os
import re
import select
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cdp  # noqa: E402

SKIPPED = 77
IMPORT = ('{"d":{"__type":"SoftToken.ActivationLicenseRequest","__version":"4",'
          '"license_activation_code":"DA8C-0508-1F31-4CF7-C990","serial_number":"FG4H0ETB20900993",'
          '"__device_version":"6.0","__device_build":"6325"}}')

# Resolves when `cond` (a function of no arguments) holds, as the page's DOM changes; rejects after
# `ms`. No polling: a MutationObserver wakes it.
WAIT_FOR = """
window.waitFor = (cond, ms, what) => new Promise((resolve, reject) => {
  if (cond()) return resolve(true);
  const observer = new MutationObserver(() => { if (cond()) { observer.disconnect(); clearTimeout(t); resolve(true); } });
  const t = setTimeout(() => { observer.disconnect(); reject(new Error('not within ' + ms + ' ms: ' + what)); }, ms);
  observer.observe(document.body, {subtree: true, childList: true, characterData: true, attributes: true});
});
"""


def start_fortisim(binary, scenario, data, *extra):
    """fortisim on 127.0.0.1:0 with its control API on 127.0.0.1:0; its ready line."""
    proc = subprocess.Popen(
        [binary, "serve", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--threads", "2",
         "--scenario", scenario, "--data", data, *extra],
        stdout=subprocess.PIPE, stderr=open(os.path.join(data, "stderr.log"), "ab"))
    ready, _, _ = select.select([proc.stdout], [], [], 30)
    if not ready:
        proc.kill()
        raise SystemExit("FAIL: fortisim printed no ready line within 30 s")
    return proc, json.loads(proc.stdout.readline())


def console_errors(events):
    """Every console error, uncaught exception and failed load the page reported."""
    errors = []
    for e in events:
        p = e.get("params", {})
        if e["method"] == "Runtime.exceptionThrown":
            errors.append(p["exceptionDetails"].get("exception", {}).get("description", p["exceptionDetails"]["text"]))
        elif e["method"] == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            errors.append(" ".join(str(a.get("value", a.get("description"))) for a in p.get("args", [])))
        elif e["method"] == "Log.entryAdded" and p["entry"]["level"] == "error":
            errors.append(p["entry"]["text"] + " " + p["entry"].get("url", ""))
    return errors


def import_licence(ready, serial="FG4H0ETB20900993", code="DA8C-0508-1F31-4CF7-C990"):
    """The FortiGate's licence import, by curl over TLS to the listener: the reply's "d"."""
    host, port = ready["listen"].rsplit(":", 1)
    name = "directregistration.fortinet.com"
    out = subprocess.run(
        ["curl", "-sS", "--noproxy", "*", "--max-time", "10", "--cacert", ready["ca"], "--resolve", "%s:%s:%s" % (name, port, host),
         "-H", "Content-Type: application/json", "--data",
         IMPORT.replace("FG4H0ETB20900993", serial).replace("DA8C-0508-1F31-4CF7-C990", code),
         "https://%s:%s/SoftToken/Provisioning.asmx/Process" % (name, port)],
        capture_output=True, timeout=20, check=True)
    return json.loads(out.stdout)["d"]


def control(ready, method, path, body=None):
    """A control-API call on loopback (never through a proxy): its JSON answer."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request("http://%s%s" % (ready["admin"], path), data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with direct.open(request, timeout=10) as reply:
        return json.loads(reply.read())


def phone_activates(ready, hex_code, mobile_id):
    """The FortiToken Mobile app's MobileProvisionRequest, by curl over TLS: the reply's "d"."""
    host, port = ready["listen"].rsplit(":", 1)
    name = "globalftm.fortinet.net"
    body = json.dumps({"d": {"mobile_id": mobile_id, "__type": "SoftToken.MobileProvisionRequest",
                             "token_activation_code": hex_code}})
    out = subprocess.run(
        ["curl", "-sS", "--noproxy", "*", "--max-time", "10", "--cacert", ready["ca"], "--resolve",
         "%s:%s:%s" % (name, port, host), "-H", "Content-Type: application/json", "--data", body,
         "https://%s:%s/SoftToken/Provisioning.asmx/Mobile" % (name, port)],
        capture_output=True, timeout=20, check=True)
    return json.loads(out.stdout)["d"]


def dns_answer(address, name):
    """An A query over UDP to fortisim's DNS responder; asserts a NOERROR answer with a record."""
    host, port = address.rsplit(":", 1)
    labels = b"".join(bytes([len(p)]) + p.encode() for p in name.split("."))
    query = struct.pack(">HHHHHH", 0x4C41, 0x0100, 1, 0, 0, 0) + labels + b"\0" + struct.pack(">HH", 1, 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(5)
        s.sendto(query, (host, int(port)))
        reply = s.recv(4096)
    assert reply[:2] == query[:2] and reply[3] & 0x0F == 0 and struct.unpack(">H", reply[6:8])[0] >= 1, reply


def connect_refused(listen):
    """Whether a new connection to `listen` gets ECONNREFUSED."""
    host, port = listen.rsplit(":", 1)
    try:
        socket.create_connection((host, int(port)), timeout=5).close()
        return False
    except ConnectionRefusedError:
        return True


def open_console(browser, url):
    """Loads the console, 1280 px wide, and waits, bounded, until its feed is live and it has read
    the world."""
    browser.call("Emulation.setDeviceMetricsOverride", {"width": 1280, "height": 1000, "deviceScaleFactor": 1,
                                                         "mobile": False})
    browser.call("Page.navigate", {"url": url}, timeout=30)
    browser.wait_event("Page.loadEventFired", timeout=30)
    browser.evaluate(WAIT_FOR)
    browser.evaluate("waitFor(() => document.getElementById('feed').textContent === 'live', 10000, 'the feed is live')",
                     timeout=15)
    browser.evaluate("waitFor(() => document.getElementById('scenario').textContent.startsWith('scenario default'),"
                     " 10000, 'the world')", timeout=15)


def import_shows_within_a_second(browser, ready):
    reply = import_licence(ready)
    assert reply["license"].startswith("EFTM"), reply
    started = time.monotonic()
    browser.evaluate("""waitFor(() => [...document.querySelectorAll('#exchanges tbody tr')].some(r =>
        r.cells[4].textContent === 'activation_license' && r.cells[5].textContent === 'FG4H0ETB20900993'),
        1000, 'the import in the live table')""", timeout=5)
    print("the import appeared in the live table %.0f ms after curl returned" % ((time.monotonic() - started) * 1000))


# The row whose `cells[col]` text satisfies the JavaScript test `test` (a function of the text).
ROW = "[...document.querySelectorAll('#exchanges tbody tr[data-seq]')].find(r => (%s)(r.cells[%d].textContent))"


def row_class(browser, test, col, what):
    """The class of the first exchange row that `test` picks, once it is there (bounded)."""
    row = ROW % (test, col)
    browser.evaluate("waitFor(() => %s, 5000, %s)" % (row, json.dumps(what)), timeout=10)
    return browser.evaluate("%s.className" % row)


def rows_coloured_by_outcome(browser, ready):
    """An answer, a fault (the scenario's rule for codes ending -0014), an error (a code the phone
    sends that names no token: 40), and a DNS answer, each coloured as what came of it."""
    assert import_licence(ready, "FG100F0000000014", "AB00-0000-0000-0000-0014")["error"]["error_code"] == 14
    assert phone_activates(ready, "00000000000000ff", "fedcba9876543210")["error"]["error_code"] == 40
    dns_answer(ready["dns"], "directregistration.fortinet.com")
    cases = [("t => t === 'FG4H0ETB20900993'", 5, "outcome-answer", "the import"),
             ("t => t === 'FG100F0000000014'", 5, "outcome-fault", "the import the rule refused"),
             ("t => t.includes('fedcba9876543210')", 5, "outcome-error", "the phone's refused code"),
             ("t => t === 'dns'", 4, "outcome-answer", "the DNS answer")]
    for test, col, expected, what in cases:
        got = row_class(browser, test, col, what)
        assert got == expected, "%s: class %r, expected %r" % (what, got, expected)
    legend = browser.evaluate("document.querySelector('.legend').textContent")
    assert all(word in legend for word in ("answer", "fault", "error")), legend
    print("rows are coloured by outcome: answer, fault, error; a DNS answer is an answer")


def pending_token_shows_code_expiry_qr(browser, ready):
    """A token provisioned (POST /tokens) and waiting for its phone: its code, its expiry, its QR
    image loaded. Returns what POST /tokens answered."""
    made = control(ready, "POST", "/tokens", {})
    until = "until " + time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(made["expire"]))
    row = "[...document.querySelectorAll('#tokens tbody tr')].find(r => r.cells[0].textContent === %s)" % json.dumps(
        made["token"])
    browser.evaluate("waitFor(() => %s && %s.querySelector('img.qr[src^=\"data:image/png\"]'), 5000,"
                     " 'the pending token with its QR')" % (row, row), timeout=10)
    text = browser.evaluate("%s.cells[2].textContent" % row)
    assert text.startswith(made["activation_code"]) and until in text, (text, made)
    width = browser.evaluate("""(async () => { const img = %s.querySelector('img.qr');
        await Promise.race([img.decode(), new Promise((_, no) => setTimeout(() => no(new Error('no QR decoded')), 5000))]);
        return img.naturalWidth; })()""" % row, timeout=10)
    assert width > 0, width
    print("the pending token shows %r and a QR image %d px wide" % (text, width))
    return made


def phone_row_names_token_and_phone(browser, ready):
    """The phone's row shows the token it activated and the phone, not the hex code it sent. (The
    token's QR is loaded first: a QR asked for after the phone used the code is a 404.)"""
    made = pending_token_shows_code_expiry_qr(browser, ready)
    reply = phone_activates(ready, made["token_activation_code"], "0123456789abcdef")
    assert reply["token"] == made["token"], reply
    row = ROW % ("t => t.startsWith(%s)" % json.dumps(made["token"]), 5)
    browser.evaluate("waitFor(() => %s, 5000, 'the phone row')" % row, timeout=10)
    text = browser.evaluate("%s.cells[5].textContent" % row)
    assert "phone 0123456789abcdef" in text and made["token_activation_code"] not in text, text
    assert browser.evaluate("%s.cells[4].textContent" % row) == "mobile_provision"
    print("the phone's row reads %r" % text)


def header_shows_addresses_and_ca(browser, ready):
    """The HTTPS and DNS addresses and the lab CA's fingerprint as GET /status gives them, with the
    CA's PEM behind the download link."""
    status = control(ready, "GET", "/status")
    assert status["addresses"]["https"] == ready["listen"] and status["addresses"]["dns"] == ready["dns"], status
    assert status["ca"]["sha256"] == ready["ca_sha256"], status
    browser.evaluate("waitFor(() => document.getElementById('ca-download').href.startsWith('data:'), 5000,"
                     " 'the CA download link')", timeout=10)
    shown = browser.evaluate("""(() => ({https: document.getElementById('https').textContent,
        dns: document.getElementById('dns').textContent, sha: document.getElementById('ca-sha256').dataset.sha256,
        title: document.getElementById('ca-sha256').title, href: document.getElementById('ca-download').href}))()""")
    assert shown["https"] == "HTTPS " + status["addresses"]["https"], shown
    assert shown["dns"] == "DNS " + status["addresses"]["dns"], shown
    assert shown["sha"] == status["ca"]["sha256"] and status["ca"]["sha256"] in shown["title"], shown
    with open(ready["ca"]) as f:
        assert base64.b64decode(shown["href"].split(",", 1)[1]).decode() == f.read(), "the CA link is not the lab CA"
    print("the header shows %s, %s and the CA %s" % (shown["https"], shown["dns"], shown["sha"][:23]))


def why_column_in_view(browser):
    """At 1280 px the why column is within the viewport, nothing scrolls sideways, and a cut reason
    is whole in its tooltip."""
    seen = browser.evaluate("""(() => {
        const td = [...document.querySelectorAll('#exchanges tbody tr[data-seq] td.why')].find(c => c.textContent);
        const r = td.getBoundingClientRect(), section = document.getElementById('exchanges-section');
        return {left: r.left, right: r.right, width: r.width, viewport: innerWidth, title: td.title,
                text: td.textContent, sideways: section.scrollWidth - section.clientWidth}; })()""")
    assert seen["viewport"] == 1280, seen
    assert seen["width"] >= 100 and seen["right"] <= seen["viewport"] and seen["sideways"] <= 0, seen
    assert seen["title"] == seen["text"], seen
    print("the why column is %d px wide, its right edge at %d of %d px" % (seen["width"], seen["right"], seen["viewport"]))


def arm_and_disarm_a_rule(browser, ready):
    """The rule form arms a runtime rule (POST /rules) that the next import meets; "disarm" deletes it."""
    browser.evaluate("""(() => {
        document.getElementById('rule-name').value = 'lab unit expired';
        document.getElementById('rule-op').value = 'activation_license';
        document.getElementById('rule-key').value = 'serial_number';
        document.getElementById('rule-value').value = 'FG100F0000000001';
        document.getElementById('rule-then').value = '{"action": "error", "code": 14}'; })()""")
    browser.click("#rule-form button")
    browser.evaluate("waitFor(() => document.getElementById('message').textContent.startsWith('arm lab unit expired: done')"
                     " && document.getElementById('rules').textContent.includes('lab unit expired (runtime'), 5000,"
                     " 'the rule armed')")
    # The control action is in the timeline too, between the exchanges.
    browser.evaluate("""waitFor(() => [...document.querySelectorAll('#exchanges tbody tr.notice')].some(r =>
        r.cells[4].textContent === 'control' && r.cells[5].textContent === 'add rule'),
        5000, 'the control action in the timeline')""", timeout=10)
    code = "1111-2222-3333-4444-5555"
    assert import_licence(ready, "FG100F0000000001", code)["error"]["error_code"] == 14
    browser.evaluate("""waitFor(() => [...document.querySelectorAll('#exchanges tbody tr')].some(r =>
        r.cells[5].textContent === 'FG100F0000000001' && r.cells[7].textContent.includes('lab unit expired')),
        1000, 'the rule in the live table')""", timeout=5)
    browser.click("#rules button")
    browser.evaluate("waitFor(() => !document.getElementById('rules').textContent.includes('lab unit expired'), 5000,"
                     " 'the rule disarmed')")
    reply = import_licence(ready, "FG100F0000000001", code)
    assert reply["license"].startswith("EFTM"), reply
    print("the rule form armed a rule that the next import met, and disarm deleted it")


def paging_survives_a_shrinking_world(browser, ready):
    """On the second page of a large world, a reset that shrinks it brings the console back to a page
    it fills (it used to stay on an empty page with no button to leave it)."""
    for i in range(41):  # 5 tokens each: over 200 tokens, two pages
        import_licence(ready, "FG100F%010d" % i, "AB00-0000-0000-0000-%04d" % (100 + i))
    browser.evaluate("waitFor(() => !document.getElementById('paging').hidden, 5000, 'the paging bar')", timeout=10)
    browser.click("#page-next")
    browser.evaluate("waitFor(() => document.getElementById('page-text').textContent.startsWith('records 201 to '),"
                     " 5000, 'the second page')", timeout=10)
    request = urllib.request.Request("http://%s/reset" % ready["admin"], data=b"{}", method="POST",
                                     headers={"Content-Type": "application/json"})
    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never a proxy
    with direct.open(request, timeout=10) as reply:
        assert reply.status == 200, reply.status
    import_licence(ready)
    browser.evaluate("waitFor(() => document.querySelector('#licences tbody').textContent.includes('FG4H0ETB20900993')"
                     " && document.getElementById('paging').hidden, 5000, 'the first page after the reset')", timeout=10)
    print("after a reset shrank the world under page 2, the console showed page 1")


def bad_reload_shows_its_problems(browser, scenario):
    """A click on "reload" with a spoiled scenario file shows the problems, and the scenario stays."""
    with open(scenario) as f:
        good = f.read()
    with open(scenario, "w") as f:
        f.write('{"name": "spoiled", "seed": "one"}')
    browser.click("#reload")
    browser.evaluate("waitFor(() => document.getElementById('message').textContent.startsWith('reload: ')"
                     " && document.getElementById('message').textContent.includes('$.seed'), 5000,"
                     " 'the problems of the reload')")
    with open(scenario, "w") as f:
        f.write(good)
    print("a bad reload showed: %s" % browser.evaluate("document.getElementById('message').textContent"))


def run(browser, ready, screenshot, scenario):
    for domain in ("Runtime.enable", "Log.enable", "Page.enable"):
        browser.call(domain)
    open_console(browser, "http://%s/" % ready["admin"])
    import_shows_within_a_second(browser, ready)

    browser.click("#exchanges tbody tr[data-seq]")  # an exchange, not a notice (a device first seen)
    browser.evaluate("waitFor(() => document.getElementById('detail-reply').textContent.includes('EFTM'), 2000,"
                     " 'the reply body in the detail')")
    browser.evaluate("waitFor(() => document.querySelector('#licences tbody').textContent.includes('FG4H0ETB20900993'),"
                     " 2000, 'the licence bound in the world')")
    rows_coloured_by_outcome(browser, ready)
    phone_row_names_token_and_phone(browser, ready)
    pending_token_shows_code_expiry_qr(browser, ready)
    header_shows_addresses_and_ca(browser, ready)
    why_column_in_view(browser)
    shot = browser.call("Page.captureScreenshot", {"format": "png"}, timeout=30)
    with open(screenshot, "wb") as f:
        f.write(base64.b64decode(shot["data"]))
    print("screenshot: %s" % screenshot)

    arm_and_disarm_a_rule(browser, ready)
    paging_survives_a_shrinking_world(browser, ready)
    bad_reload_shows_its_problems(browser, scenario)
    assert not connect_refused(ready["listen"]), "the listener refused before the click"
    browser.click("#refuse5")
    browser.evaluate("waitFor(() => document.getElementById('message').textContent.startsWith('refuse 5 s: done'),"
                     " 5000, 'the refusal confirmed')")
    assert connect_refused(ready["listen"]), "a connection after the click on 'refuse 5 s' was not refused"
    print("after the click, a new connection got ECONNREFUSED")

    # The spoiled reload is meant to get 422, which Chromium logs as a failed load; and a QR asked
    # for just before a reset (or the phone) took its token is a 404 the console answers with
    # "no QR code", if the token is indeed no longer pending. Those only.
    errors = [e for e in console_errors(browser.events)
              if not ("status of 422" in e and e.endswith("/reload")) and not qr_of_a_gone_token(ready, e)]
    assert not errors, "the page reported errors: %s" % errors


def qr_of_a_gone_token(ready, error):
    """Whether a console error is the 404 of GET /tokens/<serial>/qr for a token that is not
    pending now (absent, or activated)."""
    found = re.search(r"status of 404 .*/tokens/([A-Z0-9]+)/qr$", error)
    if not found:
        return False
    serial = found.group(1)
    world = control(ready, "GET", "/world")
    pending = [t for t in world["tokens"] if t["token"] == serial and t.get("activation_code")]
    print("a QR asked for while its token %s went away: 404, %s" % (serial, "yet it is pending" if pending else "gone"))
    return not pending


def run_with_token(browser, ready):
    """--admin-token: a link with the token opens the console, which then sends it with every call."""
    browser.events.clear()  # what the first console reported is judged already
    open_console(browser, "http://%s/#token=lab-t0ken" % ready["admin"])
    assert browser.evaluate("location.hash") == "", "the token stayed in the address bar"
    import_shows_within_a_second(browser, ready)
    errors = console_errors(browser.events)
    assert not errors, "the page reported errors: %s" % errors
    print("with --admin-token, the console works from a link that carries the token")


def required(variable):
    """Whether the environment variable asks for every tool (as tests/support/skip.hpp reads it)."""
    return os.environ.get(variable, "") not in ("", "0")


def main():
    binary, source, screenshot = sys.argv[1:4]
    chromium = cdp.find_chromium()
    if not chromium:
        why = "no Chromium found (install Debian's chromium package: sh scripts/install-deps.sh browser)"
        if required("FORTISIM_REQUIRE_TOOLS") or required("FORTISIM_REQUIRE_BROWSER"):  # CI: it must run
            print("FAIL: " + why)
            return 1
        print("SKIPPED: " + why)
        return SKIPPED
    with tempfile.TemporaryDirectory(prefix="fortisim-console-") as tmp:
        browser = None
        procs = []
        try:
            scenario = os.path.join(tmp, "lab.json")  # a copy, which the test spoils to reload it
            shutil.copyfile(os.path.join(source, "scenarios", "default.json"), scenario)
            procs.append(start_fortisim(binary, scenario, tmp, "--dns", "127.0.0.1:0"))
            browser = cdp.Browser(chromium, os.path.join(tmp, "profile"), width=1280)
            run(browser, procs[-1][1], screenshot, scenario)
            procs.append(start_fortisim(binary, scenario, tmp, "--admin-token", "lab-t0ken"))
            run_with_token(browser, procs[-1][1])
        finally:
            if browser:
                browser.close()
            for proc, _ in procs:
                proc.terminate()
                proc.wait(timeout=15)
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
