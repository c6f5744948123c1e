"""Integration: the administrator's path (issue 15), with a real daemon.

- A configuration edit that does not load locks nobody out: the daemon keeps
  running on the last good version, `overstap -c FILE status` still reaches
  it (through the socket the broken file names) with a warning, and status
  shows the failed reload with FILE:LINE and the reason until a good reload.
- A user outside the control group is told which group to join, for the
  config file and for the control socket alike.
- Bash completion, from the verb table: every command of `--help`, second
  words, and each command's options as its own --help lists them.

Run: python3 -m unittest -v test_admin   (OVERSTAPD / OVERSTAP from the environment)
"""
import grp
import json
import os
import re
import subprocess

import harness
from harness import wait_for


def overstap(*args, user=None):
    """The CLI as the current user, or as user (uid, gid) with no other groups."""
    cmd = [harness.OVERSTAP] + list(args)
    if user:
        cmd = ["setpriv", "--reuid=%d" % user[0], "--regid=%d" % user[1], "--clear-groups"] + cmd
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


class AdminPathTest(harness.DaemonTestCase):

    def test_broken_config_does_not_lock_staff_out_and_status_shows_the_failed_reload(self):
        inst = harness.Institution(self.root, "12AB00", "Praktijkschool De Brug").start()
        self.insts.append(inst)
        with open(inst.conf) as f:
            good = f.read()
        with open(inst.conf, "a") as f:          # a typo in the last section, [log]
            f.write("colour = blue\n")
        line = good.count("\n") + 1
        inst.reload()
        wait_for(lambda: inst.cli_json("status")["reload_failed_at"] is not None,
                 what="the failed reload")

        # No -s: the CLI finds the daemon through the broken file
        r = overstap("-c", inst.conf, "status", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("warning: %s:%d:" % (inst.conf, line), r.stderr)
        self.assertIn("trying the control socket %s" % inst.sock, r.stderr)
        st = json.loads(r.stdout)
        self.assertEqual(len(st["reload_errors"]), 1)
        self.assertRegex(st["reload_errors"][0], r"^%s:%d: .*colour" % (re.escape(inst.conf), line))
        text = overstap("-c", inst.conf, "status").stdout
        self.assertRegex(text, r"reload +FAILED at .*; still running the configuration it "
                               r"started with")
        self.assertIn("%s:%d:" % (inst.conf, line), text)

        # fixed: the next reload clears it
        with open(inst.conf, "w") as f:
            f.write(good)
        inst.reload()
        wait_for(lambda: inst.cli_json("status")["reload_failed_at"] is None, what="a good reload")
        st = inst.cli_json("status")
        self.assertTrue(harness.is_iso(st["reloaded_at"]), st["reloaded_at"])
        self.assertTrue(harness.is_iso(st["started_at"]), st["started_at"])
        self.assertEqual(st["reload_errors"], [])
        r = overstap("-c", inst.conf, "status")
        self.assertEqual(r.stderr, "")
        self.assertNotIn("FAILED", r.stdout)

    def test_permission_errors_say_which_group_to_join(self):
        if os.geteuid() != 0:
            self.skipTest("needs root to act as another user (CI runs as root)")
        group = grp.getgrgid(1).gr_name          # "daemon" on Debian: not nobody's
        inst = harness.Institution(self.root, "12AB00", "Praktijkschool De Brug")
        inst.write_config()
        with open(inst.conf) as f:
            text = f.read()
        with open(inst.conf, "w") as f:
            f.write(text.replace("socket = %s\n" % inst.sock,
                                 "socket = %s\ngroup = %s\n" % (inst.sock, group)))
        inst.start()
        self.insts.append(inst)
        # the way to the files is open; the files themselves are the group's
        for d in (self.root, inst.dir):
            os.chmod(d, 0o711)
        os.chown(inst.conf, 0, 1)
        os.chmod(inst.conf, 0o640)
        nobody = (65534, 65534)

        r = overstap("-c", inst.conf, "status", user=nobody)
        self.assertIn("cannot read %s: Permission denied; join group '%s'" % (inst.conf, group),
                      r.stderr)
        r = overstap("-s", inst.sock, "status", user=nobody)
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertIn("cannot reach overstapd at %s: Permission denied; join group '%s'"
                      % (inst.sock, group), r.stderr)


def complete(*words):
    """What bash offers for the last word of `overstap WORDS...`."""
    script = overstap("completion", "bash").stdout
    line = " ".join(("overstap",) + words)
    prog = (script + "\nCOMP_WORDS=(%s)\nCOMP_CWORD=%d\n_overstap\n"
            "printf '%%s\\n' \"${COMPREPLY[@]}\"\n") % (
                " ".join("'%s'" % w for w in ("overstap",) + words), len(words))
    r = subprocess.run(["bash", "-c", prog], capture_output=True, text=True, timeout=30,
                       cwd=os.path.dirname(harness.OVERSTAP))
    assert r.returncode == 0, (line, r.stderr)
    return sorted(w for w in r.stdout.split("\n") if w)


class ConsistencyTest(harness.DaemonTestCase):

    def test_report_takes_json_as_every_verb_does(self):
        inst = harness.Institution(self.root, "12AB00", "Praktijkschool De Brug").start()
        self.insts.append(inst)
        a = json.loads(inst.cli("report", "--json").stdout)
        b = json.loads(inst.cli("report", "--format", "json").stdout)
        for d in (a, b):
            d.pop("generated_at", None)
        self.assertEqual(a, b)


class CompletionTest(harness.DaemonTestCase):

    def test_commands_second_words_and_options_as_help_lists_them(self):
        helptext = overstap("--help").stdout
        commands = helptext.split("commands:\n", 1)[1].split("\n\n", 1)[0]
        groups = sorted({l.split()[0] for l in commands.splitlines()})
        self.assertEqual(complete(""), groups)
        self.assertEqual(complete("hand"), ["handover"])
        self.assertEqual(complete("-s", "/tmp/x.sock", "cons"), ["consent"])
        self.assertIn("withdraw", complete("consent", ""))
        self.assertEqual(complete("registration", ""), ["record", "status"])
        self.assertEqual(complete("status", "--"), ["--help", "--json"])
        # options: exactly what each command's --help lists, the shared lines
        # (--json, the CSV dialect) included
        for words in (("report",), ("subject",), ("keys", "show"), ("import", "leavers"),
                      ("import", "enrolments"), ("consent", "due"), ("inbox", "find")):
            listed = sorted(set(re.findall(r"(?m)^\s+(?:-\w, )?(--[a-z][a-z-]*)",
                                           overstap(*words, "--help").stdout)) | {"--help"})
            self.assertEqual(complete(*words, "--"), listed, words)
        self.assertEqual(complete("report", "--fo"), ["--force", "--format"])
        # a file after an option whose value is a file
        self.assertIn("overstap", complete("report", "-o", "overs"))


if __name__ == "__main__":
    import unittest
    unittest.main()
