"""Integration: the example import files shipped in docs/examples import as
they stand (issue 12 item 7), with a school 12AB00 and an MBO 25LZ00: the
leavers at the school, the registrations and the outcomes (keyed by PGN) at
the MBO, which reach the school under the record ids. Every file in both
dialects is well-formed CSV with the same rows.

Run: python3 -m unittest -v test_examples   (OVERSTAPD / OVERSTAP from the environment)
"""
import csv
import datetime
import glob
import io
import json
import os

import harness
from harness import wait_for

SCHOOL, MBO = "12AB00", "25LZ00"
TODAY = datetime.date.today().isoformat()
EXAMPLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs",
                        "examples")


def example(name):
    return os.path.join(EXAMPLES, name)


def rows_of(path, sep):
    with open(path, "rb") as f:
        raw = f.read()
    text = raw.decode("utf-8")
    if sep == ";":
        assert text.startswith("\ufeff"), path
        text = text[1:]
    else:
        assert not text.startswith("\ufeff"), path
    assert "\n" not in text.replace("\r\n", ""), path + ": CRLF only"
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=sep))


class ExamplesTest(harness.DaemonTestCase):

    def test_dialects_hold_the_same_rows(self):
        names = sorted(os.path.basename(p) for p in glob.glob(example("*.csv")))
        bases = [n[:-4] for n in names if not n.endswith("-excel-nl.csv")]
        self.assertEqual(bases, ["consents", "enrolments", "leavers", "outcomes",
                                 "registrations"])
        for b in bases:
            self.assertEqual(rows_of(example(b + ".csv"), ","),
                             rows_of(example(b + "-excel-nl.csv"), ";"), b)

    def state(self, school, ref):
        return [o for o in school.cli_json("handover", "list") if o["pupil_ref"] == ref][0]

    def test_comma_examples_import(self):
        self.examples_import("")

    def test_excel_nl_examples_import(self):
        """The files as a Dutch spreadsheet saves them (`;`, BOM, CRLF) go
        in as they stand too, with nothing to say about them."""
        self.examples_import("-excel-nl")

    def examples_import(self, dialect):
        school, mbo = harness.federation(self.root, SCHOOL, MBO)
        self.insts += [school, mbo]

        def run(inst, kind):
            r = inst.cli("import", kind, example(kind + dialect + ".csv"))
            self.assertEqual(r.stderr, "", kind)         # no warning: every column known
            return r.stdout
        self.assertIn(": 6 added, 0 updated", run(school, "leavers"))
        self.assertIn("registrations queued: 4", run(mbo, "registrations"))
        refs = ["V2025-001", "V2025-002", "V2025-003", "V2025-004"]
        wait_for(lambda: all(self.state(school, r)["state"] == "registered" for r in refs),
                 what="the example registrations at the school")
        self.assertIn(": 2 added", run(school, "consents"))
        self.assertEqual(sorted(c["pupil_ref"] for c in school.cli_json("consent", "list")),
                         ["V2025-001", "V2025-002"])
        school.cli("handover", "inzage", "--by", "pupil", "--agrees", "yes", "--date", TODAY, *refs)
        school.cli("handover", "send", *refs)
        wait_for(lambda: all(self.state(school, r)["state"] == "delivered" for r in refs),
                 what="the handovers delivered")
        self.assertIn("statuses and outcomes queued: 7", run(mbo, "outcomes"))
        wait_for(lambda: len(school.cli_json("handover", "show", "V2025-001")["timeline"]) == 3,
                 what="the example outcomes at the school")
        self.assertEqual([e["event"] for e in
                          school.cli_json("handover", "show", "V2025-001")["timeline"]],
                         ["intake_held", "enrolled", "still_enrolled"])
        self.assertEqual([e["event"] for e in
                          school.cli_json("handover", "show", "V2025-003")["timeline"]],
                         ["not_enrolled"])
        # the MBO's whole intake: five enrolments, four of them with a dossier
        self.assertIn("enrolments imported: 5 new, 0 corrected, 0 already held", run(mbo, "enrolments"))
        rep = json.loads(mbo.cli("report", "--side", "receiving", "--format", "json").stdout)
        self.assertEqual(rep["tables"][0]["rows"][-1]["cells"]["enrolments"]["count"], 5)


if __name__ == "__main__":
    import unittest
    unittest.main()
