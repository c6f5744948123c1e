"""Integration: key rollover without downtime, and a peer with a wrong key.

Rollover (issue 5): the school runs `overstap keys rotate`, the MBO adds the
printed lines to its [peer] section and reloads, the school runs `keys
activate` and reloads. Dossiers must flow before, during and after the window;
once the window has closed the school's old keys are refused: a connection
with the old CURVE key and a message signed with the old signing key.

Wrong key: an MBO that holds a wrong CURVE key for the school refuses it; the
school's status counts the failed handshakes and spaces its attempts out.

Run: python3 -m unittest -v test_rollover   (OVERSTAPD / OVERSTAP from the environment)
"""
import base64
import json
import os
import shutil
import sys
import time

import harness
from harness import wait_for

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "interop"))
import peer  # noqa: E402  (the independent Python peer)
import zmq  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402

SCHOOL, MBO = "12AB00", "25LZ00"


def utc(ts):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def key_identity(iid, keys_dir, curve="curve", sign="sign"):
    """A peer.Identity speaking with key files of a real institution."""
    ident = peer.Identity(iid)
    with open(os.path.join(keys_dir, curve + ".pub")) as f:
        ident.curve_pub = f.read().strip()
    with open(os.path.join(keys_dir, curve + ".key")) as f:
        ident.curve_secret = f.read().strip()
    with open(os.path.join(keys_dir, sign + ".key")) as f:
        ident.sign_key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(f.read().strip()))
    return ident


class RolloverTest(harness.DaemonTestCase):

    def batch(self, school, mbo, prefix, n=5):
        """Import and hand over n new leavers; wait until the MBO holds them."""
        before = mbo.status()["inbox_total"]
        path = os.path.join(self.root, prefix + ".csv")
        rows = harness.leavers_csv(path, n, dest=MBO, seed=len(prefix) * 7 + ord(prefix[0]),
                                   prefix=prefix)
        school.cli("import", "leavers", path)
        harness.hand_over(school, rows)
        wait_for(lambda: mbo.status()["inbox_total"] == before + n, timeout=30,
                 what="batch %s at the MBO" % prefix)
        delivered = [o for o in school.cli_json("handover", "list", "--state", "delivered")
                     if o["pupil_ref"].startswith(prefix)]
        self.assertEqual(len(delivered), n, "batch %s not acknowledged" % prefix)

    def test_rollover_before_during_after(self):
        school, mbo = harness.federation(self.root, SCHOOL, MBO)
        self.insts += [school, mbo]
        self.batch(school, mbo, "A")                       # before

        # 1. The school starts a rollover and hands the printed lines over.
        out = school.cli("keys", "rotate", "--dir", school.keys, "--id", SCHOOL).stdout
        lines = {l.split(" = ")[0]: l.split(" = ")[1] for l in out.splitlines()
                 if " = " in l and not l.startswith("#")}
        self.assertEqual(set(lines), {"curve_public_key_next", "sign_public_key_next",
                                      "rollover_until"}, out)
        with open(os.path.join(school.keys, "curve.next.pub")) as f:
            self.assertEqual(lines["curve_public_key_next"], f.read().strip())
        # The window the CLI proposes is about two weeks; the test ends it sooner.
        self.assertGreater(time.mktime(time.strptime(lines["rollover_until"], "%Y-%m-%dT%H:%M:%SZ")),
                           time.time() + 13 * 86400)
        r = school.cli("keys", "rotate", "--dir", school.keys, "--id", SCHOOL, check=False)
        self.assertEqual(r.returncode, 1, "a second rotate must not replace the next keys")
        self.assertIn("already under way", r.stderr)
        old_keys = os.path.join(self.root, "old-keys")
        shutil.copytree(school.keys, old_keys)

        # 2. The MBO admits both key pairs for the window.
        mbo.peer_extra[SCHOOL] = ["%s = %s" % kv for kv in sorted(lines.items())]
        mbo.write_config()
        mbo.reload()
        wait_for(lambda: mbo.peer_status(SCHOOL).get("rollover"), timeout=10,
                 what="the MBO to know of the rollover")
        st = mbo.peer_status(SCHOOL)["rollover"]
        self.assertTrue(st["old_keys_admitted"])
        self.assertFalse(st["seen_next_key"])
        self.batch(school, mbo, "B")                       # during, old keys

        # 3. The school switches to its new keys; nothing is restarted.
        school.cli("keys", "activate", "--dir", school.keys)
        self.assertFalse(os.path.exists(os.path.join(school.keys, "curve.next.key")))
        school.reload()
        wait_for(lambda: "own keys changed" in school.read_log(), timeout=10,
                 what="the school to use its new keys")
        self.batch(school, mbo, "C")                       # during, new keys
        self.assertTrue(mbo.peer_status(SCHOOL)["rollover"]["seen_next_key"])
        # The MBO's own connection to the school's new server key comes back too.
        wait_for(lambda: school.peer_status(MBO)["connected"] and
                 mbo.peer_status(SCHOOL)["connected"], timeout=20,
                 what="both directions connected after the switch")

        # 4. The window closes (shortened by the MBO's administrator).
        close_at = time.time() + 3
        mbo.peer_extra[SCHOOL] = [l for l in mbo.peer_extra[SCHOOL]
                                  if not l.startswith("rollover_until")]
        mbo.peer_extra[SCHOOL].append("rollover_until = %s" % utc(close_at))
        mbo.write_config()
        mbo.reload()
        wait_for(lambda: "window closed" in mbo.read_log(), timeout=15,
                 what="the MBO to close the rollover window")
        self.assertFalse(mbo.peer_status(SCHOOL)["rollover"]["old_keys_admitted"])
        self.batch(school, mbo, "D")                       # after
        # Issue 16 item 6: the reload did not make the new key "not seen yet".
        self.assertTrue(mbo.peer_status(SCHOOL)["rollover"]["seen_next_key"])

        # 5. The old keys are refused now.
        ctx = zmq.Context()
        try:
            old = key_identity(SCHOOL, old_keys)
            refused_before = mbo.status()["rejected_total"]
            c = old.connect(ctx, mbo.endpoint, mbo.curve_pub)
            c.send(old.envelope(MBO, peer.handover(record_id=peer.uuid7())))
            self.assertIsNone(c.recv(timeout=2), "the MBO answered a connection with the old key")
            c.close()
            wait_for(lambda: any("old CURVE key after its rollover window" in x
                                 for x in mbo.status()["rejected_reasons"]), timeout=10,
                     what="the old CURVE key to be refused and counted")
            # New CURVE key, old signing key: the message is dropped unanswered.
            mixed = key_identity(SCHOOL, school.keys)
            mixed.sign_key = key_identity(SCHOOL, old_keys).sign_key
            c = mixed.connect(ctx, mbo.endpoint, mbo.curve_pub)
            c.send(mixed.envelope(MBO, peer.handover(record_id=peer.uuid7())))
            self.assertIsNone(c.recv(timeout=2), "a message signed with the old key was answered")
            c.close()
            wait_for(lambda: any(x.startswith("signature does not verify")
                                 for x in mbo.status()["rejected_reasons"]), timeout=10,
                     what="the old signature to be refused")
            self.assertGreater(mbo.status()["rejected_total"], refused_before)
        finally:
            ctx.term()
        self.assertEqual(mbo.status()["inbox_total"], 20)
        # Every step is in the audit logs, in order.
        acts = [(e["action"], e["counterpart"]) for e in
                map(json.loads, mbo.cli("audit", "export").stdout.splitlines())
                if e["action"].startswith("key.")]
        self.assertEqual([a for a in acts if a[1] == SCHOOL][:1], [("key.peer_rollover", SCHOOL)])
        names = [a[0] for a in acts]
        self.assertLess(names.index("key.peer_new_seen"), names.index("key.peer_old_refused"))
        school_acts = [json.loads(l)["action"] for l in
                       school.cli("audit", "export").stdout.splitlines()]
        self.assertEqual(school_acts.count("key.activated"), 1)
        self.assertEqual(school.cli_json("audit", "verify")["intact"], True)
        self.assertEqual(school.stop(), 0)
        self.assertEqual(mbo.stop(), 0)

    def test_queued_messages_are_resigned(self):
        """Dossiers queued while the MBO is down, then a switch of keys and a
        closed window: they still arrive, signed with the new key. More than
        two signature groups of 512 (envelope_resign_group), the last short."""
        n = 2 * 512 + 76
        school, mbo = harness.federation(self.root, SCHOOL, MBO)
        self.insts += [school, mbo]
        out = school.cli("keys", "rotate", "--dir", school.keys, "--id", SCHOOL).stdout
        nxt = [l for l in out.splitlines() if l.startswith(("curve_public_key_next",
                                                            "sign_public_key_next"))]
        self.assertEqual(mbo.stop(), 0)
        path = os.path.join(self.root, "q.csv")
        rows = harness.leavers_csv(path, n, dest=MBO, prefix="Q")
        school.cli("import", "leavers", path)
        harness.hand_over(school, rows)
        self.assertEqual(school.peer_status(MBO)["outbox_depth"], n)
        school.cli("keys", "activate", "--dir", school.keys)
        school.reload()
        wait_for(lambda: "re-signed %d queued and parked messages" % n in school.read_log(),
                 timeout=30, what="the queued dossiers to be re-signed")
        # The MBO comes back with the window already closed: only new keys count.
        mbo.peer_extra[SCHOOL] = nxt + ["rollover_until = %s" % utc(time.time() - 60)]
        mbo.write_config()
        mbo.start()
        wait_for(lambda: mbo.status()["inbox_total"] == n, timeout=60,
                 what="the queued dossiers at the MBO")
        self.assertEqual(mbo.status()["rejected_total"], 0, mbo.status()["rejected_reasons"])

    def test_wrong_key_is_counted_and_spaced_out(self):
        school, mbo = harness.federation(self.root, SCHOOL, MBO)
        self.insts += [school, mbo]
        # The MBO's administrator pasted a wrong key for the school.
        wrong = peer.Identity(SCHOOL)
        mbo.peers[SCHOOL] = (wrong.as_peer(), school.endpoint)
        mbo.write_config()
        mbo.reload()
        wait_for(lambda: "configuration reloaded" in mbo.read_log(), timeout=10, what="reload")
        school.stop()
        school.start()
        t0 = time.monotonic()
        time.sleep(8)
        st = school.peer_status(MBO)
        try:
            mst = mbo.status()
        except AssertionError as e:
            # Seen three times under heavy parallel load, never alone (a
            # monitor-reader race, see s_monitor_close in net.c): keep what the
            # daemon was doing for whoever looks next.
            raise AssertionError("%s\n--- MBO log (tail) ---\n%s" % (e, mbo.read_log()[-6000:]))
        refused = [x for x in mst["rejected_reasons"]
                   if x.startswith("connection with an unknown CURVE key refused")]
        elapsed = time.monotonic() - t0
        self.assertFalse(st["connected"])
        self.assertGreaterEqual(st["auth_failures"], 2, st)
        self.assertGreater(st["next_reconnect_ms"], 0, "no backoff shown in status")
        self.assertTrue(refused, mst["rejected_reasons"])
        n = int(refused[0].rsplit(": ", 1)[1])
        # Backoff 1 s, 2 s, 4 s, ...: at most about log2(elapsed)+2 attempts, not
        # one every heartbeat or reconnect interval.
        self.assertLessEqual(n, 6, "%d refused handshakes in %.1f s: not spaced out" % (n, elapsed))
        self.assertIn("handshakes failing", school.cli("status").stdout)

if __name__ == "__main__":
    import unittest
    unittest.main()
