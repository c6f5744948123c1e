"""Integration: the MBO's side uses the MBO's keys (issue 12 item 6, design.md
§3.9, §8.2). Outcomes imported by PGN arrive at the school under the record
id; `inbox find` by PGN and by name finds the dossier and is audited with
record ids only; what the school refuses is listed at the MBO with the
school's reason and counted in `status`.

Run: python3 -m unittest -v test_mbo_side   (OVERSTAPD / OVERSTAP from the environment)
"""
import datetime
import json
import os
import random

import harness
from harness import wait_for

SCHOOL, MBO = "12AB00", "25LZ00"
TODAY = datetime.date.today().isoformat()


def row(ref, rng, given, family):
    return {"pupil_ref": ref, "pgn": harness.bsn(rng), "given_name": given,
            "family_name": family, "birth_date": "2008-05-01", "program": "pro",
            "cohort": "2024-2025", "exit_date": "2025-07-04", "destination_type": "mbo_entree",
            "destination_institution": MBO, "advice": "entree", "advice_followed": "yes",
            "level_taal": "1F", "level_rekenen": "none"}


class MboSideTest(harness.DaemonTestCase):

    def setUp(self):
        super().setUp()
        self.school, self.mbo = harness.federation(self.root, SCHOOL, MBO)
        self.insts += [self.school, self.mbo]
        rng = random.Random(1212)
        self.rows = [row("K1", rng, "Zoë", "Kaya"), row("K2", rng, "Bram", "de Vries"),
                     row("K3", rng, "Anouk", "Brouwer")]
        self.school.cli("import", "leavers",
                        harness.write_csv(os.path.join(self.root, "l.csv"), self.rows))
        self.school.cli("consent", "grant", "K1", "--purpose", "follow_up", "--by", "pupil",
                        "--evidence", "form", "--ref", "AVG-1")
        refs = ["K1", "K2", "K3"]
        for r in self.rows:
            self.mbo.cli("registration", "record", r["pgn"], "--from", SCHOOL, "--date", TODAY)
        wait_for(lambda: all(self.state(r)["state"] == "registered" for r in refs),
                 what="registrations at the school")
        self.school.cli("handover", "inzage", "--by", "pupil", "--agrees", "yes",
                        "--date", TODAY, *refs)
        self.school.cli("handover", "send", *refs)
        wait_for(lambda: all(self.state(r)["state"] == "delivered" for r in refs),
                 what="handovers delivered")
        self.rid = {r: self.state(r)["record_id"] for r in refs}

    def state(self, ref):
        return [o for o in self.school.cli_json("handover", "list") if o["pupil_ref"] == ref][0]

    def timeline(self, ref):
        return self.school.cli_json("handover", "show", ref)["timeline"]

    def audit(self, inst, action):
        return [e for e in map(json.loads, inst.cli("audit", "export").stdout.splitlines())
                if e["action"] == action]

    def school_report(self):
        rep = json.loads(self.school.cli("report", "--format", "json", "--cohort",
                                         "2024-2025").stdout)
        return [r for r in rep["tables"][0]["rows"] if r["total"]][0]["cells"]

    def test_outcomes_by_pgn(self):
        # the school shows counts from 3 up, so that three pupils can be seen
        self.school.report["min_cell"] = 3
        self.school.write_config()
        self.school.reload()
        wait_for(lambda: self.school_report()["handed_over"]["count"] == 3,
                 what="min_cell 3 at the school")
        self.assertEqual(self.school_report()["started"]["count"],
                         {"suppressed": True, "display": "<3"})
        path = os.path.join(self.root, "outcomes.csv")
        p = [r["pgn"] for r in self.rows]
        with open(path, "w") as f:
            f.write("pgn,event,date,level\n%s,enrolled,2025-08-25,\n%s,progressed,%s,2\n"
                    "%s,intake_held,2025-08-20,\n%s,enrolled,2025-08-26,\n"
                    "%s,enrolled,2025-08-27,\n" % (p[0], p[0], TODAY, p[1], p[1], p[2]))
        out = self.mbo.cli("import", "outcomes", path).stdout
        self.assertIn("queued: 5, 0 unchanged (already sent)", out)
        wait_for(lambda: len(self.timeline("K1")) == 2 and len(self.timeline("K2")) == 2 and
                 len(self.timeline("K3")) == 1,
                 what="the events at the school, under the record ids")
        self.assertEqual([(e["event"], e["level"]) for e in self.timeline("K1")],
                         [("enrolled", 0), ("progressed", 2)])
        self.assertEqual([e["event"] for e in self.timeline("K2")], ["intake_held", "enrolled"])
        # The school's report counts them: all three started (enrolled by 1
        # October), K1 progressed under its follow_up consent.
        cells = self.school_report()
        self.assertEqual(cells["started"]["count"], 3)
        self.assertEqual(cells["with_consent"]["count"], {"suppressed": True, "display": "<3"})
        # An unknown PGN refuses the file, and no message names the PGN.
        other = harness.bsn(random.Random(99))
        with open(path, "w") as f:
            f.write("pgn,event,date\n%s,enrolled,2025-08-25\n" % other)
        r = self.mbo.cli("import", "outcomes", path, check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("%s:2: pgn: no dossier received for this pupil" % path, r.stderr)
        self.assertNotIn(other, r.stderr + r.stdout)
        # A PGN that fails the elfproef is refused in the CLI already.
        with open(path, "w") as f:
            f.write("pgn,event,date\n123456789,enrolled,2025-08-25\n")
        r = self.mbo.cli("import", "outcomes", path, check=False)
        self.assertEqual(r.returncode, 4)
        self.assertNotIn("123456789", r.stderr)

    def test_the_same_export_again(self):
        """The MBO's system exports all it knows every night: what was sent
        before is not sent again, a new row is; the school's timeline holds
        each event once."""
        p = [r["pgn"] for r in self.rows]
        path = os.path.join(self.root, "outcomes.csv")
        lines = ["pgn;gebeurtenis;datum", "%s;intake_held;20-08-2025" % p[1],
                 "%s;enrolled;25-08-2025" % p[1]]
        with open(path, "w") as f:
            f.write("\r\n".join(lines) + "\r\n")
        out = self.mbo.cli("import", "outcomes", path).stdout
        self.assertIn("statuses and outcomes queued: 2, 0 unchanged (already sent)", out)
        out = self.mbo.cli("import", "outcomes", path).stdout
        self.assertIn("statuses and outcomes queued: 0, 2 unchanged (already sent)", out)
        with open(path, "a") as f:                      # next night's: one row more
            f.write("%s;enrolled;26-08-2025\r\n" % p[2])
        out = self.mbo.cli("import", "outcomes", "--check", path).stdout
        self.assertIn("would be queued: 1, 2 unchanged (already sent)", out)
        out = self.mbo.cli("import", "outcomes", path).stdout
        self.assertIn("statuses and outcomes queued: 1, 2 unchanged (already sent)", out)
        wait_for(lambda: len(self.timeline("K3")) == 1, what="the new row at the school")
        self.assertEqual([e["event"] for e in self.timeline("K2")], ["intake_held", "enrolled"])
        self.assertEqual(len(self.audit(self.mbo, "disclosure.queued")), 3)
        # the registrations (recorded in setUp, today) likewise; another date is news
        reg = os.path.join(self.root, "registrations.csv")
        with open(reg, "w") as f:
            f.write("pgn,sending_school,registered_on\n" +
                    "".join("%s,%s,%s\n" % (x, SCHOOL, TODAY) for x in p))
        out = self.mbo.cli("import", "registrations", reg).stdout
        self.assertIn("registrations queued: 0, 3 unchanged (already sent)", out)
        with open(reg, "a") as f:
            f.write("%s,%s,2025-03-01\n" % (harness.bsn(random.Random(7)), SCHOOL))
        out = self.mbo.cli("import", "registrations", reg).stdout
        self.assertIn("registrations queued: 1, 3 unchanged (already sent)", out)
        self.assertEqual(len(self.audit(self.mbo, "registration.sent")), 4)
        # the school has no such pupil: it refuses, and the MBO's staff see it
        (ref,) = wait_for(lambda: self.mbo.cli_json("outbox", "list", "--refused"),
                          what="the refused registration listed at the MBO")
        self.assertEqual((ref["kind"], ref["peer"]), ("registration", SCHOOL))
        self.assertTrue(ref["reason"])
        self.assertEqual(self.mbo.status()["outbox_refused"], 1)
        # a refused one is sent again with the next export (the school may
        # have imported the pupil since): it is not "already sent"
        out = self.mbo.cli("import", "registrations", "--check", reg).stdout
        self.assertIn("would be queued: 1, 3 unchanged (already sent)", out)

    def test_inbox_find(self):
        (hit,) = self.mbo.cli_json("inbox", "find", self.rows[1]["pgn"])
        self.assertEqual(hit["record_id"], self.rid["K2"])
        self.assertEqual(self.mbo.cli_json("inbox", "find", harness.bsn(random.Random(5))), [])
        # A part of a name, ASCII case-insensitive; é and ë as written.
        self.assertEqual([h["record_id"] for h in self.mbo.cli_json("inbox", "find", "--name",
                                                                      "KAYA")],
                         [self.rid["K1"]])
        self.assertEqual([h["record_id"] for h in self.mbo.cli_json("inbox", "find", "--name",
                                                                      "Zoë Ka")],
                         [self.rid["K1"]])
        self.assertEqual(sorted(h["record_id"] for h in
                                self.mbo.cli_json("inbox", "find", "--name", "br")),
                         sorted([self.rid["K2"], self.rid["K3"]]))
        text = self.mbo.cli("inbox", "find", "--name", "vries").stdout
        self.assertIn(self.rid["K2"], text)
        r = self.mbo.cli("inbox", "find", "123456789", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertNotIn("123456789", r.stderr)
        # Audited: the record ids found are the subjects; never the PGN or name.
        found = self.audit(self.mbo, "inbox.searched")
        self.assertEqual(len(found), 1 + 1 + 1 + 1 + 2 + 1)
        self.assertEqual(found[0]["subject"], self.rid["K2"])
        self.assertEqual(json.loads(found[0]["detail"])["by"], "pgn")
        self.assertEqual((found[1]["subject"], json.loads(found[1]["detail"])["found"]), ("", 0))
        exported = self.mbo.cli("audit", "export").stdout
        for needle in [r["pgn"] for r in self.rows] + ["KAYA", "Zoë", "vries"]:
            self.assertNotIn(needle, exported)

    def test_refused_listed(self):
        self.assertEqual(self.mbo.cli_json("outbox", "list", "--refused"), [])
        self.assertEqual(self.mbo.status()["outbox_refused"], 0)
        self.assertNotIn("refused:", self.mbo.cli("status").stdout)
        # The school erases K3; a status the MBO sends about it is refused there.
        self.school.cli("erase", "K3", "--yes")
        self.mbo.cli("registration", "status", self.rid["K3"], "enrolled", "--date", TODAY)
        wait_for(lambda: self.mbo.cli_json("outbox", "list", "--refused"),
                 what="the refusal at the MBO")
        (r,) = self.mbo.cli_json("outbox", "list", "--refused")
        self.assertEqual((r["kind"], r["event"], r["record_id"], r["date"], r["peer"]),
                         ("status", "enrolled", self.rid["K3"], TODAY, SCHOOL))
        self.assertIn("no handover with this record id", r["reason"])
        self.assertTrue(harness.is_iso(r["refused_at"]), r["refused_at"])
        self.assertTrue(harness.is_iso(r["created_at"]), r["created_at"])
        text = self.mbo.cli("outbox", "list", "--refused").stdout
        self.assertIn("refused status enrolled by %s" % SCHOOL, text)
        self.assertIn("no handover with this record id to the sender", text)
        self.assertEqual(self.mbo.status()["outbox_refused"], 1)
        self.assertIn("1 message refused by the receiver", self.mbo.cli("status").stdout)
        # The parked list is a different one.
        self.assertEqual(self.mbo.cli_json("outbox", "list"), [])


if __name__ == "__main__":
    import unittest
    unittest.main()
