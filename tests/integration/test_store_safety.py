"""A missing, empty or corrupt store is never silently replaced or used
(issue 11, item 7): refused at start with how to restore, refused for writes
once it goes bad while running, and `overstap store check|backup`."""
import os
import sqlite3
import stat
import subprocess
import unittest

import harness


def leavers(inst, n, prefix="L"):
    path = os.path.join(inst.dir, "leavers-%s.csv" % prefix)
    harness.leavers_csv(path, n, dest="", prefix=prefix)
    return inst.cli("import", "leavers", path, check=False)


def start_fails(inst, *args):
    """Run overstapd expecting it to refuse to start: its output."""
    r = subprocess.run([harness.OVERSTAPD, "-c", inst.conf] + list(args), capture_output=True,
                       text=True, timeout=60)
    out = r.stdout + r.stderr
    assert r.returncode != 0, "overstapd started:\n" + out
    assert not os.path.exists(inst.sock), "a control socket was left behind"
    return out


def page_of(db, table):
    """Byte offset and size of the root page of table (store stopped)."""
    c = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    (root,) = c.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()
    (size,) = c.execute("PRAGMA page_size").fetchone()
    c.close()
    return (root - 1) * size, size


def smash(db, off, size):
    """Overwrite a page's b-tree header and cells with garbage, in place."""
    with open(db, "r+b") as f:
        f.seek(off)
        f.write(bytes([0xA5]) * size)
        f.flush()
        os.fsync(f.fileno())


class StoreSafetyTest(harness.DaemonTestCase):

    def setUp(self):
        super().setUp()
        self.inst = harness.Institution(self.root, "12AB00", "Praktijkschool De Brug")
        self.insts.append(self.inst)
        self.inst.start()
        self.assertEqual(leavers(self.inst, 30).returncode, 0)

    def count(self):
        return len(self.inst.cli_json("handover", "list")["rows"]) \
            if isinstance(self.inst.cli_json("handover", "list"), dict) \
            else len(self.inst.cli_json("handover", "list"))

    def test_missing_store_is_refused_until_init(self):
        inst = self.inst
        inst.stop()
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(inst.db + suffix):
                os.unlink(inst.db + suffix)
        out = start_fails(inst)
        self.assertIn("is missing", out)
        self.assertIn("overstap store backup", out)
        self.assertIn("overstapd --init", out)
        self.assertFalse(os.path.exists(inst.db), "a new store was created anyway")
        # --init starts anew on purpose.
        inst.start(args=["--init"])
        self.assertEqual(self.count(), 0)
        inst.stop()
        # And the next start is an ordinary one.
        inst.start()

    def test_empty_store_file_is_refused(self):
        inst = self.inst
        inst.stop()
        for suffix in ("-wal", "-shm"):
            if os.path.exists(inst.db + suffix):
                os.unlink(inst.db + suffix)
        open(inst.db, "w").close()
        out = start_fails(inst)
        self.assertIn("empty (0 bytes)", out)
        self.assertEqual(os.path.getsize(inst.db), 0)

    def test_init_never_replaces_a_store(self):
        self.inst.stop()
        out = start_fails(self.inst, "--init")
        self.assertIn("already holds a store", out)
        self.inst.start()
        self.assertEqual(self.count(), 30)

    def test_init_is_documented(self):
        r = subprocess.run([harness.OVERSTAPD, "--help"], capture_output=True, text=True)
        self.assertIn("--init", r.stdout)

    def test_quick_check_result_in_status(self):
        # the start's quick_check runs on its own thread (design.md §5.8):
        # status says "running" until it is done, then "ok"; a new store was
        # checked before it was migrated (nothing to say)
        self.assertEqual(self.inst.status()["store_check"], "")
        self.inst.stop()
        self.inst.start()
        st = harness.wait_for(lambda: self.inst.status()["store_check"] == "ok" or None,
                              timeout=30, what="the quick_check")
        self.assertTrue(st)
        self.assertEqual(self.inst.status()["store"], "ok")
        self.assertIn("passed PRAGMA quick_check", self.inst.read_log())

    def test_corrupt_store_is_refused_at_start(self):
        inst = self.inst
        inst.stop()
        off, size = page_of(inst.db, "leavers")
        smash(inst.db, off, size)
        out = start_fails(inst)
        self.assertIn("quick_check", out)
        self.assertIn("overstap store backup", out)

    def test_store_going_bad_while_running_refuses_writes(self):
        inst = self.inst
        inst.stop()
        off, size = page_of(inst.db, "leavers")
        inst.start()
        # Everything into the main file, so the flipped bytes are what the
        # daemon reads next (its cache goes with the WAL's reset).
        c = sqlite3.connect(inst.db, timeout=10)
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        c.close()
        smash(inst.db, off, size)
        r = leavers(inst, 5, prefix="M")
        self.assertNotEqual(r.returncode, 0, "an import into a damaged store was accepted")
        self.assertIn("damaged", r.stderr)
        st = inst.status()
        self.assertEqual(st["store"], "damaged")
        self.assertTrue(st["store_error"])
        # Every later write is refused at once, and says why.
        r = leavers(inst, 5, prefix="N")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("store is damaged", r.stderr)
        text = inst.cli("status").stdout
        self.assertIn("DAMAGED", text)
        r = inst.cli("store", "check", check=False)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        log = inst.read_log()
        self.assertEqual(log.count("from now on every write is refused"), 1, log[-3000:])

    def test_check_and_backup_and_restore(self):
        inst = self.inst
        r = inst.cli("store", "check")
        self.assertEqual(r.stdout, "ok\n")
        bdir = os.path.join(self.root, "backup")
        os.mkdir(bdir, 0o700)
        dest = os.path.join(bdir, "store-1.db")
        r = inst.cli("store", "backup", dest)
        self.assertIn("store backed up to %s" % dest, r.stdout)
        self.assertEqual(stat.S_IMODE(os.stat(dest).st_mode), 0o600)
        # An existing file or a symlink is refused; --force replaces, never follows.
        r = inst.cli("store", "backup", dest, check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("exists", r.stderr)
        target = os.path.join(bdir, "precious")
        with open(target, "w") as f:
            f.write("keep me")
        link = os.path.join(bdir, "link.db")
        os.symlink(target, link)
        r = inst.cli("store", "backup", link, check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("symbolic link", r.stderr)
        inst.cli("store", "backup", "--force", link)
        self.assertFalse(os.path.islink(link))
        with open(target) as f:
            self.assertEqual(f.read(), "keep me")
        # Audited.
        lines = inst.cli("audit", "export").stdout
        self.assertIn('"store.checked"', lines)
        self.assertIn('"store.backup"', lines)
        # Restore: stop, lose the store, put the backup in place, start.
        self.assertEqual(leavers(inst, 3, prefix="X").returncode, 0)
        inst.stop()
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(inst.db + suffix):
                os.unlink(inst.db + suffix)
        os.rename(dest, inst.db)
        inst.start()
        self.assertEqual(self.count(), 30)
        self.assertEqual(inst.cli("store", "check").stdout, "ok\n")
        self.assertEqual(inst.cli("audit", "verify").returncode, 0)


if __name__ == "__main__":
    unittest.main()
