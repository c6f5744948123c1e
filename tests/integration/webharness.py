"""overstap-web for the tests: test users and groups in NSS (the daemon takes
a delegate's user's rights from their Unix groups), overstap-web started as
its own user, plain HTTP helpers (sockets bound to a chosen source address),
and headless Chromium through Selenium with axe-core for accessibility.

Needs root (useradd/groupadd), as CI runs. The binary comes from OVERSTAP_WEB,
else next to OVERSTAPD (build/web/overstap-web).
"""
import http.client
import os
import re
import secrets
import shutil
import subprocess
import time

import harness
from harness import wait_for

BUILD = os.path.dirname(harness.OVERSTAPD)
WEB = os.environ.get("OVERSTAP_WEB", os.path.join(BUILD, "web", "overstap-web"))
LOCALEDIR = os.environ.get("OVERSTAP_WEB_LOCALEDIR", os.path.join(BUILD, "web", "locale"))
AXE = os.environ.get("OVERSTAP_AXE", "/var/cache/overstap-test/node_modules/axe-core/axe.min.js")
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"

ROLES = ("read", "mentor", "intake", "quality", "privacy", "admin")


class Accounts:
    """Unix groups ovtXXXX-<role> and users ovtXXXX-<name>, removed by close().
    A random tag keeps parallel test runs apart."""

    def __init__(self):
        self.tag = "ovt" + secrets.token_hex(2)
        self.users, self.groups = [], []

    def group(self, role):
        name = "%s-%s" % (self.tag, role)
        if name not in self.groups:
            subprocess.run(["groupadd", "--system", name], check=True)
            self.groups.append(name)
        return name

    def user(self, name, groups=()):
        uname = "%s-u%s" % (self.tag, name)   # apart from the group names
        cmd = ["useradd", "--system", "--no-create-home", "--no-user-group", "--shell", "/usr/sbin/nologin",
               "--home-dir", "/nonexistent"]
        if groups:
            cmd += ["--groups", ",".join(groups)]
        subprocess.run(cmd + [uname], check=True)
        self.users.append(uname)
        return uname

    def close(self):
        for u in self.users:
            subprocess.run(["userdel", u], check=False)
        for g in self.groups:
            subprocess.run(["groupdel", g], check=False)
        self.users, self.groups = [], []


def open_to(path, user):
    """Let user reach path (a socket in a root-owned temporary tree): search
    permission on every directory from / down, nothing more."""
    d = os.path.dirname(path)
    while d not in ("/", ""):
        st = os.stat(d)
        os.chmod(d, st.st_mode | 0o011)
        d = os.path.dirname(d)


class Web:
    """One overstap-web with its web.conf, run as `user` (or root)."""

    def __init__(self, root, name, socket_path, user=None, group=None, **conf):
        self.dir = os.path.join(root, "web-" + name)
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(self.dir, 0o755)
        self.conf = os.path.join(self.dir, "web.conf")
        self.logpath = os.path.join(self.dir, "web.log")
        self.user, self.group = user, group
        c = {"listen": "127.0.0.1:0", "socket": socket_path, "secure_cookies": "no",
             "proxy_address": "127.0.0.1", "session_idle": "600"}
        c.update({k: str(v) for k, v in conf.items()})
        with open(self.conf, "w") as f:
            f.write("[web]\n" + "".join("%s = %s\n" % kv for kv in sorted(c.items())))
        os.chmod(self.conf, 0o644)
        self.proc = None
        self.port = None

    def start(self):
        env = dict(os.environ, OVERSTAP_WEB_LOCALEDIR=LOCALEDIR)
        self.log = open(self.logpath, "a")
        kw = {}
        if self.user:
            kw = {"user": self.user, "group": self.group, "extra_groups": []}
        # stderr to the log file, never a pipe nobody drains
        self.proc = subprocess.Popen([WEB, "-c", self.conf], stdout=self.log,
                                     stderr=self.log, env=env, **kw)

        def port():
            if self.proc.poll() is not None:
                raise AssertionError("overstap-web exited %d at start:\n%s" %
                                     (self.proc.returncode, self.read_log()[-3000:]))
            m = re.search(r"listening on \S+ port (\d+)", self.read_log())
            return int(m.group(1)) if m else None
        self.port = wait_for(port, timeout=20, what="overstap-web to listen")
        self.url = "http://127.0.0.1:%d" % self.port
        return self

    def stop(self):
        """SIGTERM; returns the exit status."""
        if not self.proc:
            return 0
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        rc, self.proc = self.proc.returncode, None
        return rc

    def read_log(self):
        with open(self.logpath) as f:
            return f.read()

    # ---- plain HTTP ----
    def request(self, method, path, headers=None, body=None, source="127.0.0.1"):
        """One request from the given source address; (status, headers, text)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60,
                                          source_address=(source, 0))
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        data = r.read().decode("utf-8", "replace")
        hdrs = {k.lower(): v for k, v in r.getheaders()}
        conn.close()
        return r.status, hdrs, data

    def sign_in(self, user):
        """A session for user through the proxy header; returns the cookie."""
        st, h, body = self.request("GET", "/", {"X-Remote-User": user})
        assert st == 200, (st, body[-2000:])
        return h["set-cookie"].split(";")[0]


def chrome():
    """Headless Chromium driven by chromedriver (Debian's packages)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    o = webdriver.ChromeOptions()
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--window-size=1280,1000", "--lang=nl"):
        o.add_argument(a)
    o.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    d = webdriver.Chrome(service=Service(CHROMEDRIVER), options=o)
    d.set_page_load_timeout(60)
    d.set_script_timeout(60)
    return d


def as_proxy(driver, user):
    """Make the browser send the proxy's user header on every request, as the
    institution's SSO proxy does in front of overstap-web."""
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": {"X-Remote-User": user}})


def axe_violations(driver):
    """axe-core's WCAG 2.1 A/AA violations of the page that are serious or
    critical. axe is injected through WebDriver, which the page's CSP (no
    script at all) does not govern."""
    with open(AXE) as f:
        driver.execute_script(f.read())
    res = driver.execute_async_script(
        "var done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})"
        ".then(function (r) { done(r.violations); })"
        ".catch(function (e) { done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]); });")
    return [v for v in res if v.get("impact") in ("serious", "critical")]


class ControlInstitution(harness.Institution):
    """An Institution whose [control] section also carries the rights and
    the delegate (design.md §9)."""

    control_extra = {}

    def write_config(self):
        super().write_config()
        if not self.control_extra:
            return
        with open(self.conf) as f:
            text = f.read()
        lines = "".join("%s = %s\n" % kv for kv in sorted(self.control_extra.items()))
        with open(self.conf, "w") as f:
            f.write(text.replace("[control]\n", "[control]\n" + lines, 1))
