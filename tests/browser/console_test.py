"""The web console in a real browser: headless Chromium against a running fortisim on port 0.

    python3 console_test.py FORTISIM_BINARY SOURCE_DIR SCREENSHOT.png

Asserts what a lab engineer sees: the page loads with no console error; a licence import made by
curl over TLS appears in the live table within a second; the rule form arms a rule that the next
import meets, and "disarm" deletes it; a reset that shrinks the world under page 2 brings back page 1; a bad reload shows its problems; a click on "refuse 5 s" makes the next connection fail with
ECONNREFUSED; with --admin-token, a link carrying the token opens a working console. Writes a
screenshot. Exits 77 (skipped) without Chromium, unless FORTISIM_REQUIRE_TOOLS (CI: every check
whose tool is missing fails) or its older name for this test, FORTISIM_REQUIRE_BROWSER, is set to
anything but "" or "0", when that is a failure.
"""

import base64
import json
import os
import select
import shutil
import socket
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


def connect_refused(listen):
    """Whether a new connection to `listen` gets ECONNREFUSED."""
    host, port = listen.rsplit(":", 1)
    try:
        socket.create_connection((host, int(port)), timeout=5).close()
        return False
    except ConnectionRefusedError:
        return True


def open_console(browser, url):
    """Loads the console and waits, bounded, until its feed is live and it has read the world."""
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

    # The spoiled reload is meant to get 422, which Chromium logs as a failed load: that one only.
    errors = [e for e in console_errors(browser.events) if not ("status of 422" in e and e.endswith("/reload"))]
    assert not errors, "the page reported errors: %s" % errors


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
            procs.append(start_fortisim(binary, scenario, tmp))
            browser = cdp.Browser(chromium, os.path.join(tmp, "profile"))
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
