"""Hostile peers against a real overstapd (design.md §4 "Limits"): malformed,
truncated, multipart, oversized, wrongly versioned and wrongly typed messages
from a peer that did get through the CURVE handshake. Each is dropped and
counted (no answer) or, when authentic, refused with a signed REJECTED ack; none
crashes, blocks or poisons the daemon, and a clean SIGTERM still exits 0 (the
sanitizer build reports leaks and memory errors through that exit code).

Run with Debian's system python3 from this directory:
    OVERSTAPD=... OVERSTAP=... OVERSTAP_GEN=.../gen /usr/bin/python3 -m unittest -v test_hostile
"""
import collections
import json
import os
import random
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import test_interop as ti  # noqa: E402  (the daemon fixture; also sets sys.path)
from test_interop import harness, peer, pb, RECEIVER_ID, PEER_ID, ACCEPTED  # noqa: E402

MAX_MESSAGE = 65536


# What a message of another protocol version is refused with (envelope.h).
VERSION_REASON = "unsupported protocol version (this daemon speaks 1)"


def malformed(ident):
    """(label, frames, reason the daemon counts) for messages that must be
    dropped without an answer. All come from an admitted peer."""
    rng = random.Random(4242)
    good = ident.envelope(RECEIVER_ID, peer.handover())
    wire = good.SerializeToString()
    cases = [
        ("invalid wire type", [b"\x0f" + bytes(rng.getrandbits(8) for _ in range(40))],
         "not a valid envelope"),
        ("truncated inside the signature", [wire[:-10]], "not a valid envelope"),
        ("truncated inside the body", [wire[:len(wire) // 2]], "not a valid envelope"),
        ("length prefix beyond the end", [peer.raw_field(1, 1, 0) + b"\x5a\xff\xff\xff\x7f" + b"x" * 10],
         "not a valid envelope"),
        ("version as bytes", [peer.raw_field(1, b"\x01") + wire], "not a valid envelope"),
        # no message id to answer by: counted, not answered
        ("empty frame", [b""], VERSION_REASON),
    ]

    # A body in a oneof field number this protocol does not have (the first
    # after the known ones), signed the documented way over that number: there
    # is no known body.
    unknown = max(peer.body_number(n) for n in peer.body_names()) + 1
    head = pb.Envelope(version=1, message_id=peer.uuid7(), sender=ident.id, recipient=RECEIVER_ID,
                       created_at=peer.now_ms())
    body = peer.handover().SerializeToString()
    sig = ident.sign(peer.signing_input(unknown, head.message_id, head.sender, head.recipient,
                                        head.created_at, body))
    cases.append(("unknown body field %d" % unknown,
                  [head.SerializeToString() + peer.raw_field(unknown, body) + peer.raw_field(30, sig)],
                  "no known body"))
    head.signature = sig
    cases.append(("no body at all", [head.SerializeToString()], "no known body"))

    for label, mid in (("uppercase message id", peer.uuid7().upper()),
                       ("message id without dashes", peer.uuid7().replace("-", "")),
                       ("message id too long", peer.uuid7() + "0"),
                       ("empty message id", "")):
        env = ident.envelope(RECEIVER_ID, peer.handover(), message_id=mid)
        cases.append((label, [env.SerializeToString()], "message id is not a UUID"))
    for label, kw in (("lowercase sender id", {"sender": ident.id.lower()}),
                      ("recipient id too long", {"recipient": RECEIVER_ID + "0"}),
                      ("empty recipient", {"recipient": ""})):
        env = ident.envelope(kw.pop("recipient", RECEIVER_ID), peer.handover(), **kw)
        cases.append((label, [env.SerializeToString()], "sender or recipient is not an institution id"))
    for label, sig in (("signature of 63 bytes", lambda s: s[:63]), ("signature of 65 bytes", lambda s: s + b"\0"),
                       ("no signature", lambda s: b"")):
        env = ident.envelope(RECEIVER_ID, peer.handover())
        env.signature = sig(env.signature)
        cases.append((label, [env.SerializeToString()], "missing or malformed signature"))
    cases += [
        ("two frames", [wire, wire], "multipart message"),
        ("three frames", [b"a", b"", wire], "multipart message"),
    ]
    return cases


def refused(ident):
    """(label, envelope, reason) for authentic messages the daemon must refuse
    with a signed REJECTED ack naming the message id."""
    cases = []
    for label, kw, reason in (
            ("malformed record id", {"record_id": "not-a-uuid"}, "handover record id is not a UUID"),
            ("uppercase record id", {"record_id": "8C0E5D5E-8B0A-4D6F-9A55-2B4F6C1E7D3A"},
             "handover record id is not a UUID"),
            ("empty record id", {"record_id": ""}, "handover record id is not a UUID"),
            ("10 KB given name", {"given_name": "A" * 10240}, "handover field too long"),
            ("257-byte family name", {"family_name": "é" * 128 + "x"}, "handover field too long"),
            ("17-digit pgn", {"pgn": "1" * 17}, "handover field too long"),
            ("impossible birth date", {"birth_date": "2008-02-30"}, "handover date malformed"),
            ("birth date not YYYY-MM-DD", {"birth_date": "14-03-2008"}, "handover date malformed"),
            ("no exit date", {"exit_date": ""}, "handover date malformed"),
            ("malformed registered_on", {"registered_on": "2025-6-1"}, "handover date malformed"),
            ("33 support needs", {"support_needs": [{"code": "c%d" % i} for i in range(33)]},
             "too many support needs"),
            ("20000 support needs", {"support_needs": [{} for _ in range(20000)]}, "too many support needs"),
            ("support need note of 10 KB", {"support_needs": [{"code": "x", "note": "n" * 10240}]},
             "support need too long"),
            ("mentor phone of 65 bytes", {"mentor": {"name": "m", "phone": "0" * 65}}, "mentor contact too long"),
            ("inzage without a date", {"inzage": {"reviewer": pb.REVIEWER_PUPIL}}, "inzage record malformed"),
            ("inzage remarks of 9 KB", {"inzage": {"reviewed_on": "2025-06-01", "remarks": "r" * 9216}},
             "inzage record malformed"),
            # OSO inzage rules: their view only beside "they do not agree", as long as remarks
            ("inzage disagreement of 9 KB",
             {"inzage": {"reviewed_on": "2025-06-01", "agrees": pb.TRI_NO, "disagreement": "d" * 9216}},
             "inzage record malformed"),
            ("inzage disagreement while they agree",
             {"inzage": {"reviewed_on": "2025-06-01", "agrees": pb.TRI_YES, "disagreement": "toch niet"}},
             "handover inzage disagreement: given although agrees is not no"),
            ("inzage agrees out of range", {"inzage": {"reviewed_on": "2025-06-01", "agrees": 9}},
             "inzage record malformed"),
            # The legal basis (design.md §3), checked by the receiver itself.
            ("care notes without a consent", {"consents": []},
             "free-text care notes without a handover consent"),
            ("care notes under an expired consent",
             {"consents": [peer.consent_assertion(valid_until="2025-05-31")]},
             "free-text care notes without a handover consent"),
            ("care notes under a consent for another institution",
             {"consents": [peer.consent_assertion(counterpart="30XY01")]},
             "free-text care notes without a handover consent"),
            ("care notes under a follow_up consent only",
             {"consents": [peer.consent_assertion(purpose="follow_up")]},
             "free-text care notes without a handover consent"),
            ("basis consent without an assertion", {"basis": "consent", "consents": [],
                                                     "support_needs": []},
             "handover under consent without a valid consent assertion"),
            ("basis consent, assertion not yet valid",
             {"basis": "consent", "consents": [peer.consent_assertion(granted_at="2999-01-01")]},
             "handover under consent without a valid consent assertion"),
            ("unknown basis", {"basis": "vibes"}, "handover with an unknown legal basis"),
            ("assertion id not a UUID", {"consents": [peer.consent_assertion(consent_id="x")]},
             "consent assertion: id is not a UUID"),
            ("assertion with an unknown purpose",
             {"consents": [peer.consent_assertion(purpose="marketing")]},
             "consent assertion: unknown purpose or grantor"),
            ("17 assertions", {"consents": [peer.consent_assertion() for _ in range(17)]},
             "too many consent assertions"),
            # Text is held to the CSV import's rule (issue 11 item 8).
            ("RTL override in a given name", {"given_name": "Ann\u202egpj.exe"},
             "handover given_name: contains a bidirectional override or isolate"),
            ("isolate in a family name", {"family_name": "Vis\u2066ser"},
             "handover family_name: contains a bidirectional override or isolate"),
            ("ESC in a given name", {"given_name": "\x1b[2JNoah"},
             "handover given_name: contains a control character"),
            ("line break in a family name", {"family_name": "Vis\nser"},
             "handover family_name: contains a control character"),
            ("ESC in the inzage remarks",
             {"inzage": {"reviewed_on": "2025-06-01", "remarks": "ok\x1b]0;pwned\x07"}},
             "handover inzage remarks: contains a control character"),
            ("ESC in the inzage disagreement",
             {"inzage": {"reviewed_on": "2025-06-01", "agrees": pb.TRI_NO,
                         "disagreement": "nee\x1b]0;pwned\x07"}},
             "handover inzage disagreement: contains a control character"),
            ("C1 CSI in the mentor's name", {"mentor": {"name": "m\x9b31m"}},
             "handover mentor name: contains a control character")):
        cases.append((label, ident.envelope(RECEIVER_ID, peer.handover(**kw)), reason))
    cases.append(("handover body that does not decode",
                  ident.envelope(RECEIVER_ID, b"\x0a\xff\xff\xff\xff\x0f"), "handover body does not decode"))
    cases.append(("handover body of a wrong wire type",
                  ident.envelope(RECEIVER_ID, peer.raw_field(1, 7, 0)), "handover body does not decode"))
    # Withdrawals, receipts and checkpoints: checked before anything is looked up.
    for name, body, reason in (
            ("withdrawal", b"\x0a\x00", "withdrawal is not canonically encoded"),
            ("withdrawal", pb.Withdrawal(record_id="x", withdrawn_on="2025-09-01",
                                         reason="withdrawn"), "withdrawal record id is not a UUID"),
            ("withdrawal", pb.Withdrawal(record_id=peer.uuid7(), withdrawn_on="2025-09-01",
                                         reason="changed my mind"), "withdrawal reason unknown"),
            ("withdrawal", pb.Withdrawal(record_id=peer.uuid7(), withdrawn_on="2025-09-01",
                                         reason="withdrawn", consent_ids=[peer.uuid7()] * 17),
             "too many consents in a withdrawal"),
            ("erasure_receipt", b"\x0a\x00", "erasure receipt is not canonically encoded"),
            ("erasure_receipt", pb.ErasureReceipt(withdrawal_id=peer.uuid7(), record_id=peer.uuid7(),
                                                  erased_at=1, erased=["x" * 65]),
             "erasure receipt item malformed"),
            ("audit_checkpoint", pb.AuditCheckpoint(seq=3, head=b"\x01" * 31),
             "audit checkpoint head malformed"),
            ("audit_checkpoint", pb.AuditCheckpoint(seq=3, head=b"\x01" * 32, yours_seq=2),
             "audit checkpoint head malformed"),
            ("consent_notice", pb.ConsentNotice(record_id=peer.uuid7()),
             "consent notice without a consent"),
            ("consent_notice", pb.ConsentNotice(
                record_id=peer.uuid7(), consent=pb.ConsentAssertion(
                    **peer.consent_assertion(purpose="follow_up"))),
             "no handover with this record id from the sender"),
            ("ack", b"\x0a\x00", "body type not supported by this daemon")):
        if not isinstance(body, bytes):
            body = body.SerializeToString()
        cases.append(("%s body: %s" % (name, reason), ident.envelope(RECEIVER_ID, body, body_name=name),
                      reason))
    # Statuses, outcomes and registrations: checked before anything is looked up.
    today = "2025-09-01"
    for label, name, msg, reason in (
            ("status padded with an empty field", "status", b"\x0a\x00",
             "status is not canonically encoded"),
            ("status with a malformed record id", "status",
             pb.Status(record_id="x", status="enrolled", date=today), "record id is not a UUID"),
            ("status that is an outcome", "status",
             pb.Status(record_id=peer.uuid7(), status="diploma", date=today), "unknown status"),
            ("status with an impossible date", "status",
             pb.Status(record_id=peer.uuid7(), status="enrolled", date="2025-02-30"),
             "event date malformed"),
            ("outcome that is a status", "outcome",
             pb.Outcome(record_id=peer.uuid7(), outcome="enrolled", date=today), "unknown outcome"),
            ("diploma without a level", "outcome",
             pb.Outcome(record_id=peer.uuid7(), outcome="diploma", date=today),
             "level missing, out of range, or given where none belongs"),
            ("diploma at level 5", "outcome",
             pb.Outcome(record_id=peer.uuid7(), outcome="diploma", date=today, level=5),
             "level missing, out of range, or given where none belongs"),
            ("outcome without a consent assertion", "outcome",
             pb.Outcome(record_id=peer.uuid7(), outcome="switched", date=today),
             "outcome without a consent assertion"),
            ("registration with a PGN failing the 11-test", "registration",
             pb.Registration(pgn="123456789", registered_on=today),
             "registration pgn fails the 11-test"),
            ("status for a record the daemon never sent", "status",
             pb.Status(record_id=peer.uuid7(), status="enrolled", date=today),
             "no handover with this record id"),
            ("registration for a PGN the daemon does not know", "registration",
             pb.Registration(pgn="123456782", registered_on=today), "registration not accepted")):
        cases.append((label, ident.envelope(RECEIVER_ID, msg, body_name=name), reason))
    cases.append(("addressed to another institution", ident.envelope(ti.OTHER_ID, peer.handover()),
                  "not addressed to this institution"))
    # created_at: refused with a reason, so the sender parks the message
    # instead of retrying it forever (issue 11 item 8).
    future = "created_at in the future beyond [network] max_clock_skew_s (sender's clock is wrong)"
    for label, at, reason in (
            ("created_at 0", 0, "created_at before 2020-01-01 (no clock, or not a real time)"),
            ("created_at in 2019", 1546300800000, "created_at before 2020-01-01 (no clock, or not a real time)"),
            ("created_at in year 9999", 253402300799000, future),
            ("created_at INT64_MAX", 2 ** 63 - 1, future),
            ("created_at now + 2 days", peer.now_ms() + 2 * 86400 * 1000, future)):
        cases.append((label, ident.envelope(RECEIVER_ID, peer.handover(), created_at=at), reason))
    return cases


class HostileTest(ti.DaemonCase):
    daemon_net = {"max_message_size": MAX_MESSAGE}

    # ---- helpers ----

    def send_dropped(self, conn, label, frames, why):
        """Send frames; the daemon counts one more `why` and answers nothing."""
        st = self.daemon.status()
        before, total = self.reasons_of(st).get(why, 0), st["rejected_total"]
        if len(frames) == 1:
            conn.send(frames[0])
        else:
            conn.send_multipart(frames)
        st = self.wait_reason(why, before + 1)
        self.assertEqual(st["rejected_total"], total + 1, label)
        self.assertIsNone(conn.recv(0), "%s: the daemon answered" % label)

    def send_refused(self, conn, label, env, why):
        conn.send(env)
        ack = self.ack(conn)
        self.assertEqual(ack.result, ti.REJECTED, label)
        self.assertEqual(list(ack.message_ids), [env.message_id], label)
        self.assertEqual(ack.reason, why, label)

    def oversized_env(self, extra):
        h = peer.handover()
        env = self.envelope(h)
        env.handover = env.handover + peer.raw_field(99, b"x" * extra)
        env.signature = self.peer.sign(peer.envelope_signing_input(env))
        return h, env

    def oversized(self, conn):
        """Issue 11 item 3: an envelope over max_message_size was dropped with
        its connection, so the sender resent it on the next one forever and
        everything behind it waited. Now it is read (up to NET_TRANSPORT_FACTOR
        times the limit) and refused by id with a PARK ack naming the size
        and the limit; the connection stays up."""
        h, env = self.oversized_env(MAX_MESSAGE + 100)
        self.assertGreater(env.ByteSize(), MAX_MESSAGE)
        conn.send(env)
        ack = self.ack(conn)
        self.assertEqual(ack.result, ti.REJECTED)
        self.assertEqual(list(ack.message_ids), [env.message_id])
        self.assertEqual(ack.disposition, pb.Ack.PARK)
        self.assertEqual(ack.reason, "message of %d bytes is larger than %s's limit of %d bytes"
                         % (env.ByteSize(), RECEIVER_ID, MAX_MESSAGE))
        return h

    def assert_healthy(self):
        """Alive, answers status, accepts a valid handover on a new connection."""
        self.assertIsNone(self.daemon.proc.poll(), "overstapd died:\n" + self.log_tail())
        st = self.daemon.status()
        self.assertEqual(st["institution"], RECEIVER_ID)
        n = st["inbox_total"]
        env = self.deliver()
        self.assertEqual(self.daemon.status()["inbox_total"], n + 1)
        return env

    # ---- tests ----

    def test_malformed_envelopes_dropped_and_counted(self):
        conn = self.connect()
        self.deliver(conn)          # the connection is up and admitted
        for label, frames, why in malformed(self.peer):
            with self.subTest(label):
                self.send_dropped(conn, label, frames, why)
        self.assert_dropped_silently(conn)   # same connection still works
        self.assertEqual(len(self.inbox()), 2)
        self.assert_healthy()

    def test_hostile_batch_fields_dropped_and_counted(self):
        """design.md §4.3: batch fields whose shape no signature could cover
        are refused before anything is hashed (an oversized tree, an index
        outside it, a path of the wrong length or with a short hash, an index
        or path without a size); a path that is well formed but leads to
        another root, or claims another index, fails as a bad signature.
        Each is counted and answered with nothing; the real group is still
        accepted afterwards."""
        conn = self.connect()
        self.deliver(conn)
        envs = self.peer.sign_group([self.unsigned(peer.handover()) for _ in range(5)])

        def variant(i=0, **kw):
            env = pb.Envelope()
            env.CopyFrom(envs[i])
            for k, v in kw.items():
                if k == "batch_path":
                    del env.batch_path[:]
                    env.batch_path.extend(v)
                else:
                    setattr(env, k, v)
            return [env.SerializeToString()]
        path0 = list(envs[0].batch_path)          # index 0 of 5: 3 hashes
        shapes = [
            ("tree of 513", variant(batch_size=513), "batch signature over a group larger than 512"),
            ("tree of 2^32-1", variant(batch_size=2 ** 32 - 1),
             "batch signature over a group larger than 512"),
            ("index 5 of 5", variant(batch_index=5), "batch index outside its group"),
            ("path one short", variant(batch_path=path0[:2]), "batch inclusion path of the wrong length"),
            ("path one long", variant(batch_path=path0 + [bytes(32)]),
             "batch inclusion path of the wrong length"),
            ("hash of 31 bytes", variant(batch_path=path0[:2] + [bytes(31)]),
             "batch inclusion path hash not 32 bytes"),
            ("path without a size", variant(batch_size=0), "batch index or path without a batch size"),
            ("a path element swapped", variant(batch_path=[path0[1], path0[0], path0[2]]),
             "signature does not verify"),
            ("another member's index", variant(batch_index=1), "signature does not verify"),
            ("size 8 where the path fits", variant(batch_size=8), "signature does not verify"),
        ]
        for label, frames, why in shapes:
            with self.subTest(label):
                self.send_dropped(conn, label, frames, why)
        for env in envs:
            conn.send(env)
        acked = []
        while len(acked) < len(envs):
            ack = self.ack(conn)
            self.assertEqual(ack.result, ti.ACCEPTED, ack.reason)
            acked += ack.message_ids
        self.assertEqual(sorted(acked), sorted(e.message_id for e in envs))
        self.assertEqual(len(self.inbox()), 6)
        self.assert_healthy()

    def test_random_bytes_dropped(self):
        conn = self.connect()
        rng = random.Random(7)
        n = 50
        for i in range(n):
            conn.send(bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 600))))
        harness.wait_for(lambda: self.daemon.status()["rejected_total"] >= n, timeout=15,
                         what="%d random messages counted" % n)
        self.assertEqual(self.daemon.status()["rejected_total"], n)
        self.assert_dropped_silently(conn)
        self.assertEqual(len(self.inbox()), 1)

    def test_invalid_handovers_refused_with_reason(self):
        conn = self.connect()
        cases = refused(self.peer)
        for label, env, why in cases:
            with self.subTest(label):
                self.send_refused(conn, label, env, why)
        self.assertEqual(self.inbox(), [])
        self.assertEqual(self.daemon.peer_status(PEER_ID)["received"], len(cases))
        self.assertEqual(self.daemon.status()["rejected_total"], len(cases))
        # A refused message sent again is refused again (no state kept).
        label, env, why = cases[0]
        self.send_refused(conn, label, env, why)
        self.assert_healthy()

    def test_largest_allowed_message_accepted(self):
        """Just under max_message_size, with an unknown Handover field: accepted."""
        h = peer.handover()
        env = self.envelope(h)
        pad = MAX_MESSAGE - env.ByteSize() - 200
        env.handover = env.handover + peer.raw_field(99, b"p" * pad)
        env.signature = self.peer.sign(peer.envelope_signing_input(env))
        self.assertLess(env.ByteSize(), MAX_MESSAGE)
        self.assertGreater(env.ByteSize(), MAX_MESSAGE - 300)
        conn = self.connect()
        conn.send(env)
        self.assert_accepted(conn, env)
        self.assertEqual(self.inbox_ids(), [h.record_id])

    def test_oversized_message_parked_by_id(self):
        conn = self.connect()
        self.deliver(conn)
        h = self.oversized(conn)
        self.assertNotIn(h.record_id, self.inbox_ids())
        self.deliver(conn)          # the same connection goes on
        self.assertEqual(len(self.inbox()), 2)
        self.assert_healthy()

    def test_far_oversized_message_drops_connection(self):
        """Above NET_TRANSPORT_FACTOR (4) times the limit libzmq still drops
        the connection unread (a sender that knows our Hello never sends one)."""
        conn = self.connect()
        self.deliver(conn)
        h, env = self.oversized_env(4 * MAX_MESSAGE + 100)
        conn.send(env)
        self.assertIsNone(conn.recv(1.0), "a far oversized message was answered")
        self.assertNotIn(h.record_id, self.inbox_ids())
        conn.close()
        self.conns.remove(conn)
        # A new connection is served.
        self.assert_healthy()
        # The old socket reconnects by itself; a sender that retries (as the
        # protocol requires) gets through on it again.
        conn = self.connect()
        h2, big = self.oversized_env(4 * MAX_MESSAGE + 100)
        conn.send(big)
        env = self.envelope()

        def retried():
            conn.send(env)
            frames = conn.recv(0.5)
            return frames and peer.parse_ack(frames, RECEIVER_ID, PEER_ID, self.daemon.sign_pub)
        ack = harness.wait_for(retried, timeout=20, what="a retry after the dropped connection to be acked")
        self.assertEqual(ack.result, ACCEPTED)
        self.assertIn(env.message_id, ack.message_ids)
        self.assertNotIn(h2.record_id, self.inbox_ids())
        self.assertEqual(len(self.inbox()), 3)

    def test_duplicate_fields_refused(self):
        """Valid protobuf a careless or hostile encoder may produce: a oneof
        member repeated, two members of the oneof, a signature twice, a
        sub-message twice. Parsers differ on such input (protobuf-c merges a
        split sub-message unlike the reference parser), so what the daemon
        verifies and stores could differ from what another reader sees. It
        accepts only canonical encodings: a non-canonical envelope is dropped
        and counted; a non-canonical body inside a validly signed envelope is
        refused with a reason. Nothing of it is stored, and nothing leaks."""
        conn = self.connect()
        h = peer.handover()
        env = self.envelope(h)
        hello = pb.Hello(software="x" * 1000, max_protocol=1).SerializeToString()
        variants = [
            peer.raw_field(10, hello) + env.SerializeToString(),                      # two oneof members
            peer.raw_field(11, peer.handover().SerializeToString()) + env.SerializeToString(),  # member twice
            peer.raw_field(30, b"\0" * 64) + env.SerializeToString(),                 # signature twice
            env.SerializeToString() + peer.raw_field(30, b"\0" * 64),
        ]
        for i, raw in enumerate(variants):
            conn.send(raw)
            self.wait_reason("envelope is not canonically encoded (NUL in a text field?)", count=i + 1)
        self.assert_dropped_silently(conn)   # (delivers one valid handover)
        before = len(self.inbox())
        # Inside a validly signed handover: the given name twice, the inzage in two parts.
        h3 = peer.handover(given_name="Eerste", inzage=None)
        body = (h3.SerializeToString() + peer.raw_field(3, b"Tweede") +
                peer.raw_field(16, pb.Inzage(reviewer=pb.REVIEWER_PARENT, remarks="deel 1").SerializeToString()) +
                peer.raw_field(16, pb.Inzage(reviewed_on="2025-06-03", recorded_by="m2").SerializeToString()))
        env3 = self.envelope(body)
        conn.send(env3)
        ack = peer.parse_ack(conn.recv(5), RECEIVER_ID, PEER_ID, self.daemon.sign_pub)
        self.assertEqual((list(ack.message_ids), ack.result), ([env3.message_id], pb.Ack.REJECTED))
        self.assertIn("not canonically encoded", ack.reason)
        self.assertEqual(len(self.inbox()), before)
        # The same handover, encoded canonically, is accepted.
        conn.send(env)
        self.assert_accepted(conn, env)
        self.assertIn(h.record_id, self.inbox_ids())

    def test_split_submessage_refused(self):
        """A sub-message sent in two parts is merged (protobuf: "singular
        embedded messages are merged"; Python's parser gives reviewer=PARENT).
        protobuf-c resets a proto3 enum of the first part to 0 when the second
        part does not set it, so it would read a different dossier from the
        same signed bytes than a conforming parser. The daemon therefore
        accepts only bodies that re-encode to their own length, and refuses
        this one with a reason instead of reading it differently."""
        h = peer.handover(inzage=None)
        body = (h.SerializeToString() +
                peer.raw_field(16, pb.Inzage(reviewer=pb.REVIEWER_PARENT).SerializeToString()) +
                peer.raw_field(16, pb.Inzage(reviewed_on="2025-06-03").SerializeToString()))
        parsed = pb.Handover()
        parsed.ParseFromString(body)
        self.assertEqual(parsed.inzage.reviewer, pb.REVIEWER_PARENT)
        conn = self.connect()
        env = self.envelope(body)
        conn.send(env)
        frames = conn.recv(5)
        ack = peer.parse_ack(frames, RECEIVER_ID, PEER_ID, self.daemon.sign_pub)
        self.assertEqual(list(ack.message_ids), [env.message_id])
        self.assertEqual(ack.result, pb.Ack.REJECTED)
        self.assertIn("not canonically encoded", ack.reason)
        self.assertNotIn(h.record_id, self.inbox_ids())

    def test_other_protocol_version_refused_by_id(self):
        """Issue 11 item 4: a newer (or older) peer's message was dropped in
        silence, so that peer retried it forever. Now it gets a REJECTED ack
        for its message id naming the version spoken here; nothing is stored."""
        conn = self.connect()
        self.deliver(conn)
        n = len(self.inbox())
        for version in (2, 0):
            with self.subTest(version=version):
                env = self.peer.envelope(RECEIVER_ID, peer.handover(), version=version)
                before = self.reasons_of(self.daemon.status()).get(VERSION_REASON, 0)
                self.send_refused(conn, "version %d" % version, env, VERSION_REASON)
                self.assertEqual(self.reasons_of(self.daemon.status()).get(VERSION_REASON, 0),
                                 before + 1)
        self.assertEqual(len(self.inbox()), n)
        self.assert_healthy()

    def test_hello_is_answered_with_limits(self):
        """Issue 11 item 3: limits both sides know. A Hello is answered with
        the daemon's own, signed, over the same connection: its
        max_message_size and quotas, so a sender parks at queue time what it
        would refuse. What the peer said is shown in status."""
        conn = self.connect()
        env = self.peer.envelope(RECEIVER_ID, pb.Hello(software="peer.py", max_protocol=1,
                                                       max_message_size=4096),
                                 body_name="hello")
        conn.send(env)
        frames = conn.recv(5)
        self.assertIsNotNone(frames, "the hello was not answered")
        reply = pb.Envelope()
        reply.ParseFromString(frames[0])
        self.assertEqual(reply.WhichOneof("body"), "hello")
        self.assertEqual((reply.sender, reply.recipient), (RECEIVER_ID, PEER_ID))
        self.assertTrue(peer.verify_envelope(reply, self.daemon.sign_pub))
        hello = pb.Hello()
        hello.ParseFromString(reply.hello)
        self.assertEqual(hello.max_protocol, 1)
        self.assertEqual(hello.max_message_size, MAX_MESSAGE)
        self.assertEqual(hello.max_messages_per_hour, 20000)
        self.assertEqual(hello.max_stored_bytes, 1 << 30)
        self.assertTrue(hello.software.startswith("overstapd "))
        self.assertEqual(self.daemon.status()["rejected_total"], 0)
        p = [x for x in self.daemon.status()["peers"] if x["id"] == PEER_ID][0]
        self.assertEqual(p["peer_max_message_size"], 4096)

    def test_embedded_nul_in_message_id_dropped(self):
        """A message id with a NUL after a valid UUID is not a UUID, and its
        signature covers all of its bytes (u32be(len) message_id)."""
        conn = self.connect()
        mid = peer.uuid7()
        env = self.envelope(message_id=mid + "\0" + "x" * 8)
        conn.send(env)
        self.wait_reason("envelope is not canonically encoded (NUL in a text field?)")
        self.assert_dropped_silently(conn)
        self.assertEqual(len(self.inbox()), 1)

    def test_signature_over_truncated_fields_not_accepted(self):
        """protobuf-c gives the daemon C strings, cut at the first NUL: an
        envelope whose message id is "<uuid>\\0junk" and whose signature covers
        only "<uuid>" must not be acknowledged under "<uuid>" (by the
        documented signing input its signature does not verify)."""
        conn = self.connect()
        mid = peer.uuid7()
        env = self.envelope(message_id=mid + "\0junk")
        env.signature = self.peer.sign(peer.signing_input(
            11, mid, env.sender, env.recipient, env.created_at, env.handover))
        self.assertFalse(peer.verify_envelope(env, self.peer.sign_pub),
                         "by the documented signing input this signature is invalid")
        conn.send(env)
        frames = conn.recv(1.5)
        ack = frames and peer.parse_ack(frames, RECEIVER_ID, PEER_ID, self.daemon.sign_pub)
        self.assertFalse(ack, "the daemon answered %s" % ack)
        self.assertEqual(self.inbox(), [])

    def test_everything_then_still_serves(self):
        """All of the above against one daemon, then: alive, status, a valid
        handover accepted, and (tearDown) SIGTERM exits 0."""
        conn = self.connect()
        self.deliver(conn)
        want = collections.Counter()
        for label, frames, why in malformed(self.peer):
            conn.send_multipart(frames)
            want[why] += 1
        harness.wait_for(lambda: self.reasons() == want, timeout=15,
                         what="rejected_reasons to be %r" % dict(want))
        self.assertIsNone(conn.recv(0))
        for label, env, why in refused(self.peer):
            self.send_refused(conn, label, env, why)
        rng = random.Random(99)
        for _ in range(100):
            conn.send(bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 300))))
        self.assert_dropped_silently(conn)
        self.oversized(conn)
        conn.close()
        self.conns.remove(conn)
        stranger = peer.Identity("44DD00")
        sc = self.connect(stranger)
        sc.send(stranger.envelope(RECEIVER_ID, peer.handover()))
        self.assertIsNone(sc.recv(0.5))
        self.wait_reason("connection with an unknown CURVE key refused")
        self.assert_healthy()
        self.assertEqual(len(self.inbox()), 3)
        self.assertIn("rejected_reasons", self.daemon.status())

    def test_garbage_burst_log_rate_limited(self):
        n = 1000
        conn = self.connect()
        rng = random.Random(1000)
        for i in range(n):
            # never a valid envelope: field 0 is not a field
            conn.send(b"\x00" + bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 200))))
        harness.wait_for(lambda: self.daemon.status()["rejected_total"] >= n, timeout=30,
                         what="%d garbage messages counted" % n)
        st = self.daemon.status()
        self.assertEqual(st["rejected_total"], n)
        self.assertEqual(self.daemon.peer_status(PEER_ID)["rejected"], n)
        self.assert_dropped_silently(conn)
        lines = [l for l in self.daemon.read_log().splitlines() if "rejected message" in l]
        self.assertGreater(len(lines), 0, "rejections are not logged at all")
        self.assertLess(len(lines), 100, "%d 'rejected message' log lines for %d messages" % (len(lines), n))
        self.assertLess(len(self.daemon.read_log().splitlines()), 200)
        self.assert_healthy()

    def test_registration_probe_learns_nothing(self):
        """Issue 11 item 2: a configured peer probes PGNs with signed
        registrations. Before, it got three kinds of answer (3,559 probes/s)
        and 5,000 probes left one audit row. Now every probe gets the same
        REJECTED reason, past max_refused_registrations_per_hour they are
        refused unread, the daemon logs once that the peer looks like it is
        probing, and the audit log gets one registration.refused entry with
        the count (at the hour's end or, here, at shutdown)."""
        n = 500
        rng = random.Random(11)
        conn = self.connect()
        audit_before = self.audit()
        sent = set()
        while len(sent) < n:
            # BSNs that pass the 11-test (not starting "10": an onderwijsnummer)
            d = [rng.randrange(2, 10)] + [rng.randrange(10) for _ in range(7)]
            d.append(sum(x * (9 - i) for i, x in enumerate(d)) % 11)
            if d[8] == 10:
                continue
            env = self.peer.envelope(RECEIVER_ID, pb.Registration(pgn="".join(map(str, d)),
                                                                  registered_on="2025-09-01"),
                                     body_name="registration")
            conn.send(env)
            sent.add(env.message_id)
        replies, answered = collections.Counter(), set()
        while answered != sent:
            ack = self.ack(conn)
            answered.update(ack.message_ids)
            replies[(ack.result, ack.reason)] += len(ack.message_ids)
        self.assertEqual(dict(replies), {(ti.REJECTED, "registration not accepted"): len(sent)})
        self.assertEqual(self.audit(), audit_before, "an audit row per probe")
        probing = [l for l in self.daemon.read_log().splitlines() if "probing" in l]
        self.assertEqual(len(probing), 1, probing)
        # shutdown writes the open hour: one entry with the count
        self.assertEqual(self.daemon.stop(), 0)
        self.daemon.start()
        rows = [r for r in self.audit() if r not in audit_before]
        self.assertLessEqual(len(rows), 2, rows)
        refused = [r for r in rows if r["action"] == "registration.refused"]
        self.assertEqual(len(refused), 1, rows)
        detail = refused[0]["detail"]
        detail = json.loads(detail) if isinstance(detail, str) else detail
        self.assertEqual(detail["count"], len(sent))
        self.assertTrue(detail["probing"])
        self.assert_healthy()

    def audit(self):
        return [json.loads(l) for l in self.daemon.cli("audit", "export").stdout.splitlines()]


if __name__ == "__main__":
    unittest.main()
