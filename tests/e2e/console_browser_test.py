#!/usr/bin/env python3
"""The operator console in a real browser (headless Chromium through Selenium).

Starts `certdeploy sandbox` and `certdeploy serve` on port 0, schedules two rollouts over the
REST API (one of them with a row whose certificate is for another address), then drives the
console at /ui/ as an operator would and checks:

  - the login (a wrong key is refused and stays out of the page), logout, and that a 401 brings
    the login back;
  - the rollouts table, and a rollout's page showing the failed row with its finding;
  - Pause and Resume buttons change the rollout's status as the API reports it;
  - a read-only key sees no Pause / Resume / Cancel buttons;
  - enrollments, certificates and throughput pages render (the charts are inline SVG);
  - the page fits a phone-width window;
  - no request leaves the daemon's origin, no CSP violation is reported, and neither API key
    appears in a request URL, the page text or the daemon's log.

Screenshots of every page go to --out (under the build tree; CI keeps them on failure).

  console_browser_test.py --binary build/certdeploy --pki build/test-pki --out build/console-ui
"""

import argparse
import hashlib
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

CLIENT_ID = "11111111-2222-3333-4444-555555555555"
CLIENT_SECRET = "browser-test-client-secret"
GROUP_ID = "6f0c9a1e-5b1d-4c8e-9f3a-2b7d8e1c4a50"
OPS_KEY = "console-ops-key-5d2f9a"
READER_KEY = "console-reader-key-81c3e0"
WRONG_KEY = "console-wrong-key-000000"


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


def start(argv, env, log_path, timeout=60):
    """Starts a certdeploy process and returns (process, first stdout line: its URL)."""
    log = open(log_path, "ab")
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=log, env=env)
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    line = proc.stdout.readline().decode().strip() if ready else ""
    if not line.startswith("http"):
        proc.kill()
        raise Failure(f"{argv[1]} did not print its URL (see {log_path})")
    return proc, line


def stop(proc):
    if proc and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def api(base, method, path, key, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("Authorization", "Bearer " + key)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def write_config(work, pki, sandbox_url):
    sha = lambda k: hashlib.sha256(k.encode()).hexdigest()
    config = f"""tenant:
  id: contoso.onmicrosoft.com
  graphUrl: {sandbox_url}
  authorityUrl: {sandbox_url}
auth:
  clientId: {CLIENT_ID}
  clientSecretEnv: CERTDEPLOY_CLIENT_SECRET
connector:
  publicKeyFile: {pki}/connector.pub
  paddingScheme: oaepSha512
profiles:
  platforms: [ios]
  namePrefix: "S/MIME"
  assignTo: {{ groups: [{GROUP_ID}] }}
limits:
  writesPer20s: 100
  requestsPer20s: 1000
  windowSeconds: 2
service:
  listen: 127.0.0.1:0
  store: sqlite:state.db
  inbox: inbox
  pollMillis: 200
  apiKeys:
    - {{name: ops, sha256: {sha(OPS_KEY)}, scopes: [rollouts, read]}}
    - {{name: reader, sha256: {sha(READER_KEY)}, scopes: [read]}}
"""
    path = os.path.join(work, "config.yaml")
    with open(path, "w") as f:
        f.write(config)
    inbox = os.path.join(work, "inbox")
    os.makedirs(inbox)
    for name in ("alice.pfx", "bob.pfx", "expired.pfx", "mismatch.pfx", "password.txt"):
        shutil.copy(os.path.join(pki, name), inbox)
    with open(os.path.join(inbox, "q4.csv"), "w") as f:
        f.write("userPrincipalName,pfxFile,passwordFile\n"
                "alice@contoso.com,alice.pfx,password.txt\n"
                "bob@contoso.com,bob.pfx,password.txt\n"
                "carol@contoso.com,expired.pfx,password.txt\n")  # Line 4: refused at intake.
    # Line 3: a certificate issued for dave@fabrikam.com, refused when its wave is planned.
    with open(os.path.join(inbox, "now.csv"), "w") as f:
        f.write("userPrincipalName,pfxFile,passwordFile\n"
                "alice@contoso.com,alice.pfx,password.txt\n"
                "alice@contoso.com,mismatch.pfx,password.txt\n"
                "bob@contoso.com,bob.pfx,password.txt\n")
    return path


def new_browser(width, height):
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--disable-extensions", "--disable-background-networking",
                "--disable-component-update", "--disable-default-apps", "--disable-sync",
                "--metrics-recording-only", f"--window-size={width},{height}"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver_path = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    return webdriver.Chrome(service=Service(driver_path), options=options)


class Console:
    def __init__(self, driver, base, out):
        self.d = driver
        self.base = base
        self.out = out
        self.urls = []
        self.console_messages = []

    def wait(self, condition, timeout=20, what="condition"):
        try:
            return WebDriverWait(self.d, timeout).until(condition)
        except TimeoutException:
            self.shot("timeout")
            raise Failure(f"timed out waiting for {what}")

    def visible(self, css, timeout=20):
        return self.wait(EC.visibility_of_element_located((By.CSS_SELECTOR, css)), timeout, css)

    def shot(self, name):
        self.d.save_screenshot(os.path.join(self.out, name + ".png"))

    def collect_logs(self):
        for entry in self.d.get_log("performance"):
            msg = json.loads(entry["message"])["message"]
            if msg.get("method") == "Network.requestWillBeSent":
                self.urls.append(msg["params"]["request"]["url"])
        self.console_messages += [e["message"] for e in self.d.get_log("browser")]

    def login(self, key):
        field = self.visible("#api-key")
        field.clear()
        field.send_keys(key)
        self.d.find_element(By.CSS_SELECTOR, "#login-form button[type=submit]").click()

    def click(self, css):
        """Clicks the element once it shows (in the page, so a redraw cannot make it stale)."""
        self.visible(css)
        self.wait(lambda d: d.execute_script(
            "const e = document.querySelector(arguments[0]); if (e) e.click(); return !!e", css),
            what="clicking " + css)

    def text_of(self, css):
        """The element's text now, "" if none (read in the page: views redraw under us)."""
        return self.d.execute_script(
            "const e = document.querySelector(arguments[0]); return e ? e.textContent : ''", css)

    def text(self):
        return self.d.find_element(By.TAG_NAME, "body").text


def run(args, work):
    env = dict(os.environ, SANDBOX_SECRET=CLIENT_SECRET, CERTDEPLOY_CLIENT_SECRET=CLIENT_SECRET)
    sandbox = serve = driver = None
    serve_log = os.path.join(args.out, "serve.log")
    try:
        sandbox, sandbox_url = start(
            [args.binary, "sandbox", "--listen", "127.0.0.1:0", "--connector-key",
             os.path.join(args.pki, "connector.key"), "--client-id", CLIENT_ID,
             "--client-secret-env", "SANDBOX_SECRET", "--window", "2"],
            env, os.path.join(args.out, "sandbox.log"))
        config = write_config(work, args.pki, sandbox_url)
        serve, base = start([args.binary, "--log-level", "info", "serve", "--config", config],
                            env, serve_log)

        status, q4 = api(base, "POST", "/v1/rollouts", OPS_KEY, {
            "name": "Q4 renewal", "manifest": "q4.csv", "startAt": "2099-01-01T00:00:00Z",
            "waves": [{"percent": 50}, {"percent": 100, "after": "PT2H"}]})
        check(status == 201, f"scheduling q4: {status} {q4}")
        status, now = api(base, "POST", "/v1/rollouts", OPS_KEY,
                          {"name": "Onboarding batch", "manifest": "now.csv",
                           "haltOnFailurePercent": 100})
        check(status == 201, f"scheduling now: {status} {now}")
        rollout = q4["id"]

        driver = new_browser(1366, 768)
        ui = Console(driver, base, args.out)

        # Login: a wrong key is refused and the login stays.
        driver.get(base + "/ui/")
        ui.visible("#api-key")
        ui.shot("01-login")
        ui.login(WRONG_KEY)
        ui.wait(lambda d: "refused" in ui.text_of("#login-error"),
                what="the wrong key's refusal")
        check(driver.find_element(By.ID, "main").get_attribute("hidden") is not None,
              "the console opened with a wrong key")

        # Rollouts table.
        ui.login(OPS_KEY)
        ui.visible("table#rollouts tr[data-id='%s']" % rollout)
        check("Q4 renewal" in ui.text() and "Onboarding batch" in ui.text(), "rollout names")
        check(len(driver.find_elements(By.CSS_SELECTOR, "table#rollouts .progress")) == 2,
              "a progress bar per rollout")
        ui.wait(lambda d: "2 ok · 1 failed · 0 to go" in ui.text_of(
            "table#rollouts tr[data-id='%s']" % now["id"]),
            timeout=60, what="the running rollout to finish (auto-refresh)")
        check("1 invalid" in ui.text_of("table#rollouts tr[data-id='%s']" % rollout),
              "the scheduled rollout's row refused at intake is counted as invalid")
        check(driver.find_elements(
            By.CSS_SELECTOR, "table#rollouts tr[data-id='%s'] .progress .invalid" % rollout),
            "the progress bar shows the invalid row")
        ui.shot("02-rollouts")

        # The finished rollout's page: the row that could not deploy, with its finding.
        driver.find_element(By.LINK_TEXT, "Onboarding batch").click()
        row = ui.visible("table#items tr[data-line='3']")
        check(row.get_attribute("data-status") == "failed", "line 3 should have failed")
        finding = row.find_element(By.CSS_SELECTOR, "li[data-code='email-not-primary-smtp']")
        check("dave@fabrikam.com" in finding.text, "the finding's message is shown")
        check("email-not-primary-smtp" in row.text, "the error code is shown")
        check(not driver.find_elements(By.CSS_SELECTOR, "#pause, #resume"),
              "a finished rollout offers no pause or resume")
        ui.shot("03-rollout")

        # Filter the items to the failures.
        driver.find_element(By.CSS_SELECTOR, "#item-status option[value='failed']").click()
        driver.find_element(By.CSS_SELECTOR, "#item-filter button[type=submit]").click()
        ui.wait(lambda d: len(d.find_elements(By.CSS_SELECTOR, "table#items tbody tr")) == 1,
                what="the failed-only filter")

        # The scheduled rollout: pause and resume from its page; the API agrees each time.
        driver.get(base + "/ui/#/rollouts/" + rollout)
        ui.visible("table#items tr[data-line='3']")
        check(ui.text_of("table#items tr[data-line='4'] .badge") == "invalid",
              "the row refused at intake shows as invalid")
        for button, status in (("#pause", "paused"), ("#resume", "scheduled")):
            ui.click(button)
            ui.wait(lambda d: ui.text_of("#rollout-status") == status,
                    what=f"{status} on the page")
            api_status = api(base, "GET", "/v1/rollouts/" + rollout, READER_KEY)[1]["status"]
            check(api_status == status, f"after {button} the API says {api_status}")
            ui.shot("04-rollout-" + status)
        check(driver.find_elements(By.ID, "cancel"), "Cancel is offered to the rollouts scope")

        # The other pages.
        driver.get(base + "/ui/#/enrollments")
        ui.visible("table#enrollments")
        ui.shot("05-enrollments")
        driver.get(base + "/ui/#/certificates")
        ui.wait(lambda d: d.find_elements(By.CSS_SELECTOR, "svg.chart"), what="expiry chart")
        ui.shot("06-certificates")
        driver.get(base + "/ui/#/throughput")
        ui.wait(lambda d: d.find_elements(By.CSS_SELECTOR, "#throughput-chart svg rect.bar"),
                timeout=30, what="throughput bars")
        ui.shot("07-throughput")

        # Phone width: nothing wider than the window (tables scroll inside their frame).
        driver.set_window_size(390, 844)
        driver.get(base + "/ui/#/rollouts/" + now["id"])
        ui.visible("table#items tr[data-line='3']")
        overflow = driver.execute_script(
            "return document.documentElement.scrollWidth - window.innerWidth")
        check(overflow <= 1, f"the page is {overflow}px wider than a phone")
        ui.shot("08-rollout-phone")
        driver.set_window_size(1366, 768)

        # Logout clears the key.
        driver.find_element(By.ID, "logout").click()
        ui.visible("#api-key")
        check(driver.execute_script("return sessionStorage.length") == 0, "key kept after logout")

        # A read-only key sees no buttons.
        ui.login(READER_KEY)
        ui.wait(lambda d: "reader" in ui.text_of("#key-name"), what="signed in as reader")
        driver.get(base + "/ui/#/rollouts/" + rollout)
        ui.visible("table#items tr[data-line='3']")
        check(not driver.find_elements(By.CSS_SELECTOR, "#pause, #resume, #cancel"),
              "a read-only key was offered rollout actions")
        ui.shot("09-rollout-read-only")

        # A 401 (the key no longer accepted) brings the login back.
        driver.execute_script("sessionStorage.setItem('certdeploy.apiKey', arguments[0])",
                              WRONG_KEY)
        driver.get(base + "/ui/#/enrollments")
        ui.visible("#api-key")
        check("401" in driver.find_element(By.ID, "login-error").text, "no 401 message")

        ui.collect_logs()
        origin = base.rstrip("/")
        foreign = [u for u in ui.urls
                   if not (u.startswith(origin + "/") or u == origin or u.startswith("data:"))]
        check(not foreign, f"requests left the daemon's origin: {foreign[:5]}")
        check(any(u.startswith(origin + "/v1/") for u in ui.urls), "no API call was seen")
        for key in (OPS_KEY, READER_KEY, WRONG_KEY):
            check(not any(key in u for u in ui.urls), "an API key appeared in a URL")
            check(key not in ui.text(), "an API key appeared in the page")
        csp = [m for m in ui.console_messages if "Content Security Policy" in m]
        check(not csp, f"CSP violations: {csp[:3]}")
    finally:
        if driver:
            driver.quit()
        stop(serve)
        stop(sandbox)
    with open(serve_log, encoding="utf-8", errors="replace") as f:
        log = f.read()
    for key in (OPS_KEY, READER_KEY, WRONG_KEY):
        check(key not in log, "an API key appeared in the daemon's log")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", required=True)
    parser.add_argument("--pki", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for old in os.listdir(args.out):
        os.remove(os.path.join(args.out, old))
    with tempfile.TemporaryDirectory(prefix="certdeploy_console_") as work:
        try:
            run(args, work)
        except Failure as e:
            print(f"FAILED: {e} (screenshots and logs in {args.out})", file=sys.stderr)
            return 1
    print(f"console browser test passed; screenshots in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
