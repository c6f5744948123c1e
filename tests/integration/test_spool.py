"""Integration: the spool directory (design.md §8.6) with a real daemon:
a good and a bad file, the status line, a file still being written, and a
daemon killed (SIGKILL) in the middle of a spool import.

Run: python3 -m unittest -v test_spool   (OVERSTAPD / OVERSTAP from the environment)
"""
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import time
import unittest

import harness
from harness import wait_for
import test_handover as th

SCHOOL, MBO = "12AB00", "25LZ00"


def leavers_in(db):
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    try:
        return con.execute("SELECT count(*) FROM leavers").fetchone()[0]
    finally:
        con.close()


class SpoolTest(harness.DaemonTestCase):
    def school(self, settle=0):
        school = harness.Institution(self.root, SCHOOL, "School")
        mbo = harness.Institution(self.root, MBO, "MBO")     # keys only: never started
        school.peers[MBO] = (mbo, None)
        self.spool = os.path.join(self.root, "spool")
        os.mkdir(self.spool, 0o770)
        school.import_ = {"spool": self.spool, "spool_settle_s": settle, "spool_interval_s": 1}
        school.write_config()
        self.insts.append(school)
        return school.start()

    def drop(self, name, rows):
        """Write elsewhere, then rename in: what a nightly export job should do."""
        tmp = os.path.join(self.root, name + ".tmp")
        harness.write_csv(tmp, rows, th.COLS)
        os.chmod(tmp, 0o640)
        os.rename(tmp, os.path.join(self.spool, name))

    def listing(self, sub):
        d = os.path.join(self.spool, sub)
        return sorted(os.listdir(d)) if os.path.isdir(d) else []

    def test_a_school_systems_export_as_it_stands(self):
        """The nightly export of a school system goes in unchanged: ParnasSys'
        `;`, Windows-1252, dd-mm-yyyy, Dutch headers and codes (design.md
        §8.8), detected as `overstap import leavers` detects them; the extra
        column is a warning in the .log."""
        school = self.school()
        src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data",
                           "leavers_parnassys.csv")
        tmp = os.path.join(self.root, "export.tmp")
        shutil.copyfile(src, tmp)
        os.chmod(tmp, 0o640)
        os.rename(tmp, os.path.join(self.spool, "leavers-parnassys.csv"))
        wait_for(lambda: len(self.listing("done")) == 2, timeout=20, what="the export handled")
        with open(os.path.join(self.spool, "done", self.listing("done")[1])) as f:
            log = f.read()
        self.assertIn("header: ignoring column 'Groep'", log)
        self.assertIn("done: 2 added", log)
        shown = school.cli_json("handover", "show", "P201")["dossier"]
        self.assertEqual((shown["given_name"], shown["tussenvoegsel"], shown["family_name"]),
                         ("Zoë", "van 't", "Hoff"))

    def test_good_and_bad_file(self):
        school = self.school()
        rng = random.Random(1301)
        good = [th.pupil("G-%d" % i, rng) for i in range(1, 4)]
        bad = [th.pupil("B-1", rng), th.pupil("B-2", rng, program="vmbo")]
        self.drop("leavers-good.csv", good)
        self.drop("leavers-bad.csv", bad)
        wait_for(lambda: len(self.listing("done")) == 2 and len(self.listing("failed")) == 2,
                 timeout=20, what="both files handled")
        self.assertEqual([n for n in os.listdir(self.spool) if n.endswith(".csv")], [])
        done, failed = self.listing("done"), self.listing("failed")
        self.assertRegex(done[0], r"^\d{8}T\d{6}Z-leavers-good\.csv$")
        self.assertEqual(done[1], done[0] + ".log")
        with open(os.path.join(self.spool, "failed", failed[1])) as f:
            log = f.read()
        self.assertIn("leavers-bad.csv:3: program: unknown value 'vmbo'", log)
        self.assertIn("leavers-bad.csv: failed: 1 error, nothing imported", log)
        with open(os.path.join(self.spool, "done", done[1])) as f:
            self.assertIn("leavers-good.csv: done: 3 added, 0 updated, 0 unchanged", f.read())
        out = {r["pupil_ref"] for r in school.cli_json("handover", "list")}
        self.assertEqual(out, {"G-1", "G-2", "G-3"})

        st = school.status()["spool"]
        self.assertEqual((st["done"], st["failed"], st["problem"]), (1, 1, ""))
        self.assertIn(st["last_file"], ("leavers-good.csv", "leavers-bad.csv"))
        text = school.cli("status").stdout
        self.assertRegex(text, r"(?m)^spool:?\s+%s$" % self.spool)
        self.assertRegex(text, r"(?m)^  last run .*leavers-(good|bad)\.csv (done|failed): ")
        self.assertIn("since start: 1 done, 1 failed", text)

        log = [l for l in school.cli("audit", "export").stdout.splitlines()
               if '"actor":"daemon"' in l]
        self.assertTrue(any('"import.leavers"' in l and "leavers-good.csv" in l for l in log))
        self.assertTrue(any('"import.spool_failed"' in l and "leavers-bad.csv" in l for l in log))

    def test_a_file_being_written_waits(self):
        school = self.school(settle=3)
        rng = random.Random(1302)
        path = os.path.join(self.spool, "leavers-slow.csv")
        with open(path, "w") as f:          # written in place, slowly
            f.write(",".join(th.COLS) + "\n")
            f.flush()
            time.sleep(1.5)
            self.assertEqual(self.listing("done") + self.listing("failed"), [])
            row = th.pupil("W-1", rng)
            f.write(",".join(row[c] for c in th.COLS) + "\n")
        wait_for(lambda: len(self.listing("done")) == 2, timeout=20, what="the file taken")
        self.assertEqual(school.status()["spool"]["last_summary"][:8], "1 added,")

    def test_killed_mid_import_is_all_or_nothing(self):
        school = self.school()
        n = 20000
        harness.leavers_csv(os.path.join(self.root, "big.tmp"), n, dest=MBO)
        os.chmod(os.path.join(self.root, "big.tmp"), 0o640)
        os.rename(os.path.join(self.root, "big.tmp"), os.path.join(self.spool, "leavers-big.csv"))
        wait_for(lambda: "spool: taking leavers-big.csv" in school.read_log(), timeout=20,
                 interval=0.01, what="the spool to take the file")
        time.sleep(0.4)
        school.proc.send_signal(signal.SIGKILL)
        school.proc.wait()
        school.proc = None
        stored = leavers_in(school.db)
        self.assertIn(stored, (0, n), "a killed import left part of the file")
        # the file is in the spool still, or moved after the commit
        self.assertTrue(os.path.exists(os.path.join(self.spool, "leavers-big.csv")) or
                        (stored == n and len(self.listing("done")) == 2))
        school.start()
        wait_for(lambda: len(self.listing("done")) == 2, timeout=60, what="the file imported")
        self.assertEqual(leavers_in(school.db), n)
        self.assertEqual(self.listing("failed"), [])
        self.assertFalse(os.path.exists(os.path.join(self.spool, "leavers-big.csv")))


    def test_check_reads_the_spool_map(self):
        """`overstapd -t` reads [import] spool_map: a map that cannot be used
        was found only when the spool's next file came (issue 12)."""
        school = harness.Institution(self.root, SCHOOL, "School")
        self.spool = os.path.join(self.root, "spool")
        os.mkdir(self.spool, 0o770)
        mp = os.path.join(self.root, "eigen.ini")
        with open(mp, "w") as f:
            f.write("[columns]\nNaam = family_name\n")
        school.import_ = {"spool": self.spool, "spool_map": mp}
        school.write_config()
        r = subprocess.run([harness.OVERSTAPD, "-t", "-c", school.conf], capture_output=True,
                           text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(mp, "w") as f:
            f.write("[kolommen]\nx = y\n")
        r = subprocess.run([harness.OVERSTAPD, "-t", "-c", school.conf], capture_output=True,
                           text=True)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("[import] spool_map: %s:1: unknown section [kolommen]" % mp, r.stderr)
        os.unlink(mp)
        r = subprocess.run([harness.OVERSTAPD, "-t", "-c", school.conf], capture_output=True,
                           text=True)
        self.assertEqual(r.returncode, 1)
        self.assertIn("[import] spool_map: ", r.stderr)

if __name__ == "__main__":
    unittest.main()
