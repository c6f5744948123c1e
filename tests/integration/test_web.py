"""overstap-web (issue 13 items 3+4): the staff web page against real daemons.

WebHttpTest needs no rights from the daemon: signing in refused without the
proxy or from another address, the security headers, hostile bodies, the
configuration check, the Dutch catalogue. WebRolesTest signs in per role as
test users in NSS (created here, removed after) through real headless
Chromium, with axe-core on every page: the school flow (inzage with
disagreement, registration, send), the MBO flow (find, read, status, outcomes
upload), the reports with charts, the privacy screens and who may not see
them, CSRF, and the session's end. It needs a daemon that takes overstap-web
as a delegate ([control] delegate, whoami): against one that has none yet it
is skipped and says so.

Run: python3 -m unittest -v test_web   (as root; OVERSTAPD / OVERSTAP from the environment)
"""
import os
import re
import subprocess
import time
import unittest
import urllib.parse

import harness
import webharness
from harness import wait_for

SCHOOL, MBO = "12AB00", "25LZ00"


def multipart(fields, files):
    """A multipart/form-data body: (content_type, bytes)."""
    b = "ovtboundary%d" % int(time.time() * 1000)
    out = []
    for k, v in fields.items():
        out.append(("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n" %
                    (b, k, v)).encode())
    for k, (name, data) in files.items():
        out.append(("--%s\r\nContent-Disposition: form-data; name=\"%s\"; filename=\"%s\"\r\n"
                    "Content-Type: text/csv\r\n\r\n" % (b, k, name)).encode() + data + b"\r\n")
    out.append(("--%s--\r\n" % b).encode())
    return "multipart/form-data; boundary=" + b, b"".join(out)


class WebHttpTest(harness.DaemonTestCase):
    """What holds whatever the daemon says: sign-in, headers, hostile input."""

    def setUp(self):
        super().setUp()
        self.school = harness.Institution(self.root, SCHOOL, "Praktijkschool De Brug").start()
        self.insts.append(self.school)
        self.web = webharness.Web(self.root, "school", self.school.sock, max_upload=100000).start()

    def tearDown(self):
        rc = self.web.stop()
        super().tearDown()
        self.assertEqual(rc, 0, "overstap-web exited %d on SIGTERM" % rc)

    def test_not_signed_in_without_the_proxy(self):
        st, h, body = self.web.request("GET", "/leavers")
        self.assertEqual(st, 401)
        self.assertNotIn("set-cookie", h)
        self.assertIn("Niet aangemeld", body)      # Dutch through the catalogue

    def test_forged_proxy_header_from_another_address_is_ignored(self):
        # 127.0.0.2 is loopback too, but not the configured proxy_address
        st, h, body = self.web.request("GET", "/", {"X-Remote-User": "directeur"},
                                       source="127.0.0.2")
        self.assertEqual(st, 401)
        self.assertNotIn("set-cookie", h)
        self.assertIn("ignoring X-Remote-User from 127.0.0.2", self.web.read_log())
        # the same header from the proxy is believed: it reaches the daemon
        st2, _, body2 = self.web.request("GET", "/", {"X-Remote-User": "directeur"})
        self.assertNotEqual(st2, 401, body2[-1000:])

    def test_security_headers(self):
        st, h, body = self.web.request("GET", "/")
        csp = h["content-security-policy"]
        self.assertIn("default-src 'none'", csp)
        self.assertIn("form-action 'self'", csp)
        self.assertIn("frame-ancestors 'none'", csp)
        self.assertNotIn("unsafe-inline", csp)
        self.assertNotIn("script-src", csp)
        self.assertNotIn("<script", body)
        self.assertEqual(h["x-content-type-options"], "nosniff")
        self.assertEqual(h["cache-control"], "no-store")
        # the style hash in the CSP is the page's one <style>
        import base64
        import hashlib
        css = re.search(r"<style>\n(.*?)</style>", body, re.S).group(1)
        digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
        self.assertIn("'sha256-%s'" % digest, csp)

    def test_hostile_requests(self):
        # a body over max_upload is refused before it is read
        st, _, _ = self.web.request("POST", "/send", {"Content-Type": "application/x-www-form-urlencoded"},
                                    body=b"a=" + b"x" * 200000)
        self.assertEqual(st, 413)
        # bad multipart, a form that is not a form, a method we do not take
        st, _, _ = self.web.request("POST", "/send", {"Content-Type": "multipart/form-data; boundary=x"},
                                    body=b"--y\r\ngarbage\r\n")
        self.assertIn(st, (400, 401, 403))
        st, _, _ = self.web.request("POST", "/send", {"Content-Type": "text/plain"}, body=b"hello")
        self.assertIn(st, (401, 403))
        st, _, _ = self.web.request("DELETE", "/")
        self.assertEqual(st, 405)
        st, _, _ = self.web.request("GET", "/%00%ff/../../etc/passwd?x=%zz")
        self.assertIn(st, (401, 404))
        # still serving
        st, _, _ = self.web.request("GET", "/")
        self.assertEqual(st, 401)

    def test_config_check(self):
        bad = os.path.join(self.root, "bad.conf")
        with open(bad, "w") as f:
            f.write("[web]\nlisten = nowhere\nauth = kerberos\nsession_idle = 0\nfoo = 1\n")
        r = subprocess.run([webharness.WEB, "-t", "-c", bad], capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        for want in ("bad.conf:4: session_idle", "bad.conf:3: auth", "bad.conf:5: foo: unknown key",
                     "listen: must be ADDRESS:PORT"):
            self.assertIn(want, r.stderr)
        r = subprocess.run([webharness.WEB, "-t", "-c", self.web.conf], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_catalogue_complete(self):
        po = os.path.join(harness.SRC, "web", "po", "nl.po")
        r = subprocess.run(["msgfmt", "--check", "--statistics", "-o", "/dev/null", po],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("untranslated", r.stderr)
        self.assertNotIn("fuzzy", r.stderr)
        # every msgid in the sources is in the catalogue
        pot = os.path.join(self.root, "web.pot")
        srcs = sorted(os.path.join(harness.SRC, "web", f) for f in os.listdir(os.path.join(harness.SRC, "web"))
                      if f.endswith(".c"))
        subprocess.run(["xgettext", "--keyword=_", "--keyword=N_", "--from-code=UTF-8", "-o", pot] + srcs,
                       check=True)
        r = subprocess.run(["msgcmp", po, pot], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)


def _daemon_takes_delegates(root):
    """True when overstapd knows [control] delegate (the daemon side of
    issue 13); checked with its own configuration check."""
    inst = harness.Institution(root, "99ZZ00", "probe")
    with open(inst.conf) as f:
        text = f.read()
    text = text.replace("[control]\n", "[control]\ndelegate = root\n", 1)
    with open(inst.conf, "w") as f:
        f.write(text)
    r = subprocess.run([harness.OVERSTAPD, "-t", "-c", inst.conf], capture_output=True, text=True)
    return r.returncode == 0 or "delegate" not in (r.stdout + r.stderr)
