"""The README's examples run (issue 15: "one [test] that runs every example
command block of the README in the demo federation").

Every fenced block of README.md is one of (HACKING.md, Tests, says the same
for writers):
  ```sh       commands, run in order; at the MBO (25LZ00) when the block is
              under a heading that names the MBO, else at the school (12AB00)
  ```console  a session: the lines after "$ " are run the same way, the
              rest is output and not compared
  ```ini      a piece of configuration, not run
  any block after a line <!-- not run: REASON -->, shown and not run.
A block that is none of these fails the test: no example is skipped
silently. A command that exits non-zero (refused, a usage error, a file
missing) fails it with the README's line number. <!-- input: TEXT --> before
a block types TEXT on a terminal for its commands (erase asks for the key to
be typed again).

The daemons are the harness's school and MBO on loopback, each command run
by bash in a scratch directory holding the example files the README names,
with `overstap` on PATH and $OVERSTAP_SOCKET pointing at the daemon. The
README's placeholders are replaced by the ids these daemons gave: the record
id 01a20999-bb2a-766b-aa08-c3467b619977 by the MBO's record of P0101, the
consent id 01a2...e3f by the newest consent at the school. Dates in the
examples are fixed days of the 2024-2025 cohort, so the ages the daemon
checks do not move with the clock.

Run: python3 -m unittest -v test_readme   (OVERSTAP / OVERSTAPD / OVERSTAP_SRC from the environment)
"""
import os
import pty
import re
import subprocess
import unittest

import harness
from harness import wait_for

SCHOOL, MBO = "12AB00", "25LZ00"
RECORD_ID = "01a20999-bb2a-766b-aa08-c3467b619977"
CONSENT_ID = "01a2...e3f"
PGN_P0101 = "123456782"        # the PGN the README's MBO examples use

# The example files the README's commands name, with the pupils they name:
# P0101 is 17 at the inzage of 2025-06-02 (by the pupil), P0102, P0103 and
# P0107 are 15 (by a parent); P0104 is registered at the MBO by a CSV.
LEAVER_COLS = ["pupil_ref", "pgn", "given_name", "family_name", "birth_date", "program",
               "cohort", "exit_date", "destination_type", "destination_institution",
               "advice", "advice_followed", "mentor_name", "mentor_email"]
LEAVERS = [
    ["P0101", PGN_P0101, "Daan", "de Vries", "2008-03-14"],
    ["P0102", "111222333", "Emma", "Jansen", "2009-09-01"],
    ["P0103", "123456794", "Sem", "Bakker", "2009-10-10"],
    ["P0104", "234567892", "Julia", "Visser", "2008-05-05"],
    ["P0107", "345678916", "Finn", "Smit", "2010-01-01"],
]
FILES = {
    "registrations-2025.csv": [["pgn", "sending_school", "registered_on"],
                               ["234567892", SCHOOL, "2025-05-20"]],
    "outcomes-2025.csv": [["pgn", "event", "date", "level"],
                          [PGN_P0101, "enrolled", "2025-09-01", ""]],
    "inschrijvingen-2025.csv": [["pgn", "level", "start_date", "previous"],
                                [PGN_P0101, "1", "2025-09-01", "pro"]],
    "consents-2025.csv": [["pupil_ref", "purpose", "for", "by", "granted_on", "until",
                           "evidence", "ref"],
                          ["P0103", "follow_up", MBO, "parent", "2025-06-02", "", "form",
                           "AVG-2025-130"]],
}


def elfproef(pgn):
    """The 11-test a BSN passes (the daemon refuses a PGN that fails it)."""
    return (sum(int(d) * w for d, w in zip(pgn[:8], range(9, 1, -1))) - int(pgn[8])) % 11 == 0


class Block:
    def __init__(self, line, info, text, mark, inp, heading):
        self.line = line        # of the opening fence
        self.info = info        # "sh", "console", "ini" or ""
        self.text = text        # the lines inside, unindented
        self.mark = mark        # the reason of <!-- not run: ... -->, or None
        self.input = inp        # <!-- input: ... -->, or None
        self.heading = heading  # the last heading above it

    def commands(self):
        """(line number, command, output lines shown after it) of each
        command: continuation lines joined, comments left out."""
        out, cur, start = [], "", None
        for n, s in enumerate(self.text, self.line + 1):
            if self.info == "console" and not cur:
                if not s.startswith("$ "):
                    if out and s.strip():
                        out[-1][2].append(s)
                    continue
                s = s[2:]
            if not cur:
                start = n
                if not s.strip() or s.lstrip().startswith("#"):
                    continue
            if s.endswith("\\"):
                cur += s[:-1] + " "
                continue
            out.append((start, cur + s, []))
            cur = ""
        return out


def shape(text):
    """A line of output with its numbers and file names' digits made alike:
    what a console block shows must be what the command prints, counts
    aside."""
    return re.sub(r"\d+", "N", text.strip())


def blocks_of(text):
    blocks, heading, mark, inp = [], "", None, None
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        m = re.match(r"^(\s*)```(\S*)\s*$", line)
        if m:
            indent, info = len(m.group(1)), m.group(2)
            body = []
            i += 1
            while not re.match(r"^\s*```\s*$", lines[i]):
                body.append(lines[i][indent:] if lines[i][:indent].strip() == "" else lines[i])
                i += 1
            # i is the closing fence; the opening one is line i - len(body), 1-based
            blocks.append(Block(i - len(body), info, body, mark, inp, heading))
            mark = inp = None
        else:
            h = re.match(r"^#+ (.+)$", line)
            nr = re.match(r"^\s*<!-- not run: (.+?) -->\s*$", line)
            ip = re.match(r"^\s*<!-- input: (.+?) -->\s*$", line)
            if h:
                heading = h.group(1)
            if nr:
                mark = nr.group(1)
            elif ip:
                inp = ip.group(1)
            elif line.strip():
                mark = inp = None   # a marker is for the block right after it
        i += 1
    return blocks


def write_csv(path, rows):
    with open(path, "w", encoding="utf-8", newline="") as f:
        for r in rows:
            f.write(",".join(r) + "\r\n")


class ReadmeTest(harness.DaemonTestCase):

    def setUp(self):
        super().setUp()
        with open(os.path.join(harness.SRC, "README.md"), encoding="utf-8") as f:
            self.blocks = blocks_of(f.read())

    def test_every_block_is_run_or_says_why_not(self):
        bad = ["README.md:%d: a ``` block that is neither sh, console nor ini, and has no "
               "<!-- not run: REASON --> before it" % b.line
               for b in self.blocks if b.mark is None and b.info not in ("sh", "console", "ini")]
        self.assertEqual(bad, [])
        # each kind is there: a change of conventions shows up here
        self.assertTrue(any(b.info == "sh" and b.mark is None for b in self.blocks))
        self.assertTrue(any(b.info == "console" for b in self.blocks))
        self.assertTrue(any(b.mark for b in self.blocks))

    def fixture(self):
        for row in LEAVERS:
            self.assertTrue(elfproef(row[1]), row)
        work = os.path.join(self.root, "work")
        bindir = os.path.join(self.root, "bin")
        os.makedirs(work)
        os.makedirs(bindir)
        os.symlink(os.path.abspath(harness.OVERSTAP), os.path.join(bindir, "overstap"))
        write_csv(os.path.join(work, "leavers-2024-2025.csv"),
                  [LEAVER_COLS] + [r + ["pro", "2024-2025", "2025-07-10", "mbo_entree", MBO,
                                        "entree", "yes", "J. de Mentor", "mentor@school.example"]
                                   for r in LEAVERS])
        for name, rows in FILES.items():
            write_csv(os.path.join(work, name), rows)
        return work, bindir

    def settled(self, school, mbo):
        """Nothing in flight between the two: every queued message acknowledged."""
        def idle():
            return all(p["outbox_depth"] == 0 for i in (school, mbo)
                       for p in i.status()["peers"])
        wait_for(idle, timeout=60, what="both outboxes empty")

    def substitute(self, cmd, school, mbo):
        if RECORD_ID in cmd:
            found = mbo.cli_json("inbox", "find", PGN_P0101)
            self.assertEqual(len(found), 1, "the MBO holds P0101's dossier")
            cmd = cmd.replace(RECORD_ID, found[0]["record_id"])
        if CONSENT_ID in cmd:
            # ids are UUIDv7, in the order they were made: the newest
            newest = max(c["id"] for c in school.cli_json("consent", "list"))
            cmd = cmd.replace(CONSENT_ID, newest)
        return cmd

    def run_cmd(self, inst, cmd, work, bindir, inp):
        env = dict(os.environ)
        env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
        env["OVERSTAP_SOCKET"] = inst.sock
        env.pop("OVERSTAP_CONFIG", None)
        argv = ["bash", "-euo", "pipefail", "-c", cmd]
        if inp is None:
            return subprocess.run(argv, cwd=work, env=env, capture_output=True, text=True,
                                  timeout=120, stdin=subprocess.DEVNULL)
        master, slave = pty.openpty()      # a terminal to type on
        try:
            os.write(master, (inp + "\n").encode())
            return subprocess.run(argv, cwd=work, env=env, capture_output=True, text=True,
                                  timeout=120, stdin=slave)
        finally:
            os.close(slave)
            os.close(master)

    def test_examples_run_in_a_school_and_an_mbo(self):
        school, mbo = harness.federation(self.root, SCHOOL, MBO)
        self.insts += [school, mbo]
        work, bindir = self.fixture()
        # What the README's MBO examples need before they run, in the order
        # of the README they come too late: P0101's dossier carries a
        # follow_up consent for the MBO (`outcome record`).
        school.cli("import", "leavers", os.path.join(work, "leavers-2024-2025.csv"))
        school.cli("consent", "grant", "P0101", "--purpose", "follow_up", "--by", "pupil",
                   "--evidence", "form", "--ref", "AVG-2025-100", "--date", "2025-06-02")
        ran = []
        for b in self.blocks:
            if b.mark is not None or b.info not in ("sh", "console"):
                continue
            inst = mbo if "MBO" in b.heading else school
            self.settled(school, mbo)
            for n, cmd, shown in b.commands():
                cmd = self.substitute(cmd, school, mbo)
                r = self.run_cmd(inst, cmd, work, bindir, b.input)
                self.assertEqual(r.returncode, 0, "README.md:%d at %s: `%s` exited %d\n"
                                 "stdout: %s\nstderr: %s" % (n, inst.id, cmd, r.returncode,
                                                             r.stdout[-2000:], r.stderr[-2000:]))
                printed = {shape(x) for x in (r.stdout + r.stderr).splitlines()}
                for line in shown:
                    self.assertIn(shape(line), printed, "README.md:%d: `%s` does not print "
                                  "this line (counts aside):\n%s\nit printed:\n%s" %
                                  (n, cmd, line, r.stdout + r.stderr))
                ran.append(cmd)
        # the README's walk through a handover is there and ran
        for want in ("import leavers", "handover send", "registration status",
                     "outcome record", "inbox show", "report", "audit verify"):
            self.assertTrue(any(want in c for c in ran), want)
        # and it did what it says: P0102 went (P0101 went too, and was erased)
        sent = {h["pupil_ref"]: h["state"] for h in school.cli_json("handover", "list")}
        self.assertEqual(sent.get("P0102"), "delivered")


if __name__ == "__main__":
    unittest.main()
