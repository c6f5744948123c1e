#!/usr/bin/python3
"""install_sandbox: the installed overstapd works inside the seccomp sandbox
that its installed unit asks systemd for (emulated by sandbox_exec.py, since
the tests cannot start units), and speaks the sd_notify protocol the unit
expects (Type=notify, NotifyAccess=main, WatchdogSec=).

  1. the emulation bites: inside it, a netlink-free unit cannot open AF_PACKET,
     a @resources call and a writable+executable mapping fail;
  2. negative controls: without AF_NETLINK, or without taking back
     sched_setscheduler, or chown, the daemon dies at start. This is why the
     unit has them;
  3. with the unit as installed: READY=1 after the control socket exists,
     WATCHDOG=1 pings, RELOADING=1/READY=1 on SIGHUP, STOPPING=1 and exit 0
     on SIGTERM, all from the main PID; `overstap status` works meanwhile;
  4. scripts/demo.py (two daemons, a cohort imported, handed over and
     acknowledged) with both daemons in the sandbox.

Usage: test_sandbox.py BUILD_DIR SOURCE_DIR
"""
import array
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

BUILD, SRC = (os.path.abspath(a) for a in sys.argv[1:3])
HERE = os.path.dirname(os.path.abspath(__file__))
SANDBOX = [sys.executable, os.path.join(HERE, "sandbox_exec.py")]
CHECKS = 0


def fail(msg):
    sys.stderr.write("FAIL (install_sandbox): %s\n" % msg)
    sys.exit(1)


def ok(_what):
    global CHECKS
    CHECKS += 1


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def unit_variant(unit, path, drop_line=None, replace=None):
    """A copy of unit without the line drop_line / with replace=(old, new)."""
    with open(unit) as f:
        text = f.read()
    if drop_line is not None:
        lines = text.splitlines(keepends=True)
        if drop_line + "\n" not in lines:
            fail("%s has no line %r" % (unit, drop_line))
        text = "".join(line for line in lines if line != drop_line + "\n")
    if replace is not None:
        if replace[0] not in text:
            fail("%s has no %r" % (unit, replace[0]))
        text = text.replace(replace[0], replace[1])
    with open(path, "w") as f:
        f.write(text)
    return path


class Instance:
    """One daemon's directory with keys and the installed example config,
    its paths moved into the directory."""

    def __init__(self, root, prefix):
        self.dir = root
        self.prefix = prefix
        os.makedirs(os.path.join(root, "run"))
        r = run([os.path.join(prefix, "bin/overstap"), "keys", "gen", "--dir",
                 os.path.join(root, "keys")])
        if r.returncode:
            fail("keys gen: %s" % r.stderr)
        self.sock = os.path.join(root, "run/control.sock")
        self.conf = os.path.join(root, "overstapd.conf")
        with open(os.path.join(prefix, "etc/overstap/overstapd.conf")) as f:
            text = f.read()
        subst = {
            # the placeholder, which the daemon refuses
            "id = 99XX00": "id = 12AB00",
            "keys_dir = /var/lib/overstap/keys": "keys_dir = %s/keys" % root,
            "path = /var/lib/overstap/store.db": "path = %s/store.db" % root,
            "socket = /run/overstap/control.sock": "socket = %s" % self.sock,
            "listen = tcp://0.0.0.0:7470": "listen = tcp://127.0.0.1:%d" % free_port(),
            # chown to our own group: the call the unit has to allow
            "group = overstap": "group = %s" % run(["id", "-gn"]).stdout.strip(),
        }
        for old, new in subst.items():
            if "\n%s\n" % old not in text:
                fail("the installed example has no line %r" % old)
            text = text.replace("\n%s\n" % old, "\n%s\n" % new)
        with open(self.conf, "w") as f:
            f.write(text)
        self.log = os.path.join(root, "log")

    def start(self, unit, env=None):
        e = dict(os.environ)
        e.update(env or {})
        self.logf = open(self.log, "a")
        return subprocess.Popen(SANDBOX + [unit, os.path.join(self.prefix, "sbin/overstapd"),
                                           "-c", self.conf],
                                stdout=self.logf, stderr=subprocess.STDOUT, env=e)

    def read_log(self):
        with open(self.log, errors="replace") as f:
            return f.read()


def check_emulation(unit, tmp):
    """Inside the sandbox: seccomp on, and the three kinds of refusal."""
    probe = r"""
import errno, mmap, os, socket, sys
st = open("/proc/self/status").read()
assert "\nSeccomp:\t2\n" in st and "\nNoNewPrivs:\t1\n" in st, st
try:
    socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    sys.exit("AF_PACKET allowed")
except OSError as e:
    assert e.errno == errno.EAFNOSUPPORT, e
socket.socket(socket.AF_INET6, socket.SOCK_STREAM).close()
socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0).close()
try:
    os.sched_setaffinity(0, os.sched_getaffinity(0))
    sys.exit("sched_setaffinity (@resources) allowed")
except OSError as e:
    assert e.errno == errno.EPERM, e
try:
    mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    sys.exit("a writable and executable mapping was allowed")
except OSError as e:
    assert e.errno == errno.EPERM, e
assert os.umask(0) == 0o077
print("sandboxed")
"""
    r = run(SANDBOX + [unit, sys.executable, "-c", probe])
    if r.returncode != 0 or r.stdout.strip() != "sandboxed":
        fail("the emulated sandbox does not behave as the unit says:\n%s%s" % (r.stdout, r.stderr))
    ok("emulation")


def expect_death(inst, unit, what, needle):
    p = inst.start(unit)
    try:
        rc = p.wait(15)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        fail("overstapd kept running in a sandbox %s" % what)
    log = inst.read_log()
    if rc == 0 or needle not in log:
        fail("overstapd in a sandbox %s: exit %d, expected a failure with %r:\n%s"
             % (what, rc, needle, log[-2000:]))
    ok("dies " + what)


class Notify:
    """The receiving end of sd_notify, as systemd would hold it."""

    def __init__(self, path):
        self.path = path
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.s.bind(path)
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.got = []       # (time, pid, {key: value})

    def wait_for(self, key, value, timeout, pid):
        """The next message with key=value, within timeout seconds; every
        message must come from pid (NotifyAccess=main)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.s.settimeout(max(0.01, end - time.monotonic()))
            try:
                data, anc, _flags, _addr = self.s.recvmsg(4096, socket.CMSG_SPACE(12))
            except socket.timeout:
                break
            sender = None
            for level, typ, cdata in anc:
                if level == socket.SOL_SOCKET and typ == socket.SCM_CREDENTIALS:
                    sender = array.array("i", cdata[:12])[0]
            fields = dict(line.split("=", 1) for line in data.decode().splitlines() if "=" in line)
            self.got.append((time.monotonic(), sender, fields))
            if sender != pid:
                fail("sd_notify message %r from PID %s, not the main PID %d" % (data, sender, pid))
            if fields.get(key) == value:
                return fields
        fail("no %s=%s within %ss; got %r" % (key, value, timeout,
                                                 [g[2] for g in self.got][-10:]))


def check_notify(inst, unit, tmp, prefix):
    n = Notify(os.path.join(tmp, "notify.sock"))
    p = inst.start(unit, {"NOTIFY_SOCKET": n.path, "WATCHDOG_USEC": "1000000"})
    try:
        n.wait_for("READY", "1", 20, p.pid)
        if not os.path.exists(inst.sock):
            fail("READY=1 before the control socket exists")
        mode = os.stat(inst.sock).st_mode & 0o777
        if mode != 0o660:
            fail("control socket mode %o under UMask=0077, expected 660" % mode)
        ok("READY=1 after the control socket")
        r = run([os.path.join(prefix, "bin/overstap"), "-s", inst.sock, "status"], timeout=30)
        if r.returncode != 0:
            fail("overstap status against the sandboxed daemon: %d\n%s%s"
                 % (r.returncode, r.stdout, r.stderr))
        ok("overstap status")
        # WatchdogSec=1s: pings must come at least every second
        t0 = time.monotonic()
        n.wait_for("WATCHDOG", "1", 1.5, p.pid)
        n.wait_for("WATCHDOG", "1", 1.5, p.pid)
        if time.monotonic() - t0 > 3:
            fail("watchdog pings too slow")
        ok("WATCHDOG=1")
        p.send_signal(signal.SIGHUP)
        n.wait_for("RELOADING", "1", 10, p.pid)
        n.wait_for("READY", "1", 10, p.pid)
        ok("reload")
        p.send_signal(signal.SIGTERM)
        n.wait_for("STOPPING", "1", 10, p.pid)
        rc = p.wait(20)
        if rc != 0:
            fail("overstapd exited %d on SIGTERM in the sandbox:\n%s" % (rc, inst.read_log()[-2000:]))
        ok("STOPPING=1, exit 0")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    if "running" not in inst.read_log():
        fail("no 'running' in the daemon's log:\n%s" % inst.read_log()[-2000:])


def check_demo(unit, tmp, prefix):
    wrapper = os.path.join(tmp, "overstapd-sandboxed")
    with open(wrapper, "w") as f:
        f.write("#!/bin/sh\nexec %s %s %s %s \"$@\"\n" % (
            SANDBOX[0], SANDBOX[1], unit, os.path.join(prefix, "sbin/overstapd")))
    os.chmod(wrapper, 0o755)
    record = os.path.join(tmp, "sandboxed.log")
    env = dict(os.environ, OVERSTAPD=wrapper, OVERSTAP=os.path.join(prefix, "bin/overstap"),
               OVERSTAP_GEN=os.path.join(BUILD, "gen"), OVERSTAP_SRC=SRC,
               OVERSTAP_SANDBOX_LOG=record)
    r = run([sys.executable, os.path.join(SRC, "scripts/demo.py"), "-n", "30"], env=env,
            timeout=300)
    if r.returncode != 0 or "Done." not in r.stdout:
        fail("scripts/demo.py with sandboxed daemons exited %d:\n%s\n%s"
             % (r.returncode, r.stdout[-4000:], r.stderr[-4000:]))
    with open(record) as f:
        started = [line for line in f if "/sbin/overstapd" in line]
    if len(started) < 2:
        fail("the demo started %d daemons in the sandbox, expected 2 or more" % len(started))
    ok("demo")


def main():
    tmp = tempfile.mkdtemp(prefix="overstap-install_sandbox.")
    try:
        prefix = os.path.join(tmp, "prefix")
        r = run(["cmake", "--install", BUILD, "--prefix", prefix])
        if r.returncode:
            fail("cmake --install: %s%s" % (r.stdout, r.stderr))
        unit = os.path.join(prefix, "lib/systemd/system/overstapd.service")
        # LeakSanitizer stops the world with ptrace, which no service sandbox
        # allows: in a sanitizer build, leaks are the other tests' business.
        if "libasan" in run(["ldd", os.path.join(prefix, "sbin/overstapd")]).stdout:
            os.environ["ASAN_OPTIONS"] = os.environ.get("ASAN_OPTIONS", "") + ":detect_leaks=0"

        check_emulation(unit, tmp)

        inst = Instance(os.path.join(tmp, "a"), prefix)
        no_netlink = unit_variant(unit, os.path.join(tmp, "no-netlink.service"), replace=(
            "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK\n",
            "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6\n"))
        expect_death(inst, no_netlink, "without AF_NETLINK", "Address family not supported")
        strict = unit_variant(unit, os.path.join(tmp, "strict.service"),
                              drop_line="SystemCallFilter=sched_setscheduler chown")
        expect_death(inst, strict, "without sched_setscheduler", "Operation not permitted")
        no_chown = unit_variant(unit, os.path.join(tmp, "no-chown.service"), replace=(
            "SystemCallFilter=sched_setscheduler chown\n", "SystemCallFilter=sched_setscheduler\n"))
        expect_death(inst, no_chown, "without chown", "cannot give it to group")

        inst = Instance(os.path.join(tmp, "b"), prefix)
        check_notify(inst, unit, tmp, prefix)
        check_demo(unit, tmp, prefix)
    finally:
        if os.environ.get("OVERSTAP_KEEP_TMP"):
            sys.stderr.write("install_sandbox: kept %s\n" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print("install_sandbox: %d checks passed" % CHECKS)


if __name__ == "__main__":
    main()
