"""Integration: a leavers file sent in chunks within one import session
(design.md §8.5, issue 14 item 5): all or nothing across the chunks,
duplicates found across them, --check changing nothing, and a CLI or daemon
killed mid-import leaving nothing half imported.

Run: python3 -m unittest -v test_import_stream   (OVERSTAPD / OVERSTAP from the environment)
"""
import os
import sqlite3
import subprocess
import time
import unittest

import harness


class ImportStreamTest(harness.DaemonTestCase):

    def setUp(self):
        super().setUp()
        self.inst = harness.Institution(self.root, "12AB00", "Praktijkschool De Brug")
        self.insts.append(self.inst)
        self.inst.start()

    def count(self):
        c = sqlite3.connect("file:%s?mode=ro" % self.inst.db, uri=True, timeout=10)
        try:
            return c.execute("SELECT count(*) FROM leavers").fetchone()[0]
        finally:
            c.close()

    def csv(self, n, name="leavers.csv", **kw):
        path = os.path.join(self.root, name)
        rows = harness.leavers_csv(path, n, **kw)
        return path, rows

    def rewrite(self, path, rows):
        cols = list(rows[0].keys())
        harness.write_csv(path, rows, cols)

    def test_chunks_import_the_whole_file(self):
        path, _ = self.csv(23)
        r = self.inst.cli("import", "leavers", "--chunk", "5", path)
        self.assertRegex(r.stdout, r"imported 23 leavers from \S+: 23 added, 0 updated")
        self.assertEqual(self.count(), 23)
        # again, in other chunks: all unchanged, as one import
        r = self.inst.cli("import", "leavers", "--chunk", "7", path)
        self.assertRegex(r.stdout, r"imported 0 leavers from \S+: 0 added, 0 updated, 23 unchanged")
        audit = [l for l in self.inst.cli("audit", "export").stdout.splitlines()
                 if '"import.leavers"' in l]
        self.assertEqual(len(audit), 2, "one audit entry per import, not per chunk")

    def test_duplicate_across_chunks_refuses_all(self):
        path, rows = self.csv(12)
        rows[10]["pupil_ref"] = rows[1]["pupil_ref"]     # line 12 repeats line 3
        self.rewrite(path, rows)
        r = self.inst.cli("import", "leavers", "--chunk", "4", path, check=False)
        self.assertEqual(r.returncode, 4, r.stderr)
        self.assertIn("%s:12: pupil_ref: duplicate of line 3" % path, r.stderr)
        self.assertIn("1 error, nothing imported", r.stderr)
        self.assertEqual(self.count(), 0)

    def test_errors_of_the_file_in_its_order(self):
        path, rows = self.csv(12)
        rows[10]["pupil_ref"] = rows[1]["pupil_ref"]     # line 12: duplicate of line 3
        rows[6]["birth_date"] = "2009-02-30"             # line 8: not a date
        self.rewrite(path, rows)
        r = self.inst.cli("import", "leavers", "--chunk", "3", path, check=False)
        self.assertEqual(r.returncode, 4, r.stderr)
        lines = [l for l in r.stderr.splitlines() if l.startswith(path + ":")]
        self.assertEqual(len(lines), 2, r.stderr)
        self.assertEqual(len(r.stderr.splitlines()), 3, r.stderr)  # and the count
        self.assertTrue(lines[0].startswith(path + ":8: birth_date"), lines)
        self.assertTrue(lines[1].startswith(path + ":12: pupil_ref: duplicate of line 3"), lines)
        self.assertEqual(self.count(), 0)

    def test_check_changes_nothing(self):
        path, _ = self.csv(11)
        r = self.inst.cli("import", "leavers", "--check", "--chunk", "4", path)
        self.assertIn("would import 11 leavers", r.stdout)
        self.assertEqual(self.count(), 0)

    def _slow_import(self, n=30000, chunk=100):
        path, _ = self.csv(n, name="big.csv")
        return subprocess.Popen([harness.OVERSTAP, "-s", self.inst.sock, "import", "leavers",
                                 "--chunk", str(chunk), path],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True), path

    def _wait_session(self, timeout=30):
        """Until the daemon has staged some chunks (its debug log says so)."""
        t = time.monotonic()
        while time.monotonic() - t < timeout:
            if "import session" in self.inst.read_log():
                return
            time.sleep(0.02)
        self.fail("no import session started:\n" + self.inst.read_log()[-2000:])

    def test_killed_cli_leaves_nothing(self):
        proc, path = self._slow_import()
        self._wait_session()
        proc.kill()
        proc.wait()
        self.assertEqual(self.count(), 0, "a killed import left rows behind")
        # the daemon goes on; the whole file imports afterwards
        r = self.inst.cli("import", "leavers", "--chunk", "5000", path)
        self.assertRegex(r.stdout, r"imported 30000 leavers")
        self.assertEqual(self.count(), 30000)

    def test_killed_daemon_leaves_nothing(self):
        proc, path = self._slow_import()
        self._wait_session()
        self.inst.kill()
        out, err = proc.communicate(timeout=60)
        self.assertNotEqual(proc.returncode, 0, out + err)
        self.inst.start()
        self.assertEqual(self.count(), 0, "a killed daemon left rows of an import behind")


if __name__ == "__main__":
    unittest.main()
