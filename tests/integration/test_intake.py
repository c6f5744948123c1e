"""Integration: the MBO's whole intake (issue 12 item 8, design.md §6.3), read
as a quality officer reads the receiving report. A school hands over ten
dossiers (with the highest diploma in four of them, none in four); the MBO
lists sixteen new enrolments, six of them without a dossier, five starting
after their dossier arrived. The report counts every student, shows the
warm-handover coverage over all enrolments and `no_dossier` as its own row,
and withholds the small cells; enrolments are erased like a dossier.

Run: python3 -m unittest -v test_intake   (OVERSTAPD / OVERSTAP from the environment)
"""
import datetime
import json
import os
import random
import time

import harness
from harness import wait_for

SCHOOL, MBO = "12AB00", "25LZ00"
TODAY = datetime.date.today().isoformat()
FUTURE = "%d-09-01" % (datetime.date.today().year + 1)     # the dossier is there before it
PAST = "2025-09-01"                                       # the dossier came after it
COLS = ["pupil_ref", "pgn", "given_name", "family_name", "birth_date", "program", "cohort",
        "exit_date", "destination_type", "destination_institution", "advice",
        "advice_followed", "level_taal", "level_rekenen", "diploma"]


def leaver(ref, pgn, program, diploma):
    return {"pupil_ref": ref, "pgn": pgn, "given_name": "Kind", "family_name": ref,
            "birth_date": "2008-03-01", "program": program, "cohort": "2024-2025",
            "exit_date": "2025-07-04", "destination_type": "mbo_entree",
            "destination_institution": MBO, "advice": "entree", "advice_followed": "yes",
            "level_taal": "1F", "level_rekenen": "none", "diploma": diploma}


class IntakeTest(harness.DaemonTestCase):

    def setUp(self):
        super().setUp()
        self.school, self.mbo = harness.federation(self.root, SCHOOL, MBO)
        self.insts += [self.school, self.mbo]
        self.mbo.stop()
        self.mbo.report.update(min_cell=3, csv_dialect="rfc4180")
        self.mbo.write_config()
        self.mbo.start()
        wait_for(lambda: self.school.peer_status(MBO)["connected"] and
                 self.mbo.peer_status(SCHOOL)["connected"], what="reconnected")
        rng = random.Random(812)
        pgns = []
        while len(pgns) < 16:
            p = harness.bsn(rng)
            if p not in pgns:
                pgns.append(p)
        self.pgns = pgns
        # D1-D4 pro without a diploma, D5-D8 vmbo_b with one, D9-D10 isk (not told)
        rows = ([leaver("D%d" % i, pgns[i - 1], "pro", "none") for i in range(1, 5)] +
                [leaver("D%d" % i, pgns[i - 1], "vmbo_b", "vmbo_b") for i in range(5, 9)] +
                [leaver("D%d" % i, pgns[i - 1], "isk", "") for i in range(9, 11)])
        self.school.cli("import", "leavers",
                        harness.write_csv(os.path.join(self.root, "l.csv"), rows, COLS))
        refs = [r["pupil_ref"] for r in rows]
        for r in rows:
            self.mbo.cli("registration", "record", r["pgn"], "--from", SCHOOL, "--date", TODAY)
        wait_for(lambda: all(o["state"] == "registered"
                             for o in self.school.cli_json("handover", "list")),
                 what="registered at the school")
        self.school.cli("handover", "inzage", "--by", "pupil", "--agrees", "yes",
                        "--date", TODAY, *refs)
        self.school.cli("handover", "send", *refs)
        wait_for(lambda: len(self.mbo.cli_json("inbox", "list")) == 10, what="10 dossiers")
        # the list: D1-D4 and D5 start next year (dossier before the start),
        # D6-D10 started in 2025 (dossier after), N1-N6 have no dossier
        self.enrol = os.path.join(self.root, "enrolments.csv")
        with open(self.enrol, "w") as f:
            f.write("pgn,level,start_date,previous\n")
            for i in range(10):
                f.write("%s,1,%s,\n" % (pgns[i], FUTURE if i < 5 else PAST))
            for i in range(10, 16):
                f.write("%s,1,%s,vmbo_b\n" % (pgns[i], PAST))

    def report(self, *args):
        return json.loads(self.mbo.cli("report", "--side", "receiving", "--format", "json",
                                       *args).stdout)

    def count_is(self, cell, value, what=""):
        self.assertIn(cell, (value, {"suppressed": True, "display": "x"}), what)
        return cell == value

    def store_bytes(self):
        data = b""
        for p in (self.mbo.db, self.mbo.db + "-wal"):
            if os.path.exists(p):
                with open(p, "rb") as f:
                    data += f.read()
        return data

    def quiet_store(self):
        """The MBO's store bytes once nothing else writes to it: the school
        stopped (its acks and audit checkpoints, which follow deliveries
        within seconds, are written here), and two reads half a second apart
        the same (the WAL is checkpointed on a thread, design.md §5.1)."""
        self.assertEqual(self.school.stop(), 0)
        prev = None
        for _ in range(40):
            cur = self.store_bytes()
            if cur == prev:
                return cur
            prev = cur
            time.sleep(0.5)
        self.fail("the MBO's store kept changing with nothing sent to it")

    def test_whole_intake(self):
        # --check: says what would happen, changes nothing (not even the audit log)
        before, n_audit = self.quiet_store(), len(self.mbo.cli("audit", "export").stdout)
        out = self.mbo.cli("import", "enrolments", "--check", self.enrol).stdout
        self.assertIn("check (nothing imported): enrolments that would be imported: 16 new, "
                      "0 corrected, 0 already held", out)
        self.assertEqual(self.store_bytes(), before, "--check changed the store")
        self.assertEqual(len(self.mbo.cli("audit", "export").stdout), n_audit)
        out = self.mbo.cli("import", "enrolments", self.enrol).stdout
        self.assertIn("16 new, 0 corrected, 0 already held", out)
        # a longer or repeated list adds only what is new
        self.assertIn("0 new, 0 corrected, 16 already held",
                      self.mbo.cli("import", "enrolments", self.enrol).stdout)
        self.assertIn("would be imported: 0 new, 0 corrected, 16 already held",
                      self.mbo.cli("import", "enrolments", "-n", self.enrol).stdout)
        # a corrected list: N1's previous education and level put right (and back)
        with open(self.enrol) as f:
            orig = f.read()
        fixed = orig.replace("%s,1,%s,vmbo_b" % (self.pgns[10], PAST),
                             "%s,2,%s,vmbo_k" % (self.pgns[10], PAST))
        self.assertNotEqual(fixed, orig)
        path = os.path.join(self.root, "corrected.csv")
        with open(path, "w") as f:
            f.write(fixed)
        self.assertIn("0 new, 1 corrected, 15 already held",
                      self.mbo.cli("import", "enrolments", path).stdout)
        self.assertEqual([(e["level"], e["previous"])
                          for e in self.mbo.cli_json("subject", self.pgns[10])["enrolments"]],
                         [(2, "vmbo_k")])
        self.assertIn("0 new, 1 corrected, 15 already held",
                      self.mbo.cli("import", "enrolments", self.enrol).stdout)
        bad = os.path.join(self.root, "bad.csv")
        with open(bad, "w") as f:
            f.write("pgn,level,start_date\n123456789,1,2025-09-01\n")
        r = self.mbo.cli("import", "enrolments", bad, check=False)
        self.assertEqual(r.returncode, 4)
        self.assertNotIn("123456789", r.stderr)

        # the total: 16 students, 10 with a dossier, 16 on the list, 5 of
        # them with the dossier there by the first day: 31% of ALL enrolments
        rep = self.report()
        (group, total) = rep["tables"][0]["rows"]
        self.assertEqual(group["keys"], {"cohort": "2024-2025"})
        c = total["cells"]
        self.count_is(c["students"]["count"], 16, "students")
        self.count_is(c["intake"]["count"], 10, "intake")
        self.count_is(c["enrolments"]["count"], 16, "enrolments")
        self.assertEqual(c["dossier_by_start"]["denominator"], "enrolments")
        if self.count_is(c["dossier_by_start"]["count"], 5, "by start") and \
                self.count_is(c["dossier_by_start"]["denominator_count"], 16, "all enrolments"):
            self.assertAlmostEqual(c["dossier_by_start"]["rate"], 5 / 16)

        # by previous education: no_dossier its own row; the diploma splits
        rep = self.report("--by", "previous")
        rows = {r["keys"].get("previous", "total"): r["cells"] for r in rep["tables"][0]["rows"]}
        self.assertEqual(sorted(rows), ["isk", "no_dossier", "pro_no_diploma", "total",
                                        "vmbo_b_diploma"])
        self.count_is(rows["no_dossier"]["students"]["count"], 6, "no_dossier")
        self.count_is(rows["pro_no_diploma"]["students"]["count"], 4, "pro")
        self.count_is(rows["vmbo_b_diploma"]["students"]["count"], 4, "vmbo_b")
        # a no_dossier row has no dossier: 0 intake, withheld as small
        self.assertEqual(rows["no_dossier"]["intake"]["count"],
                         {"suppressed": True, "display": "<3"})
        # isk has 2 students: withheld, and one more of that column with it,
        # or 16 - 6 - 4 - 4 would give it away
        self.assertEqual(rows["isk"]["students"]["count"], {"suppressed": True, "display": "<3"})
        others = [rows[k]["students"]["count"] for k in ("no_dossier", "pro_no_diploma",
                                                          "vmbo_b_diploma", "total")]
        self.assertTrue(any(isinstance(v, dict) for v in others), others)
        # pro: all four by the start; vmbo_b: one (<3)
        self.count_is(rows["pro_no_diploma"]["dossier_by_start"]["count"], 4, "pro by start")
        self.assertTrue(rows["vmbo_b_diploma"]["dossier_by_start"]["count"]["suppressed"])
        # and the CSV the MBO configured (rfc4180) carries the same rows
        csv = self.mbo.cli("report", "--side", "receiving", "--by", "previous",
                           "--format", "csv").stdout
        self.assertTrue(csv.startswith("previous,students,"))
        self.assertIn("\nno_dossier,", csv)

        # the dossier shows its diploma at the MBO
        (hit,) = self.mbo.cli_json("inbox", "find", self.pgns[4])
        self.assertEqual(self.mbo.cli_json("inbox", "show", hit["record_id"])["dossier"]["diploma"],
                         "vmbo_b")

        # subject access by PGN lists the enrolment; erase by PGN takes it out
        sub = self.mbo.cli_json("subject", self.pgns[12])
        self.assertEqual([(e["level"], e["start_date"], e["previous"], e["record_id"])
                          for e in sub["enrolments"]], [(1, PAST, "vmbo_b", "")])
        out = self.mbo.cli("erase", self.pgns[12], "--yes").stdout
        self.assertIn("erased 1 enrolment row of this student", out)
        self.assertNotIn(self.pgns[12], out)
        r = self.mbo.cli("subject", self.pgns[12], check=False)
        self.assertEqual(r.returncode, 1)
        c = self.report()["tables"][0]["rows"][-1]["cells"]
        self.count_is(c["enrolments"]["count"], 15, "after erase")
        audit = self.mbo.cli("audit", "export").stdout
        self.assertIn("enrolments.imported", audit)
        self.assertIn("enrolment.erased", audit)
        for p in self.pgns:
            self.assertNotIn(p, audit)
        # the PGNs are sealed in the store
        with open(self.mbo.db, "rb") as f:
            data = f.read()
        for p in self.pgns[10:]:
            self.assertNotIn(p.encode(), data)


if __name__ == "__main__":
    import unittest
    unittest.main()
