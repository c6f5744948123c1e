"""Integration: the systemd notification protocol (Type=notify, design.md §7).

systemd hands the daemon a datagram socket in NOTIFY_SOCKET; we play systemd
here with our own socket and check what overstapd tells it: READY=1 only once
the network port is bound and the control socket answers, WATCHDOG=1 pings at
about half of WATCHDOG_USEC, RELOADING=1 then READY=1 around a SIGHUP reload
(also a failed one), and STOPPING=1 on SIGTERM.

Run: python3 -m unittest -v test_notify   (OVERSTAPD / OVERSTAP from the environment)
"""
import os
import signal
import socket
import subprocess
import threading
import time

import harness


class NotifySocket:
    """The manager's end of NOTIFY_SOCKET: collects every datagram with the
    monotonic time it arrived."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(0.05)
        self.got = []          # (time, {key: value})
        self.lock = threading.Lock()
        self.running = True
        # A reader thread stamps each datagram when it arrives, so the gaps
        # between watchdog pings are measured, not the gaps between our reads.
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        while self.running:
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            fields = dict(line.split("=", 1) for line in data.decode().split("\n") if "=" in line)
            with self.lock:
                self.got.append((time.monotonic(), fields))

    def drain(self):
        time.sleep(0.06)       # let the reader take what is already queued

    def wait(self, key, value=None, after=0, timeout=15):
        """The first message at or after index `after` that sets key (to value)."""
        def found():
            with self.lock:
                got = list(self.got)
            for i in range(after, len(got)):
                v = got[i][1].get(key)
                if v is not None and (value is None or v == value):
                    return i + 1
            return None
        return harness.wait_for(found, timeout=timeout, what="%s=%s" % (key, value or "*"))

    def close(self):
        self.running = False
        self.thread.join(2)
        self.sock.close()


class NotifyTest(harness.DaemonTestCase):

    def setUp(self):
        super().setUp()
        self.inst = harness.Institution(self.root, "12AB00", "Praktijkschool De Brug")
        self.insts.append(self.inst)
        self.ns = NotifySocket(os.path.join(self.root, "notify.sock"))

    def tearDown(self):
        self.ns.close()
        super().tearDown()

    def start(self, watchdog_usec=None):
        env = dict(os.environ, NOTIFY_SOCKET=self.ns.path)
        if watchdog_usec:
            env["WATCHDOG_USEC"] = str(watchdog_usec)
        self.inst.log = open(self.inst.logpath, "a")
        self.inst.proc = subprocess.Popen([harness.OVERSTAPD, "-c", self.inst.conf],
                                          stdout=self.inst.log, stderr=subprocess.STDOUT, env=env)

    def test_ready_only_when_serving(self):
        self.start()
        self.ns.wait("READY", "1")
        # At READY=1 a manager starts dependents at once: the control socket
        # must answer and the network port must already be bound.
        st = self.inst.cli_json("status")
        host, port = st["listen"].rsplit(":", 1)
        with socket.create_connection(("127.0.0.1", int(port)), timeout=5):
            pass
        self.assertIn("STATUS", {k for _, f in self.ns.got for k in f},
                      "no STATUS= line for systemctl status")

    def test_not_ready_when_start_fails(self):
        os.chmod(os.path.join(self.inst.keys, "curve.key"), 0o644)   # refused at start
        self.start()
        rc = self.inst.proc.wait(30)
        self.inst.proc = None
        self.inst.log.close()
        self.assertNotEqual(rc, 0)
        self.ns.drain()
        self.assertFalse([f for _, f in self.ns.got if f.get("READY") == "1"],
                         "READY=1 sent by a daemon that could not start")

    def test_watchdog_pings_at_half_the_interval(self):
        # 2 s: pings expected about every second. systemd acts when a whole
        # interval passes without one, so that is what must never happen,
        # even on a loaded machine; the count shows they are not sparse.
        self.start(watchdog_usec=2000000)
        self.ns.wait("READY", "1")
        time.sleep(4.5)
        self.ns.drain()
        pings = [t for t, f in self.ns.got if f.get("WATCHDOG") == "1"]
        self.assertGreaterEqual(len(pings), 3, "too few watchdog pings in 4.5 s")
        gaps = [b - a for a, b in zip(pings, pings[1:])]
        self.assertLess(max(gaps), 2.0, "a watchdog gap reached the whole interval: %r" % gaps)

    def test_watchdog_pinged_through_a_long_import(self):
        # The apply of a leavers import runs in one turn of the loop: at a
        # million rows about a minute, and systemd (WatchdogSec=30s) killed
        # the daemon in the middle of it. The apply says it gets on
        # (watchdog.h): with a 2 s watchdog and an apply of some seconds, no
        # gap may reach the interval, STATUS= says how far the import is,
        # and the daemon's own line comes back once it is done.
        n = 100000
        path = os.path.join(self.root, "leavers.csv")
        harness.leavers_csv(path, n)
        self.start(watchdog_usec=2000000)
        self.ns.wait("READY", "1")
        t0 = time.monotonic()
        r = self.inst.cli("import", "leavers", path, timeout=900)
        t1 = time.monotonic()
        self.assertIn(str(n), r.stdout)

        def own_line_back():
            with self.ns.lock:
                lines = [f["STATUS"] for _, f in self.ns.got if "STATUS" in f]
            return lines and "peers connected" in lines[-1]
        # at once, not at the loop's next 10 s refresh
        harness.wait_for(own_line_back, timeout=5, what="the daemon's own STATUS= line back")
        self.ns.drain()
        with self.ns.lock:
            got = list(self.ns.got)
        pings = [t for t, f in got if f.get("WATCHDOG") == "1" and t0 - 1 <= t <= t1 + 1]
        gaps = [b - a for a, b in zip(pings, pings[1:])]
        self.assertGreaterEqual(len(pings), 2, "no watchdog pings during the import")
        self.assertLess(max(gaps), 2.0, "a watchdog gap reached the whole interval "
                        "during a %.1f s import: longest %.2f s" % (t1 - t0, max(gaps)))
        progress = [f["STATUS"] for _, f in got
                    if f.get("STATUS", "").startswith("importing leavers: ")]
        self.assertTrue(progress, "no progress in STATUS= during the import")
        self.assertRegex(progress[-1], r"^importing leavers: \d+ of %d$" % n)

    def test_no_watchdog_unless_asked(self):
        self.start()
        self.ns.wait("READY", "1")
        time.sleep(1.0)
        self.ns.drain()
        self.assertFalse([f for _, f in self.ns.got if "WATCHDOG" in f])

    def test_reload_and_stop(self):
        self.start()
        n = self.ns.wait("READY", "1")
        self.inst.proc.send_signal(signal.SIGHUP)
        n = self.ns.wait("RELOADING", "1", after=n)
        n = self.ns.wait("READY", "1", after=n)
        # A reload that fails keeps the daemon running, and systemd must still
        # get READY=1 or `systemctl reload` would hang.
        with open(self.inst.conf, "a") as f:
            f.write("\n[network]\nbogus = 1\n")
        self.inst.proc.send_signal(signal.SIGHUP)
        n = self.ns.wait("RELOADING", "1", after=n)
        n = self.ns.wait("READY", "1", after=n)
        self.assertIsNone(self.inst.proc.poll(), "daemon died on a bad reload")
        self.assertEqual(self.inst.stop(), 0)
        self.ns.wait("STOPPING", "1", after=n)


if __name__ == "__main__":
    import unittest
    unittest.main()
