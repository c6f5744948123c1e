"""Integration: a crash must not write pupils' data or keys to disk (issue 11, item 6).

A core file of overstapd held 44 of 50 PGNs, 45 of 50 names and master.key.
The daemon now turns core dumps off itself (PR_SET_DUMPABLE 0, RLIMIT_CORE 0)
before it reads a secret, whatever limit it was started with. Checked on a
real daemon started with an unlimited core limit: its /proc/PID/limits, then
a real SIGSEGV in a working directory of our own, where no core may appear.
Where the kernel's core_pattern is not a plain file name (a pipe to a
collector, an absolute path) this test cannot see a core file: the crash
still runs but that one assertion is skipped, and the output says so.

Run: python3 -m unittest -v test_hardening   (OVERSTAPD / OVERSTAP from the environment)
"""
import os
import resource
import signal
import subprocess
import time

import harness


def core_limit(pid):
    """(soft, hard) of "Max core file size" in /proc/PID/limits, as text."""
    with open("/proc/%d/limits" % pid) as f:
        for line in f:
            if line.startswith("Max core file size"):
                return tuple(line[len("Max core file size"):].split()[:2])
    raise AssertionError("no core line in /proc/%d/limits" % pid)


def plain_core_pattern():
    """The core file name when core_pattern is a plain name in the working
    directory (no '|' pipe, no '/'), else None."""
    try:
        with open("/proc/sys/kernel/core_pattern") as f:
            pat = f.read().strip()
    except OSError:
        return None
    return None if (not pat or pat.startswith("|") or "/" in pat) else pat


class CoreDumps(harness.DaemonTestCase):
    def setUp(self):
        super().setUp()
        # What a careless service manager or shell might hand the daemon.
        self.old_limit = resource.getrlimit(resource.RLIMIT_CORE)
        hard = self.old_limit[1]
        resource.setrlimit(resource.RLIMIT_CORE, (hard, hard))
        self.old_cwd = os.getcwd()
        self.crashdir = os.path.join(self.root, "cwd")
        os.makedirs(self.crashdir)
        os.chdir(self.crashdir)   # the daemon inherits it: a core would land here

    def tearDown(self):
        os.chdir(self.old_cwd)
        resource.setrlimit(resource.RLIMIT_CORE, self.old_limit)
        super().tearDown()

    def start_with_pupils(self):
        school, mbo = harness.federation(self.root)
        self.insts += [school, mbo]
        mbo.kill()   # the pupils stay queued at the school: in its memory and store
        csv = os.path.join(self.root, "leavers.csv")
        harness.leavers_csv(csv, 50)
        school.cli("import", "leavers", csv)
        return school

    def test_core_limit_zero_whatever_it_was_started_with(self):
        self.assertNotEqual(resource.getrlimit(resource.RLIMIT_CORE)[1], 0,
                            "the test needs a nonzero hard core limit to start with")
        school = self.start_with_pupils()
        self.assertEqual(core_limit(school.proc.pid), ("0", "0"))

    def test_segv_writes_no_core(self):
        school = self.start_with_pupils()
        pid = school.proc.pid
        school.proc.send_signal(signal.SIGSEGV)
        rc = school.proc.wait(30)
        school.proc = None
        school.log.close()
        # -SIGSEGV; a sanitizer build's SEGV handler reports and exits 1 instead.
        self.assertIn(rc, (-signal.SIGSEGV, 1), "overstapd should die of the SIGSEGV")
        pattern = plain_core_pattern()
        if pattern is None:
            print("\nskipped the no-core-file assertion: kernel.core_pattern is not a plain "
                  "file name, so a core would not land in the working directory")
            return
        time.sleep(0.5)   # the kernel writes the core before the parent's wait returns; margin
        cores = [n for n in os.listdir(self.crashdir)
                 if n.startswith(pattern.split("%")[0] or "core")]
        for n in cores:   # do not leave pupils' data behind, even from a failing run
            os.unlink(os.path.join(self.crashdir, n))
        self.assertEqual(cores, [], "overstapd (pid %d) left a core file" % pid)


if __name__ == "__main__":
    import unittest
    unittest.main()


class CliWhenTheDaemonGoes(harness.DaemonTestCase):
    """Issue 11 item 8: the CLI waited its whole timeout when the daemon
    stopped or restarted while it waited for an answer (libzmq's REQ
    reconnects and waits for a reply the new daemon never got the question
    for). Now it says at once that the daemon went away, and that the request
    may or may not have been carried out."""

    def test_daemon_killed_mid_request(self):
        inst = harness.Institution(self.root, "12AB00", "School").start()
        self.insts.append(inst)
        inst.proc.send_signal(signal.SIGSTOP)     # the request is never answered
        t0 = time.monotonic()
        cli = subprocess.Popen([harness.OVERSTAP, "-s", inst.sock, "--timeout", "60",
                                "status"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
        time.sleep(1.0)                           # connected and sent, waiting
        self.assertIsNone(cli.poll(), "the CLI did not wait for the stopped daemon")
        inst.kill()                               # SIGKILL delivered even while stopped
        out, err = cli.communicate(timeout=30)
        took = time.monotonic() - t0
        self.assertEqual(cli.returncode, 3, err)
        self.assertIn("overstapd went away during the request", err)
        self.assertIn("audit log", err)
        self.assertLess(took, 20, "the CLI waited %.1f s of its 60 s timeout" % took)
        # and a restarted daemon answers as before
        inst.start()
        self.assertEqual(inst.status()["institution"], "12AB00")
