"""Integration: `overstap report -o FILE` and `overstap audit export -o FILE`
(issue 11 item 8). A report or an audit export is created as a new file with
mode 0600; an existing file is refused unless --force, and a symbolic link is
refused always, so a link planted where the operator writes cannot redirect
the output over another file.

Run: python3 -m unittest -v test_output_file   (OVERSTAPD / OVERSTAP from the environment)
"""
import os
import stat

import harness

# (verb and its arguments, what a complete output holds)
COMMANDS = (
    (("report", "--format", "csv"), "leavers"),
    (("audit", "export"), '"seq"'),
)


class OutputFileTest(harness.DaemonTestCase):

    def setUp(self):
        super().setUp()
        self.school = harness.Institution(self.root, "12AB00", "Praktijkschool De Brug").start()
        self.insts.append(self.school)
        self.school.add_peer(harness.Institution(self.root, "25LZ00", "MBO"), send=False)
        path = os.path.join(self.root, "l.csv")
        harness.leavers_csv(path, 3)
        self.school.cli("import", "leavers", path)   # something in the audit log and the report
        os.umask(0o022)   # what a default umask would give: 0644

    def out(self, verb, name, *extra, check=False):
        path = os.path.join(self.root, name)
        return path, self.school.cli(*(list(verb) + ["-o", path] + list(extra)), check=check)

    def test_new_file_is_private(self):
        for verb, marker in COMMANDS:
            with self.subTest(verb[0]):
                path, r = self.out(verb, verb[0] + ".new", check=True)
                self.assertEqual(stat.S_IMODE(os.lstat(path).st_mode), 0o600, r.stderr)
                with open(path) as f:
                    self.assertIn(marker, f.read())

    def test_existing_file_refused_then_forced(self):
        for verb, marker in COMMANDS:
            with self.subTest(verb[0]):
                path = os.path.join(self.root, verb[0] + ".old")
                with open(path, "w") as f:
                    f.write("keep me\n")
                os.chmod(path, 0o644)
                before = self.school.cli("audit", "export").stdout.count('"report.generated"')
                _, r = self.out(verb, verb[0] + ".old")
                self.assertEqual(r.returncode, 4, r.stderr)
                # refused before asking the daemon: no report on record that nobody got
                self.assertEqual(self.school.cli("audit", "export").stdout.count(
                    '"report.generated"'), before)
                self.assertIn(path + " exists", r.stderr)
                self.assertIn("--force", r.stderr)
                with open(path) as f:
                    self.assertEqual(f.read(), "keep me\n")
                _, r = self.out(verb, verb[0] + ".old", "--force", check=True)
                with open(path) as f:
                    text = f.read()
                self.assertNotIn("keep me", text)
                self.assertIn(marker, text)
                self.assertEqual(stat.S_IMODE(os.lstat(path).st_mode), 0o600)

    def test_symlink_refused_even_with_force(self):
        outside = os.path.join(self.root, "outside")
        os.mkdir(outside)
        for verb, _ in COMMANDS:
            for force in ((), ("--force",)):
                with self.subTest(verb[0], force=force):
                    victim = os.path.join(outside, "victim")
                    with open(victim, "w") as f:
                        f.write("precious\n")
                    link = os.path.join(self.root, verb[0] + ".link")
                    if os.path.lexists(link):
                        os.unlink(link)
                    os.symlink(victim, link)
                    _, r = self.out(verb, verb[0] + ".link", *force)
                    self.assertEqual(r.returncode, 4, r.stderr)
                    self.assertIn(link + " is a symbolic link", r.stderr)
                    with open(victim) as f:
                        self.assertEqual(f.read(), "precious\n")
                    self.assertTrue(os.path.islink(link))
                    # a dangling link must not be created through either
                    os.unlink(victim)
                    _, r = self.out(verb, verb[0] + ".link", *force)
                    self.assertEqual(r.returncode, 4, r.stderr)
                    self.assertFalse(os.path.exists(victim), "created through a dangling link")

    def test_force_without_output_is_a_usage_error(self):
        for verb, _ in COMMANDS:
            with self.subTest(verb[0]):
                r = self.school.cli(*(list(verb) + ["--force"]), check=False)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn("--force only goes with -o FILE", r.stderr)


if __name__ == "__main__":
    import unittest
    unittest.main()
