"""Integration: what the MBO tells the school (design.md §3, issue 3), with two real
daemons. A registration by PGN opens the school's gate; statuses flow without
consent; outcomes only under a follow_up consent, checked by the MBO before
it sends and by the school when it receives (also against an independent
sender with a forged assertion); the outcomes CSV is all or nothing; a
handover whose consent is withdrawn while it waits in the outbox is
cancelled and never arrives.

Run: python3 -m unittest -v test_feedback   (OVERSTAPD / OVERSTAP from the environment)
"""
import datetime
import json
import os
import time
import random
import sys

import harness
from harness import wait_for

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "interop"))
import peer  # noqa: E402  (the independent Python peer)
import zmq  # noqa: E402
from test_rollover import key_identity  # noqa: E402
from test_reliability import outbox_plaintexts  # noqa: E402

SCHOOL, MBO = "12AB00", "25LZ00"
TODAY = datetime.date.today().isoformat()


def row(ref, rng, **kw):
    r = {"pupil_ref": ref, "pgn": harness.bsn(rng), "given_name": "Sara", "family_name": "Kaya",
         "birth_date": "2008-05-01", "program": "pro", "cohort": "2024-2025",
         "exit_date": "2025-07-04", "destination_type": "mbo_entree",
         "destination_institution": MBO, "advice": "entree", "advice_followed": "no",
         "level_taal": "1F", "level_rekenen": "none"}
    r.update(kw)
    return r


class FeedbackTest(harness.DaemonTestCase):

    def setUp(self):
        super().setUp()
        self.school, self.mbo = harness.federation(self.root, SCHOOL, MBO)
        self.insts += [self.school, self.mbo]
        rng = random.Random(11)
        self.rows = [row("F1", rng), row("F2", rng), row("F3", rng)]
        self.school.cli("import", "leavers",
                        harness.write_csv(os.path.join(self.root, "f.csv"), self.rows))

    def state(self, ref):
        return [o for o in self.school.cli_json("handover", "list") if o["pupil_ref"] == ref][0]

    def send(self, *refs):
        self.school.cli("handover", "inzage", "--by", "pupil", "--agrees", "yes",
                        "--date", TODAY, *refs)
        self.school.cli("handover", "send", *refs)
        wait_for(lambda: all(self.state(r)["state"] == "delivered" for r in refs),
                 what="%s delivered" % (refs,))
        return {r: self.state(r)["record_id"] for r in refs}

    def timeline(self, ref):
        return self.school.cli_json("handover", "show", ref)["timeline"]

    def audit(self, inst, action):
        return [e for e in map(json.loads, inst.cli("audit", "export").stdout.splitlines())
                if e["action"] == action]

    def test_registration_statuses_and_outcomes(self):
        # 1. The MBO registers two pupils by PGN: the school's gate opens.
        for r in self.rows[:2]:
            self.mbo.cli("registration", "record", r["pgn"], "--from", SCHOOL, "--date", TODAY)
        wait_for(lambda: self.state("F1")["state"] == "registered" and
                 self.state("F2")["state"] == "registered", what="registrations at the school")
        self.assertEqual(self.state("F3")["state"], "imported")
        self.assertEqual(len(self.audit(self.school, "registration.received")), 2)
        # Issue 16 item 3: a Registration carries the PGN, and the MBO kept it
        # in its outbox under a key master.key derives and nothing destroys.
        # Once acknowledged it is emptied: no outbox row opens to a PGN.
        pgns = [r["pgn"].encode() for r in self.rows[:2]]
        wait_for(lambda: not any(p in text for p in pgns
                                 for text in outbox_plaintexts(self.mbo)),
                 timeout=15, what="the registrations' PGNs gone from the MBO's outbox")
        bad = self.mbo.cli("registration", "record", "123456789", "--from", SCHOOL, check=False)
        self.assertEqual(bad.returncode, 1)           # fails the 11-test, refused before sending

        # F1 gave a follow_up consent for the MBO; F2 did not.
        self.school.cli("consent", "grant", "F1", "--purpose", "follow_up", "--by", "pupil",
                        "--evidence", "form", "--ref", "AVG-1")
        rid = self.send("F1", "F2")

        # 2. Statuses need no consent.
        self.mbo.cli("registration", "status", rid["F2"], "intake_held", "--date", TODAY)
        # issue 15: `status set` is the old name, kept one release for scripts,
        # with a warning on stderr only (stdout stays what scripts read)
        old = self.mbo.cli("status", "set", rid["F2"], "enrolled")
        self.assertIn("'status set' is now 'registration status'", old.stderr)
        self.assertNotIn("is now", old.stdout)
        wait_for(lambda: len(self.timeline("F2")) == 2, what="two statuses at the school")
        self.assertEqual([(e["event"], e["inbound"], e["peer"]) for e in self.timeline("F2")],
                         [("intake_held", True, MBO), ("enrolled", True, MBO)])
        wait_for(lambda: [e["state"] for e in
                          self.mbo.cli_json("inbox", "show", rid["F2"])["timeline"]] ==
                 ["delivered", "delivered"], what="the MBO to see its statuses delivered")

        # 3. Outcomes: refused at the MBO without consent, audited; sent with it.
        r = self.mbo.cli("outcome", "record", rid["F2"], "diploma", "--level", "2", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("no follow_up consent", r.stderr)
        # issue 15: from the command line no "-:0:" file and line, and one problem is one
        self.assertNotIn("-:0:", r.stderr)
        self.assertIn("nothing sent: 1 problem\n", r.stderr)
        denied = self.audit(self.mbo, "disclosure.denied")
        self.assertEqual([(e["subject"], json.loads(e["detail"])["purpose"]) for e in denied],
                         [(rid["F2"], "follow_up")])
        self.mbo.cli("outcome", "record", rid["F1"], "progressed", "--level", "2")
        wait_for(lambda: self.timeline("F1"), what="the outcome at the school")
        (e,) = self.timeline("F1")
        self.assertEqual((e["event"], e["level"]), ("progressed", 2))
        self.assertTrue(e["consent_id"])
        self.assertEqual(len(self.audit(self.school, "outcome.received")), 1)
        self.assertEqual(self.school.cli_json("audit", "verify")["intact"], True)

        # 4. The CSV is all or nothing: one row without consent refuses the file.
        csv = os.path.join(self.root, "outcomes.csv")
        with open(csv, "w") as f:
            f.write("record_id,event,date,level\n%s,still_enrolled,%s,\n%s,diploma,%s,2\n"
                    % (rid["F1"], TODAY, rid["F2"], TODAY))
        r = self.mbo.cli("import", "outcomes", csv, check=False)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("%s:3: record_id" % csv, r.stderr)
        # --check says the same, and neither queues nor audits anything
        n_audit = len(self.mbo.cli("audit", "export").stdout.splitlines())
        r = self.mbo.cli("import", "outcomes", "--check", csv, check=False)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("%s:3: record_id" % csv, r.stderr)
        self.assertEqual(len(self.mbo.cli("audit", "export").stdout.splitlines()), n_audit)
        with open(csv, "a") as f:
            f.write("%s,not-an-event,%s,\n" % (rid["F1"], TODAY))
        r = self.mbo.cli("import", "outcomes", csv, check=False)
        self.assertEqual(r.returncode, 4)
        self.assertIn("%s:4: event" % csv, r.stderr)
        with open(csv, "w") as f:
            f.write("record_id,event,date,level\n%s,still_enrolled,%s,\n%s,withdrawn,%s,\n"
                    % (rid["F1"], TODAY, rid["F2"], TODAY))
        r = self.mbo.cli("import", "outcomes", "--check", csv)
        self.assertIn("would be queued: 2", r.stdout)
        time.sleep(0.5)
        self.assertEqual(len(self.timeline("F1")), 1)     # nothing went
        self.assertEqual(len(self.mbo.cli("audit", "export").stdout.splitlines()), n_audit)
        self.mbo.cli("import", "outcomes", csv)
        wait_for(lambda: len(self.timeline("F1")) == 2 and len(self.timeline("F2")) == 3,
                 what="the imported events at the school")

    def test_school_refuses_an_outcome_without_its_consent(self):
        """An independent sender with the MBO's keys forges a consent id: the
        school checks its own records, refuses, and stores nothing."""
        self.school.cli("handover", "registered", "--date", TODAY, "F3")
        rid = self.send("F3")["F3"]
        ctx = zmq.Context()
        try:
            forger = key_identity(MBO, self.mbo.keys)
            conn = forger.connect(ctx, self.school.endpoint, self.school.curve_pub)
            out = peer.pb.Outcome(record_id=rid, outcome="diploma", date=TODAY, level=1,
                                  consent=peer.pb.ConsentAssertion(**peer.consent_assertion(
                                      purpose="follow_up")))
            env = forger.envelope(SCHOOL, out, body_name="outcome")
            conn.send(env)
            ack = peer.parse_ack(conn.recv(10), SCHOOL, MBO, self.school.sign_pub)
            self.assertEqual(ack.result, peer.pb.Ack.REJECTED)
            self.assertEqual(ack.reason, "outcome without a valid follow_up consent")
            self.assertEqual(list(ack.message_ids), [env.message_id])
            # a status for that record is fine; for a made-up record it is not
            st = forger.envelope(SCHOOL, peer.pb.Status(record_id=rid, status="enrolled", date=TODAY),
                                 body_name="status")
            conn.send(st)
            self.assertEqual(peer.parse_ack(conn.recv(10), SCHOOL, MBO,
                                            self.school.sign_pub).result, peer.pb.Ack.ACCEPTED)
            st = forger.envelope(SCHOOL, peer.pb.Status(record_id=peer.uuid7(), status="enrolled",
                                                        date=TODAY), body_name="status")
            conn.send(st)
            ack = peer.parse_ack(conn.recv(10), SCHOOL, MBO, self.school.sign_pub)
            self.assertEqual((ack.result, ack.reason),
                             (peer.pb.Ack.REJECTED, "no handover with this record id"))
            # with the school's own follow_up consent the same outcome is accepted
            fc = self.school.cli_json("consent", "grant", "F3", "--purpose", "follow_up", "--by",
                                      "pupil", "--evidence", "form", "--ref", "AVG-3")[0]
            good = forger.envelope(SCHOOL, peer.pb.Outcome(
                record_id=rid, outcome="diploma", date=TODAY, level=1,
                consent=peer.pb.ConsentAssertion(**peer.consent_assertion(
                    purpose="follow_up", consent_id=fc["id"], counterpart=MBO))), body_name="outcome")
            conn.send(good)
            ack = peer.parse_ack(conn.recv(10), SCHOOL, MBO, self.school.sign_pub)
            self.assertEqual((ack.result, list(ack.message_ids)),
                             (peer.pb.Ack.ACCEPTED, [good.message_id]))
            conn.close()
        finally:
            ctx.term()
        self.assertEqual([e["event"] for e in self.timeline("F3")], ["enrolled", "diploma"])
        refused = self.audit(self.school, "disclosure.refused")
        self.assertEqual([e["subject"] for e in refused], [rid])

    def test_withdrawn_while_queued_is_never_sent(self):
        n = self.school.read_log().count("configuration reloaded")
        with open(self.school.conf, "a") as f:
            f.write("\n[policy]\nhandover = consent\n")
        self.school.reload()
        wait_for(lambda: self.school.read_log().count("configuration reloaded") > n,
                 what="the policy reload")
        c = self.school.cli_json("consent", "grant", "F1", "--purpose", "handover", "--by", "pupil",
                                 "--evidence", "form", "--ref", "AVG-2")[0]
        self.school.cli("handover", "registered", "--date", TODAY, "F1")
        self.school.cli("handover", "inzage", "--by", "pupil", "--agrees", "yes",
                        "--date", TODAY, "F1")
        self.assertEqual(self.mbo.stop(), 0)
        self.school.cli("handover", "send", "F1")
        self.assertEqual(self.state("F1")["state"], "queued")
        self.school.cli("consent", "withdraw", c["id"])
        self.mbo.start()
        wait_for(lambda: self.state("F1")["state"] == "cancelled", what="the handover cancelled")
        wait_for(lambda: self.school.peer_status(MBO)["connected"], what="the MBO reconnected")
        self.assertEqual(self.mbo.status()["inbox_total"], 0)
        (e,) = self.audit(self.school, "disclosure.cancelled")
        self.assertEqual(json.loads(e["detail"])["reason"], "consent withdrawn")


if __name__ == "__main__":
    import unittest
    unittest.main()
