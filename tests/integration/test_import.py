"""Integration: cumulative and corrective leavers imports and `--check`
(design.md §8.5), with real daemons driven through the real CLI.

Run: python3 -m unittest -v test_import   (OVERSTAPD / OVERSTAP from the environment)
"""
import hashlib
import json
import os
import random
import re
import time
import unittest

import harness
from harness import wait_for
import test_handover as th

SCHOOL, MBO, LATE = "12AB00", "25LZ00", "34CD01"


def audit(inst):
    return [json.loads(l) for l in inst.cli("audit", "export").stdout.splitlines()]


def digest(*paths):
    h = hashlib.sha256()
    for p in paths:
        if os.path.exists(p):
            with open(p, "rb") as f:
                h.update(p.encode() + b"\0" + f.read())
    return h.hexdigest()


class ImportTest(harness.DaemonTestCase):
    n_files = 0

    def csv(self, rows):
        type(self).n_files += 1
        return harness.write_csv(os.path.join(self.root, "leavers-%d.csv" % self.n_files),
                                 rows, th.COLS)

    def outgoing(self, school):
        return {r["pupil_ref"]: r for r in school.cli_json("handover", "list")}

    def test_cumulative_and_corrective(self):
        school, mbo = harness.federation(self.root)
        self.insts += [school, mbo]
        rng = random.Random(1201)
        rows = [th.pupil("C-%d" % i, rng, "Daan", "Visser-%d" % i) for i in range(1, 5)]

        r = school.cli("import", "leavers", self.csv(rows[:3]))
        self.assertRegex(r.stdout, r"imported 3 leavers from \S+: 3 added, 0 updated, 0 unchanged")
        # the same file again: nothing changes
        r = school.cli("import", "leavers", self.csv(rows[:3]))
        self.assertRegex(r.stdout, r"imported 0 leavers from \S+: 0 added, 0 updated, 3 unchanged,"
                         r" 0 unchanged \(already sent\), 0 refused, 0 warnings")
        # next month's longer export: only the new row
        r = school.cli("import", "leavers", self.csv(rows))
        self.assertRegex(r.stdout, r": 1 added, 0 updated, 3 unchanged,")
        self.assertEqual(set(self.outgoing(school)), {"C-1", "C-2", "C-3", "C-4"})

        # C-1 leaves; the MBO holds one dossier
        harness.hand_over(school, [rows[0]])
        wait_for(lambda: self.outgoing(school)["C-1"]["state"] == "delivered", timeout=60,
                 what="C-1 delivered")
        self.assertEqual(len(mbo.cli_json("inbox", "list")), 1)

        # a corrected export: C-1 (sent) and C-2 (not yet) changed
        fixed = [dict(r) for r in rows]
        fixed[0]["given_name"] = "Daniel"
        fixed[1]["family_name"] = "Visscher"
        fixed[1]["exit_date"] = "2025-07-10"
        # --check says so first, the frozen row included, and changes nothing
        r = school.cli("import", "leavers", "--check", self.csv(fixed))
        self.assertRegex(r.stdout, r"would import 1 leaver: 0 added, 1 updated, 2 unchanged, "
                         r"1 unchanged \(already sent\),")
        self.assertRegex(r.stdout, r"(?m):2: pupil_ref C-1: changed \(given_name\) but not to be "
                         r"updated: the dossier was sent on \d{4}-\d\d-\d\d \(delivered\)$")
        r = school.cli("import", "leavers", self.csv(fixed))
        self.assertRegex(r.stdout, r": 0 added, 1 updated, 2 unchanged, 1 unchanged \(already sent\),")
        today = time.strftime("%Y-%m-%d", time.gmtime())
        self.assertRegex(r.stdout, r"(?m):2: pupil_ref C-1: changed \(given_name\) but not updated: "
                         r"the dossier was sent on %s \(delivered\)$" % today)
        self.assertRegex(r.stdout, r"(?m):3: pupil_ref C-2: updated \(family_name, exit_date\)$")
        # C-1's stored data did not change: the original row is unchanged
        r = school.cli("import", "leavers", self.csv([rows[0]]))
        self.assertIn(": 0 added, 0 updated, 1 unchanged,", r.stdout)
        # ... and C-2's did: the corrected row is unchanged now
        r = school.cli("import", "leavers", self.csv([fixed[1]]))
        self.assertIn(": 0 added, 0 updated, 1 unchanged,", r.stdout)
        # nothing re-sent
        time.sleep(1.5)
        self.assertEqual(len(mbo.cli_json("inbox", "list")), 1)
        self.assertEqual(school.peer_status(MBO)["outbox_depth"], 0)

        # audited: who, which rows, which columns; never the values
        log = audit(school)
        acts = [e["action"] for e in log]
        self.assertEqual(acts.count("leaver.imported"), 4)
        upd = [e for e in log if e["action"] == "leaver.updated"]
        self.assertEqual(len(upd), 1)
        self.assertRegex(upd[0]["subject"], r"^leaver:\d+$")
        self.assertIn('"columns":"family_name, exit_date"', upd[0]["detail"])
        refused = [e for e in log if e["action"] == "leaver.update_refused"]
        self.assertEqual(len(refused), 1)
        self.assertEqual(refused[0]["subject"], self.outgoing(school)["C-1"]["record_id"])
        text = json.dumps(log)
        for secret in ("Daniel", "Visscher", "2025-07-10", rows[0]["pgn"]):
            self.assertNotIn(secret, text)
        self.assertEqual(acts.count("import.leavers"), 6)    # the check is not audited
        self.assertEqual(school.cli("audit", "verify").returncode, 0)

    def test_unknown_destination_becomes_sendable_after_reload(self):
        school, mbo = harness.federation(self.root)
        late = harness.Institution(self.root, LATE, "ROC Laat").start()
        self.insts += [school, mbo, late]
        rng = random.Random(1202)
        rows = [th.pupil("P-1", rng, dest=LATE), th.pupil("P-2", rng, dest=LATE), th.pupil("P-3", rng)]

        r = school.cli("import", "leavers", self.csv(rows))
        warns = re.findall(r"(?m)^\S+:\d+: destination_institution: %s is not a configured peer"
                           % LATE, r.stderr)
        self.assertEqual(len(warns), 1, r.stderr)
        self.assertRegex(r.stdout, r": 3 added, 0 updated, 0 unchanged, 0 unchanged \(already sent\),"
                         r" 0 refused, 1 warning$")
        school.cli("handover", "registered", "--date", "2025-06-01", "P-1")
        school.cli("handover", "inzage", "--by", "pupil", "--agrees", "yes",
                   "--date", "2025-06-01", "P-1")
        r = school.cli("handover", "send", "P-1", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("not a configured peer", r.stderr)

        # the administrator configures the peer and reloads
        late.add_peer(school, send=False)
        school.add_peer(late, send=True)
        r = school.cli("handover", "send", "P-1")
        self.assertIn("queued P-1", r.stdout)
        wait_for(lambda: self.outgoing(school)["P-1"]["state"] == "delivered", timeout=60,
                 what="P-1 delivered to the late peer")
        self.assertEqual(len(late.cli_json("inbox", "list")), 1)

    def test_check_changes_nothing(self):
        school = harness.Institution(self.root, SCHOOL, "School").start()
        mbo = harness.Institution(self.root, MBO, "MBO")     # keys only: never started
        self.insts += [school]
        school.add_peer(mbo, send=False)
        rng = random.Random(1203)
        rows = [th.pupil("K-%d" % i, rng) for i in range(1, 4)]
        school.cli("import", "leavers", self.csv(rows[:2]))
        fixed = [dict(r) for r in rows]
        fixed[0]["family_name"] = "Anders"
        fixed[2]["destination_institution"] = LATE
        path = self.csv(fixed)
        files = (school.db, school.db + "-wal")
        before = digest(*files)
        n_audit = len(audit(school))
        r = school.cli("import", "leavers", "--check", path)
        self.assertRegex(r.stdout, r"check of \S+ \(nothing changed\): would import 2 leavers: 1 added,"
                         r" 1 updated, 1 unchanged, 0 unchanged \(already sent\), 0 refused, 1 warning")
        self.assertRegex(r.stdout, r"(?m):2: pupil_ref K-1: would be updated \(family_name\)$")
        self.assertIn("is not a configured peer", r.stderr)
        self.assertEqual(digest(*files), before, "--check changed the store")
        self.assertEqual(len(audit(school)), n_audit)
        self.assertEqual(set(self.outgoing(school)), {"K-1", "K-2"})
        # the real import does what the check said
        r = school.cli("import", "leavers", path)
        self.assertRegex(r.stdout, r"imported 2 leavers from \S+: 1 added, 1 updated, 1 unchanged")

    def test_consents_in_bulk(self):
        school = harness.Institution(self.root, SCHOOL, "School").start()
        mbo = harness.Institution(self.root, MBO, "MBO")     # keys only: never started
        self.insts += [school]
        school.add_peer(mbo, send=False)
        rng = random.Random(1204)
        school.cli("import", "leavers", self.csv([
            th.pupil("Q-1", rng, birth="2008-03-14"), th.pupil("Q-2", rng, birth="2010-05-01")]))
        cols = ["pupil_ref", "purpose", "for", "by", "granted_on", "until", "evidence", "ref"]
        rows = [
            {"pupil_ref": "Q-1", "purpose": "follow_up", "by": "pupil", "granted_on": "2025-06-01",
             "evidence": "form", "ref": "F-2025-001"},
            {"pupil_ref": "Q-2", "purpose": "follow_up", "for": "*", "by": "pupil",
             "granted_on": "2025-06-01", "evidence": "form", "ref": "F-2025-002"},  # 15: parent
            {"pupil_ref": "Q-3", "purpose": "handover", "by": "parent", "granted_on": "2025-06-01",
             "evidence": "email", "ref": "M-3"},                                   # no such pupil
            {"pupil_ref": "Q-1", "purpose": "handover", "by": "pupil", "granted_on": "2025-06-01",
             "evidence": "fax", "ref": "X"},                                        # bad code
        ]
        path = harness.write_csv(os.path.join(self.root, "consents.csv"), rows, cols)
        r = school.cli("import", "consents", path, check=False)
        self.assertEqual(r.returncode, 4, r.stdout + r.stderr)
        self.assertRegex(r.stderr, r"(?m)^%s:5: evidence: 'fax' is not an evidence method"
                         % re.escape(path))
        self.assertIn("nothing imported", r.stderr)
        self.assertEqual(school.cli_json("consent", "list"), [])
        # fixed (line 4 left out): the daemon's own checks refuse it whole still
        rows[3]["evidence"] = "form"
        path = harness.write_csv(os.path.join(self.root, "consents2.csv"), rows, cols)
        r = school.cli("import", "consents", path, check=False)
        self.assertEqual(r.returncode, 4, r.stdout + r.stderr)
        self.assertRegex(r.stderr, r"(?m)^%s:3: .*16" % re.escape(path))
        self.assertRegex(r.stderr, r"(?m)^%s:4: pupil_ref: Q-3: no such pupil" % re.escape(path))
        self.assertEqual(school.cli_json("consent", "list"), [])
        # --check of the good file, then the real thing, then again
        rows[1]["by"] = "parent"
        del rows[2]
        path = harness.write_csv(os.path.join(self.root, "consents3.csv"), rows, cols)
        r = school.cli("import", "consents", "--check", path)
        self.assertIn("would record 3 consents", r.stdout)
        self.assertEqual(school.cli_json("consent", "list"), [])
        r = school.cli("import", "consents", path)
        self.assertIn("imported 3 consents from %s: 3 added, 0 unchanged, 0 refused" % path,
                      r.stdout)
        got = sorted((c["pupil_ref"], c["purpose"], c["counterpart"], c["grantor"])
                     for c in school.cli_json("consent", "list"))
        self.assertEqual(got, [("Q-1", "follow_up", MBO, "pupil"), ("Q-1", "handover", MBO, "pupil"),
                               ("Q-2", "follow_up", "*", "parent")])
        r = school.cli("import", "consents", path)
        self.assertIn(": 0 added, 3 unchanged,", r.stdout)
        self.assertEqual(len(school.cli_json("consent", "list")), 3)
        acts = [e["action"] for e in audit(school)]
        self.assertEqual(acts.count("consent.granted"), 3)


if __name__ == "__main__":
    unittest.main()
