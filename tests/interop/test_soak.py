"""Soak (issue 11): a real transfer between two real daemons while three
attacks run at once, bounded in time (OVERSTAP_SOAK_S, default 60 s; set it
higher for a longer run):

- a connection flood: half-open TCP connections to the MBO's listen port (the
  first 10 bytes of a ZMTP greeting, then silence) from many loopback
  addresses (127.0.0.2 ...), renewed as the daemon closes them, against an
  MBO whose descriptor limit (soft and hard: OVERSTAP_SOAK_NOFILE, default
  2400, about what the default max_connections needs) the flood
  (OVERSTAP_SOAK_FLOOD, default twice that) goes far above;
- a registration probe: a configured Python peer of the school sends signed
  Registrations for random BSNs as fast as it is answered;
- a quota-breaking peer: a configured Python peer of the MBO sends dossiers
  past `max_messages_per_peer_per_hour`.

It asserts what the issue asks: nothing of the real transfer is lost (every
dossier delivered and in the MBO's inbox, exactly once), every probe gets the
same answer, the greedy peer is refused for now (LATER) past its quota, both
daemons stay alive, answer `status` and stop cleanly. It prints the figures:
dossiers, the real peer's ack latency (first send to ack, from the school's
outbox) p50/p99/max, probes answered, greedy messages accepted and refused,
flood connections opened.

Run: OVERSTAPD=... OVERSTAP=... OVERSTAP_GEN=.../gen /usr/bin/python3 -m unittest -v test_soak
"""
import os
import random
import resource
import socket
import sqlite3
import sys
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import test_interop as ti  # noqa: E402  (sets sys.path)
from test_interop import harness, peer, pb  # noqa: E402

import zmq  # noqa: E402

SOAK_S = float(os.environ.get("OVERSTAP_SOAK_S", "60"))
NOFILE = int(os.environ.get("OVERSTAP_SOAK_NOFILE", "2400"))
FLOOD = int(os.environ.get("OVERSTAP_SOAK_FLOOD", str(2 * NOFILE)))  # half-open connections
# messages per peer per hour at the MBO: room for the real transfer (a round
# every 5 s at most), which the greedy peer goes past
QUOTA = max(150, int(SOAK_S * 2.5))
BATCH = 10                      # dossiers per round of the real transfer
ZMTP_GREETING_START = b"\xff" + b"\0" * 8 + b"\x7f"


def percentile(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))] if v else 0


class Flood(threading.Thread):
    """Keeps up to `n` half-open connections to host:port open, from SOURCES
    loopback addresses in turn (never the real peer's 127.0.0.1)."""
    SOURCES = 100

    def __init__(self, host, port, n):
        super().__init__(daemon=True)
        self.addr, self.n = (host, port), n
        self.next_source = 0
        self.stop = threading.Event()
        self.opened = 0
        self.refused = 0

    def run(self):
        socks = []
        while not self.stop.is_set():
            # drop the ones the daemon closed
            alive = []
            for s in socks:
                try:
                    if s.recv(64, socket.MSG_DONTWAIT) == b"":
                        s.close()
                        continue
                except BlockingIOError:
                    pass
                except OSError:
                    s.close()
                    continue
                alive.append(s)
            socks = alive
            while len(socks) < self.n and not self.stop.is_set():
                s = socket.socket()
                s.settimeout(1.0)
                self.next_source = (self.next_source + 1) % self.SOURCES
                try:
                    s.bind(("127.0.0.%d" % (2 + self.next_source), 0))
                    s.connect(self.addr)
                    s.sendall(ZMTP_GREETING_START)
                except OSError:
                    self.refused += 1
                    s.close()
                    break
                s.setblocking(False)
                socks.append(s)
                self.opened += 1
            self.stop.wait(0.2)
        for s in socks:
            s.close()


class Prober(threading.Thread):
    """A configured peer of the school asking about random BSNs."""

    def __init__(self, ctx, ident, school):
        super().__init__(daemon=True)
        self.ctx, self.who, self.school = ctx, ident, school
        self.stop = threading.Event()
        self.answers = {}
        self.sent = 0

    def run(self):
        conn = self.who.connect(self.ctx, self.school.endpoint, self.school.curve_pub)
        rng = random.Random(11)
        try:
            while not self.stop.is_set():
                env = self.who.envelope(self.school.id, pb.Registration(
                    pgn=harness.bsn(rng), registered_on="2025-06-01"), body_name="registration")
                conn.send(env)
                self.sent += 1
                frames = conn.recv(5)
                if frames is None:
                    continue
                ack = peer.parse_ack(frames, self.school.id, self.who.id, self.school.sign_pub)
                key = (ack.result, ack.reason)
                self.answers[key] = self.answers.get(key, 0) + 1
        finally:
            conn.close()


class Greedy(threading.Thread):
    """A configured peer of the MBO sending dossiers past its quota."""

    def __init__(self, ctx, ident, mbo):
        super().__init__(daemon=True)
        self.ctx, self.who, self.mbo = ctx, ident, mbo
        self.stop = threading.Event()
        self.accepted = 0
        self.later = 0
        self.other = []

    def run(self):
        conn = self.who.connect(self.ctx, self.mbo.endpoint, self.mbo.curve_pub)
        try:
            while not self.stop.is_set():
                env = self.who.envelope(self.mbo.id, peer.handover())
                conn.send(env)
                frames = conn.recv(5)
                if frames is None:
                    continue
                ack = peer.parse_ack(frames, self.mbo.id, self.who.id, self.mbo.sign_pub)
                if ack.result == pb.Ack.ACCEPTED:
                    self.accepted += 1
                elif ack.disposition == pb.Ack.LATER:
                    self.later += 1
                    self.stop.wait(0.01)
                else:
                    self.other.append(ack.reason)
        finally:
            conn.close()


class SoakTest(harness.DaemonTestCase):
    """The temp dir and the daemons (killed if still running) come from
    harness.DaemonTestCase; the Python peers get a zmq context."""

    def setUp(self):
        super().setUp()
        self.ctx = zmq.Context()
        self.addCleanup(self.ctx.term)

    def start_mbo_low_nofile(self, mbo):
        """The MBO with a low descriptor limit (soft and hard: the daemon
        raises the soft one to the hard one), so the flood goes far above it."""
        def limit():
            resource.setrlimit(resource.RLIMIT_NOFILE, (NOFILE, NOFILE))
        mbo.start(preexec_fn=limit)

    def test_transfer_survives_flood_probe_and_greedy_peer(self):
        school = harness.Institution(self.root, "12AB00", "Praktijkschool De Brug")
        mbo = harness.Institution(self.root, "25LZ00", "MBO Entree College",
                                  max_messages_per_peer_per_hour=QUOTA)
        prober_id, greedy_id = peer.Identity("33CC00"), peer.Identity("44DD00")
        self.insts += [school, mbo]
        school.add_peer(prober_id, send=False)
        mbo.add_peer(greedy_id, send=False)
        school.start()
        self.start_mbo_low_nofile(mbo)
        school.add_peer(mbo, send=False)
        mbo.add_peer(school, send=False)
        school.add_peer(mbo, send=True)

        host, port = mbo.endpoint[len("tcp://"):].rsplit(":", 1)
        flood = Flood(host, int(port), FLOOD)
        prober = Prober(self.ctx, prober_id, school)
        greedy = Greedy(self.ctx, greedy_id, mbo)
        for t in (flood, prober, greedy):
            t.start()

        # The real transfer, in rounds, for as long as the soak lasts; it
        # stays under the quota the greedy peer breaks.
        sent, rnd, t_end = [], 0, time.monotonic() + SOAK_S
        try:
            while time.monotonic() < t_end and len(sent) + BATCH <= QUOTA - 10:
                rnd += 1
                path = os.path.join(self.root, "r%d.csv" % rnd)
                rows = harness.leavers_csv(path, BATCH, prefix="R%03d" % rnd, seed=rnd)
                school.cli("import", "leavers", path)
                harness.hand_over(school, rows)
                sent += [r["pupil_ref"] for r in rows]
                self.assertEqual(mbo.status()["institution"], mbo.id)  # control answers
                time.sleep(max(0.0, min(SOAK_S / 12.0, 5.0, t_end - time.monotonic())))
            while time.monotonic() < t_end:   # attacks go on to the end
                self.assertIsNone(mbo.proc.poll(), "the MBO died:\n" + mbo.read_log()[-3000:])
                time.sleep(1)
            # Every dossier of the real peer delivered, during the attacks.
            harness.wait_for(lambda: all(r["state"] == "delivered"
                                         for r in school.cli_json("handover", "list")),
                             timeout=60, what="every dossier delivered during the attacks")
        finally:
            for t in (flood, prober, greedy):
                t.stop.set()
            for t in (flood, prober, greedy):
                t.join(10)

        for inst in (school, mbo):
            self.assertIsNone(inst.proc.poll(), "%s died:\n%s" % (inst.id, inst.read_log()[-3000:]))
            self.assertEqual(inst.status()["institution"], inst.id)
        refused_conns = mbo.status().get("connections_refused", 0)
        self.assertGreater(refused_conns, 0, "the flood never reached a cap")
        inbox = mbo.cli_json("inbox", "list")
        from_school = [r for r in inbox if r["sender"] == school.id]
        self.assertEqual(len(from_school), len(sent), "dossiers lost or duplicated")
        self.assertEqual(len({r["record_id"] for r in from_school}), len(sent))
        # The probe learned nothing: the same refusal whatever the BSN (past
        # the school's message quota, the quota's refusal: for every BSN alike).
        quota = "quota: too many messages from this peer in the last hour"
        self.assertTrue(prober.answers)
        self.assertLessEqual(set(prober.answers), {(pb.Ack.REJECTED, "registration not accepted"),
                                                   (pb.Ack.REJECTED, quota)}, prober.answers)
        # The greedy peer got its quota's worth (less what checkpoints and
        # hellos took) and then only "later".
        self.assertLessEqual(greedy.accepted, QUOTA)
        self.assertGreater(greedy.later, 0)
        self.assertEqual(greedy.other, [])
        st = mbo.peer_status(greedy_id.id)
        self.assertGreater(st["quota_refused"], 0)

        with sqlite3.connect("file:%s?mode=ro" % school.db, uri=True) as db:
            lat = [a - f for a, f in db.execute(
                "SELECT acked_at, first_sent_at FROM outbox WHERE state = 1 AND body_case = 11")]
        self.assertEqual(len(lat), len(sent))
        for inst in (school, mbo):
            self.assertEqual(inst.stop(), 0, "%s did not stop cleanly:\n%s"
                             % (inst.id, inst.read_log()[-3000:]))
        print("\nsoak %.0f s: %d dossiers, 0 lost; ack latency p50 %d ms, p99 %d ms, max %d ms; "
              "%d probes answered alike %s; greedy peer %d accepted, %d refused for now; "
              "flood opened %d half-open connections (%d connects failed, %d shut down by "
              "the caps) against RLIMIT_NOFILE %d\n"
              "(rerun: OVERSTAP_SOAK_S=%d OVERSTAP_SOAK_NOFILE=%d ctest -R soak -V)"
              % (SOAK_S, len(sent), percentile(lat, 50), percentile(lat, 99), max(lat),
                 sum(prober.answers.values()), sorted(r for _, r in prober.answers),
                 greedy.accepted, greedy.later, flood.opened, flood.refused, refused_conns,
                 NOFILE, SOAK_S, NOFILE), file=sys.stderr)


if __name__ == "__main__":
    unittest.main()
