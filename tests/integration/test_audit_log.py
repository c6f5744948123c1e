"""Integration: the audit log of a running daemon (design.md §5). Disclosures,
receipts, dossier views and the staff actions before a handover are recorded
with who did it and about which record, never with a name or PGN; `overstap
audit verify` finds an entry edited in the database file and names it;
`overstap audit export` writes every entry as a JSON line.

Run: python3 -m unittest -v test_audit_log   (OVERSTAPD / OVERSTAP from the environment)
"""
import getpass
import json
import os
import sqlite3

import harness
from harness import wait_for


def export(inst):
    return [json.loads(l) for l in inst.cli("audit", "export").stdout.splitlines()]


class AuditLogTest(harness.DaemonTestCase):

    def test_handover_is_audited_and_tampering_found(self):
        school, mbo = harness.federation(self.root)
        self.insts += [school, mbo]
        path = os.path.join(self.root, "l.csv")
        rows = harness.leavers_csv(path, 3)
        school.cli("import", "leavers", path)
        harness.hand_over(school, rows)
        wait_for(lambda: mbo.status()["inbox_total"] == 3, what="3 dossiers at the MBO")
        sent = {o["pupil_ref"]: o["record_id"] for o in school.cli_json("handover", "list")}
        me = getpass.getuser()

        log = export(school)
        self.assertEqual([e["seq"] for e in log], list(range(1, len(log) + 1)))
        by = {}
        for e in log:
            by.setdefault(e["action"], []).append(e)
        self.assertEqual(len(by["registration.recorded"]), 3)
        self.assertEqual(len(by["inzage.recorded"]), 3)
        disc = by["disclosure.queued"]
        self.assertEqual(sorted(e["subject"] for e in disc), sorted(sent.values()))
        for e in disc:
            self.assertEqual(e["actor"], me)
            self.assertEqual(e["counterpart"], "25LZ00")
            d = json.loads(e["detail"])
            self.assertEqual((d["purpose"], d["basis"]), ("handover", "statute"))
        # no personal data in any entry
        text = json.dumps(log)
        for r in rows:
            for field in ("pgn", "family_name", "pupil_ref"):
                self.assertNotIn(r[field], text, "%s in the audit log" % field)

        rid = sent[rows[0]["pupil_ref"]]
        mbo.cli("inbox", "show", rid)
        mlog = export(mbo)
        recv = [e for e in mlog if e["action"] == "dossier.received"]
        self.assertEqual(sorted(e["subject"] for e in recv), sorted(sent.values()))
        self.assertTrue(all(e["actor"] == "peer:12AB00" for e in recv))
        views = [e for e in mlog if e["action"] == "dossier.viewed"]
        self.assertEqual([(e["subject"], e["actor"]) for e in views], [(rid, me)])

        v = school.cli_json("audit", "verify")
        self.assertTrue(v["intact"])
        self.assertEqual(v["entries"], len(log))

        # Someone with the database file edits one entry (after dropping the
        # append-only trigger, as they could): verify names exactly that entry.
        self.assertEqual(school.stop(), 0)
        db = sqlite3.connect(school.db)
        db.execute("DROP TRIGGER audit_no_update")
        target = disc[1]["seq"]
        db.execute("UPDATE audit SET counterpart = '99ZZ99' WHERE seq = ?", (target,))
        db.commit()
        db.close()
        school.start()
        r = school.cli("audit", "verify", check=False)
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("BROKEN at entry %d" % target, r.stdout)
        v = json.loads(school.cli("audit", "verify", "--json", check=False).stdout)
        self.assertFalse(v["intact"])
        self.assertEqual(v["first_bad_seq"], target)

    def receive_only_pair(self, **net):
        """A school that dials the MBO, and an MBO that knows the school's
        keys but has no endpoint for it: it never dials (README allows it),
        so whatever it says goes back on the school's connection."""
        school = harness.Institution(self.root, "12AB00", "School", **net)
        mbo = harness.Institution(self.root, "25LZ00", "MBO", **net)
        self.insts += [school.start(), mbo.start()]
        mbo.add_peer(school, send=False)           # the MBO never dials the school
        school.add_peer(mbo, send=False)
        school.add_peer(mbo, send=True)
        return school, mbo

    def test_receive_only_peer_witnesses_both_ways(self):
        """Issue 16 item 2: checkpoints went only over a daemon's own
        connection, so a school whose MBO does not dial it (no endpoint,
        which the README allows) never got a head of its own log back and a
        truncation there went unseen. The MBO now answers a checkpoint with
        its own on the connection it came in on; the first exchange follows
        the first audit entry, not the first interval."""
        school, mbo = self.receive_only_pair(checkpoint_interval_s=2)
        path = os.path.join(self.root, "l.csv")
        rows = harness.leavers_csv(path, 2)
        school.cli("import", "leavers", path)
        school.cli("handover", "registered", rows[0]["pupil_ref"])   # a first audit entry
        wait_for(lambda: school.cli_json("audit", "verify")["checkpoints"] >= 1, timeout=20,
                 what="the MBO's witness of the school's log, at the school")
        peer = school.peer_status("25LZ00")
        self.assertGreater(peer["witness_seq"], 0)
        self.assertIn("25LZ00: witnesses our audit log up to entry", school.cli("status").stdout)
        # and the MBO holds the school's head as before
        wait_for(lambda: mbo.peer_status("12AB00")["witness_seq"] >= 0 and
                 mbo.cli_json("audit", "verify")["intact"], what="the MBO's log intact")

    def test_receive_only_peer_witnessed_soon_with_the_default_interval(self):
        """Issue 16 item 2: with the default interval (300 s) the MBO that
        does not dial the school sends its head only in answers to the
        school's checkpoints, so its log, first written when a dossier came,
        waited up to two intervals for a witness. The school now sends its
        next checkpoint soon after the MBO took in a message of its, and
        again soon after a newer head of the MBO's came back: both logs are
        witnessed within seconds, not minutes."""
        school, mbo = self.receive_only_pair()
        path = os.path.join(self.root, "l.csv")
        rows = harness.leavers_csv(path, 1)
        school.cli("import", "leavers", path)
        harness.hand_over(school, rows)
        wait_for(lambda: len(mbo.cli_json("inbox", "list")) == 1, what="the dossier at the MBO")
        # its first audit entries came with the dossier
        self.assertTrue(any(e["action"] == "dossier.received" for e in export(mbo)))
        wait_for(lambda: mbo.peer_status("12AB00")["witness_seq"] > 0, timeout=25,
                 what="the school's witness of the MBO's log, at the MBO")
        wait_for(lambda: school.peer_status("25LZ00")["witness_seq"] > 0, timeout=5,
                 what="the MBO's witness of the school's log, at the school")
        self.assertIn("12AB00: witnesses our audit log up to entry", mbo.cli("status").stdout)
        self.assertTrue(mbo.cli_json("audit", "verify")["checkpoints"] >= 1)

    def test_export_pages_and_file(self):
        school = harness.Institution(self.root, "12AB00", "Praktijkschool De Brug").start()
        self.insts.append(school)
        school.add_peer(harness.Institution(self.root, "25LZ00", "MBO"), send=False)
        path = os.path.join(self.root, "l.csv")
        rows = harness.leavers_csv(path, 2600)
        school.cli("import", "leavers", path)
        refs = [r["pupil_ref"] for r in rows]
        for i in range(0, len(refs), 500):
            school.cli("handover", "registered", "--date", "2025-06-01", *refs[i:i + 500])
            school.cli("handover", "inzage", "--by", "pupil", "--agrees", "yes",
                       "--date", "2025-06-01", *refs[i:i + 500])
        out = os.path.join(self.root, "audit.jsonl")
        r = school.cli("audit", "export", "-o", out)
        # per pupil: imported, registered, inzage; and the import as a whole
        self.assertIn("wrote 7801 audit entries", r.stderr)
        with open(out) as f:
            seqs = [json.loads(l)["seq"] for l in f]
        self.assertEqual(seqs, list(range(1, 7802)))   # more than one page, none twice
        tail = school.cli("audit", "export", "--from", "7800").stdout.splitlines()
        self.assertEqual([json.loads(l)["seq"] for l in tail], [7800, 7801])


if __name__ == "__main__":
    import unittest
    unittest.main()
