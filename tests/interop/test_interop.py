"""Interop: an independent Python peer (peer.py: the generated protobuf classes,
pyzmq CURVE and `cryptography` Ed25519, nothing from the C code) against a real
overstapd started by the integration harness. The daemon must accept what the
peer builds from the documents, and the peer must verify the daemon's acks.

Run with Debian's system python3 from this directory:
    OVERSTAPD=... OVERSTAP=... OVERSTAP_GEN=.../gen /usr/bin/python3 -m unittest -v test_interop
"""
import os
import sys
import unittest
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
sys.path.insert(0, HERE)

import zmq  # noqa: E402

import harness  # noqa: E402
import peer  # noqa: E402
from peer import pb  # noqa: E402

RECEIVER_ID = "25LZ00"   # the daemon under test
PEER_ID = "33CC00"       # the Python peer it knows
OTHER_ID = "12AB00"      # a second configured Python peer

ACCEPTED = pb.Ack.ACCEPTED
REJECTED = pb.Ack.REJECTED


class DaemonCase(unittest.TestCase):
    """A fresh temp dir, one real overstapd (RECEIVER_ID) that has the Python
    peer PEER_ID configured receive-only, and a zmq context. tearDown stops the
    daemon with SIGTERM and requires exit code 0 (sanitizer builds report leaks
    and errors through it)."""

    daemon_net = {}          # extra [network] settings for the daemon
    extra_peers = ()         # more Python identities to configure
    daemon_start = {}        # extra harness.Institution.start() arguments

    def setUp(self):
        self._tmp = harness.TempDir()
        self.root = self._tmp.__enter__()
        self.addCleanup(self._tmp.__exit__, None, None, None)
        self.ctx = zmq.Context()
        self.addCleanup(self.ctx.term)
        self.conns = []
        self.addCleanup(self._close_conns)
        self.daemon = harness.Institution(self.root, RECEIVER_ID, "MBO Entree College",
                                          **self.daemon_net)
        self.peer = peer.Identity(PEER_ID, "Praktijkschool Python")
        self.others = {iid: peer.Identity(iid) for iid in self.extra_peers}
        for ident in [self.peer] + list(self.others.values()):
            self.daemon.add_peer(ident, send=False)
        self.daemon.start(**self.daemon_start)
        self.addCleanup(self._kill_daemon)

    def tearDown(self):
        self._close_conns()
        if self.daemon.proc is not None:
            alive = self.daemon.proc.poll() is None
            rc = self.daemon.stop()
            self.assertTrue(alive, "overstapd died during the test:\n" + self.log_tail())
            self.assertEqual(rc, 0, "overstapd did not stop cleanly:\n" + self.log_tail())

    def _kill_daemon(self):
        if self.daemon.proc is not None:
            self.daemon.kill()

    def _close_conns(self):
        for c in self.conns:
            c.close()
        self.conns = []

    def log_tail(self, n=4000):
        return self.daemon.read_log()[-n:]

    # ---- talking to the daemon ----

    def connect(self, ident=None, **opts):
        c = (ident or self.peer).connect(self.ctx, self.daemon.endpoint, self.daemon.curve_pub, **opts)
        self.conns.append(c)
        return c

    def envelope(self, h=None, ident=None, **kw):
        ident = ident or self.peer
        return ident.envelope(kw.pop("recipient", RECEIVER_ID), peer.handover() if h is None else h, **kw)

    def unsigned(self, h=None):
        """An envelope around h, its signature left for sign_group."""
        env = self.envelope(h)
        env.signature = b""
        return env

    def ack(self, conn, timeout=10.0, ident=None):
        """The next reply on conn, checked and signature-verified as an Ack."""
        frames = conn.recv(timeout)
        self.assertIsNotNone(frames, "no reply from overstapd within %.0fs\n%s" % (timeout, self.log_tail()))
        return peer.parse_ack(frames, RECEIVER_ID, (ident or self.peer).id, self.daemon.sign_pub)

    def assert_accepted(self, conn, env, ident=None):
        ack = self.ack(conn, ident=ident)
        self.assertEqual(ack.result, ACCEPTED, "refused: %s" % ack.reason)
        self.assertEqual(list(ack.message_ids), [env.message_id])
        self.assertEqual(ack.reason, "")
        return ack

    def assert_rejected(self, conn, env, reason, ident=None):
        ack = self.ack(conn, ident=ident)
        self.assertEqual(ack.result, REJECTED)
        self.assertEqual(list(ack.message_ids), [env.message_id])
        self.assertEqual(ack.reason, reason)
        return ack

    def deliver(self, conn=None, h=None, ident=None):
        """Send a valid handover and require a signed ACCEPTED ack for it."""
        conn = conn or self.connect(ident)
        env = self.envelope(h, ident=ident)
        conn.send(env)
        self.assert_accepted(conn, env, ident=ident)
        return env

    def assert_dropped_silently(self, conn, ident=None):
        """After something the daemon must drop without an answer: a valid
        handover on the same connection gets the next reply. The daemon handles
        a connection's messages in order and answers a refusal before a later
        acceptance, so an answer to the bad message would come first."""
        env = self.envelope(ident=ident)
        conn.send(env)
        self.assert_accepted(conn, env, ident=ident)
        return env

    # ---- looking at the daemon ----

    @staticmethod
    def reasons_of(st):
        """status --json rejected_reasons ("why: N") as {why: N}."""
        out = {}
        for line in st["rejected_reasons"]:
            why, _, n = line.rpartition(": ")
            out[why] = int(n)
        return out

    def reasons(self):
        return self.reasons_of(self.daemon.status())

    def wait_reason(self, why, count=1, timeout=15):
        """Wait until status counts `why` at least `count` times; returns that status."""
        last = {}

        def counted():
            last["st"] = self.daemon.status()
            return self.reasons_of(last["st"]).get(why, 0) >= count and last["st"]
        try:
            return harness.wait_for(counted, timeout=timeout, interval=0.02)
        except AssertionError:
            raise AssertionError("%d x %r not in status rejected_reasons: %r"
                                 % (count, why, last["st"]["rejected_reasons"]))

    def inbox(self):
        return self.daemon.cli_json("inbox", "list")

    def inbox_ids(self):
        return sorted(r["record_id"] for r in self.inbox())


class InteropTest(DaemonCase):
    extra_peers = (OTHER_ID,)

    def test_handover_delivered_and_acked(self):
        h = peer.handover(given_name="Zoë", family_name="El Amrani", pgn="123456782")
        conn = self.connect()
        env = self.envelope(h)
        conn.send(env)
        frames = conn.recv(10)
        self.assertIsNotNone(frames, "no ack")
        # The ack verifies with the daemon's sign.pub, and with no other key.
        with self.assertRaises(peer.AckError):
            peer.parse_ack(frames, RECEIVER_ID, PEER_ID, self.others[OTHER_ID].sign_pub)
        ack = peer.parse_ack(frames, RECEIVER_ID, PEER_ID, self.daemon.sign_pub)
        self.assertEqual(ack.result, ACCEPTED, ack.reason)
        self.assertEqual(list(ack.message_ids), [env.message_id])

        rows = self.inbox()
        self.assertEqual(len(rows), 1, rows)
        self.assertEqual(rows[0]["record_id"], h.record_id)
        self.assertEqual(rows[0]["sender"], PEER_ID)
        self.assertEqual(rows[0]["message_id"], env.message_id)
        self.assertEqual(rows[0]["cohort"], "2024-2025")

        shown = self.daemon.cli_json("inbox", "show", h.record_id)
        self.assertEqual(shown["row"]["record_id"], h.record_id)
        d = shown["dossier"]
        self.assertEqual(d["record_id"], h.record_id)
        self.assertEqual(d["given_name"], "Zoë")
        self.assertEqual(d["family_name"], "El Amrani")
        self.assertEqual(d["pgn"], "123456782")
        self.assertEqual(d["birth_date"], "2008-03-14")
        self.assertEqual(d["exit_date"], "2025-07-04")
        self.assertEqual(d["basis"], "statute")
        self.assertEqual(d["inzage"]["reviewed_on"], "2025-06-01")
        self.assertEqual(d["inzage"]["remarks"], "Akkoord.")
        self.assertEqual(d["mentor"]["email"], "mentor@example.nl")
        self.assertEqual(d["support_needs"], [{"code": "structuur", "note": "vaste plek in de klas"}])
        self.assertEqual(self.daemon.status()["inbox_total"], 1)
        self.assertEqual(self.daemon.peer_status(PEER_ID)["received"], 1)

        # A retry is the same envelope, byte for byte: accepted again, kept once.
        conn.send(env)
        self.assert_accepted(conn, env)
        # ... also on a new connection.
        conn2 = self.connect()
        conn2.send(env)
        self.assert_accepted(conn2, env)
        self.assertEqual(self.inbox_ids(), [h.record_id])
        self.assertEqual(self.daemon.status()["inbox_total"], 1)
        self.assertEqual(self.daemon.status()["rejected_total"], 0)

    def test_text_survives_the_round_trip(self):
        """Names with quotes, backslashes and non-ASCII, and remarks with tabs and
        line breaks, come back from `inbox show --json` exactly as sent. (Control
        characters elsewhere are refused at receipt, as the CSV import refuses
        them: test_hostile.)"""
        h = peer.handover(given_name='Ëlif "Lily" \\ Öz ß', family_name="d'Artagnan-Çelik 李",
                          inzage={"reviewer": pb.REVIEWER_PARENT, "reviewed_on": "2025-06-02",
                                  "remarks": "regel 1\nregel 2\r\n\teinde 🙂", "recorded_by": "x"})
        self.deliver(h=h)
        d = self.daemon.cli_json("inbox", "show", h.record_id)["dossier"]
        self.assertEqual(d["given_name"], h.given_name)
        self.assertEqual(d["family_name"], h.family_name)
        self.assertEqual(d["inzage"]["remarks"], h.inzage.remarks)
        self.assertEqual(d["inzage"]["reviewer"], "parent")

    def test_disagreement_from_an_independent_sender(self):
        """An independent implementation's dossier whose parents do not agree
        (OSO inzage rules): agrees and their view (fields 5 and 6 of Inzage)
        are accepted and shown as sent; one from a sender that never asked
        (no field 5) shows as not asked."""
        view = "Wij zien haar niet als zorgleerling.\nZe wil gewoon leren."
        h = peer.handover(inzage={"reviewer": pb.REVIEWER_PARENT, "reviewed_on": "2025-06-02",
                                  "agrees": pb.TRI_NO, "disagreement": view, "recorded_by": "x"})
        self.deliver(h=h)
        z = self.daemon.cli_json("inbox", "show", h.record_id)["dossier"]["inzage"]
        self.assertEqual((z["agrees"], z["disagreement"]), ("no", view))
        self.assertIn("their view", self.daemon.cli("inbox", "show", h.record_id).stdout)
        h = peer.handover()
        self.deliver(h=h)
        z = self.daemon.cli_json("inbox", "show", h.record_id)["dossier"]["inzage"]
        self.assertEqual((z["agrees"], z["disagreement"]), ("", ""))
        self.assertRegex(self.daemon.cli("inbox", "show", h.record_id).stdout,
                         r"(?m)^\s*agrees\s+not asked")

    def test_many_handovers_acked(self):
        """A burst on one connection: the daemon may answer several ids in one
        signed ack; every id is acknowledged, every record stored once."""
        conn = self.connect()
        sent = {}
        for _ in range(200):
            env = self.envelope()
            sent[env.message_id] = env
            conn.send(env)
        acked = []
        while len(acked) < len(sent):
            ack = self.ack(conn)
            self.assertEqual(ack.result, ACCEPTED, ack.reason)
            acked += ack.message_ids
        self.assertEqual(sorted(acked), sorted(sent))
        self.assertEqual(len(self.inbox()), 200)
        self.assertIsNone(conn.recv(0.2))

    def test_two_peers_each_acked_on_own_connection(self):
        other = self.others[OTHER_ID]
        c1, c2 = self.connect(), self.connect(other)
        e1, e2 = self.envelope(), self.envelope(ident=other)
        c1.send(e1)
        c2.send(e2)
        self.assert_accepted(c1, e1)
        self.assert_accepted(c2, e2, ident=other)
        senders = sorted(r["sender"] for r in self.inbox())
        self.assertEqual(senders, sorted([PEER_ID, OTHER_ID]))

    def test_send_after_a_refused_handshake_returns(self):
        """Once the daemon has refused a connection's CURVE key, the peer's
        DEALER may have no pipe left (libzmq ends the session on the refusal,
        or reconnects when it saw the TCP close first). A send must then come
        back (peer.Connection.send; blocking for ever once hung this file in
        CI), and nothing reaches the daemon."""
        stranger = peer.Identity("44DD00", "not configured")
        conn = self.connect(stranger)
        mon = conn.sock.get_monitor_socket(zmq.EVENT_HANDSHAKE_FAILED_AUTH)
        self.addCleanup(mon.close, 0)
        self.assertTrue(mon.poll(10000), "the daemon did not refuse the handshake")
        self.wait_reason("connection with an unknown CURVE key refused")
        time.sleep(0.2)   # the session's end reaches the socket as a command
        t0 = time.monotonic()
        conn.send(stranger.envelope(RECEIVER_ID, peer.handover()))
        self.assertLess(time.monotonic() - t0, peer.Connection.SEND_TIMEOUT_MS / 1000 + 2)
        self.assertIsNone(conn.recv(1.0))
        self.assertEqual(self.daemon.status()["inbox_total"], 0)
        self.deliver()

    def test_unknown_curve_key_gets_no_reply(self):
        stranger = peer.Identity("44DD00", "not configured")
        conn = self.connect(stranger)
        conn.send(stranger.envelope(RECEIVER_ID, peer.handover()))
        self.assertIsNone(conn.recv(1.5), "a peer with an unknown CURVE key got a reply")
        self.wait_reason("connection with an unknown CURVE key refused")
        st = self.daemon.status()
        self.assertGreaterEqual(st["rejected_total"], 1)
        self.assertEqual(st["inbox_total"], 0)
        # A stranger that copies a configured peer's id is no better off.
        impostor = peer.Identity(PEER_ID)
        conn = self.connect(impostor)
        conn.send(impostor.envelope(RECEIVER_ID, peer.handover()))
        self.assertIsNone(conn.recv(1.0))
        self.wait_reason("connection with an unknown CURVE key refused", 2)
        # The daemon still serves the configured peer.
        self.deliver()
        self.assertEqual(len(self.inbox()), 1)

    def test_peer_removed_while_connected(self):
        """A peer taken out of the configuration (SIGHUP) is no longer served,
        not even on the connection it already has."""
        conn = self.connect()
        self.deliver(conn)
        del self.daemon.peers[PEER_ID]
        self.daemon.write_config()
        self.daemon.reload()
        harness.wait_for(lambda: self.daemon.peer_status(PEER_ID) is None, timeout=10,
                         what="the daemon to forget %s" % PEER_ID)
        conn.send(self.envelope())
        self.assertIsNone(conn.recv(1.0))
        self.wait_reason("message from a peer no longer configured")
        conn2 = self.connect()
        conn2.send(self.envelope())
        self.assertIsNone(conn2.recv(1.0))
        self.wait_reason("connection with an unknown CURVE key refused")
        self.assertEqual(len(self.inbox()), 1)
        # The other peer is unaffected.
        self.deliver(ident=self.others[OTHER_ID])

    def test_wrong_server_key_gets_nowhere(self):
        """A peer that has the wrong server key for the daemon fails the CURVE
        handshake: nothing is delivered."""
        conn = self.peer.connect(self.ctx, self.daemon.endpoint, self.peer.curve_pub)
        self.conns.append(conn)
        conn.send(self.envelope())
        self.assertIsNone(conn.recv(1.0))
        self.assertEqual(self.inbox(), [])
        self.deliver()

    def test_claimed_sender_must_be_the_authenticated_peer(self):
        conn = self.connect()
        # 33CC00 claims to be 12AB00 and signs with its own key.
        h = peer.handover()
        env = self.envelope(h, sender=OTHER_ID)
        conn.send(env)
        self.wait_reason("claimed sender differs from the authenticated peer")
        # 33CC00 forwards a genuine, correctly signed envelope of 12AB00.
        h2 = peer.handover()
        genuine = self.envelope(h2, ident=self.others[OTHER_ID])
        self.assertTrue(peer.verify_envelope(genuine, self.others[OTHER_ID].sign_pub))
        conn.send(genuine)
        self.wait_reason("claimed sender differs from the authenticated peer", 2)
        self.assert_dropped_silently(conn)
        self.assertNotIn(h.record_id, self.inbox_ids())
        self.assertNotIn(h2.record_id, self.inbox_ids())
        self.assertEqual(len(self.inbox()), 1)
        self.assertEqual(self.daemon.peer_status(PEER_ID)["rejected"], 2)
        self.assertEqual(self.daemon.peer_status(OTHER_ID)["received"], 0)

    def test_bad_signature_dropped(self):
        conn = self.connect()
        bad = []
        # One byte of the signature flipped.
        env = self.envelope()
        sig = bytearray(env.signature)
        sig[17] ^= 0x01
        env.signature = bytes(sig)
        bad.append(env)
        # Signed with another key (the other configured peer's).
        bad.append(self.envelope(signer=self.others[OTHER_ID]))
        # Signed with a key nobody knows.
        bad.append(self.envelope(signer=peer.Identity("99ZZ99")))
        # A correct signature over a different body.
        env = self.envelope()
        env.handover = peer.handover().SerializeToString()
        bad.append(env)
        # All zeros.
        env = self.envelope()
        env.signature = bytes(64)
        bad.append(env)
        for env in bad:
            conn.send(env)
        self.wait_reason("signature does not verify", len(bad))
        self.assert_dropped_silently(conn)
        self.assertEqual(len(self.inbox()), 1)
        self.assertEqual(self.daemon.peer_status(PEER_ID)["rejected"], len(bad))
        self.assertEqual(self.daemon.peer_status(PEER_ID)["received"], 1)

    def test_retry_of_a_held_dossier_answered_before_verification(self):
        """Issue 14 item 4 (design.md §4.6): a retry of a dossier this peer
        sent and the daemon holds is acknowledged after one lookup, before the
        signature is checked, so retries do not cost a verification each.
        Nothing of the copy is stored: the proof is that a copy whose
        signature was spoiled in transit is acked, not counted as rejected,
        and the inbox keeps the one dossier. Another peer's id, or a new id,
        still goes through verification."""
        conn = self.connect()
        env = self.deliver(conn)
        rejected = self.daemon.status()["rejected_total"]
        copy = pb.Envelope()
        copy.CopyFrom(env)
        copy.signature = bytes(64)
        conn.send(copy)
        self.assert_accepted(conn, copy)
        self.assertEqual(self.daemon.status()["rejected_total"], rejected)
        self.assertEqual(len(self.inbox()), 1)
        # the same id from another peer is that peer's message: verified
        other = self.others[OTHER_ID]
        oconn = self.connect(other)
        forged = other.envelope(RECEIVER_ID, peer.handover(), message_id=env.message_id)
        forged.signature = bytes(64)
        oconn.send(forged)
        self.wait_reason("signature does not verify", 1)
        self.assertEqual(len(self.inbox()), 1)

    def test_signature_binds_the_header(self):
        """The signing input covers id, parties, time and body type: a signed
        body moved under another header does not verify."""
        conn = self.connect()
        h = peer.handover()
        orig = self.envelope(h)
        variants = []
        for field, value in (("message_id", peer.uuid7()), ("created_at", orig.created_at + 1),
                             ("recipient", "25LZ01")):
            env = pb.Envelope()
            env.CopyFrom(orig)
            setattr(env, field, value)
            variants.append(env)
        # The same body bytes and signature, but sent as another body type.
        env = pb.Envelope()
        env.CopyFrom(orig)
        env.status = orig.handover
        variants.append(env)
        for env in variants:
            conn.send(env)
        self.wait_reason("signature does not verify", len(variants))
        self.assertEqual(self.inbox(), [])
        # The original itself is fine.
        conn.send(orig)
        self.assert_accepted(conn, orig)
        self.assertEqual(self.inbox_ids(), [h.record_id])

    def test_not_addressed_to_us_refused_with_ack(self):
        conn = self.connect()
        env = self.envelope(recipient=OTHER_ID)
        conn.send(env)
        self.assert_rejected(conn, env, "not addressed to this institution")
        self.assertEqual(self.inbox(), [])

    def test_chosen_routing_id(self):
        """A peer may set its own ZMQ routing id (up to 255 bytes); the daemon
        still answers it on its connection, and two such peers do not mix."""
        c1 = self.connect(routing_id=b"r" * 255)
        c2 = self.connect(self.others[OTHER_ID], routing_id=b"r" * 254 + b"s")
        e1, e2 = self.envelope(), self.envelope(ident=self.others[OTHER_ID])
        c1.send(e1)
        c2.send(e2)
        self.assert_accepted(c1, e1)
        self.assert_accepted(c2, e2, ident=self.others[OTHER_ID])

    def test_accepted_means_stored(self):
        """design.md §4: the receiver commits a message, idempotently keyed on its
        message id, before it acks. A new message (new message id) whose record
        id the inbox already holds, here from another institution, must not be
        answered ACCEPTED without being stored: it is refused with a reason."""
        other = self.others[OTHER_ID]
        h = peer.handover(given_name="Eerste")
        self.deliver(h=h, ident=other)
        h2 = peer.handover(record_id=h.record_id, given_name="Tweede")
        conn = self.connect()
        env = self.envelope(h2)
        conn.send(env)
        ack = self.ack(conn)
        self.assertEqual(list(ack.message_ids), [env.message_id])
        self.assertNotEqual(ack.result, ACCEPTED, "ACCEPTED, but not stored: %r" % self.inbox())
        self.assertIn("record id already received", ack.reason)
        self.assertEqual([r["message_id"] for r in self.inbox() if r["record_id"] == h.record_id],
                         [r["message_id"] for r in self.inbox() if r["sender"] == OTHER_ID])

    def test_batch_signed_group_accepted(self):
        """design.md §4.3: a group signed once by the peer's own code (hashlib
        Merkle tree, one Ed25519 signature over the root) is accepted message
        by message, each with its path; one with a path that leads elsewhere
        is dropped as a bad signature, and the others still count."""
        conn = self.connect()
        hs = [peer.handover() for _ in range(5)]
        envs = self.peer.sign_group([self.unsigned(h) for h in hs])
        self.assertEqual({e.batch_size for e in envs}, {5})
        self.assertEqual(len({e.signature for e in envs}), 1)
        for env in envs:
            self.assertTrue(peer.verify_envelope(env, self.peer.sign_pub))
        # one of them with two path hashes swapped: its leaf leads elsewhere
        forged = pb.Envelope()
        forged.CopyFrom(envs[0])
        forged.message_id = peer.uuid7()
        path = list(forged.batch_path)
        path[0], path[1] = path[1], path[0]
        del forged.batch_path[:]
        forged.batch_path.extend(path)
        conn.send(forged)
        self.wait_reason("signature does not verify", 1)
        acked = []
        for env in envs:
            conn.send(env)
        while len(acked) < len(envs):
            ack = self.ack(conn)
            self.assertEqual(ack.result, ACCEPTED, ack.reason)
            acked += ack.message_ids
        self.assertEqual(sorted(acked), sorted(e.message_id for e in envs))
        self.assertEqual(self.inbox_ids(), sorted(h.record_id for h in hs))

    def test_daemon_batch_signs_its_answers(self):
        """The daemon signs the answers of one receive batch as a group: the
        peer verifies each batch-signed ack with its own code (parse_ack:
        hashlib path to the root, Ed25519 over the batch input with the
        daemon's sign.pub), and with no other key."""
        conn = self.connect()
        seen_batch = None
        for _ in range(20):
            # a refusal and an acceptance in one burst: two answers
            bad = self.envelope(recipient=OTHER_ID)
            good = self.envelope()
            conn.send_multipart([bad.SerializeToString()])
            conn.send_multipart([good.SerializeToString()])
            for _ in range(2):
                frames = conn.recv(10)
                self.assertIsNotNone(frames, "no answer\n" + self.log_tail())
                env = pb.Envelope()
                env.ParseFromString(frames[0])
                ack = peer.parse_ack(frames, RECEIVER_ID, PEER_ID, self.daemon.sign_pub)
                self.assertIn(list(ack.message_ids), [[bad.message_id], [good.message_id]])
                if env.batch_size >= 2:
                    seen_batch = (env, frames)
            if seen_batch:
                break
        self.assertIsNotNone(seen_batch, "no batch-signed answer in 20 bursts")
        env, frames = seen_batch
        self.assertEqual(len(env.batch_path), peer_path_len(env.batch_index, env.batch_size))
        with self.assertRaises(peer.AckError):
            peer.parse_ack(frames, RECEIVER_ID, PEER_ID, self.others[OTHER_ID].sign_pub)
        # the same bytes with the path spoiled no longer verify
        spoiled = pb.Envelope()
        spoiled.CopyFrom(env)
        spoiled.batch_path[0] = bytes(32)
        self.assertFalse(peer.verify_envelope(spoiled, self.daemon.sign_pub))

    def test_uuid_v4_message_id_accepted(self):
        import uuid
        conn = self.connect()
        env = self.envelope(message_id=str(uuid.uuid4()))
        conn.send(env)
        self.assert_accepted(conn, env)


def peer_path_len(index, size):
    """The inclusion proof's length by RFC 9162's own definition (PATH)."""
    return len(peer.merkle_path([bytes(32)] * size, index))


class SigningInputTest(unittest.TestCase):
    """The Python signing input against the layout in proto/overstap.proto,
    written out by hand: catches a peer.py mistake independently of the daemon."""

    def test_layout(self):
        got = peer.signing_input(11, "0190a0b0-c0d0-7e0f-8a1b-2c3d4e5f6071", "33CC00", "25LZ00",
                                 1717243200123, b"\x0a\x01x")
        want = (b"overstap-sig-v1\x00" + b"\x00\x00\x00\x0b" +
                b"\x00\x00\x00\x24" + b"0190a0b0-c0d0-7e0f-8a1b-2c3d4e5f6071" +
                b"\x00\x00\x00\x06" + b"33CC00" + b"\x00\x00\x00\x06" + b"25LZ00" +
                (1717243200123).to_bytes(8, "big") + b"\x00\x00\x00\x03" + b"\x0a\x01x")
        self.assertEqual(got, want)
        self.assertEqual(peer.body_number("handover"), 11)
        self.assertEqual(peer.body_number("ack"), 17)

    def test_merkle_against_ct_vectors(self):
        """peer.py's tree hash against the Certificate Transparency test
        vectors (RFC 6962 trees of 1..8 leaves), and every path of every
        size up to 40 back to its root."""
        leaves = [b"", b"\x00", b"\x10", b"\x20\x21", b"\x30\x31", b"\x40\x41\x42\x43",
                  bytes(range(0x50, 0x58)), bytes(range(0x60, 0x70))]
        roots = ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                 "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
                 "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
                 "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                 "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
                 "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
                 "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
                 "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"]
        hashed = [peer.leaf_hash(x) for x in leaves]
        for n in range(1, 9):
            self.assertEqual(peer.merkle_root(hashed[:n]).hex(), roots[n - 1])
        many = [peer.leaf_hash(bytes([i])) for i in range(40)]
        for n in range(1, 41):
            root = peer.merkle_root(many[:n])
            for i in range(n):
                path = peer.merkle_path(many[:n], i)
                self.assertEqual(peer.root_from_path(many[i], i, n, path), root)
                if path:
                    self.assertIsNone(peer.root_from_path(many[i], i, n, path[:-1]))
        self.assertEqual(peer.batch_signing_input(5, bytes(32)),
                         b"overstap-batch-v1\x00" + b"\x00\x00\x00\x05" + bytes(32))

    def test_uuid7(self):
        import uuid
        u = peer.uuid7(ms=0x0190a0b0c0d0)
        self.assertRegex(u, peer.UUID_RE)
        self.assertTrue(u.startswith("0190a0b0-c0d0-7"))
        self.assertEqual(uuid.UUID(u).version, 7)
        self.assertEqual(uuid.UUID(u).variant, uuid.RFC_4122)


if __name__ == "__main__":
    unittest.main()
