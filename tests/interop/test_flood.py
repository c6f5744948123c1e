"""Connection flood (issue 11 item 1, design.md §4.1 "Admission"): a keyless
attacker opens TCP connections to the listen port, sends the first 10 bytes of
a ZMTP greeting and goes quiet. Such a connection never reaches ZAP. Before
the fix one process used up the daemon's descriptors; the real peer stopped
getting acks and the next control request aborted the daemon inside libzmq
(`Too many open files (src/ipc_listener.cpp:325)`).

Here the daemon runs with a low RLIMIT_NOFILE (set in the child, so the test
is fast) and small admission limits; the test opens more half-open
connections than the daemon has descriptors, from many loopback addresses,
while a configured peer keeps delivering. It requires: every delivery acked
within a few seconds, `overstap status` answering throughout, the refusals
counted (and logged in aggregate), the half-open connections that were
admitted closed by the handshake timeout, a new connection served after the
flood, and (tearDown) a clean SIGTERM exit 0.

Run with Debian's system python3 from this directory:
    OVERSTAPD=... OVERSTAP=... OVERSTAP_GEN=.../gen /usr/bin/python3 -m unittest -v test_flood
"""
import json
import os
import resource
import socket
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import test_interop as ti  # noqa: E402  (the daemon fixture; also sets sys.path)
from test_interop import harness  # noqa: E402

FD_LIMIT = 1400          # the daemon's RLIMIT_NOFILE, soft and hard
MAX_CONN = 100           # [network] max_connections
MAX_PER_SOURCE = 20      # [network] max_connections_per_source
HANDSHAKE_MS = 2000      # [network] handshake_timeout_ms
FLOOD = FD_LIMIT + 300   # half-open connections opened in all: more than the daemon has fds
SOURCES = 30             # loopback addresses the flood comes from (127.0.0.2 ...)
ACK_WITHIN = 5.0         # seconds the real peer may wait for an ack during the flood

# ZMTP 3 greeting: signature (0xFF, 8 bytes, 0x7F) is its first 10 bytes.
GREETING_START = b"\xff" + b"\0" * 8 + b"\x7f"


def _limit_fds():
    resource.setrlimit(resource.RLIMIT_NOFILE, (FD_LIMIT, FD_LIMIT))


def half_open(port, source):
    """A TCP connection from `source` that sends the greeting's start and
    then nothing; None when the connection could not be made."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind((source, 0))
        s.settimeout(0.5)
        s.connect(("127.0.0.1", port))
        s.sendall(GREETING_START)
        return s
    except OSError:
        s.close()
        return None


class FloodTest(ti.DaemonCase):
    daemon_net = {"max_connections": MAX_CONN, "max_connections_per_source": MAX_PER_SOURCE,
                  "handshake_timeout_ms": HANDSHAKE_MS}
    daemon_start = {"preexec_fn": _limit_fds}

    @classmethod
    def setUpClass(cls):
        # This process holds every flood socket at once.
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        need = FLOOD + 200
        if hard != resource.RLIM_INFINITY and hard < need:
            raise AssertionError("the test needs RLIMIT_NOFILE >= %d (hard limit is %d)" % (need, hard))
        if soft != resource.RLIM_INFINITY and soft < need:
            resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))

    def setUp(self):
        super().setUp()
        self.flood = []
        self.addCleanup(self._close_flood)
        self.latencies = []

    def _close_flood(self):
        for s in self.flood:
            s.close()
        self.flood = []

    def port(self):
        return int(self.daemon.endpoint.rsplit(":", 1)[1])

    def timed_delivery(self, conn):
        """One handover on the established connection; its ack within ACK_WITHIN."""
        env = self.envelope()
        t0 = time.monotonic()
        conn.send(env)
        self.assert_accepted_within(conn, env)
        self.latencies.append(time.monotonic() - t0)

    def assert_accepted_within(self, conn, env):
        frames = conn.recv(ACK_WITHIN)
        self.assertIsNotNone(frames, "no ack within %.0fs during the flood (daemon %s)\n%s" % (
            ACK_WITHIN, "alive" if self.daemon.proc.poll() is None else "dead", self.log_tail()))
        ack = ti.peer.parse_ack(frames, ti.RECEIVER_ID, ti.PEER_ID, self.daemon.sign_pub)
        self.assertEqual((ack.result, list(ack.message_ids)), (ti.ACCEPTED, [env.message_id]))

    def wave(self, n, sources):
        made = 0
        for i in range(n):
            s = half_open(self.port(), "127.0.0.%d" % (2 + i % sources))
            if s is not None:
                self.flood.append(s)
                made += 1
        return made

    def alive_status(self, what):
        self.assertIsNone(self.daemon.proc.poll(), "overstapd died %s:\n%s" % (what, self.log_tail()))
        r = self.daemon.cli("status", "--json", check=False, timeout=15)
        self.assertEqual(r.returncode, 0, "status failed %s: %s\n%s" % (what, r.stderr, self.log_tail()))
        return json.loads(r.stdout)

    def test_half_open_flood(self):
        conn = self.connect()
        self.timed_delivery(conn)       # the real peer is connected and admitted

        # One source first: the per-source cap holds it to MAX_PER_SOURCE.
        t0 = time.monotonic()
        made = self.wave(3 * MAX_PER_SOURCE, 1)
        self.timed_delivery(conn)
        st = harness.wait_for(
            lambda: (lambda s: s["connections_refused"] >= made - MAX_PER_SOURCE and s)(self.alive_status("")),
            timeout=10, what="the single source's surplus to be refused")
        self.assertLessEqual(st["connections"], MAX_PER_SOURCE + 1)   # + the real peer

        # Then from many sources, more connections than the daemon has fds,
        # while the real peer keeps delivering and status keeps answering.
        opened = made
        while opened < FLOOD:
            opened += self.wave(200, SOURCES)
            self.timed_delivery(conn)
            st = self.alive_status("during the flood (%d half-open connections opened)" % opened)
            self.assertLessEqual(st["connections"], MAX_CONN)
        self.assertGreaterEqual(opened, FLOOD - 50, "the flood could not open its connections")
        st = self.alive_status("after the flood")
        refused = st["connections_refused"]
        # Admitted half-open connections are closed by the handshake timeout,
        # which frees each slot at most once per handshake_timeout_ms during
        # the flood; everything else is refused.
        slots = MAX_CONN * (2 + int((time.monotonic() - t0) * 1000 / HANDSHAKE_MS))
        self.assertGreaterEqual(refused, opened - slots,
                                "refused %d of %d half-open connections" % (refused, opened))

        # The admitted ones time out (handshake_timeout_ms): only the peer is left.
        st = harness.wait_for(lambda: (lambda s: s["connections"] == 1 and s)(self.alive_status("")),
                              timeout=3 * HANDSHAKE_MS / 1000 + 5,
                              what="the half-open connections to time out")
        # Another wave after the timeouts is admitted up to the cap again and
        # refused beyond it: the counts came back down.
        second = self.wave(2 * MAX_CONN, SOURCES)
        self.timed_delivery(conn)
        st = self.alive_status("after the second flood")
        self.assertGreater(st["connections_refused"], refused)
        self._close_flood()

        # A new connection is served once the attacker is gone.
        harness.wait_for(lambda: self.alive_status("")["connections"] <= 1, timeout=10,
                         what="the flood's connections to be gone")
        self.deliver()
        # Refusals are logged in aggregate, not once per connection.
        lines = [l for l in self.daemon.read_log().splitlines() if "refused" in l and "connection" in l]
        self.assertGreater(len(lines), 0, "the refusals are not logged at all")
        self.assertLess(len(lines), 20, "%d log lines about refused connections" % len(lines))
        sys.stderr.write("\nflood: %d half-open connections opened, %d refused; ack latency max %.3fs, "
                         "mean %.3fs over %d deliveries\n" % (
                             opened + second, st["connections_refused"], max(self.latencies),
                             sum(self.latencies) / len(self.latencies), len(self.latencies)))


class BudgetTest(unittest.TestCase):
    """A max_connections the descriptor limit cannot carry (with what the
    daemon keeps for itself) is refused at start, naming what to change."""

    def test_refused_at_start(self):
        with harness.TempDir() as root:
            inst = harness.Institution(root, ti.RECEIVER_ID, "MBO", max_connections=1000)
            self.addCleanup(inst.kill)   # whatever fails below, no daemon is left running
            with self.assertRaises(AssertionError) as cm:
                inst.start(preexec_fn=_limit_fds)
            inst.proc = None
            inst.log.close()
            self.assertIn("exited with", str(cm.exception))
            self.assertIn("max_connections = 1000 does not fit the file descriptor limit %d" % FD_LIMIT,
                          inst.read_log())
            self.assertIn("Lower max_connections to", inst.read_log())
            # within the budget it starts
            inst.net["max_connections"] = 100
            inst.write_config()
            inst.start(preexec_fn=_limit_fds)
            # a reload to a value that does not fit is refused; it keeps running
            inst.net["max_connections"] = 1000
            inst.write_config()
            inst.reload()
            harness.wait_for(lambda: "reload failed: [network] max_connections does not fit" in inst.read_log(),
                             timeout=10, what="the reload to be refused")
            self.assertEqual(inst.status()["institution"], ti.RECEIVER_ID)
            self.assertEqual(inst.stop(), 0)


if __name__ == "__main__":
    unittest.main()
