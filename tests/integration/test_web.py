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
import http.client
import os
import re
import subprocess
import threading
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
        # a chunked body that grows past max_upload while it arrives
        conn = http.client.HTTPConnection("127.0.0.1", self.web.port, timeout=60)
        conn.putrequest("POST", "/outcomes")
        conn.putheader("Content-Type", "multipart/form-data; boundary=b")
        conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        chunk = b"x" * 50000
        for _ in range(4):
            conn.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        conn.send(b"0\r\n\r\n")
        self.assertEqual(conn.getresponse().status, 413)
        conn.close()
        # a header far too long, a thousand form fields
        st, _, _ = self.web.request("GET", "/", {"X-Junk": "y" * 100000})
        self.assertGreaterEqual(st, 400)
        st, _, _ = self.web.request("POST", "/send", {"Content-Type": "application/x-www-form-urlencoded"},
                                    body="&".join("f%d=v" % i for i in range(1000)))
        self.assertIn(st, (401, 403))
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


class WebPamTest(harness.DaemonTestCase):
    """[web] auth = pam: the login form, checked by a PAM service of the test's
    own (pam_unix against a test user with a password); run as root, so
    pam_unix reads the shadow file itself."""

    def setUp(self):
        super().setUp()
        self.acc = webharness.Accounts()
        self.user = self.acc.user("pam")
        self.password = "Ovt-%s-geheim" % self.acc.tag
        subprocess.run(["chpasswd"], input="%s:%s\n" % (self.user, self.password), text=True,
                       check=True)
        self.service = self.acc.tag + "-web"
        self.pamfile = os.path.join("/etc/pam.d", self.service)
        with open(self.pamfile, "w") as f:
            f.write("auth required pam_unix.so nodelay\naccount required pam_unix.so\n")
        self.school = harness.Institution(self.root, SCHOOL, "Praktijkschool De Brug").start()
        self.insts.append(self.school)
        self.web = webharness.Web(self.root, "pam", self.school.sock, auth="pam",
                                  pam_service=self.service).start()

    def tearDown(self):
        rc = self.web.stop()
        os.unlink(self.pamfile)
        self.acc.close()
        super().tearDown()
        self.assertEqual(rc, 0, "overstap-web exited %d on SIGTERM" % rc)

    def login(self, user, password, token=True):
        st, h, body = self.web.request("GET", "/login")
        self.assertEqual(st, 200)
        cookie = h["set-cookie"].split(";")[0]
        tok = re.search(r'name="login" value="([0-9a-f]{64})"', body).group(1)
        form = {"user": user, "password": password}
        if token:
            form["login"] = tok
        return self.web.request("POST", "/login", {"Cookie": cookie, "Content-Type":
                                                    "application/x-www-form-urlencoded"},
                                body=urllib.parse.urlencode(form))

    def test_login_form(self):
        st, h, _ = self.web.request("GET", "/leavers")
        self.assertEqual((st, h.get("location")), (303, "/login"))
        st, _, body = self.login(self.user, "wrong")
        self.assertEqual(st, 401)
        self.assertIn("De gebruikersnaam of het wachtwoord klopt niet", body)
        self.assertIn("sign-in of %s refused by PAM" % self.user, self.web.read_log())
        st, _, body = self.login(self.user, self.password, token=False)
        self.assertEqual(st, 403)                       # login CSRF: no token, no try
        # the right password passes PAM; what the user may do is the daemon's
        # to say (a daemon without delegates cannot, and says so)
        n = self.web.read_log().count("refused by PAM")
        st, h, body = self.login(self.user, self.password)
        self.assertNotIn(st, (401, 403), body[-1500:])
        self.assertEqual(self.web.read_log().count("refused by PAM"), n)
        self.assertNotIn(self.password, self.web.read_log())

    def test_a_slow_sign_in_holds_up_nobody_else(self):
        # pam_unix without nodelay: PAM waits about 2 s after a wrong password
        # (a brake on guessing). Before the thread pool, that wait stalled
        # every other page for every member of staff.
        with open(self.pamfile, "w") as f:
            f.write("auth required pam_unix.so\naccount required pam_unix.so\n")
        wrong = {}

        def guess():
            t0 = time.monotonic()
            st, _, _ = self.login(self.user, "wrong")
            wrong.update(status=st, start=t0, end=time.monotonic())

        t = threading.Thread(target=guess)
        t.start()
        time.sleep(0.5)                 # the guess is inside PAM's wait by now
        st, _, body = self.web.request("GET", "/login")
        answered = time.monotonic()
        t.join(timeout=30)
        self.assertEqual(st, 200)
        self.assertIn('name="password"', body)
        self.assertEqual(wrong["status"], 401)
        # the premise: PAM did wait, or this test proves nothing
        self.assertGreater(wrong["end"] - wrong["start"], 1.0)
        self.assertLess(answered, wrong["end"],
                        "another browser's login form waited for a stranger's wrong password")


class WebRolesTest(unittest.TestCase):
    """A school and an MBO, each with overstap-web as a delegate; staff per
    role as Unix users in NSS; real headless Chromium."""

    @classmethod
    def setUpClass(cls):
        cls._tmp = harness.TempDir()
        cls.root = cls._tmp.__enter__()
        os.chmod(cls.root, 0o711)
        cls.acc = webharness.Accounts()
        cls.webs = []
        try:
            cls._accounts()
            cls._federation()
            cls._data()
            cls.drv = webharness.chrome()
        except BaseException:
            cls._teardown()
            raise

    @classmethod
    def _accounts(cls):
        a = cls.acc
        g = {r: a.group(r) for r in ("read", "mentor", "intake", "quality", "privacy", "admin")}
        cls.g_web = a.group("web")
        cls.u_web = a.user("web", [cls.g_web])
        cls.mentor = a.user("mentor", [g["mentor"]])
        cls.intake = a.user("intake", [g["intake"]])
        cls.quality = a.user("quality", [g["quality"]])
        cls.privacy = a.user("privacy", [g["privacy"]])
        cls.admin = a.user("admin", [g["admin"], g["read"]])
        webharness.ControlInstitution.control_extra = {
            "group": cls.g_web, "delegate": cls.u_web, "mentor": g["mentor"],
            "intake": g["intake"], "quality": g["quality"], "privacy": g["privacy"],
            "admin": g["admin"], "read": g["read"]}

    @classmethod
    def _federation(cls):
        cls.school = webharness.ControlInstitution(cls.root, SCHOOL, "Praktijkschool De Brug").start()
        cls.mbo = webharness.ControlInstitution(cls.root, MBO, "MBO Entree College").start()
        for x, y, send in ((cls.school, cls.mbo, False), (cls.mbo, cls.school, False),
                           (cls.school, cls.mbo, True), (cls.mbo, cls.school, True)):
            x.add_peer(y, send=send)
        for inst in (cls.school, cls.mbo):
            os.chmod(inst.dir, 0o711)
        cls.wschool = webharness.Web(cls.root, "school", cls.school.sock, cls.u_web, cls.g_web).start()
        cls.wmbo = webharness.Web(cls.root, "mbo", cls.mbo.sock, cls.u_web, cls.g_web).start()
        cls.webs += [cls.wschool, cls.wmbo]

    @classmethod
    def _data(cls):
        path = os.path.join(cls.root, "leavers.csv")
        cls.rows = harness.leavers_csv(path, 12, dest=MBO)
        cls.school.cli("import", "leavers", path)
        # all but the first go through the CLI, so the report has numbers
        harness.hand_over(cls.school, cls.rows[1:])
        wait_for(lambda: len(cls.mbo.cli_json("inbox", "list")) >= 11, what="dossiers at the MBO")

    @classmethod
    def _teardown(cls):
        """Stop everything; the exit statuses of overstap-web (a sanitizer
        build reports leaks through it)."""
        if getattr(cls, "drv", None):
            cls.drv.quit()
        rcs = [w.stop() for w in cls.webs]
        for inst in (getattr(cls, "school", None), getattr(cls, "mbo", None)):
            if inst and inst.proc:
                inst.stop()
        cls.acc.close()
        cls._tmp.__exit__(None, None, None)
        return rcs

    @classmethod
    def tearDownClass(cls):
        logs = "".join(w.read_log()[-2000:] for w in cls.webs)
        rcs = cls._teardown()
        if any(rcs):
            raise AssertionError("overstap-web exited %s on SIGTERM:\n%s" % (rcs, logs))

    # ---- browser helpers ----
    def open(self, web, user, path):
        """Load path as user (the proxy's header); check axe on the page."""
        webharness.as_proxy(self.drv, user)
        self.drv.get(web.url + path)
        bad = webharness.axe_violations(self.drv)
        self.assertEqual(bad, [], "axe: serious/critical on %s: %s" %
                         (path, [(v["id"], v["help"], [n.get("target") for n in v["nodes"]][:3])
                                 for v in bad]))
        return self.drv.page_source

    def main(self):
        """The page's <main>: what the user reads (no tokens, no styles)."""
        from selenium.webdriver.common.by import By
        return self.drv.find_element(By.TAG_NAME, "main").get_attribute("innerHTML")

    def submit(self, form_action, fields=None, button=None):
        from selenium.webdriver.common.by import By
        form = self.drv.find_element(By.CSS_SELECTOR, "form[action='%s']" % form_action)
        for name, value in (fields or {}).items():
            els = form.find_elements(By.NAME, name)
            if els[0].get_attribute("type") == "radio":
                [e for e in els if e.get_attribute("value") == value][0].click()
            elif els[0].tag_name == "select":
                from selenium.webdriver.support.ui import Select
                Select(els[0]).select_by_value(value)
            elif els[0].get_attribute("type") == "date":
                # typing into a date control follows the browser's locale
                # format; set the ISO value as a date picker would
                self.drv.execute_script("arguments[0].value = arguments[1]", els[0], value)
            elif els[0].get_attribute("type") == "checkbox":
                if value:
                    els[0].click()
            else:
                els[0].clear()
                els[0].send_keys(value)
        from selenium.webdriver.support.ui import WebDriverWait
        from selenium.common.exceptions import WebDriverException
        # a mark on this document: the answer's page is a new one without it
        self.drv.execute_script("window.ovtOld = true")
        form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        WebDriverWait(self.drv, 60, ignored_exceptions=(WebDriverException,)).until(
            lambda d: d.execute_script("return !window.ovtOld && document.readyState === 'complete'"))
        bad = webharness.axe_violations(self.drv)
        self.assertEqual(bad, [], "axe: serious/critical after POST %s: %s" % (form_action, bad))
        return self.main()

    # ---- the tests ----
    def test_1_school_flow(self):
        ref = self.rows[0]["pupil_ref"]
        page = self.open(self.wschool, self.mentor, "/")
        self.assertIn("Leerlingen die vertrekken", page)
        self.assertNotIn("/subject", page)           # no privacy screen for a mentor
        page = self.open(self.wschool, self.mentor, "/leavers")
        self.assertIn(ref, page)
        # keyboard: the first Tab reaches the skip link, which leads to the content
        from selenium.webdriver.common.by import By
        from selenium.webdriver.common.keys import Keys
        self.drv.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
        self.assertEqual(self.drv.switch_to.active_element.text, "Naar de inhoud")
        self.assertEqual(self.drv.switch_to.active_element.get_attribute("href"),
                         self.wschool.url + "/leavers#main")
        self.assertIn("<th scope=\"col\">", page)
        page = self.open(self.wschool, self.mentor, "/pupil?ref=" + ref)
        self.assertIn(self.rows[0]["given_name"], page)
        page = self.submit("/registered", {"date": "2025-06-01"})
        self.assertIn("Aanmelding vastgelegd", page)
        self.open(self.wschool, self.mentor, "/pupil?ref=" + ref)
        # disagreement without a reason is refused, with one it is recorded
        page = self.submit("/inzage", {"reviewer": "pupil", "date": "2025-06-02", "agrees": "no"})
        self.assertIn("geef dan de reden", page)
        self.open(self.wschool, self.mentor, "/pupil?ref=" + ref)
        page = self.submit("/inzage", {"reviewer": "pupil", "date": "2025-06-02", "agrees": "no",
                                       "reason": "De zorgnotitie klopt niet meer",
                                       "remarks": "Graag eerst een gesprek"})
        self.assertIn("Inzage vastgelegd", page)
        self.open(self.wschool, self.mentor, "/pupil?ref=" + ref)
        page = self.submit("/send")
        self.assertIn("Het dossier staat klaar om verstuurd te worden", page)
        wait_for(lambda: any(h["pupil_ref"] == ref and h["state"] == "delivered"
                             for h in self.school.cli_json("handover", "list")), what="delivered")
        page = self.open(self.wschool, self.mentor, "/pupil?ref=" + ref)
        self.assertIn("afgeleverd", page)
        self.assertIn("<dt>Vastgelegd door</dt><dd>%s</dd>" % self.mentor, page)
        page = self.open(self.wschool, self.mentor, "/lost")
        self.assertIn("<h1>Uit beeld</h1>", page)
        # the audit log names the mentor, not overstap-web's own user
        audit = self.school.cli("audit", "export").stdout
        self.assertIn(self.mentor, audit)

    def test_2_mbo_flow(self):
        pgn = self.rows[0]["pgn"]
        wait_for(lambda: len(self.mbo.cli_json("inbox", "list")) >= 12, what="the web-sent dossier")
        page = self.open(self.wmbo, self.intake, "/inbox")
        self.assertIn(SCHOOL, page)
        page = self.open(self.wmbo, self.intake, "/find?pgn=" + pgn)
        rid = re.search(r'/dossier\?id=([0-9a-f-]{36})', page).group(1)
        page = self.open(self.wmbo, self.intake, "/dossier?id=" + rid)
        self.assertIn("<dt>Akkoord met het dossier</dt><dd>nee</dd>", page)
        self.assertIn("<dt>Hun zienswijze</dt><dd>De zorgnotitie klopt niet meer</dd>", page)
        self.assertIn("Graag eerst een gesprek", page)
        page = self.submit("/status", {"event": "enrolled", "date": "2025-08-20"})
        self.assertIn("Statussen en resultaten in de wachtrij: 1", page)
        csv_path = os.path.join(self.root, "outcomes.csv")
        with open(csv_path, "w") as f:
            f.write("record_id,event,date,level\n%s,intake_held,2025-08-21,\n" % rid)
        self.open(self.wmbo, self.intake, "/outcomes")
        page = self.submit("/outcomes", {"file": csv_path})
        self.assertIn("Statussen en resultaten in de wachtrij: 1", page)
        reg_path = os.path.join(self.root, "registrations.csv")
        with open(reg_path, "w") as f:
            f.write("pgn,sending_school,registered_on\n%s,%s,2025-05-20\n" % (self.rows[6]["pgn"], SCHOOL))
        page = self.submit("/outcomes", {"kind": "registrations", "file": reg_path, "check": True})
        self.assertIn("Controle geslaagd: 1 aanmeldingen", page)
        page = self.submit("/outcomes", {"kind": "registrations", "file": reg_path})
        self.assertIn("Aanmeldingen in de wachtrij: 1", page)
        ref = self.rows[0]["pupil_ref"]
        wait_for(lambda: "ingeschreven" in self.open(self.wschool, self.mentor, "/pupil?ref=" + ref),
                 what="the status back at the school")

    def test_3_reports_with_charts(self):
        page = self.open(self.wschool, self.quality, "/report?side=sending")
        self.assertIn("<svg", page)
        self.assertIn("<table", page)
        page = self.open(self.wmbo, self.quality, "/report?side=receiving")
        self.assertIn("<svg", page)
        cookie = self.wschool.sign_in(self.quality)
        st, h, body = self.wschool.request("GET", "/report/download?format=csv&side=sending",
                                           {"Cookie": cookie})
        self.assertEqual(st, 200)
        self.assertIn("text/csv", h["content-type"])
        self.assertIn("attachment", h["content-disposition"])
        st, h, body = self.wschool.request("GET", "/report/download?format=json", {"Cookie": cookie})
        self.assertIn('"schema"', body)

    def test_4_privacy_screens_and_who_may_not(self):
        ref = self.rows[2]["pupil_ref"]
        cookie = self.wschool.sign_in(self.mentor)
        for path in ("/subject?key=" + ref, "/audit"):
            st, _, body = self.wschool.request("GET", path, {"Cookie": cookie})
            self.assertEqual(st, 403, path)
            self.assertIn("privacy", body)
        self.open(self.wschool, self.privacy, "/subject?key=" + ref)
        page = self.main().split("<form method=\"post\"")[0]   # the letter, not the erase form
        self.assertIn(self.rows[2]["given_name"], page)
        self.assertNotRegex(page, r"[0-9a-f]{64}")     # no MACs, no hashes for a parent
        self.assertNotIn('"action"', page)             # no raw JSON
        self.open(self.wschool, self.privacy, "/audit")
        page = self.submit("/audit")
        self.assertIn("De auditlog is intact", page)

    def test_5_csrf_token_required(self):
        cookie = self.wschool.sign_in(self.mentor)
        form = {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}
        ref = self.rows[3]["pupil_ref"]
        st, _, body = self.wschool.request("POST", "/send", form, body="ref=" + ref)
        self.assertEqual(st, 403)
        self.assertIn("Formulier geweigerd", body)
        st, _, body = self.wschool.request("POST", "/send", form, body="ref=%s&csrf=%s" % (ref, "0" * 64))
        self.assertEqual(st, 403)

    def test_6_session_expires(self):
        w = webharness.Web(self.root, "short", self.school.sock, self.u_web, self.g_web,
                           session_idle=2, secure_cookies="yes").start()
        self.webs.append(w)
        st, h, _ = w.request("GET", "/", {"X-Remote-User": self.mentor})
        self.assertEqual(st, 200)
        flags = [f.strip() for f in h["set-cookie"].split(";")]
        self.assertTrue(re.fullmatch(r"ovs=[0-9a-f]{64}", flags[0]), flags)   # 256 random bits
        for want in ("HttpOnly", "SameSite=Strict", "Secure", "Path=/"):
            self.assertIn(want, flags)
        cookie = flags[0]
        st, _, _ = w.request("GET", "/leavers", {"Cookie": cookie})
        self.assertEqual(st, 200)
        time.sleep(3)
        st, h, body = w.request("GET", "/leavers", {"Cookie": cookie})
        self.assertEqual(st, 401)
        self.assertIn("Uw sessie is verlopen", body)

    def test_7_school_administrator(self):
        cookie = self.wschool.sign_in(self.mentor)
        st, _, body = self.wschool.request("GET", "/import", {"Cookie": cookie})
        self.assertEqual(st, 403)                    # a mentor uploads no files
        path = os.path.join(self.root, "more-leavers.csv")
        harness.leavers_csv(path, 3, dest=MBO, prefix="N")
        self.open(self.wschool, self.admin, "/import")
        page = self.submit("/import", {"kind": "leavers", "file": path})   # check is on
        self.assertIn("Controle geslaagd", page)
        self.assertNotIn("N000001", self.school.cli("handover", "list").stdout)
        page = self.submit("/import", {"kind": "leavers", "file": path, "check": True})  # off
        self.assertIn("Ingelezen", page)
        self.assertIn("N000001", self.school.cli("handover", "list").stdout)
        # a bad file: every problem, nothing stored
        bad = os.path.join(self.root, "bad-consents.csv")
        with open(bad, "w") as f:
            f.write("pupil_ref,purpose,for,by,granted_on,until,evidence,ref\n"
                    "N000001,follow_up,25LZ00,pupil,2999-01-01,,form,X1\n")
        page = self.submit("/import", {"kind": "consents", "file": bad})
        self.assertIn("class=\"error\"", page)
        good = os.path.join(self.root, "consents.csv")
        with open(good, "w") as f:
            f.write("pupil_ref,purpose,for,by,granted_on,until,evidence,ref\n"
                    "N000001,follow_up,25LZ00,pupil,2025-06-02,,form,AVG-1\n")
        page = self.submit("/import", {"kind": "consents", "file": good, "check": True})
        self.assertIn("Ingelezen", page)
        page = self.open(self.wschool, self.admin, "/consents")
        self.assertIn("N000001", page)
        self.open(self.wschool, self.admin, "/consents?due=1")
        page = self.open(self.wschool, self.admin, "/admin")
        self.assertIn(MBO, page)
        self.assertIn(">verbonden<", page)
        # the key fingerprints two administrators read to each other over the
        # phone: ours and the MBO's, as `overstap keys show` prints them
        for inst in (self.school, self.mbo):
            shown = inst.cli("keys", "show", "--dir", inst.keys, "--id", inst.id).stdout
            fps = re.findall(r"[0-9a-f]{4}(?: [0-9a-f]{4}){4}", shown)
            self.assertEqual(len(fps), 2, shown)
            for fp in fps:
                self.assertIn(fp, page)
