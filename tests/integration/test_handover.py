"""Integration: the handover itself and its gates (design.md §3 purpose `handover`, §8).

A school daemon (12AB00) and an MBO daemon (25LZ00) on loopback, driven only
through the real `overstap` CLI. One federation serves the whole class; every
test uses its own pupil refs and counts the MBO's inbox before and after.

Run: python3 -m unittest -v test_handover   (OVERSTAPD / OVERSTAP from the environment)
"""
import os
import random
import re
import unittest

import harness
from harness import wait_for

SCHOOL, MBO = "12AB00", "25LZ00"
DATE = "2025-06-01"          # registration and inzage date used throughout
COLS = ["pupil_ref", "pgn", "given_name", "family_name", "birth_date", "program", "cohort",
        "exit_date", "destination_type", "destination_institution", "advice", "advice_followed",
        "level_taal", "level_rekenen", "support_needs", "mentor_name", "mentor_email",
        "mentor_phone"]


def pupil(ref, rng, given="Daan", family="de Vries", birth="2008-03-14", dest=MBO, **kw):
    """One valid leavers row; kw overrides columns."""
    row = {
        "pupil_ref": ref, "pgn": harness.bsn(rng), "given_name": given, "family_name": family,
        "birth_date": birth, "program": "pro", "cohort": "2024-2025", "exit_date": "2025-07-04",
        "destination_type": "mbo_entree", "destination_institution": dest, "advice": "entree",
        "advice_followed": "yes", "level_taal": "1F", "level_rekenen": "1F",
        "support_needs": "", "mentor_name": "", "mentor_email": "", "mentor_phone": "",
    }
    row.update(kw)
    return row


class HandoverTest(harness.FederationCase):
    n_files = 0

    # ---- helpers ----
    def csv(self, rows, name=None):
        type(self).n_files += 1
        path = os.path.join(self.root, name or "leavers-%d.csv" % self.n_files)
        return harness.write_csv(path, rows, COLS)

    def import_rows(self, rows):
        path = self.csv(rows)
        r = self.school.cli("import", "leavers", path)
        self.assertIn("imported %d %s from" % (len(rows), "leaver" if len(rows) == 1 else "leavers"),
                      r.stdout)
        return path

    def outgoing(self):
        """pupil_ref -> row of `handover list --json` at the school."""
        return {r["pupil_ref"]: r for r in self.school.cli_json("handover", "list")}

    def inbox(self):
        """record_id -> row of `inbox list --json` at the MBO."""
        rows = self.mbo.cli_json("inbox", "list")
        ids = [r["record_id"] for r in rows]
        self.assertEqual(len(ids), len(set(ids)), "a record id appears twice in the MBO's inbox")
        return {r["record_id"]: r for r in rows}

    def wait_delivered(self, refs, timeout=60):
        refs = set(refs)

        def done():
            out = self.outgoing()
            return out if all(out[r]["state"] == "delivered" for r in refs) else None
        return wait_for(done, timeout=timeout, what="%d handovers delivered" % len(refs))

    def wait_outbox_empty(self):
        return wait_for(lambda: self.school.peer_status(MBO)["outbox_depth"] == 0, timeout=30,
                        what="the school's outbox to drain")

    def dossier(self, record_id):
        return self.mbo.cli_json("inbox", "show", record_id)["dossier"]

    def register(self, *refs):
        return self.school.cli("handover", "registered", "--date", DATE, *refs)

    def inzage(self, *refs, by="pupil", date=DATE, check=True, remarks=None, agrees="yes",
               why=None):
        extra = ["--remarks", remarks] if remarks is not None else []
        extra += ["--why", why] if why is not None else []
        return self.school.cli("handover", "inzage", *refs, "--by", by, "--agrees", agrees,
                               "--date", date, *extra, check=check)

    def send(self, *refs, check=True):
        return self.school.cli("handover", "send", *refs, check=check)

    def assert_refused(self, r, ref, reason_re, queued_too=False):
        """A `handover send` that refused ref: exit 1, 'refused REF: reason' on
        stderr (and no 'queued REF', unless the same ref was given twice)."""
        self.assertEqual(r.returncode, 1, "expected exit 1 (refused)\nstdout: %s\nstderr: %s"
                         % (r.stdout, r.stderr))
        m = re.search(r"^refused %s: (.+)$" % re.escape(ref), r.stderr, re.M)
        self.assertIsNotNone(m, "no 'refused %s: reason' line in stderr:\n%s" % (ref, r.stderr))
        self.assertRegex(m.group(1), reason_re)
        if not queued_too:
            self.assertNotRegex(r.stdout, r"(?m)^queued %s$" % re.escape(ref))

    # ---- delivered, acknowledged, readable ----
    def test_delivered_acknowledged_and_readable(self):
        rows = harness.leavers_csv(os.path.join(self.root, "plain.csv"), 10, seed=101, prefix="D")
        for r in rows:
            r.update({"support_needs": "", "mentor_name": "", "mentor_email": "", "mentor_phone": ""})
        # Names as they occur: non-ASCII, tussenvoegsels, apostrophes, a comma
        # inside a quoted field; plus support needs and a mentor that travel.
        rows[0].update(given_name="Zoë", family_name="van 't Hof")
        rows[1].update(given_name="Anne-Fleur", family_name="D'Souza, jr.")
        rows[2].update(given_name="Mohammed", family_name="El Amrani",
                       support_needs="job_coach:ma en di op locatie;extra_time",
                       mentor_name="mevr. J. de Boer", mentor_email="j.deboer@debrug.example",
                       mentor_phone="+31 6 1234 5678")
        rows[3].update(support_needs="job_coach:alleen op maandag;extra_time")
        before = len(self.inbox())
        self.import_rows(rows)
        refs = [r["pupil_ref"] for r in rows]
        # Free-text care notes travel only under a handover consent (design.md §3):
        # the pupil of rows[2] gave one, the pupil of rows[3] did not.
        c = self.school.cli_json("consent", "grant", refs[2], "--purpose", "handover",
                                 "--by", "pupil", "--evidence", "form", "--ref", "DOC-2025-17")[0]
        self.assertEqual((c["counterpart"], c["in_force"]), (MBO, True))
        self.register(*refs)
        remarks = "Wil graag één dag per week stage lopen, liefst in de zorg."
        self.inzage(refs[0], remarks=remarks)
        self.inzage(*refs[1:])
        r = self.school.cli("handover", "send", "--all-ready")
        for ref in refs:
            self.assertRegex(r.stdout, r"(?m)^queued %s$" % ref)

        out = self.wait_delivered(refs)
        # Acknowledged: nothing left in the outbox, the peer counted the acks.
        self.wait_outbox_empty()
        st = self.school.peer_status(MBO)
        self.assertEqual(st["outbox_depth"], 0)
        self.assertEqual(st["oldest_unacked_ms"], 0)
        self.assertGreaterEqual(st["acked"], len(rows))
        for ref in refs:
            self.assertTrue(out[ref]["record_id"], ref)
            self.assertTrue(harness.is_iso(out[ref]["delivered_at"]), out[ref])
            self.assertTrue(harness.is_iso(out[ref]["queued_at"]), out[ref])
            self.assertGreaterEqual(out[ref]["delivered_at"], out[ref]["queued_at"], ref)
            self.assertGreaterEqual(out[ref]["attempts"], 1, ref)

        inbox = self.inbox()
        self.assertEqual(len(inbox), before + len(rows))
        for row in rows:
            rid = out[row["pupil_ref"]]["record_id"]
            self.assertIn(rid, inbox, "record of %s not in the MBO's inbox" % row["pupil_ref"])
            self.assertEqual(inbox[rid]["sender"], SCHOOL)
            self.assertEqual(inbox[rid]["cohort"], row["cohort"])
            d = self.dossier(rid)
            self.assertEqual(d["record_id"], rid)
            for col in ("pgn", "given_name", "family_name", "birth_date", "cohort", "exit_date",
                        "program", "advice", "advice_followed", "level_taal", "level_rekenen"):
                self.assertEqual(d[col], row[col], "%s of %s" % (col, row["pupil_ref"]))
            self.assertEqual(d["destination"], row["destination_type"])
            self.assertEqual(d["registered_on"], DATE)
            self.assertEqual(d["inzage"]["reviewer"], "pupil")
            self.assertEqual(d["inzage"]["reviewed_on"], DATE)
            self.assertEqual(d["basis"], "statute")
        # The remarks of the inzage travel with the dossier, verbatim.
        self.assertEqual(self.dossier(out[refs[0]]["record_id"])["inzage"]["remarks"], remarks)
        self.assertEqual(self.dossier(out[refs[1]]["record_id"])["inzage"]["remarks"], "")
        d = self.dossier(out[refs[2]]["record_id"])
        self.assertEqual([(s["code"], s["note"]) for s in d["support_needs"]],
                         [("job_coach", "ma en di op locatie"), ("extra_time", "")])
        self.assertEqual([(a["purpose"], a["consent_id"]) for a in d["consents"]],
                         [("handover", c["id"])])
        d3 = self.dossier(out[refs[3]]["record_id"])
        self.assertEqual([(s["code"], s["note"]) for s in d3["support_needs"]],
                         [("job_coach", ""), ("extra_time", "")], "note sent without consent")
        self.assertEqual(d3["consents"], [])
        # The school's own view of a sent dossier is what left, not a rebuild.
        mine = self.school.cli_json("handover", "show", refs[3])["dossier"]
        self.assertEqual([s["note"] for s in mine["support_needs"]], ["", ""])
        mine = self.school.cli_json("handover", "show", refs[2])["dossier"]
        self.assertEqual([a["consent_id"] for a in mine["consents"]], [c["id"]])
        self.assertEqual(d["mentor"], {"name": "mevr. J. de Boer",
                                       "email": "j.deboer@debrug.example",
                                       "phone": "+31 6 1234 5678"})

    # ---- the gates ----
    def test_gates_refuse_with_a_reason_and_nothing_reaches_the_mbo(self):
        rng = random.Random(202)
        rows = [
            pupil("G-NOTREG", rng, "Sem", "Jansen"),             # inzage, never registered
            pupil("G-NOINZ", rng, "Mila", "Bakker"),             # registered, no inzage
            pupil("G-NODEST", rng, "Finn", "Visser", dest="",     # no destination institution
                  destination_type="work", advice="work"),
            pupil("G-NEITHER", rng, "Tess", "Smit"),             # neither
            pupil("G-OK", rng, "Julia", "Meijer"),               # the control: passes every gate
        ]
        self.import_rows(rows)
        self.register("G-NOINZ", "G-NODEST", "G-OK")
        self.inzage("G-NOTREG", "G-NODEST", "G-OK")
        before = self.inbox()

        cases = [("G-NOTREG", r"not registered"), ("G-NOINZ", r"no inzage"),
                 ("G-NODEST", r"no destination institution"), ("G-NEITHER", r"not registered")]
        for ref, why in cases:
            with self.subTest(ref=ref):
                self.assert_refused(self.send(ref, check=False), ref, why)
        # Several at once: each refused with its own reason, still exit 1.
        r = self.send("G-NOTREG", "G-NOINZ", "G-NODEST", "G-UNKNOWN", check=False)
        for ref, why in cases[:3] + [("G-UNKNOWN", r"no such pupil")]:
            self.assert_refused(r, ref, why)
        # --all-ready picks the ready one only.
        r = self.school.cli("handover", "send", "--all-ready")
        self.assertEqual(re.findall(r"(?m)^queued (\S+)$", r.stdout), ["G-OK"])
        out = self.wait_delivered(["G-OK"])
        self.wait_outbox_empty()

        for ref, _ in cases:
            # Not sent: imported, or registered without inzage (never queued).
            self.assertIn(out[ref]["state"], ("imported", "registered"), ref)
            self.assertEqual(out[ref]["record_id"], "", ref)
        after = self.inbox()
        self.assertEqual(set(after) - set(before), {out["G-OK"]["record_id"]},
                         "only the gated-through handover may reach the MBO")
        self.assertEqual(self.mbo.status()["inbox_total"], len(after))

    def test_receive_only_peer_is_not_a_destination_to_send_to(self):
        # A configured peer without an endpoint (we only receive from it) may be
        # named in an import, but nothing can be sent to it. (That gate comes
        # before the registration gate; the pupil is left unregistered so that
        # `send --all-ready` in the other tests does not keep refusing it.)
        other = harness.Institution(self.root, "31XY00", "VSO De Horizon")
        self.school.add_peer(other, send=False)
        rng = random.Random(303)
        self.import_rows([pupil("R-1", rng, "Bram", "Dekker", dest="31XY00")])
        self.assert_refused(self.send("R-1", check=False), "R-1", r"endpoint")
        self.assertEqual(self.outgoing()["R-1"]["state"], "imported")
        self.assertEqual(self.school.peer_status("31XY00")["outbox_depth"], 0)

    # ---- the age rule for inzage ----
    def test_inzage_age_rule(self):
        rng = random.Random(404)
        rows = [
            pupil("A-15", rng, "Yara", "Kaya", birth="2010-02-10"),      # 15 on DATE
            pupil("A-17", rng, "Liam", "Peters", birth="2008-01-20"),    # 17 on DATE
            pupil("A-16TODAY", rng, "Sara", "Vos", birth="2009-06-01"),  # turns 16 on DATE
            pupil("A-16TMRW", rng, "Jesse", "Bos", birth="2009-06-02"),  # 15 on DATE, 16 the day after
            pupil("A-GUARD", rng, "Ayoub", "Mulder", birth="2011-09-30"),  # 13 on DATE
        ]
        self.import_rows(rows)
        refs = [r["pupil_ref"] for r in rows]
        self.register(*refs)

        def refused(ref, by, date, why):
            r = self.inzage(ref, by=by, date=date, check=False)
            self.assertEqual(r.returncode, 1, "inzage of %s by %s on %s: expected exit 1\n%s%s"
                             % (ref, by, date, r.stdout, r.stderr))
            self.assertRegex(r.stderr, why)
            self.assertEqual(r.stdout, "", "a refusal is not reported as recorded")

        # Under 16: not the pupil. 16 and over: not a parent (nor a guardian).
        refused("A-15", "pupil", DATE, r"A-15: the pupil is 15 on %s: inzage is by a parent" % DATE)
        refused("A-17", "parent", DATE, r"A-17: the pupil is 17 on %s: from 16 the pupil" % DATE)
        refused("A-17", "guardian", DATE, r"A-17: the pupil is 17")
        # The age counts on the day of the inzage, not today (they are older now).
        refused("A-16TMRW", "pupil", DATE, r"A-16TMRW: the pupil is 15")
        refused("A-16TODAY", "parent", DATE, r"A-16TODAY: the pupil is 16")
        # A refused inzage records nothing: still not ready.
        self.assert_refused(self.send("A-15", check=False), "A-15", r"no inzage")

        # Several refs in one call: the allowed ones are recorded, the others named.
        r = self.inzage("A-15", "A-17", "A-16TMRW", by="parent", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("recorded inzage of 2 pupils", r.stdout)
        self.assertRegex(r.stderr, r"A-17: the pupil is 17")
        self.assertNotIn("A-15:", r.stderr)
        self.inzage("A-17", by="pupil")
        self.inzage("A-16TODAY", by="pupil")
        self.inzage("A-GUARD", by="guardian", remarks="Voogd: akkoord.")

        before = self.inbox()
        r = self.send(*refs)
        out = self.wait_delivered(refs)
        self.assertEqual(len(self.inbox()) - len(before), len(refs))
        expect = {"A-15": "parent", "A-17": "pupil", "A-16TODAY": "pupil", "A-16TMRW": "parent",
                  "A-GUARD": "guardian"}
        for ref, who in expect.items():
            d = self.dossier(out[ref]["record_id"])
            self.assertEqual(d["inzage"]["reviewer"], who, ref)
        self.assertEqual(self.dossier(out["A-GUARD"]["record_id"])["inzage"]["remarks"],
                         "Voogd: akkoord.")

    # ---- OSO inzage rules: do they agree, and if not, why ----
    def test_disagreement_travels_with_the_dossier(self):
        """The parents do not agree with the dossier: that does not stop it,
        their view (zienswijze) goes with it, verbatim, and the MBO reads it in
        `inbox show`, as text and as JSON; the school sees it in `handover show`."""
        rng = random.Random(909)
        rows = [pupil("Z-NO", rng, "Fleur", "Jansen", birth="2010-03-01"),   # 15 on DATE
                pupil("Z-YES", rng, "Bram", "Smit")]
        self.import_rows(rows)
        self.register("Z-NO", "Z-YES")
        why = ("Wij herkennen ons kind niet in het verslag over de stage.\n"
               "Fleur werkte daar met plezier en kreeg een goede beoordeling.")

        # the CLI asks: whether they agree is required, "no" needs the why
        # (exit 2, usage), "yes" has none; nothing is recorded then
        for args, msg in (([], r"--agrees yes\|no is required"),
                          (["--agrees", "no"], r"--agrees no needs --why"),
                          (["--agrees", "yes", "--why", "x"], r"--why is for --agrees no"),
                          (["--agrees", "misschien"], r"--agrees wants yes or no")):
            r = self.school.cli("handover", "inzage", "Z-NO", "--by", "parent", "--date", DATE,
                                *args, check=False)
            self.assertEqual(r.returncode, 2, "%s: %s%s" % (args, r.stdout, r.stderr))
            self.assertRegex(r.stderr, msg)
        self.assert_refused(self.send("Z-NO", check=False), "Z-NO", r"no inzage")

        r = self.inzage("Z-NO", by="ouder", agrees="no", why=why, remarks="Gesprek gehad.")
        self.assertIn("who do not agree", r.stdout)
        self.inzage("Z-YES", agrees="ja")      # the staff's Dutch is understood
        shown = self.school.cli_json("handover", "show", "Z-NO")["dossier"]["inzage"]
        self.assertEqual((shown["agrees"], shown["disagreement"]), ("no", why))

        self.send("Z-NO", "Z-YES")             # disagreement does not stop the send
        out = self.wait_delivered(["Z-NO", "Z-YES"])
        rid = out["Z-NO"]["record_id"]
        z = self.dossier(rid)["inzage"]
        self.assertEqual(z["reviewer"], "parent")    # --by ouder: the mentor's word
        self.assertEqual(z["agrees"], "no")
        self.assertEqual(z["disagreement"], why)
        self.assertEqual(z["remarks"], "Gesprek gehad.")
        z = self.dossier(out["Z-YES"]["record_id"])["inzage"]
        self.assertEqual((z["agrees"], z["disagreement"]), ("yes", ""))
        text = self.mbo.cli("inbox", "show", rid).stdout
        self.assertRegex(text, r"(?m)^\s*agrees\s+no")
        self.assertRegex(text, r"(?m)^\s*their view\s+Wij herkennen ons kind niet")
        self.assertIn("Fleur werkte daar met plezier", text)

    # ---- once only ----
    def test_sending_twice_is_refused(self):
        rng = random.Random(505)
        self.import_rows([pupil("T-1", rng, "Noah", "de Groot"), pupil("T-2", rng, "Emma", "Bos")])
        self.register("T-1", "T-2")
        self.inzage("T-1", "T-2")
        before = self.inbox()
        # The same ref twice in one request: queued once.
        r = self.send("T-1", "T-1", check=False)
        self.assertEqual(re.findall(r"(?m)^queued (\S+)$", r.stdout), ["T-1"])
        self.assert_refused(r, "T-1", r"already been sent", queued_too=True)
        # Again while it may still be on its way, and once delivered.
        self.assert_refused(self.send("T-1", check=False), "T-1", r"already been sent")
        out = self.wait_delivered(["T-1"])
        self.assert_refused(self.send("T-1", check=False), "T-1", r"already been sent")
        # --all-ready does not pick it up again, and inzage cannot be redone.
        r = self.school.cli("handover", "send", "--all-ready")
        self.assertEqual(re.findall(r"(?m)^queued (\S+)$", r.stdout), ["T-2"])
        r = self.inzage("T-1", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stderr, r"T-1: the dossier has already been sent")
        out = self.wait_delivered(["T-1", "T-2"])
        self.wait_outbox_empty()
        rid1 = out["T-1"]["record_id"]
        new = set(self.inbox()) - set(before)
        self.assertEqual(new, {rid1, out["T-2"]["record_id"]})

    # ---- import: all or nothing ----
    def test_import_with_one_bad_row_imports_nothing(self):
        rng = random.Random(606)
        rows = [pupil("I-%02d" % i, rng, "Bram", "Brouwer-%d" % i) for i in range(1, 9)]
        rows[4]["pgn"] = "123456789"              # fails the elfproef; line 6 (header = 1)
        path = self.csv(rows, "one-bad.csv")
        before = self.outgoing()
        r = self.school.cli("import", "leavers", path, check=False)
        self.assertEqual(r.returncode, 4, r.stdout + r.stderr)
        self.assertRegex(r.stderr, r"(?m)^%s:6: pgn: \S.*$" % re.escape(path))
        self.assertEqual(len(re.findall(r"(?m)^%s:\d+:" % re.escape(path), r.stderr)), 1)
        self.assertIn("nothing imported", r.stderr)
        self.assertEqual(self.outgoing(), before, "a rejected import stored rows")

        # Several bad rows: each one named with its line and column.
        rows[4]["pgn"] = harness.bsn(rng)
        rows[1]["birth_date"] = "2008-02-30"       # line 3
        rows[6]["program"] = "vmbo"                # line 8 (which one? mavo is vmbo_gt)
        rows[7]["cohort"] = "2024-2026"            # line 9
        path = self.csv(rows, "three-bad.csv")
        r = self.school.cli("import", "leavers", path, check=False)
        self.assertEqual(r.returncode, 4, r.stdout + r.stderr)
        for line, col in ((3, "birth_date"), (8, "program"), (9, "cohort")):
            self.assertRegex(r.stderr, r"(?m)^%s:%d: %s: \S" % (re.escape(path), line, col))
        self.assertEqual(self.outgoing(), before)

        # A re-import is cumulative (design.md §8.5): the file with the three
        # already imported adds the others and leaves those three as they were.
        rows[1]["birth_date"], rows[6]["program"], rows[7]["cohort"] = \
            "2008-02-28", "pro", "2024-2025"
        self.import_rows(rows[:3])
        path = self.csv(rows, "dup.csv")
        r = self.school.cli("import", "leavers", path)
        self.assertIn("imported %d leavers from %s: %d added, 0 updated, 3 unchanged,"
                      % (len(rows) - 3, path, len(rows) - 3), r.stdout)
        out = self.outgoing()
        self.assertEqual(set(out) - set(before), {r["pupil_ref"] for r in rows})

    def test_import_with_an_unknown_destination_warns(self):
        rng = random.Random(707)
        rows = [pupil("U-1", rng, "Fatima", "Yilmaz"),
                pupil("U-2", rng, "Lucas", "Hendriks", dest="99ZZ99"),
                pupil("U-3", rng, "Sophie", "Dekker")]
        path = self.csv(rows, "unknown-dest.csv")
        before = self.outgoing()
        r = self.school.cli("import", "leavers", path)
        self.assertRegex(r.stderr, r"(?m)^%s:3: destination_institution: 99ZZ99 is not a "
                         r"configured peer \(yet\)" % re.escape(path))
        self.assertIn("3 added", r.stdout)
        self.assertEqual(set(self.outgoing()) - set(before), {"U-1", "U-2", "U-3"})


class HandoverEdgeTest(harness.FederationCase):
    """Edge cases that once broke the daemon, on their own federation so that
    a regression cannot disturb HandoverTest."""

    def tearDown(self):
        # A daemon a defect brought down is started again for the next test.
        for i in (self.school, self.mbo):
            if i.proc is not None and i.proc.poll() is not None:
                i.kill()
                i.start()

    def import_rows(self, name, rows):
        path = harness.write_csv(os.path.join(self.root, name), rows, COLS)
        self.school.cli("import", "leavers", path)

    def test_registered_with_an_unknown_ref_is_refused_not_fatal(self):
        # Regression: s_mark_registered() cleared an uninitialised struct
        # leaver after store_leaver_find() returned -ENOENT; overstapd aborted
        # (protobuf_c_message_free_unpacked assertion, SIGABRT) on a mistyped
        # pupil ref (fixed in 0dd8662: store_leaver_find() zeroes it).
        rng = random.Random(808)
        self.import_rows("x-known.csv", [pupil("X-KNOWN", rng, "Sem", "Kaya")])
        r = self.school.cli("-t", "5", "handover", "registered", "--date", DATE,
                            "X-NOSUCH", "X-KNOWN", check=False)
        self.assertIsNone(self.school.proc.poll(), "overstapd died (exit %s):\n%s"
                          % (self.school.proc.poll(), self.school.read_log()[-1500:]))
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertRegex(r.stderr, r"X-NOSUCH: no such pupil")
        self.assertIn("marked 1 of 2", r.stdout)

    def test_handover_list_by_the_states_the_cli_documents(self):
        # Regression (fixed): `overstap handover list --help` offers --state registered and
        # --state ready and the CLI accepts them, but the daemon knows only
        # imported, queued, delivered, cancelled (control.c s_state_from_str)
        # and answers "unknown state 'ready'" (exit 1).
        rng = random.Random(809)
        self.import_rows("x-states.csv", [pupil("X-REG", rng, "Finn", "Bos"),
                                          pupil("X-READY", rng, "Tess", "Vos")])
        self.school.cli("handover", "registered", "--date", DATE, "X-REG", "X-READY")
        self.school.cli("handover", "inzage", "X-READY", "--by", "pupil", "--agrees", "yes",
                        "--date", DATE)
        ready = {r["pupil_ref"] for r in self.school.cli_json("handover", "list", "--state", "ready")}
        self.assertIn("X-READY", ready)
        self.assertNotIn("X-REG", ready)
        registered = {r["pupil_ref"]
                      for r in self.school.cli_json("handover", "list", "--state", "registered")}
        self.assertIn("X-REG", registered)

    def test_a_registration_dated_in_the_future_does_not_open_the_gate(self):
        # Regression: `handover registered --date` took any valid date and the
        # send gate only checks that one is present, so a dossier left for a
        # pupil whose registration lay years ahead (design.md §3: only after the
        # pupil registered). Fixed in 0dd8662 (dates after today refused).
        rng = random.Random(810)
        self.import_rows("x-future.csv", [pupil("X-FUTURE", rng, "Mila", "Smit")])
        before = len(self.mbo.cli_json("inbox", "list"))
        reg = self.school.cli("handover", "registered", "--date", "2099-09-01", "X-FUTURE",
                              check=False)
        self.school.cli("handover", "inzage", "X-FUTURE", "--by", "pupil", "--agrees", "yes",
                        "--date", DATE)
        r = self.school.cli("handover", "send", "X-FUTURE", check=False)
        self.assertTrue(reg.returncode == 1 or r.returncode == 1,
                        "registration on 2099-09-01 accepted and the dossier sent:\n%s%s"
                        % (reg.stdout, r.stdout))
        self.assertNotRegex(r.stdout, r"(?m)^queued X-FUTURE$")
        self.assertEqual(len(self.mbo.cli_json("inbox", "list")), before)

    def test_an_inzage_dated_before_birth_is_refused(self):
        # Regression (fixed): s_inzage_one() skips the age rule when date_age_on() returns
        # -1 (inzage date before the birth date), so such an inzage is
        # recorded for any reviewer, e.g. "by pupil" for a 15-year-old.
        rng = random.Random(811)
        self.import_rows("x-unborn.csv", [pupil("X-UNBORN", rng, "Yara", "Kaya",
                                                birth="2010-02-10")])
        r = self.school.cli("handover", "inzage", "X-UNBORN", "--by", "pupil", "--agrees", "yes",
                            "--date", "2009-01-01", check=False)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertEqual(r.stdout, "")


if __name__ == "__main__":
    unittest.main()
