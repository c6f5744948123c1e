"""Integration: configuration checks of overstapd (design.md §7: `overstapd -t -c
FILE` prints every error as FILE:LINE: message), secret key file permissions,
and a daemon that must refuse to start on a bad configuration.

Run: python3 -m unittest -v test_config   (OVERSTAPD / OVERSTAP from the environment)
"""
import os
import re
import subprocess
import unittest

import harness


def overstapd(*args, timeout=30):
    """Run overstapd to completion; a daemon that keeps running is a failure."""
    try:
        return subprocess.run([harness.OVERSTAPD] + list(args), capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise AssertionError("overstapd %s did not exit within %ds (it should have refused)"
                             % (" ".join(args), timeout)) from e


class ConfigTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls._tmp = harness.TempDir()
        cls.root = cls._tmp.__enter__()
        # Key files and a config written by the harness; no daemon is started
        # except where a test says so.
        cls.inst = harness.Institution(cls.root, "12AB00", "Praktijkschool De Brug")
        cls.peer = harness.Institution(cls.root, "25LZ00", "MBO Entree College")
        cls.inst.peers["25LZ00"] = (cls.peer, "tcp://127.0.0.1:7471")
        cls.inst.write_config()

    @classmethod
    def tearDownClass(cls):
        cls._tmp.__exit__(None, None, None)

    def setUp(self):
        with open(self.inst.conf) as f:
            self.good = f.read()
        for name in ("curve.key", "sign.key", "master.key"):
            os.chmod(os.path.join(self.inst.keys, name), 0o600)

    def write(self, name, text):
        path = os.path.join(self.root, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def assert_no_daemon_left(self):
        self.assertFalse(os.path.exists(self.inst.sock), "a control socket was left behind")

    # ------------------------------------------------------------------
    def test_good_config_is_ok(self):
        db = os.path.join(self.root, "fresh", "store.db")
        os.makedirs(os.path.dirname(db), exist_ok=True)
        conf = self.write("good.conf", self.good.replace("path = %s" % self.inst.db,
                                                         "path = %s" % db))
        r = overstapd("-t", "-c", conf)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        first, *fps = r.stdout.splitlines()
        self.assertEqual(first, "%s: configuration OK (1 peer)" % conf)
        self.assertEqual(r.stderr, "")
        # The fingerprints, ours and the peer's, as `keys show` prints them at
        # each end: what two administrators compare over the phone.
        def shown(inst):
            out = subprocess.run([harness.OVERSTAP, "keys", "show", "--dir", inst.keys, "--id",
                                  inst.id, "--endpoint", "tcp://h:1"], capture_output=True,
                                 text=True, check=True).stdout
            return [re.search(r"#   %s +([0-9a-f ]{24})$" % k, out, re.M).group(1)
                    for k in ("curve_public_key", "sign_public_key")]
        for line, inst, label in ((fps[0], self.inst, "this institution"),
                                  (fps[1], self.peer, "MBO Entree College")):
            self.assertEqual(line, "  %s (%s): curve %s, sign %s" % ((inst.id, label) +
                                                                     tuple(shown(inst))))
        # A check only: no store, no socket.
        self.assertEqual(os.listdir(os.path.dirname(db)), [], "overstapd -t created the store")
        self.assert_no_daemon_left()
        # The long options do the same.
        r = overstapd("--test", "--config", conf)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_keys_show_takes_name_keys_and_fingerprints_from_the_config(self):
        """`overstap keys show` as the administrator runs it (issue 15): from
        the config alone, the block carries [institution] name, not a
        placeholder, and the short fingerprints `overstapd -t` prints at the
        other end for this peer."""
        r = subprocess.run([harness.OVERSTAP, "-c", self.inst.conf, "keys", "show",
                            "--endpoint", "tcp://overstap.example:7470"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        block = r.stdout
        self.assertIn("\n[peer 12AB00]\nname = Praktijkschool De Brug\n", block)
        self.assertNotIn("(fill in)", block)
        self.assertIn("\nendpoint = tcp://overstap.example:7470\n", block)
        self.assertIn("curve_public_key = %s\n" % self.inst.curve_pub, block)
        fps = [re.search(r"(?m)^#   %s +([0-9a-f]{4}(?: [0-9a-f]{4}){4})$" % k, block).group(1)
               for k in ("curve_public_key", "sign_public_key")]
        # what overstapd -t prints for us as this institution
        t = overstapd("-t", "-c", self.inst.conf)
        self.assertIn("  12AB00 (this institution): curve %s, sign %s" % tuple(fps),
                      t.stdout.splitlines())

    def several_errors(self):
        """A config with an error on each of several known lines: (path, [(line, regex)])."""
        sign = self.peer.sign_pub
        lines = [
            "[institution]",                           # 1
            "id = 12ab00",                             # 2  lower case
            "name = Praktijkschool De Brug",           # 3
            "keys_dir = %s" % self.inst.keys,          # 4
            "colour = blue",                           # 5  unknown key
            "",                                        # 6
            "[network]",                               # 7
            "listen = udp://127.0.0.1:7470",           # 8  not tcp/ipc
            "heartbeat_ivl_ms = 5000",                 # 9
            "heartbeat_timeout_ms = 1000",             # 10 not above the interval
            "retry_initial_ms = soon",                 # 11 not a number
            "this line has no equals sign",            # 12 syntax
            "",                                        # 13
            "[store]",                                 # 14 path missing
            "",                                        # 15
            "[control]",                               # 16
            "socket = relative/control.sock",          # 17 not absolute
            "",                                        # 18
            "[log]",                                   # 19
            "level = loud",                            # 20 unknown level
            "",                                        # 21
            "[peer 25LZ00]",                           # 22
            "name = MBO Entree College",               # 23
            "endpoint = tcp://127.0.0.1:7471",         # 24
            "curve_public_key = tooshort",             # 25 not a key
            "sign_public_key = %s" % sign,             # 26
            "",                                        # 27
            "[peer 25LZ00]",                           # 28 duplicate
        ]
        expect = [
            (2, r"id: '12ab00' is not an institution id"),
            (5, r"unknown key 'colour' in \[institution\]"),
            (8, r"listen: .*tcp:// or ipc://"),
            (10, r"heartbeat_timeout_ms: must be greater than heartbeat_ivl_ms"),
            (11, r"retry_initial_ms: 'soon' is not an integer"),
            (12, r"syntax error"),
            (14, r"\[store\] path is required"),
            (17, r"socket: .*not an absolute path"),
            (20, r"level: 'loud' is not one of"),
            (25, r"curve_public_key: not a CURVE public key"),
            (28, r"\[peer 25LZ00\] duplicates the section on line 22"),
        ]
        return self.write("several-errors.conf", "\n".join(lines) + "\n"), expect

    def assert_errors(self, r, path, expect):
        got = [l for l in r.stderr.splitlines() if l.startswith(path + ":")]
        for line, msg in expect:
            self.assertTrue(any(re.match(r"%s:%d: %s" % (re.escape(path), line, msg), l) for l in got),
                            "no '%s:%d: %s' in:\n%s" % (path, line, msg, r.stderr))
        # Each error on its own line, in line order, nothing unaccounted for.
        nums = [int(l[len(path) + 1:].split(":", 1)[0]) for l in got]
        self.assertEqual(nums, sorted(nums), "errors not in line order:\n" + r.stderr)
        self.assertEqual(sorted(set(nums)), sorted({l for l, _ in expect}),
                         "unexpected lines reported:\n" + r.stderr)

    def test_several_errors_each_reported_with_file_and_line(self):
        path, expect = self.several_errors()
        r = overstapd("-t", "-c", path)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertNotIn("OK", r.stdout)
        self.assert_errors(r, path, expect)

    def test_start_with_an_invalid_config_exits_with_the_errors(self):
        path, expect = self.several_errors()
        r = overstapd("-c", path)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assert_errors(r, path, expect)
        self.assert_no_daemon_left()

    def test_start_with_an_unreadable_config_exits_with_the_error(self):
        missing = os.path.join(self.root, "no-such.conf")
        for args in (("-c", missing), ("-t", "-c", missing)):
            r = overstapd(*args)
            self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
            self.assertRegex(r.stderr, r"%s: cannot read: No such file or directory"
                             % re.escape(missing))
        r = overstapd("-c", self.root)              # a directory
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertRegex(r.stderr, r"%s: cannot read" % re.escape(self.root))
        if os.geteuid() != 0:                       # root reads mode 000 files anyway
            path = self.write("unreadable.conf", self.good)
            os.chmod(path, 0)
            r = overstapd("-c", path)
            self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
            self.assertRegex(r.stderr, r"%s: cannot read: Permission denied" % re.escape(path))
        r = overstapd("-c", self.write("empty.conf", ""))
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertRegex(r.stderr, r"empty\.conf: \[institution\] id is required")
        self.assert_no_daemon_left()

    def test_secret_key_file_readable_by_group_is_refused(self):
        for name in ("curve.key", "sign.key", "master.key"):
            with self.subTest(key=name):
                key = os.path.join(self.inst.keys, name)
                os.chmod(key, 0o640)
                try:
                    r = overstapd("-t", "-c", self.inst.conf)
                    self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
                    self.assertNotIn("OK", r.stdout)
                    self.assertRegex(r.stderr, r"%s: .*%s.*0640" % (re.escape(self.inst.conf),
                                                                    re.escape(key)))
                    r = overstapd("-c", self.inst.conf)
                    self.assertNotEqual(r.returncode, 0, "overstapd started with %s at 0640" % name)
                    self.assertIn(key, r.stderr)
                    self.assertRegex(r.stderr, r"readable by group or others")
                    self.assert_no_daemon_left()
                finally:
                    os.chmod(key, 0o600)
        r = overstapd("-t", "-c", self.inst.conf)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_missing_keys_and_store_directory_are_reported(self):
        nokeys = self.write("nokeys.conf", self.good.replace(
            "keys_dir = %s" % self.inst.keys, "keys_dir = %s" % os.path.join(self.root, "nokeys")))
        r = overstapd("-t", "-c", nokeys)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertRegex(r.stderr, r"%s: \[institution\] keys_dir: .*nokeys/"
                         % re.escape(nokeys))
        r = overstapd("-c", nokeys)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn(os.path.join(self.root, "nokeys"), r.stderr)

        gone = os.path.join(self.root, "no-such-dir", "store.db")
        nostore = self.write("nostore.conf", self.good.replace(
            "path = %s" % self.inst.db, "path = %s" % gone))
        r = overstapd("-t", "-c", nostore)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertRegex(r.stderr, r"%s: \[store\] path: .*%s" % (re.escape(nostore), re.escape(gone)))
        r = overstapd("-c", nostore)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("cannot open the store", r.stderr)
        self.assert_no_daemon_left()

    def test_a_good_config_starts_and_stops_cleanly(self):
        # The positive control of the refusals above, on the same files.
        inst = self.inst
        try:
            inst.start()
            self.assertEqual(inst.status()["institution"], "12AB00")
        finally:
            rc = inst.stop()
        self.assertEqual(rc, 0, inst.read_log()[-3000:])
        self.assert_no_daemon_left()

    # ---- what `-t` lets through although the daemon then refuses it ----
    def assert_t_reports(self, name, text, line_re, section=None):
        """-t exits 1 and names the file: with the line for what is wrong in
        the file, or with [section] for what is wrong on this machine (a
        missing directory, an unknown group), which no line can show."""
        path = self.write(name, text)
        r = overstapd("-t", "-c", path)
        self.assertEqual(r.returncode, 1, "%s: -t said: %s" % (name, (r.stdout + r.stderr).strip()))
        where = r":\d+:" if section is None else re.escape(": [%s]" % section)
        self.assertRegex(r.stderr, r"%s%s %s" % (re.escape(path), where, line_re))

    def test_t_checks_endpoint_ports(self):
        # Regression (fixed): config.c s_parse_endpoint() only wants something after the
        # last ':'. `-t` says OK to a port "abc" (the daemon then exits with
        # "cannot listen ... Invalid argument", or, in a [peer] endpoint, with
        # "peer 25LZ00: cannot set up") and to port 99999 or 70000, which
        # libzmq silently takes modulo 65536 (listen = ...:99999 binds 34463).
        listen = "listen = %s" % self.inst.listen
        endpoint = "endpoint = tcp://127.0.0.1:7471"
        self.assertIn(listen, self.good)
        self.assertIn(endpoint, self.good)
        for i, (old, new, what) in enumerate([
                (listen, "listen = tcp://127.0.0.1:abc", "listen"),
                (listen, "listen = tcp://127.0.0.1:99999", "listen"),
                (endpoint, "endpoint = tcp://127.0.0.1:abc", "endpoint"),
                (endpoint, "endpoint = tcp://127.0.0.1:70000", "endpoint")]):
            with self.subTest(new):
                self.assert_t_reports("port-%d.conf" % i, self.good.replace(old, new), what + ":")

    def test_t_checks_the_control_socket(self):
        # Regression: `-t` said OK and the daemon then exited: "cannot bind the
        # control socket ...: No such file or directory" / "cannot give it to group".
        sock = "socket = %s" % self.inst.sock
        self.assertIn(sock, self.good)
        for i, new in enumerate(["socket = %s" % os.path.join(self.root, "no-dir", "c.sock"),
                                 sock + "\ngroup = no-such-group-overstap"]):
            with self.subTest(new):
                self.assert_t_reports("control-%d.conf" % i, self.good.replace(sock, new),
                                      "(socket|group):", section="control")

    def test_t_warns_about_a_closed_rollover_window(self):
        sign = [l for l in self.good.splitlines() if l.startswith("sign_public_key")][0]
        other = harness.Institution(self.root, "30XY01", "Other")
        extra = "\ncurve_public_key_next = %s\nsign_public_key_next = %s\n" % (
            other.curve_pub, other.sign_pub)
        db = os.path.join(self.root, "fresh", "store.db")
        os.makedirs(os.path.dirname(db), exist_ok=True)
        base = re.sub(r"(?m)^path = .*$", "path = %s" % db, self.good)
        for until, warned in (("2001-01-01", True), ("2999-01-01T00:00:00Z", False)):
            with self.subTest(until):
                path = self.write("roll-%s.conf" % until[:4], base.replace(
                    sign, sign + extra + "rollover_until = %s" % until))
                r = overstapd("-t", "-c", path)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertEqual("rollover window closed" in r.stderr, warned, r.stderr)
                if warned:
                    self.assertRegex(r.stderr, re.escape(path) + r":\d+: warning: \[peer 25LZ00\]")


if __name__ == "__main__":
    unittest.main()
