"""Integration: the subject access report, complete at both sides and readable
by a pupil's parents (issue 16 item 5; design.md §3.10, §3.11), with two real
daemons.

- At the MBO, a report by PGN holds the registration it sent (before any
  dossier came) and that registration's audit entry, and marks the dossier's
  follow-up consent withdrawn once the school withdrew it.
- The letter (text and HTML) is in Dutch: no codes, no audit MACs or raw
  JSON, no login names; institutions by name, staff by role.
- After the MBO erases the dossier, its link from the PGN to the
  registration is gone: nothing in the store leads from the PGN to it.

Run: python3 -m unittest -v test_subject   (OVERSTAPD / OVERSTAP from the environment)
"""
import getpass
import html.parser
import os
import random
import re
import sqlite3

import harness
from harness import wait_for
from test_withdrawal import MBO, SCHOOL, TODAY, row

# What a parent must never have to read: codes of the vocabularies and the
# audit log's action names, as the daemon stores them.
CODES = ("vso_arbeid", "mbo_entree", "follow_up", "structure", "registration.sent",
         "disclosure.queued", "dossier.viewed", "consent.granted", "statute", "peer:")


class _Page(html.parser.HTMLParser):
    """Collects what a reader sees and what a page would load."""

    def __init__(self):
        super().__init__()
        self.lang, self.text, self.loads, self.tags, self.hidden = None, [], [], [], 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        self.hidden += tag in ("style", "title")
        if tag == "html":
            self.lang = a.get("lang")
        for k in ("src", "href"):
            if a.get(k):
                self.loads.append(a[k])

    def handle_endtag(self, tag):
        self.hidden -= tag in ("style", "title")

    def handle_data(self, data):
        if not self.hidden:
            self.text.append(data)


class SubjectReportTest(harness.DaemonTestCase):

    def setUp(self):
        super().setUp()
        self.school, self.mbo = harness.federation(self.root, SCHOOL, MBO)
        self.insts += [self.school, self.mbo]
        rng = random.Random(41)
        self.rows = [row("S1", rng, support_needs="small_group")]
        self.pgn = self.rows[0]["pgn"]
        self.school.cli("import", "leavers",
                        harness.write_csv(os.path.join(self.root, "s.csv"), self.rows))

    def state(self):
        return self.school.cli_json("handover", "list")[0]

    def hand_over_after_registration(self):
        # The MBO registers the pupil first, the usual order: no dossier yet.
        self.mbo.cli("registration", "record", self.pgn, "--from", SCHOOL, "--date", TODAY)
        wait_for(lambda: self.state()["state"] == "registered", what="registration at the school")
        fc = self.school.cli_json("consent", "grant", "S1", "--purpose", "follow_up", "--by",
                                  "pupil", "--evidence", "form", "--ref", "AVG-S1")[0]
        self.school.cli("handover", "inzage", "--by", "pupil", "--agrees", "yes", "--date", TODAY,
                        "--remarks", "Moeder wil graag een kennismakingsgesprek.", "S1")
        self.school.cli("handover", "send", "S1")
        wait_for(lambda: self.state()["state"] == "delivered", what="S1 delivered")
        rid = self.state()["record_id"]
        self.mbo.cli("registration", "status", rid, "enrolled", "--date", TODAY)
        self.school.cli("consent", "withdraw", fc["id"])
        wait_for(lambda: self.mbo.cli_json("subject", self.pgn)["received"][0]["revoked"],
                 what="the withdrawal at the MBO")
        return rid, fc

    def assert_readable(self, text, who):
        for code in CODES:
            self.assertNotIn(code, text, "%s: the letter shows the code %r" % (who, code))
        self.assertIsNone(re.search(r"\b[0-9a-f]{32,}\b", text), "%s: a MAC or hash" % who)
        self.assertNotIn("{", text, "%s: raw JSON in the letter" % who)
        self.assertIsNone(re.search(r"\b%s\b" % re.escape(getpass.getuser()), text),
                          "%s: a login name instead of a role" % who)

    def test_mbo_report_holds_its_registration_and_marks_the_withdrawal(self):
        rid, fc = self.hand_over_after_registration()
        ev = self.mbo.cli_json("subject", self.pgn)

        # the registration it sent, found by the PGN, with its own audit entry
        (g,) = ev["registrations"]
        self.assertEqual((g["school"], g["registered_on"], g["state"]), (SCHOOL, TODAY, "delivered"))
        # moments in the evidence are ISO 8601 UTC throughout (issue 15), as its audit entries
        self.assertTrue(harness.is_iso(g["at"]), g["at"])
        self.assertTrue(harness.is_iso(ev["generated_at"]), ev["generated_at"])
        self.assertTrue(harness.is_iso(ev["received"][0]["row"]["received_at"]), ev["received"][0])
        sent = [e for e in ev["audit"] if e["action"] == "registration.sent"]
        self.assertEqual([e["subject"] for e in sent], [g["message_id"]])
        # by record id too, once
        ev_r = self.mbo.cli_json("subject", rid)
        self.assertEqual([x["message_id"] for x in ev_r["registrations"]], [g["message_id"]])
        # the follow-up consent the dossier came with, withdrawn since
        (rv,) = ev["received"][0]["revoked"]
        self.assertEqual(rv["consent_id"], fc["id"])
        self.assertEqual(ev["peers"][SCHOOL], "Praktijkschool De Brug")

        letter = self.mbo.cli("subject", self.pgn).stdout
        self.assert_readable(letter, "MBO text")
        for words in ("Noor Bakkali", "Praktijkschool De Brug", "MBO Entree College",
                      "ingetrokken op", "Aanmeldingen die wij aan de vorige school hebben gemeld",
                      "meldde de aanmelding aan de vorige school", "een intakemedewerker",
                      "voortgezet speciaal onderwijs (VSO), uitstroom arbeid",
                      "les in een kleine groep", "ingeschreven",
                      "Moeder wil graag een kennismakingsgesprek.", "Eens met het dossier: ja"):
            self.assertIn(words, letter)
        # the letter reads those moments back
        self.assertRegex(letter, r"Ontvangen op: \d+ \w+ \d{4} om \d\d:\d\d")

    def test_school_letter_in_dutch_text_and_printable_html(self):
        self.hand_over_after_registration()
        letter = self.school.cli("subject", "S1").stdout
        self.assert_readable(letter, "school text")
        for words in ("Het overstapdossier op deze school", "terugkoppeling van de studievoortgang",
                      "ingetrokken op", "Gegeven door: de leerling",
                      "gaf het overstapdossier door", "MBO Entree College (bericht)",
                      "meldde dat de leerling is aangemeld", "een mentor",
                      "afgeleverd", "ingeschreven"):
            self.assertIn(words, letter)
        self.assertRegex(letter, r"Afgeleverd bij de nieuwe school: \d+ \w+ \d{4} om \d\d:\d\d")

        path = os.path.join(self.root, "inzage.html")
        r = self.school.cli("subject", "S1", "--format", "html", "-o", path)
        self.assertIn("wrote the html subject report", r.stderr)
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
        with open(path, encoding="utf-8") as f:
            page = _Page()
            page.feed(f.read())
        self.assertEqual(page.lang, "nl")
        self.assertEqual(page.loads, [], "the page loads nothing")
        self.assertNotIn("script", page.tags)
        seen = " ".join(page.text)
        self.assert_readable(seen, "school html")
        self.assertIn("Wie heeft wat gedaan", seen)
        # an existing file is not overwritten
        r = self.school.cli("subject", "S1", "--format", "html", "-o", path, check=False)
        self.assertEqual(r.returncode, 4)

        # the evidence is the machine-readable export: MACs and codes kept
        ev = self.school.cli_json("subject", "S1", "--format", "json")
        self.assertTrue(all(re.fullmatch(r"[0-9a-f]{64}", e["mac"]) for e in ev["audit"]))

    def test_erasure_at_the_mbo_ends_the_link_to_the_registration(self):
        rid, _ = self.hand_over_after_registration()
        self.mbo.cli("erase", rid, "--yes")
        r = self.mbo.cli("subject", self.pgn, check=False)
        self.assertEqual(r.returncode, 1, "nothing is held under the PGN any more")
        db = sqlite3.connect("file:%s?mode=ro" % self.mbo.db, uri=True)
        try:
            self.assertEqual(db.execute("SELECT count(*) FROM registrations_sent").fetchone()[0], 0)
        finally:
            db.close()


if __name__ == "__main__":
    import unittest
    unittest.main()
