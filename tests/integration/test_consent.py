"""Integration: consent records through the real CLI and daemon (design.md §3).

`overstap consent grant|withdraw|list|due` with the age rule on the day of
granting, every problem reported at once, the re-confirmation list at 16,
every change in the audit log; and `[policy] handover = consent`: no dossier
leaves without a handover consent, the refusal is audited with its reason,
and a dossier sent under consent carries the assertion the MBO checks.

Run: python3 -m unittest -v test_consent   (OVERSTAPD / OVERSTAP from the environment)
"""
import datetime
import json
import os
import random

import harness
from harness import wait_for

SCHOOL, MBO = "12AB00", "25LZ00"
TODAY = datetime.date.today()


def day(delta_days=0, years=0):
    """A date relative to today, as YYYY-MM-DD (29 Feb moves to 28 Feb)."""
    d = TODAY + datetime.timedelta(days=delta_days)
    try:
        d = d.replace(year=d.year + years)
    except ValueError:
        d = d.replace(year=d.year + years, day=28)
    return d.isoformat()


def row(ref, birth, rng, **kw):
    r = {"pupil_ref": ref, "pgn": harness.bsn(rng), "given_name": "Noah", "family_name": "Visser",
         "birth_date": birth, "program": "vso_arbeid", "cohort": "2024-2025",
         "exit_date": "2025-07-04", "destination_type": "mbo_entree",
         "destination_institution": MBO, "advice": "entree", "advice_followed": "yes",
         "level_taal": "1F", "level_rekenen": "1F", "support_needs": "job_coach:woensdag vrij"}
    r.update(kw)
    return r


class ConsentTest(harness.DaemonTestCase):

    def grant(self, inst, ref, *extra, check=True, purpose="handover", by="pupil"):
        args = ["consent", "grant", ref, "--purpose", purpose, "--by", by, "--evidence", "form",
                "--ref", "DOC-1"] + list(extra)
        if not check:
            return inst.cli(*args, check=False)
        return inst.cli_json(*args)[0]

    def setup_school(self, policy=None, with_mbo=False):
        rng = random.Random(7)
        self.rows = [
            row("YOUNG", day(1, years=-16), rng),      # 16 tomorrow
            row("SIXTEEN", day(0, years=-16), rng),                              # 16 today
            row("OLDER", day(0, years=-18), rng),
        ]
        if with_mbo:
            school, mbo = harness.federation(self.root, SCHOOL, MBO)
            self.insts += [school, mbo]
        else:
            school = harness.Institution(self.root, SCHOOL, "VSO De Brug")
            self.insts.append(school)
            school.add_peer(harness.Institution(self.root, MBO, "MBO"), send=False)
            mbo = None
        if policy:
            # The harness rewrites the config on every add_peer: set the policy last.
            reloads = school.read_log().count("configuration reloaded") if school.proc else 0
            with open(school.conf, "a") as f:
                f.write("\n[policy]\nhandover = %s\n" % policy)
            if school.proc:
                school.reload()
                wait_for(lambda: school.read_log().count("configuration reloaded") > reloads,
                         what="the policy reload")
        if school.proc is None:
            school.start()
        path = harness.write_csv(os.path.join(self.root, "l.csv"), self.rows)
        school.cli("import", "leavers", path)
        return school, mbo

    def test_age_rule_and_all_problems_at_once(self):
        school, _ = self.setup_school()
        # 15 today: only a parent or guardian may grant.
        r = self.grant(school, "YOUNG", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("YOUNG:", r.stderr)
        self.assertIn("parent", r.stderr)
        c = self.grant(school, "YOUNG", by="parent")
        self.assertEqual((c["grantor"], c["counterpart"], c["in_force"]), ("parent", MBO, True))
        # 16 today: the pupil decides, a parent no longer can.
        self.assertEqual(self.grant(school, "SIXTEEN", by="parent", check=False).returncode, 1)
        self.grant(school, "SIXTEEN", by="pupil")
        # Several problems: each named, nothing stored.
        r = school.cli("consent", "grant", "OLDER", "--purpose", "follow_up", "--by", "pupil",
                       "--evidence", "form", "--ref", "DOC\t2", "--date", day(3),
                       "--until", day(-30), check=False)
        self.assertEqual(r.returncode, 1)
        for word in ("evidence reference", "future", "valid_until"):
            self.assertIn(word, r.stderr)
        # a word not in the option's list is a usage error, as in every verb
        # (issue 15): exit 2, said by overstap before the daemon is asked
        r = school.cli("consent", "grant", "OLDER", "--purpose", "follow_up", "--by", "pupil",
                       "--evidence", "carrier-pigeon", "--ref", "DOC-2", check=False)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--evidence wants one of form, digital, email, verbal_recorded", r.stderr)
        self.assertEqual(school.cli_json("consent", "list", "OLDER"), [])
        self.assertEqual(self.grant(school, "NOBODY", check=False).returncode, 1)

        log = [json.loads(l) for l in school.cli("audit", "export").stdout.splitlines()]
        granted = [e for e in log if e["action"] == "consent.granted"]
        self.assertEqual(len(granted), 2)
        self.assertFalse(any("YOUNG" in json.dumps(e) for e in log), "pupil ref in the audit log")

    def test_withdraw_and_due(self):
        school, _ = self.setup_school()
        parental = self.grant(school, "SIXTEEN", "--date", day(-1), by="parent")
        expiring = self.grant(school, "OLDER", "--until", day(59), purpose="follow_up")
        later = self.grant(school, "OLDER", "--until", day(61), purpose="handover")
        due = {c["id"]: c["due_reason"] for c in school.cli_json("consent", "due")}
        self.assertIn(parental["id"], due)
        self.assertIn("turned 16 on %s" % day(0), due[parental["id"]])
        self.assertIn(expiring["id"], due)
        self.assertIn("expires on %s" % day(59), due[expiring["id"]])
        self.assertNotIn(later["id"], due)
        self.assertIn(later["id"], {c["id"] for c in school.cli_json("consent", "due", "--days", "61")})
        # The pupil re-confirms: the parental consent is no longer due.
        self.grant(school, "SIXTEEN", by="pupil")
        self.assertNotIn(parental["id"], {c["id"] for c in school.cli_json("consent", "due")})

        w = school.cli_json("consent", "withdraw", expiring["id"])[0]
        self.assertEqual((w["withdrawn_at"], w["in_force"]), (day(0), False))
        r = school.cli("consent", "withdraw", expiring["id"], check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("already withdrawn on %s" % day(0), r.stderr)
        self.assertNotIn(expiring["id"], {c["id"] for c in school.cli_json("consent", "due")})
        lst = school.cli_json("consent", "list", "OLDER")
        self.assertEqual({c["id"]: c["withdrawn_at"] for c in lst},
                         {expiring["id"]: day(0), later["id"]: ""})
        text = school.cli("consent", "list").stdout
        self.assertIn("withdrawn %s" % day(0), text)
        acts = [json.loads(l)["action"] for l in school.cli("audit", "export").stdout.splitlines()]
        self.assertEqual(acts.count("consent.withdrawn"), 1)

    def test_handover_policy_consent(self):
        school, mbo = self.setup_school(policy="consent", with_mbo=True)
        refs = ["SIXTEEN", "OLDER"]
        school.cli("handover", "registered", "--date", day(0), *refs)
        school.cli("handover", "inzage", "--by", "pupil", "--agrees", "yes",
                   "--date", day(0), *refs)
        r = school.cli("handover", "send", *refs, check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("no consent", r.stdout + r.stderr)
        denied = [json.loads(l) for l in school.cli("audit", "export").stdout.splitlines()]
        denied = [e for e in denied if e["action"] == "disclosure.denied"]
        self.assertEqual(len(denied), 2)
        self.assertIn("no consent", json.loads(denied[0]["detail"])["reason"])

        c = self.grant(school, "OLDER")
        school.cli("handover", "send", "OLDER")
        out = wait_for(lambda: [o for o in school.cli_json("handover", "list", "--state", "delivered")
                                if o["pupil_ref"] == "OLDER"], what="OLDER delivered")
        d = mbo.cli_json("inbox", "show", out[0]["record_id"])["dossier"]
        self.assertEqual(d["basis"], "consent")
        self.assertEqual([a["consent_id"] for a in d["consents"]], [c["id"]])
        self.assertEqual(d["support_needs"], [{"code": "job_coach", "note": "woensdag vrij"}])
        # SIXTEEN still has none: still refused.
        self.assertEqual(school.cli("handover", "send", "SIXTEEN", check=False).returncode, 1)


if __name__ == "__main__":
    import unittest
    unittest.main()
