"""Integration: the quality-care report end to end (design.md §6; issue 4), with
two real daemons. A school imports a cohort, hands it over, the MBO sends
statuses and outcomes back, and the school's report shows exactly the
figures worked out by hand below; small cells are withheld in every format;
the MBO's mirror report counts its intake; `overstap lost` names the pupils
out of sight, and both are audited.

Run: python3 -m unittest -v test_report   (OVERSTAPD / OVERSTAP from the environment)
"""
import csv
import io
import json
import os
import random
import re

import harness
from harness import wait_for

SCHOOL, MBO = "12AB00", "25LZ00"
COHORT = "2024-2025"     # peildatum 2025-10-01; one year later 2026-10-01


def fixture(rng):
    """P01-P12 pro, P13-P20 vso_arbeid; P18-P20 go to work (no handover)."""
    rows = []
    for i in range(1, 21):
        work = i >= 18
        rows.append({
            "pupil_ref": "P%02d" % i, "pgn": harness.bsn(rng), "given_name": "Kind%d" % i,
            "family_name": "Fixture", "birth_date": "2008-03-01",
            "program": "pro" if i <= 12 else "vso_arbeid", "cohort": COHORT,
            "exit_date": "2025-07-04",
            "destination_type": "work" if work else "mbo_entree",
            "destination_institution": "" if work else MBO,
            "advice": "entree", "advice_followed": "yes" if i % 2 else "no",
            "level_taal": "1F", "level_rekenen": "none"})
    return rows


class ReportTest(harness.DaemonTestCase):

    def setUp(self):
        super().setUp()
        self.school, self.mbo = harness.federation(self.root, SCHOOL, MBO)
        self.insts += [self.school, self.mbo]
        for inst in (self.school, self.mbo):
            inst.stop()
            inst.report["min_cell"] = 3
            inst.write_config()
            inst.start()
        wait_for(lambda: self.school.peer_status(MBO)["connected"] and
                 self.mbo.peer_status(SCHOOL)["connected"], what="reconnected")
        self.rows = fixture(random.Random(5))
        self.school.cli("import", "leavers",
                        harness.write_csv(os.path.join(self.root, "l.csv"), self.rows))
        for r in self.rows[:12]:                      # follow_up consent: P01-P12
            self.school.cli("consent", "grant", r["pupil_ref"], "--purpose", "follow_up",
                            "--by", "pupil", "--evidence", "form", "--ref", "F-" + r["pupil_ref"],
                            "--date", "2025-06-01")
        harness.hand_over(self.school, self.rows[:17])
        wait_for(lambda: sum(o["state"] == "delivered"
                             for o in self.school.cli_json("handover", "list")) == 17,
                 what="17 dossiers delivered")
        rid = {o["pupil_ref"]: o["record_id"] for o in self.school.cli_json("handover", "list")}
        ev = []
        for i in range(1, 16):                        # P01-P15 enrolled before the peildatum
            ev.append((rid["P%02d" % i], "enrolled", "2025-08-25", ""))
        ev.append((rid["P16"], "enrolled", "2025-11-01", ""))   # late: not started
        for i in range(1, 5):                         # P01-P04: warm intake held
            ev.append((rid["P%02d" % i], "intake_held", "2025-06-20", ""))
        for i in range(1, 7):                         # P01-P06 still enrolled a year on
            ev.append((rid["P%02d" % i], "still_enrolled", "2026-10-01", ""))
        for i in range(7, 10):                        # P07-P09 diploma
            ev.append((rid["P%02d" % i], "diploma", "2026-06-30", "1"))
        for i in range(10, 12):                       # P10-P11 dropped out; P12 no feedback
            ev.append((rid["P%02d" % i], "left_without_diploma", "2026-02-01", ""))
        path = os.path.join(self.root, "o.csv")
        with open(path, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["record_id", "event", "date", "level"])
            w.writerows(ev)
        self.mbo.cli("import", "outcomes", path)
        wait_for(lambda: self.events_at_school() == len(ev), what="all events at the school")
        self.rid = rid

    def events_at_school(self):
        return sum(len(self.school.cli_json("handover", "show", "P%02d" % i)["timeline"])
                   for i in range(1, 18))

    def report(self, inst, *args):
        return json.loads(inst.cli("report", "--format", "json", *args).stdout)

    def count_is(self, cell, value, what=""):
        """The hand figure, or "x" where linked suppression (design.md §6.4)
        withholds a count of at least min_cell that a one- or two-dimension
        breakdown of these 20 pupils would otherwise give away."""
        self.assertIn(cell, (value, {"suppressed": True, "display": "x"}), what)
        return cell == value

    @staticmethod
    def cells(row):
        return row["cells"]

    def test_school_report_matches_the_hand_computed_figures(self):
        rep = self.report(self.school)
        self.assertEqual(rep["schema_version"], 1)
        self.assertEqual(rep["cohorts"], [COHORT])
        self.assertEqual(rep["min_cell"], 3)
        main = rep["tables"][0]
        (group, total) = main["rows"]
        self.assertEqual(group["keys"], {"cohort": COHORT})
        c = group["cells"]
        # leavers 20; handed over P01-P17; started P01-P15 (P16 late, P17 never)
        # design.md §6.4: on 20 pupils with min_cell 3 the bound-safe linked
        # suppression can take even the leaver total
        self.count_is(c["leavers"]["count"], 20, "leavers")
        self.count_is(c["handed_over"]["denominator_count"], 20, "leavers")
        if self.count_is(c["handed_over"]["count"], 17, "handed_over"):
            self.assertAlmostEqual(c["handed_over"]["rate"], 17 / 20)
        else:       # a rate over a withheld count is withheld
            self.assertEqual(c["handed_over"]["rate"], {"suppressed": True, "display": "-"})
        self.assertEqual(c["started"]["denominator"], "handed_over")
        self.count_is(c["started"]["count"], 15, "started")
        # 15/17 with both shown: the rate is shown, no range (design.md §6.4)
        if c["started"]["count"] == 15 and c["started"]["denominator_count"] == 17:
            self.assertAlmostEqual(c["started"]["rate"], 15 / 17)
        self.count_is(c["with_consent"]["count"], 12, "with_consent")
        self.count_is(c["no_consent"]["count"], 5, "no_consent")
        # bestendig: P01-P06 still enrolled at 2026-10-01, P07-P09 diploma; of the 12 started with consent
        self.count_is(c["bestendig"]["denominator_count"], 12, "started_with_consent")
        if self.count_is(c["bestendig"]["count"], 9, "bestendig") and c["bestendig"]["denominator_count"] == 12:
            self.assertAlmostEqual(c["bestendig"]["rate"], 0.75)
        self.count_is(c["diploma"]["count"], 3, "diploma")
        self.assertEqual(c["diploma"]["denominator"], "with_consent")
        # 0 progressed, 2 dropped out, 1 without feedback: all below 3, withheld
        for m in ("progressed", "left_without_diploma", "no_feedback"):
            self.assertEqual(c[m]["count"], {"suppressed": True, "display": "<3"}, m)
            self.assertEqual(total["cells"][m]["count"], {"suppressed": True, "display": "<3"}, m)
        self.assertTrue(total["total"])
        self.count_is(total["cells"]["leavers"]["count"], 20, "total leavers")

        # by program: pro has 12 leavers all handed over with consent; vso_arbeid 8
        rep = self.report(self.school, "--by", "program")
        rows = {r["keys"].get("program", "total"): r["cells"] for r in rep["tables"][0]["rows"]}
        self.count_is(rows["pro"]["leavers"]["count"], 12, "pro leavers")
        self.count_is(rows["vso_arbeid"]["leavers"]["count"], 8, "vso_arbeid leavers")
        self.count_is(rows["vso_arbeid"]["handed_over"]["count"], 5, "vso_arbeid handed_over")
        # no_consent is 0 for pro (withheld), so vso_arbeid's 5 would follow from
        # the total: withheld as well, and the total with it or another cell
        self.assertTrue(rows["pro"]["no_consent"]["count"]["suppressed"])
        self.assertTrue(rows["vso_arbeid"]["no_consent"]["count"]["suppressed"])

    def test_no_format_carries_a_withheld_value(self):
        for fmt in ("text", "csv", "json", "html"):
            out = self.school.cli("report", "--format", fmt, "--by", "program,followed").stdout
            self.assertIn("&lt;3" if fmt == "html" else "<3", out, fmt)
        text = self.school.cli("report").stdout
        self.assertIn("bestendig", text.lower())
        data = self.school.cli("report", "--format", "csv", "--by", "program").stdout
        rows = list(csv.reader(io.StringIO(data.lstrip("\ufeff")), delimiter=";"))
        self.assertEqual(rows[0][:2], ["program", "leavers"])
        self.assertEqual(len(rows), 1 + 2 + 1)        # header, pro, vso_arbeid, total
        html = self.school.cli("report", "--format", "html").stdout
        self.assertIn("<svg", html)
        for bad in ("http:", "https:", "src="):
            self.assertNotIn(bad, html)
        path = os.path.join(self.root, "r.html")
        self.school.cli("report", "--format", "html", "-o", path)
        self.assertTrue(os.path.getsize(path) > 1000)
        r = self.school.cli("report", "--by", "shoe_size", check=False)
        self.assertEqual(r.returncode, 2)       # a usage error, as --side's (issue 15)
        self.assertIn("unknown dimension 'shoe_size'", r.stderr)
        audits = [json.loads(line) for line in self.school.cli("audit", "export").stdout.splitlines()]
        self.assertGreaterEqual(sum(a["action"] == "report.generated" for a in audits), 6)

    def csv_file(self, name, *args):
        """The report as the CLI writes it to a file, as bytes (a pipe read as
        text would turn CRLF into LF)."""
        path = os.path.join(self.root, name)
        self.mbo.cli("report", "--format", "csv", "--side", "receiving", "-o", path, "--force",
                     *args)
        with open(path, "rb") as f:
            return f.read()

    def check_numbers(self, raw, sep, decimal):
        """Read raw as a spreadsheet in that locale would (design.md §6.5):
        every count and rate the JSON report shows arrives as a number with
        the same value; every withheld one as its display text."""
        text = raw.decode("utf-8-sig")
        self.assertNotIn("\n", text.replace("\r\n", ""))         # CRLF only
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=sep))
        head = rows[0]
        js = self.report(self.mbo, "--side", "receiving")["tables"][0]["rows"]
        self.assertEqual(len(rows), 1 + len(js))
        number = re.compile(r"^[0-9]+(\%s[0-9]+)?$" % decimal)
        shown = 0
        for line, jrow in zip(rows[1:], js):
            for m, cell in jrow["cells"].items():
                if cell is None:
                    continue
                count, rate = line[head.index(m)], line[head.index(m + "_rate")]
                if isinstance(cell["count"], int):
                    self.assertEqual(count, str(cell["count"]), m)
                else:
                    self.assertEqual(count, cell["count"]["display"], m)
                if isinstance(cell.get("rate"), (int, float)):
                    self.assertRegex(rate, number, m)
                    self.assertAlmostEqual(float(rate.replace(decimal, ".")), cell["rate"],
                                           places=4, msg=m)
                    shown += 1
                else:
                    self.assertFalse(number.match(rate), (m, rate))
        self.assertGreaterEqual(shown, 2)
        return rows

    def test_csv_as_a_dutch_spreadsheet_reads_it(self):
        # the MBO's intake (17 dossiers, 16 enrolled, 4 intake held: shown)
        # the default, [report] csv_dialect = excel-nl: `;`, decimal comma, BOM
        raw = self.csv_file("nl.csv")
        self.assertTrue(raw.startswith(b"\xef\xbb\xbfcohort;students;students_rate;"), raw[:40])
        self.assertIn(b";0,9412;17;", raw)     # enrolled 16 of 17
        self.check_numbers(raw, ";", ",")
        # rfc4180 on request: `,`, a decimal point, no BOM
        raw = self.csv_file("rfc.csv", "--csv-dialect", "rfc4180")
        self.assertTrue(raw.startswith(b"cohort,students,students_rate,"))
        self.assertIn(b",0.9412,17,", raw)
        self.check_numbers(raw, ",", ".")
        r = self.mbo.cli("report", "--csv-dialect", "rfc4180", check=False)
        self.assertEqual(r.returncode, 2)                # only with --format csv
        # and by the daemon's configuration
        with open(self.mbo.conf) as f:
            conf = f.read()
        with open(self.mbo.conf, "w") as f:
            f.write(conf.replace("min_cell = 3", "min_cell = 3\ncsv_dialect = rfc4180"))
        self.mbo.reload()
        wait_for(lambda: self.csv_file("conf.csv").startswith(b"cohort,"),
                 what="the configured dialect")
        self.assertTrue(self.csv_file("nl2.csv", "--csv-dialect", "excel-nl")
                        .startswith(b"\xef\xbb\xbfcohort;"))

    def test_receiving_side_and_lost(self):
        rep = self.report(self.mbo, "--side", "receiving")
        c = rep["tables"][0]["rows"][0]["cells"]
        self.assertEqual(c["intake"]["count"], 17)
        self.assertEqual(c["enrolled"]["count"], 16)             # P01-P16
        self.assertEqual(c["intake_held"]["count"], 4)           # P01-P04
        # every dossier arrived after the (back-dated) enrolments: no coverage
        self.assertEqual(c["covered"]["count"], {"suppressed": True, "display": "<3"})
        self.count_is(c["diploma"]["count"], 3, "diploma")
        lost = self.school.cli_json("lost")
        by = {r["pupil_ref"]: r for r in lost}
        # P17 never enrolled; P10, P11 left without a diploma. P16 enrolled late: in sight.
        self.assertEqual(sorted(by), ["P10", "P11", "P17"])
        self.assertEqual(by["P17"]["given_name"], "Kind17")
        self.assertIn("not enrolled", by["P17"]["reason"])
        self.assertEqual(by["P10"]["last_event"], "left_without_diploma 2026-02-01")
        audits = [json.loads(line) for line in self.school.cli("audit", "export").stdout.splitlines()]
        (lv,) = [a for a in audits if a["action"] == "lost.viewed"]
        self.assertEqual(json.loads(lv["detail"])["pupils"], 3)


if __name__ == "__main__":
    import unittest
    unittest.main()
