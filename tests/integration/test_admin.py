"""Integration: the administrator's path (issue 15), with a real daemon.

- A configuration edit that does not load locks nobody out: the daemon keeps
  running on the last good version, `overstap -c FILE status` still reaches
  it (through the socket the broken file names) with a warning, and status
  shows the failed reload with FILE:LINE and the reason until a good reload.
- A user outside the control group is told which group to join, for the
  config file and for the control socket alike.
- Bash completion, from the verb table: every command of `--help`, second
  words, and each command's options as its own --help lists them.
- One kind of error, one exit status: a malformed option value (a date that
  is none, a word not in the option's list) exits 2 whichever verb it is
  given to; `--by` takes the same words in `consent grant` as in `handover
  inzage`; `-t` is the global timeout only, never `--to`.
- `handover list --state` takes every state its help names.
- A registration the school refuses is listed at the sender with the reason
  (`outbox list --refused`) and counted in `status`, not only logged.

Run: python3 -m unittest -v test_admin   (OVERSTAPD / OVERSTAP from the environment)
"""
import datetime
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

    def test_a_config_named_but_missing_is_said_to_be(self):
        """-c with a typo: the CLI says the file is not there and which socket
        it tries instead; the default file missing (a staff machine with no
        config) is no news."""
        missing = os.path.join(self.root, "overstpad.conf")
        env = dict(os.environ, OVERSTAP_SOCKET="")
        r = subprocess.run([harness.OVERSTAP, "-c", missing, "status"], capture_output=True,
                           text=True, timeout=60, env=env)
        self.assertIn("overstap: warning: cannot read %s: No such file or directory\n" % missing,
                      r.stderr)
        self.assertIn("overstap: trying the default control socket /run/overstap/control.sock\n",
                      r.stderr)
        env["OVERSTAP_CONFIG"] = missing
        r = subprocess.run([harness.OVERSTAP, "status"], capture_output=True, text=True,
                           timeout=60, env=env)
        self.assertIn("cannot read %s" % missing, r.stderr)

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

        # The keys are their owner's alone (0700): no group helps, running as
        # the owner does. keys show and overstapd -t say whose they are.
        os.chmod(inst.keys, 0o700)
        r = overstap("keys", "show", "--dir", inst.keys, "--id", inst.id, user=nobody)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("overstap: the keys in %s belong to user root: run it as that user "
                      "(sudo -u root overstap keys show)" % inst.keys, r.stderr)
        readable = os.path.join(self.root, "readable.conf")
        with open(inst.conf) as src, open(readable, "w") as dst:
            dst.write(src.read())
        os.chmod(readable, 0o644)
        r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                            harness.OVERSTAPD, "-t", "-c", readable],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("[institution] keys_dir: %s" % inst.keys, r.stderr)
        self.assertIn("%s: the keys belong to user root, whom overstapd runs as: check as that "
                      "user (runuser -u root -- overstapd -t -c %s)" % (readable, readable),
                      r.stderr)


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


class ExitStatusTest(harness.DaemonTestCase):

    def test_a_malformed_option_value_exits_2_in_every_verb(self):
        school = harness.Institution(self.root, "12AB00", "Praktijkschool De Brug").start()
        self.insts.append(school)
        rows = harness.leavers_csv(os.path.join(self.root, "l.csv"), 1)
        school.cli("import", "leavers", os.path.join(self.root, "l.csv"))
        ref = rows[0]["pupil_ref"]
        rid = "01a24671-6cc4-77cb-960c-b6061afeaf38"
        grant = ("consent", "grant", ref, "--purpose", "follow_up", "--by", "parent",
                 "--evidence", "form", "--ref", "AVG-1")
        def with_(opt, value):
            """grant with opt's value replaced"""
            i = grant.index(opt) + 1
            return grant[:i] + (value,) + grant[i + 1:]
        bad_date = "2025-13-01"
        cases = [
            ("handover", "registered", ref, "--date", bad_date),
            ("handover", "inzage", ref, "--by", "pupil", "--agrees", "yes", "--date", bad_date),
            ("registration", "status", rid, "enrolled", "--date", bad_date),
            ("outcome", "record", rid, "diploma", "--level", "2", "--date", bad_date),
            ("registration", "record", "123456782", "--from", "25LZ00", "--date", bad_date),
            grant + ("--date", bad_date),
            grant + ("--until", bad_date),
            ("consent", "withdraw", "1", "--date", bad_date),
        ]
        for args in cases:
            r = school.cli(*args, check=False)
            self.assertEqual(r.returncode, 2, (args, r.stderr))
            self.assertIn("'%s' is not a date written YYYY-MM-DD" % bad_date, r.stderr, args)
        words = [
            (("handover", "inzage", ref, "--by", "nobody", "--agrees", "yes"),
             "--by wants pupil, parent or guardian"),
            (with_("--by", "nobody"), "--by wants pupil, parent or guardian"),
            (with_("--purpose", "marketing"), "--purpose wants"),
            (with_("--evidence", "carrier-pigeon"), "--evidence wants"),
            (("registration", "status", rid, "graduated"), "is not a status"),
            (("report", "--by", "shoe_size"), "unknown dimension 'shoe_size' for the sending"),
            (("report", "--side", "receiving", "--by", "program"),
             "unknown dimension 'program' for the receiving side"),
            (("report", "--cohort", "2025"), "is not a school year"),
            (("lost", "--cohort", "2025"), "is not a school year"),
        ]
        for args, said in words:
            r = school.cli(*args, check=False)
            self.assertEqual(r.returncode, 2, (args, r.stderr))
            self.assertIn(said, r.stderr, args)
        # -t is the global --timeout: after the command it is no option of
        # consent grant; --to is
        r = school.cli(*(grant + ("-t", "25LZ00")), check=False)
        self.assertEqual(r.returncode, 2, r.stderr)
        # the mentor's Dutch words are understood here as in handover inzage:
        # the daemon gets the code (and applies the age rule to it)
        for by in ("ouder", "Voogd"):
            r = school.cli(*(with_("--by", by) + ("--to", "25LZ00")), check=False)
            self.assertNotIn("--by wants", r.stderr)
            self.assertNotIn("grantor must be", r.stderr)
            self.assertNotEqual(r.returncode, 2, r.stderr)

    def test_handover_list_takes_every_state_its_help_names(self):
        school = harness.Institution(self.root, "12AB00", "Praktijkschool De Brug").start()
        self.insts.append(school)
        text = school.cli("handover", "list", "--help").stdout
        block = re.search(r"--state S +only this state: (.*?)\n  -", text, re.S).group(1)
        states = re.findall(r"([a-z]+)(?: \([^)]*\))?(?:,| or|$)", " ".join(block.split()))
        self.assertIn("erased", states)
        self.assertIn("registered", states)
        for st in states:
            r = school.cli("handover", "list", "--state", st, "--json", check=False)
            self.assertEqual(r.returncode, 0, (st, r.stderr))
            self.assertEqual(json.loads(r.stdout), [], st)


class RefusedRegistrationTest(harness.DaemonTestCase):

    def test_a_registration_the_school_refuses_is_listed_at_the_sender(self):
        school, mbo = harness.federation(self.root, "12AB00", "25LZ00")
        self.insts += [school, mbo]
        today = datetime.date.today().isoformat()
        # a valid PGN the school has no leaver for
        r = mbo.cli("registration", "record", "123456782", "--from", "12AB00", "--date", today)
        self.assertIn("registration queued for 12AB00", r.stdout)
        (ref,) = wait_for(lambda: mbo.cli_json("outbox", "list", "--refused"),
                          what="the refusal listed at the MBO")
        self.assertEqual((ref["kind"], ref["peer"]), ("registration", "12AB00"))
        self.assertEqual(ref["reason"], "registration not accepted")
        self.assertTrue(harness.is_iso(ref["refused_at"]), ref["refused_at"])
        text = mbo.cli("outbox", "list", "--refused").stdout
        self.assertIn("refused registration by 12AB00", text)
        self.assertIn("registration not accepted", text)
        self.assertEqual(mbo.status()["outbox_refused"], 1)
        self.assertRegex(mbo.cli("status").stdout,
                         r"(?m)^refused +1 message refused by the receiver "
                         r"\(overstap outbox list --refused\)$")
        # never the PGN, in the listing or the log
        self.assertNotIn("123456782", json.dumps(mbo.cli_json("outbox", "list", "--refused")))
        self.assertNotIn("123456782", mbo.read_log() + school.read_log())

    def test_registrations_sent_listed_with_what_became_of_them(self):
        """Issue 15: whoever sent a registration sees what became of it:
        delivered, refused with the school's reason, or still waiting while
        the school is away. Before, only refused ones were listed."""
        school, mbo = harness.federation(self.root, "12AB00", "25LZ00")
        self.insts += [school, mbo]
        today = datetime.date.today().isoformat()
        rows = harness.leavers_csv(os.path.join(self.root, "l.csv"), 1)
        school.cli("import", "leavers", os.path.join(self.root, "l.csv"))
        pgn = rows[0]["pgn"]
        self.assertEqual(mbo.cli("registration", "list").stdout, "no registrations sent\n")
        mbo.cli("registration", "record", pgn, "--from", "12AB00", "--date", today)
        mbo.cli("registration", "record", "123456782", "--from", "12AB00", "--date", today)
        wait_for(lambda: sorted(g["state"] for g in mbo.cli_json("registration", "list"))
                 == ["delivered", "refused"], what="one delivered, one refused")
        self.assertEqual(school.stop(), 0)
        mbo.cli("registration", "record", "111222333", "--from", "12AB00", "--date", today)
        regs = mbo.cli_json("registration", "list")
        self.assertEqual([g["state"] for g in regs], ["delivered", "refused", "queued"])
        self.assertEqual([g["reason"] for g in regs], ["", "registration not accepted", ""])
        for g in regs:
            self.assertEqual((g["school"], g["registered_on"]), ("12AB00", today))
            self.assertTrue(harness.is_iso(g["queued_at"]), g["queued_at"])
        text = mbo.cli("registration", "list").stdout
        self.assertIn("registration to 12AB00: refused by the school\n", text)
        self.assertRegex(text, r"(?m)^  why +registration not accepted$")
        self.assertIn("registration to 12AB00: queued (the school has not taken it yet)\n", text)
        self.assertTrue(text.endswith("3 registrations\n"), text)
        # one pupil's, by PGN: audited with the message ids, never the PGN
        (mine,) = mbo.cli_json("registration", "list", pgn)
        self.assertEqual((mine["state"], mine["message_id"]), ("delivered", regs[0]["message_id"]))
        self.assertTrue(mbo.cli("registration", "list", pgn).stdout.endswith("1 registration\n"))
        self.assertEqual(mbo.cli_json("registration", "list", "--school", "99ZZ00"), [])
        r = mbo.cli("registration", "list", "123456789", check=False)   # fails the 11-test
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertNotIn("123456789", r.stderr)
        looked = [e for e in map(json.loads, mbo.cli("audit", "export").stdout.splitlines())
                  if e["action"] == "registration.looked_up"]
        self.assertEqual(len(looked), 2)
        self.assertEqual(json.loads(looked[0]["detail"])["found"], [mine["message_id"]])
        self.assertNotIn(pgn, mbo.cli("audit", "export").stdout + mbo.read_log())
        school.start()
        wait_for(lambda: mbo.cli_json("registration", "list")[2]["state"] == "refused",
                 what="the waiting one taken (and refused: no such leaver)")

    def test_the_log_counts_peers_in_plain_english(self):
        school, mbo = harness.federation(self.root, "12AB00", "25LZ00")
        self.insts += [school, mbo]
        # started with none, then each given the other by a reload
        self.assertIn("running as 12AB00 with 0 peers\n", school.read_log())
        wait_for(lambda: "configuration reloaded: 1 peer\n" in school.read_log(),
                 what="the reload logged")
        self.assertNotIn("1 peers", school.read_log())


class CompletionTest(harness.DaemonTestCase):

    def test_every_command_takes_help_as_its_help_says(self):
        """Each command of `overstap --help` prints its usage for --help and
        -h, exit 0 (`completion --help` once was an invalid option)."""
        helptext = overstap("--help").stdout
        commands = helptext.split("commands:\n", 1)[1].split("\n\n", 1)[0]
        for line in commands.splitlines():
            two = re.match(r"^  (\S+) ([a-z][a-z-]*)  ", line)
            words = two.groups() if two else (line.split()[0],)
            for flag in ("--help", "-h"):
                r = overstap(*words, flag)
                self.assertEqual(r.returncode, 0, (words, flag, r.stderr))
                self.assertTrue(r.stdout.startswith("usage: overstap %s" % " ".join(words)),
                                (words, r.stdout[:80]))

    def test_commands_second_words_and_options_as_help_lists_them(self):
        helptext = overstap("--help").stdout
        commands = helptext.split("commands:\n", 1)[1].split("\n\n", 1)[0]
        groups = sorted({l.split()[0] for l in commands.splitlines()})
        self.assertEqual(complete(""), groups)
        self.assertEqual(complete("hand"), ["handover"])
        self.assertEqual(complete("-s", "/tmp/x.sock", "cons"), ["consent"])
        self.assertIn("withdraw", complete("consent", ""))
        self.assertEqual(complete("registration", ""), ["list", "record", "status"])
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
