#!/usr/bin/python3
"""sandbox_exec.py UNIT PROGRAM [ARGS...]: run PROGRAM under the seccomp part of
the sandbox that systemd would give it from UNIT's [Service] section, so that
the tests can check without a running systemd (PID 1 is not systemd in CI)
that the daemon still works inside it.

Emulated, as systemd 252 builds them (see systemd.exec(5)):
  - SystemCallFilter= (allow list first, then "~" entries remove, plain entries
    add back; @default is always allowed) with SystemCallErrorNumber=;
  - RestrictAddressFamilies= (allow list): socket() of another family fails
    with EAFNOSUPPORT;
  - MemoryDenyWriteExecute=yes: mmap with PROT_WRITE|PROT_EXEC and mprotect or
    pkey_mprotect adding PROT_EXEC fail with EPERM;
  - NoNewPrivileges=yes (seccomp sets it) and UMask=.
The groups are expanded with `systemd-analyze syscall-filter`, so the
emulation follows the systemd that is installed. Not emulated: the mount,
user and other namespaces, and the capability bounding set.

The filters are loaded into this process and PROGRAM is exec'd in its place
(same PID, so a test harness can signal it as if it had started PROGRAM).
With OVERSTAP_SANDBOX_LOG=FILE, "PID PROGRAM ARGS" is appended to FILE once
the filters are in place.
"""
import ctypes
import ctypes.util
import errno
import os
import socket
import subprocess
import sys

SCMP_ACT_ALLOW = 0x7FFF0000
SCMP_CMP_EQ = 4
SCMP_CMP_GT = 6
SCMP_CMP_MASKED_EQ = 7
PROT_WRITE, PROT_EXEC = 0x2, 0x4
AF_MAX = 46          # Linux 6.x; families above it are refused as well
SHM_EXEC = 0o100000


def act_errno(e):
    return 0x00050000 | (e & 0xFFFF)


class ArgCmp(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int),
                ("datum_a", ctypes.c_uint64), ("datum_b", ctypes.c_uint64)]


def die(msg):
    sys.stderr.write("sandbox_exec: %s\n" % msg)
    sys.exit(125)


def service_settings(unit):
    """[(key, value)] of the [Service] section, in order."""
    out, section = [], None
    with open(unit) as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("["):
                section = line.strip("[]")
                continue
            if section == "Service" and "=" in line:
                k, v = line.split("=", 1)
                out.append((k.strip(), v.strip()))
    return out


_groups = {}


def expand(name):
    """Set of syscall names for a name or @group (recursively)."""
    if not name.startswith("@"):
        return {name}
    if name not in _groups:
        r = subprocess.run(["systemd-analyze", "syscall-filter", name],
                           capture_output=True, text=True)
        if r.returncode != 0:
            die("systemd-analyze syscall-filter %s: %s" % (name, r.stderr.strip()))
        items = set()
        for line in r.stdout.splitlines()[1:]:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            items |= expand(line)
        _groups[name] = items
    return _groups[name]


def syscall_allow_list(settings):
    allow = None
    for k, v in settings:
        if k != "SystemCallFilter":
            continue
        if not v:
            allow = None
            continue
        invert = v.startswith("~")
        names = v.lstrip("~").split()
        names = [n.split(":", 1)[0] for n in names]
        if allow is None:
            if invert:
                die("a deny-list SystemCallFilter= is not emulated")
            allow = set(expand("@default"))
        for n in names:
            if invert:
                allow -= expand(n)
            else:
                allow |= expand(n)
    return allow


def families(settings):
    fams = None
    for k, v in settings:
        if k == "RestrictAddressFamilies":
            if v.startswith("~"):
                die("a deny-list RestrictAddressFamilies= is not emulated")
            fams = set() if fams is None else fams
            for name in v.split():
                fams.add(int(getattr(socket, name)))
    return fams


def main():
    if len(sys.argv) < 3:
        die("usage: sandbox_exec.py UNIT PROGRAM [ARGS...]")
    unit, argv = sys.argv[1], sys.argv[2:]
    settings = service_settings(unit)
    conf = dict(settings)
    allow = syscall_allow_list(settings)
    fams = families(settings)
    mdwe = conf.get("MemoryDenyWriteExecute", "no") in ("yes", "true", "1", "on")
    err_name = conf.get("SystemCallErrorNumber", "")
    if err_name and not hasattr(errno, err_name):
        die("SystemCallErrorNumber=%s: unknown errno" % err_name)
    if "UMask" in conf:
        os.umask(int(conf["UMask"], 8))

    lib = ctypes.CDLL(ctypes.util.find_library("seccomp") or "libseccomp.so.2", use_errno=True)
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_rule_add_array.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int,
                                           ctypes.c_uint, ctypes.POINTER(ArgCmp)]
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_load.argtypes = [ctypes.c_void_p]
    lib.seccomp_release.argtypes = [ctypes.c_void_p]

    def nr(name):
        n = lib.seccomp_syscall_resolve_name(name.encode())
        return n if n >= 0 else None        # not a syscall on this architecture

    def rule(ctx, action, name, *cmps):
        n = nr(name)
        if n is None:
            return
        arr = (ArgCmp * max(1, len(cmps)))(*cmps)
        r = lib.seccomp_rule_add_array(ctx, action, n, len(cmps), arr)
        if r < 0:
            die("seccomp_rule_add %s: %s" % (name, os.strerror(-r)))

    def load(ctx, what):
        r = lib.seccomp_load(ctx)
        if r < 0:
            die("seccomp_load (%s): %s" % (what, os.strerror(-r)))
        lib.seccomp_release(ctx)

    # One filter per setting, as systemd installs them; the kernel applies the
    # most restrictive answer of all. The allow list goes last, since loading
    # the others needs seccomp() and prctl().
    ctxs = []
    if fams is not None:
        ctx = lib.seccomp_init(SCMP_ACT_ALLOW)
        for af in range(AF_MAX + 1):
            if af not in fams:
                rule(ctx, act_errno(errno.EAFNOSUPPORT), "socket", ArgCmp(0, SCMP_CMP_EQ, af, 0))
        rule(ctx, act_errno(errno.EAFNOSUPPORT), "socket", ArgCmp(0, SCMP_CMP_GT, AF_MAX, 0))
        ctxs.append((ctx, "RestrictAddressFamilies"))
    if mdwe:
        ctx = lib.seccomp_init(SCMP_ACT_ALLOW)
        wx = PROT_WRITE | PROT_EXEC
        rule(ctx, act_errno(errno.EPERM), "mmap", ArgCmp(2, SCMP_CMP_MASKED_EQ, wx, wx))
        rule(ctx, act_errno(errno.EPERM), "mprotect", ArgCmp(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC))
        rule(ctx, act_errno(errno.EPERM), "pkey_mprotect",
             ArgCmp(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC))
        rule(ctx, act_errno(errno.EPERM), "shmat", ArgCmp(2, SCMP_CMP_MASKED_EQ, SHM_EXEC, SHM_EXEC))
        ctxs.append((ctx, "MemoryDenyWriteExecute"))
    if allow is not None:
        # systemd's default action is to kill the process (SIGSYS); with
        # SystemCallErrorNumber= the call fails with that errno instead.
        deny = act_errno(getattr(errno, err_name)) if err_name else 0x80000000
        ctx = lib.seccomp_init(deny)
        for name in sorted(allow):
            rule(ctx, SCMP_ACT_ALLOW, name)
        ctxs.append((ctx, "SystemCallFilter"))
    for ctx, what in ctxs:
        load(ctx, what)
    # For tests: a record that PROGRAM really was started in the sandbox.
    record = os.environ.get("OVERSTAP_SANDBOX_LOG")
    if record:
        with open(record, "a") as f:
            f.write("%d %s\n" % (os.getpid(), " ".join(argv)))
    try:
        os.execv(argv[0], argv)
    except OSError as e:
        die("%s: %s" % (argv[0], e))


if __name__ == "__main__":
    main()
