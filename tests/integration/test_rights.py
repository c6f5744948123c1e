"""Integration: who may do what on the control socket (issue 13 item 1,
design.md §4.9), with a real daemon and the CLI run as another Unix user.

- The daemon takes the caller's identity from the kernel: the audit log
  names the user who really ran the command.
- Each command needs a right; [control] maps groups to rights. A caller
  without it is refused with the group that would give it, or with the
  [control] key to set when no group has it, and the refusal is audited.
- The groups are the caller's real ones (the kernel's list), not what NSS
  says about the user: `setpriv --groups` gives nobody groups it has nowhere
  in /etc/group.

Needs root (to run the CLI as nobody with chosen groups), as the CI has.
Run: python3 -m unittest -v test_rights   (OVERSTAPD / OVERSTAP from the environment)
"""
import grp
import json
import os
import subprocess

import harness

NOBODY = 65534


def gid(name):
    return grp.getgrnam(name).gr_gid


class RightsTest(harness.DaemonTestCase):

    def setUp(self):
        super().setUp()
        if os.geteuid() != 0:
            self.fail("needs root: the CLI must run as another user with chosen groups")
        self.inst = harness.Institution(self.root, "12AB00", "Praktijkschool De Brug")
        # socket group users: reaching the socket; audio: mentors; video: privacy
        self.inst.control = {"group": "users", "mentor": "audio", "privacy": "video"}
        self.inst.write_config()
        self.inst.start()
        self.insts.append(self.inst)
        # nobody must be able to walk to the socket; the socket itself is 0660
        for d in (self.root, self.inst.dir):
            os.chmod(d, 0o711)
        rows = harness.leavers_csv(os.path.join(self.root, "leavers.csv"), 2)
        self.inst.cli("import", "leavers", os.path.join(self.root, "leavers.csv"))
        self.ref = rows[0]["pupil_ref"]

    def as_nobody(self, groups, *args, env=None):
        cmd = ["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY,
               "--groups=%s" % ",".join(str(gid(g)) for g in groups) if groups else
               "--clear-groups", harness.OVERSTAP, "-s", self.inst.sock] + list(args)
        return subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env)

    def audit(self):
        out = self.inst.cli("audit", "export").stdout
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    def test_outside_the_socket_group_cannot_connect(self):
        r = self.as_nobody([], "status")
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertIn("join group 'users'", r.stderr)

    def test_read_right_only(self):
        r = self.as_nobody(["users"], "status")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.as_nobody(["users"], "whoami", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout), {"user": "nobody", "rights": ["read"]})

        r = self.as_nobody(["users"], "handover", "list")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertEqual(r.stdout, "")
        self.assertIn("`handover list` needs the right mentor or admin: ask to be added to "
                      "group audio", r.stderr)
        # a Dutch mentor reads it in Dutch, the right's name and the group as
        # they are configured
        nl = {k: v for k, v in os.environ.items() if k not in harness.LOCALE_VARS}
        nl["LANG"] = "nl_NL.UTF-8"
        r = self.as_nobody(["users"], "handover", "list", env=nl)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("`handover list` vraagt het recht mentor of admin: vraag of u aan groep "
                      "audio wordt toegevoegd", r.stderr)
        r = self.as_nobody(["users"], "subject", self.ref)
        self.assertEqual(r.returncode, 1)
        self.assertIn("needs the right privacy: ask to be added to group video", r.stderr)
        # quality: no group configured, so the message names the key to set
        r = self.as_nobody(["users"], "report")
        self.assertEqual(r.returncode, 1)
        self.assertIn("needs the right quality, which no group holds yet", r.stderr)
        self.assertIn("[control] quality = GROUP", r.stderr)

        refused = [e for e in self.audit() if e["action"] == "control.refused"]
        self.assertEqual([(e["actor"], json.loads(e["detail"])["command"]) for e in refused],
                         [("nobody", "handover list"), ("nobody", "handover list"),
                          ("nobody", "subject"),
                          ("nobody", "report")])
        self.assertEqual(json.loads(refused[2]["detail"])["needs"], "privacy")
        # the audit keeps one language, whoever was refused in which
        self.assertEqual(json.loads(refused[1]["detail"])["needs"], "mentor or admin")
        # and nothing of the pupil was shown or recorded for them
        self.assertFalse([e for e in self.audit() if e["actor"] == "nobody" and
                          e["action"] != "control.refused"])

    def test_mentor_acts_under_their_own_name(self):
        r = self.as_nobody(["users", "audio"], "handover", "list", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.as_nobody(["users", "audio"], "handover", "inzage", self.ref, "--by", "pupil",
                           "--date", "2025-05-20", "--agrees", "yes")
        self.assertEqual(r.returncode, 0, r.stderr)
        mine = [e for e in self.audit() if e["actor"] == "nobody"]
        self.assertTrue(mine, "the inzage is recorded under the real user")
        self.assertFalse([e for e in mine if e["action"] == "control.refused"])
        # root sees who recorded it
        show = self.inst.cli("handover", "show", self.ref, "--json").stdout
        self.assertIn('"nobody"', show)
        # but the mentor may not erase
        r = self.as_nobody(["users", "audio"], "erase", self.ref, "--yes")
        self.assertEqual(r.returncode, 1)
        self.assertIn("group video", r.stderr)
