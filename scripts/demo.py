#!/usr/bin/python3
"""overstap demo: a throw-away federation on loopback. Run through scripts/demo,
which installs and builds first. --keep leaves the directory for a look around;
-n sets the cohort size (default 300)."""
import argparse
import collections
import datetime
import os
import random
import shlex
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
os.environ.setdefault("OVERSTAPD", os.path.join(ROOT, "build", "overstapd"))
os.environ.setdefault("OVERSTAP", os.path.join(ROOT, "build", "overstap"))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import harness  # noqa: E402

# harness runs the CLI in English for the tests; the demo shows it as the
# user would see it.
for _k in harness.LOCALE_VARS:
    os.environ.pop(_k, None)
os.environ.update(harness.USER_LOCALE)

PROGRAMS = [("pro", 0.45), ("vso_arbeid", 0.2), ("vmbo_b", 0.2), ("isk", 0.15)]

# Dates from the machine's clock, so that the reports mean what they say on
# any day: the cohort is the last school year that has ended; registration,
# consent and inzage fall in its spring; the MBO's intake and start are
# today, after the dossiers arrived (the intake report's coverage).
TODAY = datetime.date.today()
EXIT_YEAR = TODAY.year if TODAY >= datetime.date(TODAY.year, 7, 20) else TODAY.year - 1
COHORT = "%d-%d" % (EXIT_YEAR - 1, EXIT_YEAR)
REGISTERED_ON = datetime.date(EXIT_YEAR, 5, 15).isoformat()
INZAGE_ON = datetime.date(EXIT_YEAR, 6, 1).isoformat()
STARTED_ON = TODAY.isoformat()


def sixteen_on(birth, day):
    """True when a pupil born on birth (YYYY-MM-DD) is 16 or older on day."""
    y, m, d = map(int, day.split("-"))
    return birth <= "%04d-%02d-%02d" % (y - 16, m, d)


def step(text):
    print("\n\033[1m== %s\033[0m" % text if sys.stdout.isatty() else "\n== %s" % text)


def run(inst, *args, show=True, limit=None):
    if show:
        shown = list(args) if len(args) <= 10 else list(args[:8]) + ["... (%d more)" % (len(args) - 8)]
        print("$ overstap %s   # at %s" % (" ".join(shlex.quote(a) if not a.startswith("... (") else a
                                                 for a in shown), inst.id))
    r = inst.cli(*args, check=False)
    out = r.stdout.rstrip("\n").split("\n") if r.stdout.strip() else []
    if show:
        for line in out[:limit] if limit else out:
            print("  " + line)
        if limit and len(out) > limit:
            print("  ... (%d more lines)" % (len(out) - limit))
        for line in r.stderr.rstrip("\n").split("\n") if r.stderr.strip() else []:
            print("  " + line)
    return r


def cohort(path, n, rng):
    """A synthetic cohort (COHORT) of a PrO/VSO school: most go to MBO entree
    at 25LZ00, some to mbo-2 there, some to work or day care."""
    rows = []
    for i in range(n):
        program = rng.choices([p for p, _ in PROGRAMS], [w for _, w in PROGRAMS])[0]
        dest, inst, advice = rng.choices(
            [("mbo_entree", "25LZ00", "entree"), ("mbo_2", "25LZ00", "mbo_2"),
             ("work", "", "work"), ("day_care", "", "day_care")], [0.7, 0.15, 0.1, 0.05])[0]
        followed = "yes"
        if dest == "mbo_2" and rng.random() < 0.4:
            advice, followed = "entree", "no"   # a zelfmelder: registered against the advice
        age = rng.choice([15, 16, 16, 17, 17, 18])
        birth = datetime.date(EXIT_YEAR - age, rng.randint(7, 12), rng.randint(1, 28))
        rows.append({
            "pupil_ref": "PRO%05d" % (i + 1), "pgn": harness.bsn(rng),
            "given_name": rng.choice(harness.GIVEN), "family_name": rng.choice(harness.FAMILY),
            "birth_date": birth.isoformat(), "program": program, "cohort": COHORT,
            "exit_date": "%d-07-%02d" % (EXIT_YEAR, rng.randint(1, 15)), "destination_type": dest,
            "destination_institution": inst, "advice": advice, "advice_followed": followed,
            "level_taal": rng.choice(["none", "1F", "1F", "2F"]),
            "level_rekenen": rng.choice(["none", "1F", "1F", "2F"]),
            "support_needs": rng.choice(["", "job_coach", "small_group;structure:vaste rooster",
                                         "language_support", "fixed_mentor"]),
            "mentor_name": "mevr. %s" % rng.choice(harness.FAMILY),
            "mentor_email": "mentor%d@debrug.example" % rng.randint(1, 9),
        })
    cols = list(rows[0].keys())
    with open(path, "w", encoding="utf-8") as f:
        f.write(",".join(cols) + "\n")
        for r in rows:
            f.write(",".join('"%s"' % r[c] if any(ch in r[c] for ch in " ,;:") else r[c] for c in cols) + "\n")
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("-n", type=int, default=300, help="pupils in the cohort (default 300)")
    ap.add_argument("--keep", action="store_true", help="keep the demo directory")
    args = ap.parse_args()
    rng = random.Random(2025)
    tmp = harness.TempDir()
    root = tmp.__enter__()
    school = mbo = None
    try:
        step("Two institutions, each with fresh keys (overstap keys gen) and its own daemon")
        # The product's defaults: Dutch reports, the CLI in the user's locale.
        school = harness.Institution(root, "12AB00", "Praktijkschool De Brug",
                                     report_language=None).start()
        mbo = harness.Institution(root, "25LZ00", "MBO Entree College",
                                  report_language=None).start()
        print("school 12AB00 listens on %s, MBO 25LZ00 on %s" % (school.endpoint, mbo.endpoint))
        step("They exchange [peer] blocks (overstap keys show) and reload (SIGHUP)")
        run(school, "keys", "show", "--dir", school.keys, "--id", school.id, "--endpoint", school.endpoint)
        # Keys first, endpoints second: neither side then dials a daemon that does
        # not know it yet (which it would refuse, and we would retry later).
        school.add_peer(mbo, send=False)
        mbo.add_peer(school, send=False)
        school.add_peer(mbo, send=True)
        mbo.add_peer(school, send=True)

        step("The school imports its leavers of %s (%d pupils)" % (COHORT, args.n))
        csv = os.path.join(root, "leavers-%s.csv" % COHORT)
        rows = cohort(csv, args.n, rng)
        run(school, "import", "leavers", csv)

        step("Pupils register at the MBO; its daemon tells the school (no selection at the gate)")
        to_mbo = [r for r in rows if r["destination_institution"]]
        not_yet = to_mbo[:5]             # these have not registered yet
        registered = to_mbo[5:]
        for i, r in enumerate(registered):
            run(mbo, "registration", "record", r["pgn"], "--from", school.id, "--date", REGISTERED_ON,
                show=i == 0)
        print("  ... and %d more registrations" % (len(registered) - 1))
        harness.wait_for(lambda: sum(1 for x in school.cli_json("handover", "list", "--state", "registered"))
                         == len(registered), timeout=60, what="registrations at the school")
        print("school: %d leavers now registered" % len(registered))

        step("Consent for follow-up: the pupil (16+) or a parent agrees that the MBO reports back")
        consenting = [r for r in registered if rng.random() < 0.6]
        for i, r in enumerate(consenting):
            by = "pupil" if sixteen_on(r["birth_date"], REGISTERED_ON) else "parent"
            run(school, "consent", "grant", r["pupil_ref"], "--purpose", "follow_up", "--by", by,
                "--date", REGISTERED_ON, "--evidence", "form", "--ref", "AVG-%04d" % i, show=i == 0)
        print("  ... %d consents in all; %d pupils gave none" % (len(consenting),
                                                                  len(registered) - len(consenting)))
        run(school, "consent", "due", limit=4)

        step("Inzage: parents see the dossier of a pupil under 16, the pupil from 16")
        young = [r["pupil_ref"] for r in registered if not sixteen_on(r["birth_date"], INZAGE_ON)]
        older = [r["pupil_ref"] for r in registered if sixteen_on(r["birth_date"], INZAGE_ON)]
        # OSO inzage rules: one pupil does not agree; the dossier goes all the
        # same, with their view attached (the MBO's dossier below shows it)
        run(school, "handover", "inzage", older[0], "--by", "pupil", "--agrees", "no",
            "--why", "In het verslag sta ik als onrustig; dat was alleen in mijn eerste jaar.",
            "--date", INZAGE_ON, "--remarks", "Ik wil graag in een kleine groep beginnen.")
        run(school, "handover", "inzage", "--by", "pupil", "--agrees", "yes",
            "--date", INZAGE_ON, *older[1:], show=False)
        if young:
            run(school, "handover", "inzage", "--by", "parent", "--agrees", "yes",
                "--date", INZAGE_ON, *young)
            run(school, "handover", "inzage", young[0], "--by", "pupil", "--agrees", "yes",
                "--date", INZAGE_ON)

        step("A mentor sends every ready dossier; one not registered yet is refused")
        r = run(school, "handover", "send", "--all-ready", show=False)
        print("$ overstap handover send --all-ready   # at 12AB00\n  %d queued" % r.stdout.count("queued"))
        run(school, "handover", "send", not_yet[0]["pupil_ref"])

        step("overstapd delivers them over CURVE; the MBO acknowledges after a durable commit")
        n = len(registered)
        harness.wait_for(lambda: sum(1 for x in school.cli_json("handover", "list", "--state", "delivered")) == n,
                         timeout=60, what="all handovers delivered")
        states = collections.Counter(x["state"] for x in school.cli_json("handover", "list"))
        print("school's handovers by state: %s" % dict(states))
        run(school, "handover", "list", "--state", "delivered", "--limit", "5")

        step("At the MBO: the inbox, and one dossier decrypted for the intake coordinator")
        run(mbo, "inbox", "list", "--limit", "5")
        # the dossier whose pupil disagreed at inzage: their view arrived with it
        first = {x["pupil_ref"]: x["record_id"]
                 for x in school.cli_json("handover", "list", "--state", "delivered")}[older[0]]
        run(mbo, "inbox", "show", first)

        step("The MBO reports back: statuses for everyone, outcomes only under consent (CSV)")
        rid = {x["pupil_ref"]: x["record_id"] for x in school.cli_json("handover", "list", "--state", "delivered")}
        with_consent = {r["pupil_ref"] for r in consenting}
        fates = {}
        lines = ["record_id,event,date,level"]
        for r in registered:
            lines.append("%s,intake_held,%s," % (rid[r["pupil_ref"]], STARTED_ON))
            started = rng.random() < 0.88
            lines.append("%s,%s,%s," % (rid[r["pupil_ref"]], "enrolled" if started else "not_enrolled",
                                        STARTED_ON))
            if started and r["pupil_ref"] in with_consent:
                fate = rng.choices(["still_enrolled", "left_without_diploma", "progressed"], [0.7, 0.2, 0.1])[0]
                fates[r["pupil_ref"]] = fate
                lines.append("%s,%s,%s,%s" % (rid[r["pupil_ref"]], fate, STARTED_ON,
                                              "2" if fate == "progressed" else ""))
        outcomes = os.path.join(root, "outcomes-%s.csv" % COHORT)
        with open(outcomes, "w") as f:
            f.write("\n".join(lines) + "\n")
        run(mbo, "import", "outcomes", outcomes)
        total = len(lines) - 1
        harness.wait_for(lambda: school.status()["peers"][0]["received"] >= total, timeout=60,
                         what="statuses and outcomes at the school")
        shown = next(ref for ref, fate in fates.items() if fate == "left_without_diploma")
        print("(a pupil who left without a diploma: the school can see it, and act)")
        run(school, "handover", "show", shown, limit=60)
        other = next(r["pupil_ref"] for r in registered if r["pupil_ref"] not in with_consent)
        r = run(mbo, "outcome", "record", rid[other], "diploma", "--level", "1", "--date", STARTED_ON)
        print("  (exit %d: no follow_up consent for %s's pupil, so nothing is sent; audited)" %
              (r.returncode, school.id))

        step("The school's quality-care report: where the cohort went and how it fares")
        run(school, "report", "--by", "program", limit=40)
        html = os.path.join(root, "report-%s.html" % COHORT)
        run(school, "report", "--by", "program,followed", "--format", "html", "-o", html)
        print("  (one self-contained page with charts: %s)" % html)
        step("Pupils out of sight, by name, for the mentor only (never in a report)")
        run(school, "lost", limit=12)
        step("The MBO's mirror: its intake by previous education")
        run(mbo, "report", "--side", "receiving", "--by", "previous", limit=30)

        step("The audit trail: every disclosure, consent and view, hash-chained")
        run(school, "audit", "export", limit=3)
        run(school, "audit", "verify")
        run(mbo, "audit", "verify")

        step("Privacy: no pupil name or PGN in either store file")
        school.stop()
        mbo.stop()
        # kept: the same ports on the next start, so that each still finds the other
        for inst in (school, mbo):
            inst.listen = inst.endpoint
            inst.write_config()
        for inst in (school, mbo):
            data = b""
            for suffix in ("", "-wal"):
                if os.path.exists(inst.db + suffix):
                    with open(inst.db + suffix, "rb") as f:
                        data += f.read()
            hits = sum(1 for r in rows if r["pgn"].encode() in data or r["family_name"].encode() in data)
            print("%s: %d bytes of store, %d of %d pupils' PGN or family name found" %
                  (inst.id, len(data), hits, len(rows)))
        print("\nDone. %s" % ("Kept: " + root if args.keep else "Cleaned up."))
        if args.keep:
            print("The daemons are stopped. To start them again and look around:")
            for inst in (school, mbo):
                print("  %s -c %s/overstapd.conf 2>>%s/overstapd.log &" %
                      (os.environ["OVERSTAPD"], inst.dir, inst.dir))
            print("  %s -s %s/control.sock status      # the school; %s/control.sock the MBO" %
                  (os.environ["OVERSTAP"], school.dir, mbo.dir))
        school = mbo = None
    finally:
        for inst in (school, mbo):
            if inst is not None and inst.proc is not None:
                inst.kill()
        if not args.keep:
            tmp.__exit__(None, None, None)


if __name__ == "__main__":
    main()
