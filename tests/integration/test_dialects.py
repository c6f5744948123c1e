"""Integration: imports in the dialects school systems write (design.md §8.8).

The fixtures in tests/data are leavers as Magister (';', CRLF, dd-mm-yyyy),
SOMtoday (',', D/M/YYYY), ParnasSys (Windows-1252) and Eduarte (TAB) export
them, Dutch headers, codes and extra columns included. Each is imported
unchanged through the real CLI, handed over to a real MBO daemon, and the
dossier received must show the UTF-8 names with their tussenvoegsel; the
school's report counts them all. Then --strict, --map and the MBO's own
outcomes file in Dutch.

Run: python3 -m unittest -v test_dialects   (OVERSTAPD / OVERSTAP from the environment)
"""
import json
import os
import unittest

import harness
from harness import wait_for

SCHOOL, MBO = "12AB00", "25LZ00"
DATA = os.path.join(harness.SRC, "tests", "data")
DATE = "2025-06-01"

# fixture -> pupil_ref -> (given, tussenvoegsel, family) as they must arrive
FIXTURES = {
    "leavers_magister.csv": {"M001": ("Jan", "de", "Vries"),
                             "M002": ("Sanne", "van der", "Berg"),
                             "M003": ("Özlem", "", "Yılmaz")},
    "leavers_somtoday.csv": {"S101": ("Noah", "van", "Dijk"),
                             "S102": ("Fleur", "", "Jansen")},
    "leavers_parnassys.csv": {"P201": ("Zoë", "van 't", "Hoff"),
                              "P202": ("Chloé", "", "Françoise-Çelik")},
    "leavers_eduarte.tsv": {"E301": ("Hans", "van den", "Berg"),
                            "E302": ("Maria", "de la", "Cruz")},
}
IGNORED = {"leavers_magister.csv": "'Klas'", "leavers_somtoday.csv": "'Stamgroep'",
           "leavers_parnassys.csv": "'Groep'", "leavers_eduarte.tsv": "'Voornamen'"}


def shown(given, tv, family):
    return " ".join(p for p in (given, tv, family) if p)


class DialectTest(harness.FederationCase):
    def report(self, *args):
        return json.loads(self.school.cli("report", "--format", "json", *args).stdout)

    def write(self, name, text, encoding="utf-8"):
        path = os.path.join(self.root, name)
        with open(path, "w", encoding=encoding, newline="") as f:
            f.write(text)
        return path

    def test_1_fixtures_imported_handed_over_and_counted(self):
        refs = []
        for name, pupils in FIXTURES.items():
            r = self.school.cli("import", "leavers", os.path.join(DATA, name))
            self.assertIn("imported %d leavers" % len(pupils), r.stdout, name)
            # the unknown columns: one warning line, listed once
            warn = [l for l in r.stderr.splitlines() if "warning" in l]
            self.assertEqual(len(warn), 1, r.stderr)
            self.assertIn("%s:1: header: ignoring column %s" % (name, IGNORED[name]), warn[0])
            refs += list(pupils)
        harness.hand_over(self.school, [{"pupil_ref": p} for p in refs], date=DATE)

        def delivered():
            rows = {r["pupil_ref"]: r for r in self.school.cli_json("handover", "list")}
            return rows if all(rows[p]["state"] == "delivered" for p in refs) else None
        out = wait_for(delivered, timeout=60, what="%d handovers delivered" % len(refs))

        for pupils in FIXTURES.values():
            for ref, name in pupils.items():
                rid = out[ref]["record_id"]
                d = self.mbo.cli_json("inbox", "show", rid)["dossier"]
                self.assertEqual((d["given_name"], d.get("tussenvoegsel", ""), d["family_name"]),
                                 name, ref)
                text = self.mbo.cli("inbox", "show", rid).stdout
                self.assertRegex(text, r"(?m)^\s*name\s+%s$" % shown(*name), ref)
                text = self.school.cli("handover", "show", ref).stdout
                self.assertRegex(text, r"(?m)^\s*name\s+%s$" % shown(*name), ref)
        # the canonical codes were stored: the report groups by them
        rep = self.report("--by", "program")
        progs = {r["keys"].get("program") for r in rep["tables"][0]["rows"]}
        self.assertLessEqual({"vmbo_b", "vmbo_k", "vmbo_gt", "pro", "havo", "vso_arbeid",
                              "vso_vervolg"}, progs)
        rep = self.report()
        total = rep["tables"][0]["rows"][-1]["cells"]
        n = sum(len(p) for p in FIXTURES.values())
        for m in ("leavers", "handed_over"):
            self.assertIn(total[m]["count"], (n, {"suppressed": True, "display": "x"}), m)

        # the named list shows the names whole too (the pupils have had no
        # enrolment back, long after 1 September 2025)
        lost = {r["pupil_ref"]: r for r in self.school.cli_json("lost")}
        self.assertEqual(lost["S101"]["tussenvoegsel"], "van")
        self.assertRegex(self.school.cli("lost").stdout, r"S101\s+Noah van Dijk\s")

        # at the MBO: the school's record ids in an outcomes file in Dutch
        rid = out["M001"]["record_id"]
        path = self.write("uitkomsten.csv", "Recordnummer;Gebeurtenis;Datum;Opmerking\r\n"
                          "%s;Ingeschreven;01-09-2025;start BOL\r\n" % rid.upper())
        r = self.mbo.cli("import", "outcomes", path)
        self.assertIn("statuses and outcomes queued: 1", r.stdout)
        self.assertIn("ignoring column 'Opmerking'", r.stderr)

    def test_2_strict_makes_unknown_columns_errors(self):
        path = os.path.join(DATA, "leavers_magister.csv")
        r = self.school.cli("import", "leavers", "--strict", path, check=False)
        self.assertEqual(r.returncode, 4, r.stderr)
        self.assertIn("leavers_magister.csv:1: header: unknown column 'Klas'", r.stderr)
        self.assertIn("nothing imported", r.stderr)

    def test_3_map_file_and_overrides(self):
        csv = self.write("eigen.csv", "Leerling ID|Naam|Geb|Uitstroomprofiel|Jaar|Weg op|Naar\n"
                         "Q1|Smit|02/01/2008|Arbeidsmarktgericht|2024-2025|07/01/2025|"
                         "Werk met begeleiding\n", encoding="cp1252")
        mp = self.write("eigen.ini", "[columns]\nNaam = family_name\nGeb = birth_date\n"
                        "Uitstroomprofiel = program\nJaar = cohort\nWeg op = exit_date\n"
                        "Naar = destination_type\n[values.program]\n"
                        "Arbeidsmarktgericht = vso_arbeid\n[values.destination_type]\n"
                        "Werk met begeleiding = work\n")
        # without the map: nothing is known but the pupil number
        r = self.school.cli("import", "leavers", "--delimiter", "|", csv, check=False)
        self.assertEqual(r.returncode, 4, r.stderr)
        self.assertIn("missing required column 'birth_date'", r.stderr)
        # with it, and the US date order given: imported
        r = self.school.cli("import", "leavers", "--delimiter", "|", "--map", mp,
                            "--date-format", "mdy", csv)
        self.assertIn("imported 1 leaver from", r.stdout)
        show = self.school.cli_json("handover", "show", "Q1")
        self.assertEqual(show["program"] if "program" in show else show["dossier"]["program"],
                         "vso_arbeid")
        # a bad map is refused before the file is read
        bad = self.write("bad.ini", "[kolommen]\nx = y\n")
        r = self.school.cli("import", "leavers", "--map", bad, csv, check=False)
        self.assertEqual(r.returncode, 4)
        self.assertIn("bad.ini:1: unknown section [kolommen]", r.stderr)
        # a bad option value is a usage error
        r = self.school.cli("import", "leavers", "--date-format", "yy", csv, check=False)
        self.assertEqual(r.returncode, 2)

    def test_4_the_other_imports_in_the_same_dialects(self):
        """Consents at the school, enrolments and outcomes keyed by BSN at the
        MBO: the same dialects (';' or TAB, Windows-1252, CRLF, dd-mm-yyyy,
        Dutch headers and codes, empty trailing columns) as the leavers."""
        path = self.write("toestemmingen.csv",
                          "Leerlingnummer;Doel;Voor;Door;Datum toestemming;Geldig tot;Bewijs;"
                          "Kenmerk;Opmerking;;\r\n"
                          "P201;Nazorg;25LZ00;LEERLING;02-06-2025;31-7-2027;Formulier;AVG-201;"
                          "door Zoë zelf;;\r\n", encoding="cp1252")
        r = self.school.cli("import", "consents", path)
        self.assertIn(": 1 added, 0 unchanged, 0 refused", r.stdout)
        self.assertIn("ignoring column 'Opmerking'", r.stderr)
        (c,) = [c for c in self.school.cli_json("consent", "list") if c["pupil_ref"] == "P201"]
        self.assertEqual((c["purpose"], c["grantor"], c["counterpart"]),
                         ("follow_up", "pupil", MBO))
        # the MBO's student administration, its own key: BSN
        path = self.write("inschrijvingen.tsv",
                          "BSN\tNiveau\tStartdatum\tVooropleiding\tKlas\t\r\n"
                          "111222369\tEntree\t01-09-2025\tVSO arbeid\tE1a\t\r\n"
                          "111222370\tniveau 2\t1-9-2025\tVSO vervolg\tN2b\t\r\n",
                          encoding="cp1252")
        r = self.mbo.cli("import", "enrolments", path)
        self.assertIn("enrolments imported: 2 new, 0 corrected, 0 already held", r.stdout)
        self.assertIn("ignoring column 'Klas'", r.stderr)
        sub = self.mbo.cli_json("subject", "111222370")
        self.assertEqual([(e["level"], e["start_date"], e["previous"]) for e in sub["enrolments"]],
                         [(2, "2025-09-01", "vso_vervolg")])
        path = self.write("uitkomsten-bsn.csv", "BSN;Gebeurtenis;Datum\r\n"
                          "111222370;Intake gehouden;20-08-2025\r\n")
        r = self.mbo.cli("import", "outcomes", path)
        self.assertIn("statuses and outcomes queued: 1", r.stdout)
        wait_for(lambda: [e["event"] for e in
                          self.school.cli_json("handover", "show", "P202")["timeline"]] ==
                 ["intake_held"], what="the status by BSN at the school")


if __name__ == "__main__":
    unittest.main()
