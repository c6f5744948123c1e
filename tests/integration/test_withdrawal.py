"""Integration: withdrawal, erasure, retention, audit checkpoints and the
subject access report (design.md §3, §5; issue 3), with two real daemons.

- A consent withdrawn while the receiver is down reaches it when it returns;
  it erases what it held under the consent (care notes, its reliance on a
  follow_up consent) and its signed receipt comes back and is shown.
- `overstap erase` destroys the pupil key: the wrapped key's bytes are gone
  from every store file, the pupil's outcome rows too, and the receiver is
  told.
- Retention erases delivered and received dossiers once their period is over.
- Removing the newest audit entries is found against the peer's checkpoint.
- `overstap subject` reports everything held on a pupil; registrations come
  in by CSV.

Run: python3 -m unittest -v test_withdrawal   (OVERSTAPD / OVERSTAP from the environment)
"""
import datetime
import hashlib
import hmac
import json
import os
import random
import sqlite3
import time

import harness
from harness import wait_for
from test_reliability import inbox_pseudonym_key

SCHOOL, MBO = "12AB00", "25LZ00"
TODAY = datetime.date.today().isoformat()


def row(ref, rng, **kw):
    r = {"pupil_ref": ref, "pgn": harness.bsn(rng), "given_name": "Noor", "family_name": "Bakkali",
         "birth_date": "2008-05-01", "program": "vso_arbeid", "cohort": "2024-2025",
         "exit_date": "2025-07-04", "destination_type": "mbo_entree",
         "destination_institution": MBO, "advice": "entree", "advice_followed": "yes",
         "level_taal": "1F", "level_rekenen": "none",
         "support_needs": "structure:Heeft een vaste dagstructuur nodig"}
    r.update(kw)
    return r


def store_bytes(inst):
    data = b""
    for suffix in ("", "-wal"):
        path = inst.db + suffix
        if os.path.exists(path):
            with open(path, "rb") as f:
                data += f.read()
    return data


class WithdrawalTest(harness.DaemonTestCase):

    def setUp(self):
        super().setUp()
        self.school, self.mbo = harness.federation(self.root, SCHOOL, MBO)
        self.insts += [self.school, self.mbo]
        rng = random.Random(23)
        self.rows = [row("W1", rng), row("W2", rng, given_name="Jesse", family_name="Dekkerman"),
                     row("W3", rng)]
        self.school.cli("import", "leavers",
                        harness.write_csv(os.path.join(self.root, "w.csv"), self.rows))

    def state(self, ref):
        return [o for o in self.school.cli_json("handover", "list") if o["pupil_ref"] == ref][0]

    def grant(self, ref, purpose):
        return self.school.cli_json("consent", "grant", ref, "--purpose", purpose, "--by", "pupil",
                                    "--evidence", "form", "--ref", "AVG-%s-%s" % (ref, purpose))[0]

    def send(self, *refs):
        self.school.cli("handover", "registered", "--date", TODAY, *refs)
        self.school.cli("handover", "inzage", "--by", "pupil", "--agrees", "yes",
                        "--date", TODAY, *refs)
        self.school.cli("handover", "send", *refs)
        wait_for(lambda: all(self.state(r)["state"] == "delivered" for r in refs),
                 what="%s delivered" % (refs,))
        return {r: self.state(r)["record_id"] for r in refs}

    def audit(self, inst, action):
        return [e for e in map(json.loads, inst.cli("audit", "export").stdout.splitlines())
                if e["action"] == action]

    def test_withdrawal_while_receiver_down_is_delivered_and_receipted(self):
        hc, fc = self.grant("W1", "handover"), self.grant("W1", "follow_up")
        rid = self.send("W1")["W1"]
        held = self.mbo.cli_json("inbox", "show", rid)["dossier"]
        self.assertEqual(held["support_needs"][0]["note"], "Heeft een vaste dagstructuur nodig")
        self.mbo.cli("outcome", "record", rid, "still_enrolled")   # allowed: consent in force
        # at the school before the MBO goes down: one still queued there is
        # cancelled by the withdrawal and its receipt says so (a slow
        # machine, or valgrind, got there first)
        wait_for(lambda: self.mbo.peer_status(SCHOOL)["outbox_depth"] == 0,
                 what="the outcome acknowledged by the school")

        self.assertEqual(self.mbo.stop(), 0)
        out = self.school.cli("consent", "withdraw", hc["id"]).stdout
        self.assertIn("withdrawal queued for %s" % MBO, out)
        self.school.cli("consent", "withdraw", fc["id"])
        ws = self.school.cli_json("handover", "show", "W1")["withdrawals"]
        self.assertEqual([w["receipt"] for w in ws], [None, None])

        self.mbo.start()
        wait_for(lambda: all(w["receipt"] for w in
                             self.school.cli_json("handover", "show", "W1")["withdrawals"]),
                 what="both erasure receipts at the school")
        ws = self.school.cli_json("handover", "show", "W1")["withdrawals"]
        self.assertEqual(ws[0]["consent_ids"], [hc["id"]])
        self.assertEqual(ws[0]["receipt"]["erased"], ["care_notes"])
        self.assertEqual(ws[1]["consent_ids"], [fc["id"]])
        self.assertEqual(ws[1]["receipt"]["erased"], ["follow_up_reliance"])
        # The receiver's copy lost the notes, and says so; the rest stays (statute).
        shown = self.mbo.cli_json("inbox", "show", rid)
        self.assertEqual(shown["erased_what"], "care_notes")
        self.assertEqual(shown["dossier"]["support_needs"][0]["note"], "")
        self.assertEqual(shown["dossier"]["family_name"], "Bakkali")
        # It stopped: no outcome goes out on the withdrawn consent.
        r = self.mbo.cli("outcome", "record", rid, "diploma", "--level", "1", check=False)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertEqual(len(self.audit(self.mbo, "withdrawal.received")), 2)
        self.assertEqual(len(self.audit(self.school, "erasure.receipt")), 2)
        # A restart does not answer again (idempotent on the message id).
        self.assertEqual(self.mbo.stop(), 0)
        self.mbo.start()
        wait_for(lambda: self.school.peer_status(MBO)["connected"], what="reconnected")
        time.sleep(1)
        self.assertEqual(len(self.audit(self.mbo, "withdrawal.received")), 2)

    def test_status_after_the_dossier_was_erased(self):
        """Issue 16 item 6: once a withdrawal had erased the whole dossier (a
        handover on consent), a statutory `registration status` was refused with "no
        handover received with this record id". The record id and its sender
        are kept: the status (statute) goes back; an outcome is refused with
        the real reason."""
        self.school.policy["handover"] = "consent"
        self.school.write_config()
        n = self.school.read_log().count("configuration reloaded")
        self.school.reload()
        wait_for(lambda: self.school.read_log().count("configuration reloaded") > n,
                 what="the reload")
        hc = self.grant("W3", "handover")
        self.grant("W3", "follow_up")
        rid = self.send("W3")["W3"]
        self.school.cli("consent", "withdraw", hc["id"])
        wait_for(lambda: any(w["receipt"] and "dossier" in w["receipt"]["erased"] for w in
                             self.school.cli_json("handover", "show", "W3")["withdrawals"]),
                 what="the dossier erased at the MBO")
        self.assertTrue(self.mbo.cli_json("inbox", "show", rid)["erased_at"])

        self.mbo.cli("registration", "status", rid, "enrolled", "--date", TODAY)
        wait_for(lambda: [(e["event"], e["inbound"]) for e in
                          self.school.cli_json("handover", "show", "W3")["timeline"]] ==
                 [("enrolled", True)], what="the status at the school")
        r = self.mbo.cli("outcome", "record", rid, "still_enrolled", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("the dossier was erased here", r.stderr)
        self.assertNotIn("no handover received", r.stderr)

    def test_erase_destroys_the_pupil_key(self):
        self.grant("W2", "follow_up")
        rid = self.send("W2")["W2"]
        self.mbo.cli("outcome", "record", rid, "still_enrolled")
        wait_for(lambda: len(self.school.cli_json("handover", "show", "W2")["timeline"]) == 1,
                 what="the outcome at the school")
        db = sqlite3.connect(self.school.db)
        (key_id,) = db.execute("SELECT key_id FROM leavers WHERE record_id = ?", (rid,)).fetchone()
        (wrapped,) = db.execute("SELECT wrapped FROM pupil_keys WHERE id = ?", (key_id,)).fetchone()
        db.close()
        self.assertIn(wrapped, store_bytes(self.school))

        r = self.school.cli("erase", "W2", check=False)      # no terminal: needs --yes
        self.assertEqual(r.returncode, 2)
        out = self.school.cli("erase", "W2", "--yes").stdout
        self.assertIn("withdrawal queued for %s" % MBO, out)

        # Decryption is impossible: the wrapped key is overwritten everywhere.
        data = store_bytes(self.school)
        self.assertNotIn(wrapped, data)
        for needle in (b"Jesse", b"Dekkerman", self.rows[1]["pgn"].encode()):
            self.assertNotIn(needle, data)
        db = sqlite3.connect(self.school.db)
        self.assertIsNone(db.execute("SELECT wrapped FROM pupil_keys WHERE id = ?",
                                     (key_id,)).fetchone()[0])
        self.assertEqual(db.execute("SELECT count(*) FROM events WHERE record_id = ?",
                                    (rid,)).fetchone()[0], 0)
        db.close()
        r = self.school.cli("handover", "show", "W2", check=False)
        self.assertEqual(r.returncode, 1)
        erased = [o for o in self.school.cli_json("handover", "list") if o["record_id"] == rid]
        self.assertEqual(erased[0]["pupil_ref"], "(erased)")
        # The receiver was told, and answered.
        wait_for(lambda: self.audit(self.school, "erasure.receipt"), what="the receipt")
        (w,) = self.audit(self.mbo, "withdrawal.received")
        self.assertEqual(json.loads(w["detail"])["reason"], "erased")
        self.assertEqual(len(self.audit(self.school, "pupil.erased")), 1)
        r = self.school.cli("erase", "W2", "--yes", check=False)
        self.assertEqual(r.returncode, 1)

    def test_erased_while_waiting_for_the_receiver_is_never_sent(self):
        """A dossier queued while the receiver is down sits in the school's
        memory as well as in its outbox (the sender's window). Erasing the
        pupil cancelled the outbox row and destroyed the key, but the copy in
        memory went out when the receiver came back: the MBO held the dossier
        of a pupil the school had erased. Both copies must go."""
        self.assertEqual(self.mbo.stop(), 0)
        self.school.cli("handover", "registered", "--date", TODAY, "W2")
        self.school.cli("handover", "inzage", "--by", "pupil", "--agrees", "yes",
                        "--date", TODAY, "W2")
        self.school.cli("handover", "send", "W2")
        wait_for(lambda: self.state("W2")["state"] == "queued", what="W2 queued")
        time.sleep(1.5)     # the sender has filled its window from the outbox by now
        self.school.cli("erase", "W2", "--yes")
        self.mbo.start()
        wait_for(lambda: self.school.peer_status(MBO)["connected"], what="reconnected")
        # a copy in memory goes at once on connecting; a retry within 1 s
        time.sleep(3)
        self.assertEqual(self.mbo.cli_json("inbox", "list"), [])
        self.assertNotIn(b"Dekkerman", store_bytes(self.mbo))
        self.assertEqual(self.audit(self.mbo, "dossier.received"), [])

    def pseudonyms(self, inst, table, ref=None):
        """What master.key and a guessed BSN (or pupil number) recover from a
        store: the HMACs the daemon derives, tried against every row."""
        key = inbox_pseudonym_key(inst)
        want = {hmac.new(key, ("pgn:" + r["pgn"]).encode(), hashlib.sha256).digest()
                for r in self.rows}
        want |= {hmac.new(key, ("ref:" + r["pupil_ref"]).encode(), hashlib.sha256).digest()
                 for r in self.rows}
        db = sqlite3.connect(inst.db)
        cols = ["pseudonym"] + (["ref_hash"] if table == "leavers" else [])
        found = {v for c in cols for (v,) in db.execute("SELECT %s FROM %s" % (c, table))}
        db.close()
        return found & want

    def test_retention_erases_expired_dossiers(self):
        rid = self.send("W3")["W3"]
        # Issue 16 item 4: after retention the school kept the leaver's PGN
        # pseudonym and ref hash, so master.key and the candidate BSNs linked
        # the row to the pupil again. Now none is left, at either side.
        self.assertTrue(self.pseudonyms(self.school, "leavers"))
        self.assertTrue(self.pseudonyms(self.mbo, "inbox"))
        for inst, sql in ((self.school, "UPDATE leavers SET delivered_at = ?"),
                          (self.mbo, "UPDATE inbox SET received_at = ?")):
            self.assertEqual(inst.stop(), 0)
            inst.policy.update({"retention_sent_days": 30, "retention_received_days": 30})
            inst.write_config()
            db = sqlite3.connect(inst.db)
            db.execute(sql, (int((time.time() - 31 * 86400) * 1000),))
            db.commit()
            db.close()
            inst.start()     # the daily job runs at start
        wait_for(lambda: self.audit(self.school, "retention.erased"), what="school retention")
        wait_for(lambda: self.audit(self.mbo, "retention.erased"), what="receiver retention")
        shown = self.mbo.cli_json("inbox", "show", rid)
        self.assertIsNone(shown["dossier"])
        self.assertEqual(shown["erased_what"], "retention")
        (st,) = [o for o in self.school.cli_json("handover", "list") if o["record_id"] == rid]
        self.assertEqual(st["pupil_ref"], "(erased)")
        self.assertEqual(st["state"], "delivered")      # the report fields stay
        (w3,) = [r for r in self.rows if r["pupil_ref"] == "W3"]
        key = inbox_pseudonym_key(self.school)
        left = self.pseudonyms(self.school, "leavers")
        for tag in ("pgn:" + w3["pgn"], "ref:W3"):
            self.assertNotIn(hmac.new(key, tag.encode(), hashlib.sha256).digest(), left)
        self.assertEqual(self.pseudonyms(self.mbo, "inbox"), set())

    def test_truncated_audit_log_found_by_the_peer_checkpoint(self):
        for inst in (self.school, self.mbo):
            inst.stop()
            inst.net["checkpoint_interval_s"] = 1
            inst.write_config()
            inst.start()
        self.send("W1")
        (n,) = sqlite3.connect(self.school.db).execute("SELECT max(seq) FROM audit").fetchone()

        def mbo_holds():
            db = sqlite3.connect(self.mbo.db)
            try:
                r = db.execute("SELECT seq FROM checkpoints WHERE peer = ? AND kind = 0",
                               (SCHOOL,)).fetchone()
            finally:
                db.close()
            return r and r[0] >= n
        wait_for(mbo_holds, what="the MBO to hold the school's head")
        wait_for(lambda: self.school.cli_json("audit", "verify")["checkpoints"] >= 1,
                 what="the school to hold the MBO's copy of its head")

        self.assertEqual(self.school.stop(), 0)
        db = sqlite3.connect(self.school.db)
        db.execute("DROP TRIGGER audit_no_delete")
        db.execute("DELETE FROM audit WHERE seq > ?", (n - 3,))
        db.execute("DELETE FROM checkpoints")     # a thorough intruder
        db.commit()
        db.close()
        self.school.start()
        def verify():
            return json.loads(self.school.cli("audit", "verify", "--json", check=False).stdout)
        wait_for(lambda: not verify()["intact"], what="verify to find the truncation")
        v = verify()
        self.assertEqual(v["checkpoint_peer"], MBO)
        self.assertIn("truncated", v["reason"])
        r = self.school.cli("audit", "verify", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("holds a checkpoint our log no longer has", self.school.read_log())

        # Issue 16 item 1: the evidence healed itself. Once the log grew past
        # the cut, the MBO took the school's new head, sent it back, and
        # `audit verify` said "intact" again within seconds. Now the MBO
        # takes a higher head only with proof that it extends the one it
        # holds (the school's mac at that entry, which the cut log no longer
        # has), and each side keeps an incident until it is acknowledged.
        for _ in range(6):
            self.school.cli("handover", "show", "W1")

        def mbo_head():
            db = sqlite3.connect(self.mbo.db)
            try:
                row = db.execute("SELECT seq FROM checkpoints WHERE peer = ? AND kind = 0",
                                 (SCHOOL,)).fetchone()
                return row[0] if row else 0   # none: let go by the acknowledgement
            finally:
                db.close()
        time.sleep(4)            # several checkpoint rounds both ways
        self.assertEqual(mbo_head(), n, "the MBO took a head that does not extend the one it held")
        v = verify()
        self.assertFalse(v["intact"], v)
        (inc,) = v["incidents"]
        self.assertEqual((inc["peer"], inc["kind"]), (MBO, "checkpoint_mismatch"))
        r = self.school.cli("audit", "verify", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("incident %d" % inc["id"], r.stdout)
        mv = json.loads(self.mbo.cli("audit", "verify", "--json", check=False).stdout)
        self.assertFalse(mv["intact"])
        (minc,) = mv["incidents"]
        self.assertEqual((minc["peer"], minc["kind"]), (SCHOOL, "peer_chain_regressed"))
        self.assertEqual(len(self.audit(self.school, "audit.checkpoint_mismatch")), 1)

        # Acknowledged at the MBO, it witnesses the school's log anew; at the
        # school, with a note, verify is clean again once the witness
        # matches; the acknowledgement is itself in the log.
        bad = self.school.cli("audit", "ack-incident", "999", check=False)
        self.assertEqual(bad.returncode, 1)
        self.mbo.cli("audit", "ack-incident", str(minc["id"]), "--note", "school restored")
        wait_for(lambda: mbo_head() > n, what="the MBO to witness the school's log anew")
        self.school.cli("audit", "ack-incident", str(inc["id"]), "--note", "restored from backup")
        wait_for(lambda: verify()["intact"], what="a clean verify at the school")
        self.assertEqual(self.school.cli("audit", "verify", check=False).returncode, 0)
        (ack,) = self.audit(self.school, "audit.incident_acked")
        self.assertEqual(json.loads(ack["detail"])["note"], "restored from backup")

    def test_consent_granted_after_delivery_reaches_the_receiver(self):
        rid = self.send("W1")["W1"]
        r = self.mbo.cli("outcome", "record", rid, "still_enrolled", check=False)
        self.assertEqual(r.returncode, 1)                     # no follow_up consent travelled
        out = self.school.cli("consent", "grant", "W1", "--purpose", "follow_up", "--by", "pupil",
                              "--evidence", "form", "--ref", "AVG-late").stdout
        self.assertIn("%s is told of this consent" % MBO, out)
        wait_for(lambda: self.audit(self.mbo, "consent.notice_received"), what="the notice")
        self.mbo.cli("outcome", "record", rid, "still_enrolled")
        wait_for(lambda: [e["event"] for e in
                          self.school.cli_json("handover", "show", "W1")["timeline"]] ==
                 ["still_enrolled"], what="the outcome at the school")
        (c,) = self.school.cli_json("consent", "list", "W1")
        self.school.cli("consent", "withdraw", c["id"])
        wait_for(lambda: all(w["receipt"] for w in
                             self.school.cli_json("handover", "show", "W1")["withdrawals"]),
                 what="the receipt")
        (w,) = self.school.cli_json("handover", "show", "W1")["withdrawals"]
        self.assertEqual(w["receipt"]["erased"], ["follow_up_reliance"])
        r = self.mbo.cli("outcome", "record", rid, "switched", check=False)
        self.assertEqual(r.returncode, 1)

    def test_subject_report_and_registration_csv(self):
        path = os.path.join(self.root, "reg.csv")
        with open(path, "w") as f:
            f.write("pgn,sending_school,registered_on\n")
            f.write("%s,%s,%s\n" % (self.rows[0]["pgn"], SCHOOL, TODAY))
            f.write("%s,%s,%s\n" % (self.rows[1]["pgn"], SCHOOL, TODAY))
        n_audit = len(self.mbo.cli("audit", "export").stdout.splitlines())
        out = self.mbo.cli("import", "registrations", "--check", path).stdout
        self.assertIn("registrations that would be queued: 2", out)
        self.assertEqual(len(self.mbo.cli("audit", "export").stdout.splitlines()), n_audit)
        self.assertEqual(self.state("W1")["state"], "imported")
        out = self.mbo.cli("import", "registrations", path).stdout
        self.assertIn("registrations queued: 2", out)
        wait_for(lambda: self.state("W1")["state"] == "registered" and
                 self.state("W2")["state"] == "registered", what="registrations at the school")
        with open(path, "a") as f:
            f.write("123456789,%s,%s\n" % (SCHOOL, TODAY))
        r = self.mbo.cli("import", "registrations", path, check=False)
        self.assertEqual(r.returncode, 4)
        self.assertIn("reg.csv:4: pgn:", r.stderr)

        fc = self.grant("W1", "follow_up")
        self.school.cli("handover", "inzage", "--by", "pupil", "--agrees", "yes",
                        "--date", TODAY, "W1")
        self.school.cli("handover", "send", "W1")
        wait_for(lambda: self.state("W1")["state"] == "delivered", what="W1 delivered")
        rep = self.school.cli_json("subject", "W1")
        self.assertEqual(rep["sent"][0]["dossier"]["given_name"], "Noor")
        self.assertEqual([c["id"] for c in rep["consents"]], [fc["id"]])
        actions = [e["action"] for e in rep["audit"]]
        for a in ("registration.received", "consent.granted", "disclosure.queued"):
            self.assertIn(a, actions)
        text = self.school.cli("subject", "W1").stdout
        self.assertIn("Overzicht van de gegevens die wij bewaren", text)
        self.assertIn("Bakkali", text)
        self.assertTrue(self.audit(self.school, "subject.access"))
        # At the receiver, by PGN: the dossier it received.
        rep = self.mbo.cli_json("subject", self.rows[0]["pgn"])
        self.assertEqual(len(rep["received"]), 1)
        self.assertEqual(rep["received"][0]["dossier"]["family_name"], "Bakkali")
        r = self.mbo.cli("subject", "W9", check=False)
        self.assertEqual(r.returncode, 1)


if __name__ == "__main__":
    import unittest
    unittest.main()
