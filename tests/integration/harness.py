"""Test harness: real overstapd daemons on tcp://127.0.0.1:* in temporary
directories, driven through the real overstap CLI. Used by the integration and
interop tests, the demo and the benchmark.

Run with Debian's system python3 (/usr/bin/python3); the binaries come from the
environment: OVERSTAPD and OVERSTAP (set by ctest), else ./build/.
"""
import faulthandler
import json
import os
import random
import re
import select
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

SRC = os.environ.get("OVERSTAP_SRC", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
OVERSTAPD = os.environ.get("OVERSTAPD", os.path.join(SRC, "build", "overstapd"))
OVERSTAP = os.environ.get("OVERSTAP", os.path.join(SRC, "build", "overstap"))
GEN = os.environ.get("OVERSTAP_GEN", os.path.join(SRC, "build", "gen"))
# Set when the daemons run under valgrind (tests/valgrind/overstapd): its
# findings only come out in the exit code of a daemon that is stopped.
UNDER_VALGRIND = bool(os.environ.get("OVERSTAPD_REAL"))
# A test that hangs in a call without a timeout is killed by ctest (300 s)
# without a word on where; a little before that, print every thread's stack
# and exit. Set by ctest only (tests/CMakeLists.txt): the demo and the
# benchmarks use this harness too and may run longer.
if os.environ.get("OVERSTAP_TEST_WATCHDOG_S"):
    faulthandler.dump_traceback_later(int(os.environ["OVERSTAP_TEST_WATCHDOG_S"]), exit=True)
# The freshly built catalogs (po/CMakeLists.txt), for the CLI and the daemons.
os.environ.setdefault("OVERSTAP_LOCALEDIR", os.path.join(os.path.dirname(OVERSTAP), "locale"))
# The CLI and the daemon's replies follow the locale (design.md §10). The tests
# read their English messages, so everything runs in an English locale unless
# a test asks for another (test_language.py); USER_LOCALE is what the caller
# had, for the demo. LANGUAGE goes: gettext puts it above LC_ALL.
LOCALE_VARS = ("LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES")
USER_LOCALE = {k: os.environ[k] for k in LOCALE_VARS if k in os.environ}
os.environ.pop("LANGUAGE", None)
os.environ["LC_ALL"] = "C.UTF-8"


# A moment in the CLI's --json (issue 15): RFC 3339 UTC with milliseconds;
# "never" is null. Same-format strings compare in time order.
ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def is_iso(s):
    return isinstance(s, str) and ISO_MS.match(s) is not None


def wait_for(pred, timeout=30.0, interval=0.05, what="condition"):
    """Poll pred() until it returns a true value; return that value."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.0fs waiting for %s" % (timeout, what))
        time.sleep(interval)


class Institution:
    """One institution: its keys, config, store and (when started) daemon."""

    def __init__(self, root, iid, name, report_language="en", **net):
        self.id = iid
        self.name = name
        self.dir = os.path.join(root, iid)
        os.makedirs(self.dir, exist_ok=True)
        self.keys = os.path.join(self.dir, "keys")
        self.conf = os.path.join(self.dir, "overstapd.conf")
        self.db = os.path.join(self.dir, "store.db")
        self.sock = os.path.join(self.dir, "control.sock")
        self.logpath = os.path.join(self.dir, "overstapd.log")
        self.listen = "tcp://127.0.0.1:*"
        self.net = {"heartbeat_ivl_ms": 500, "heartbeat_timeout_ms": 2000,
                    "retry_initial_ms": 500, "retry_max_ms": 2000}
        self.net.update(net)
        self.policy = {}     # [policy] keys, e.g. retention_sent_days
        self.import_ = {}    # [import] keys, e.g. spool
        self.control = {}    # more [control] keys, e.g. group, mentor (rights)
        # [report] keys. English reports, which these tests read, unless told:
        # report_language=None leaves the daemon's default (Dutch).
        self.report = {"language": report_language} if report_language else {}
        self.peers = {}      # id -> (Institution or dict, endpoint-or-None)
        self.peer_extra = {}  # id -> more "key = value" lines for its [peer] section
        self.proc = None
        self.log = None
        self.cli("keys", "gen", "--dir", self.keys)
        self.curve_pub = self._read("curve.pub")
        self.sign_pub = self._read("sign.pub")
        self.write_config()

    def _read(self, name):
        with open(os.path.join(self.keys, name)) as f:
            return f.read().strip()

    def write_config(self):
        lines = [
            "[institution]", "id = %s" % self.id, "name = %s" % self.name,
            "keys_dir = %s" % self.keys, "",
            "[network]", "listen = %s" % self.listen,
        ]
        lines += ["%s = %s" % kv for kv in sorted(self.net.items())]
        lines += ["", "[store]", "path = %s" % self.db, "",
                  "[control]", "socket = %s" % self.sock]
        lines += ["%s = %s" % kv for kv in sorted(self.control.items())] + [""]
        if self.policy:
            lines += ["[policy]"] + ["%s = %s" % kv for kv in sorted(self.policy.items())] + [""]
        if self.import_:
            lines += ["[import]"] + ["%s = %s" % kv for kv in sorted(self.import_.items())] + [""]
        if self.report:
            lines += ["[report]"] + ["%s = %s" % kv for kv in sorted(self.report.items())] + [""]
        lines += ["[log]", "level = debug", ""]
        for pid, (p, endpoint) in sorted(self.peers.items()):
            curve = p["curve_pub"] if isinstance(p, dict) else p.curve_pub
            sign = p["sign_pub"] if isinstance(p, dict) else p.sign_pub
            pname = p.get("name", pid) if isinstance(p, dict) else p.name
            lines += ["[peer %s]" % pid, "name = %s" % pname]
            if endpoint:
                lines.append("endpoint = %s" % endpoint)
            lines += ["curve_public_key = %s" % curve, "sign_public_key = %s" % sign]
            lines += self.peer_extra.get(pid, []) + [""]
        tmp = self.conf + ".tmp"
        with open(tmp, "w") as f:
            f.write("\n".join(lines))
        os.replace(tmp, self.conf)

    # ---- the CLI ----
    def cli(self, *args, check=True, input=None, timeout=120):
        cmd = [OVERSTAP, "-s", self.sock] + list(args)
        r = subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError("%s exited %d\nstdout: %s\nstderr: %s" %
                                 (" ".join(cmd), r.returncode, r.stdout[-4000:], r.stderr[-4000:]))
        return r

    def cli_json(self, *args):
        return json.loads(self.cli(*(list(args) + ["--json"])).stdout)

    def status(self):
        return self.cli_json("status")

    def peer_status(self, pid):
        for p in self.status()["peers"]:
            if p["id"] == pid:
                return p
        return None

    # ---- the daemon ----
    def start(self, extra_env=None, args=(), preexec_fn=None):
        """preexec_fn runs in the child before exec, e.g. to set an rlimit."""
        assert self.proc is None, "already running"
        env = dict(os.environ)
        env.update(extra_env or {})
        self.log = open(self.logpath, "a")
        self.proc = subprocess.Popen([OVERSTAPD, "-c", self.conf] + list(args), stdout=self.log,
                                     stderr=subprocess.STDOUT, env=env,
                                     preexec_fn=preexec_fn)

        def ready():
            if self.proc.poll() is not None:
                raise AssertionError("overstapd %s exited with %d at start:\n%s" %
                                     (self.id, self.proc.returncode, self.read_log()[-3000:]))
            if not os.path.exists(self.sock):
                return None
            try:
                r = self.cli("status", "--json", check=False, timeout=10)
            except subprocess.TimeoutExpired:
                return None  # e.g. a socket file left by a killed daemon: poll again
            return json.loads(r.stdout) if r.returncode == 0 else None
        st = wait_for(ready, timeout=30, what="overstapd %s to answer" % self.id)
        if "*" in self.listen:
            # Keep the port the kernel gave us, so a restart comes back on it.
            self.listen = st["listen"]
            self.write_config()
        return self

    @property
    def endpoint(self):
        assert "*" not in self.listen, "start the daemon first"
        return self.listen

    def stop(self, timeout=None):
        """SIGTERM and wait; returns the exit code (0 for a clean stop)."""
        if self.proc is None:
            return None
        timeout = timeout or (60 if UNDER_VALGRIND else 20)
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("overstapd %s did not stop on SIGTERM" % self.id)
        self.proc = None
        self.log.close()
        return rc

    def kill(self):
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.proc = None
        self.log.close()

    def reload(self):
        self.proc.send_signal(signal.SIGHUP)

    def read_log(self):
        with open(self.logpath, errors="replace") as f:
            return f.read()

    def add_peer(self, other, send=True, endpoint=None):
        """Configure `other` as a peer (sending to it when send=True, at
        `endpoint` if given, e.g. a relay, else at other's own); reloads a
        running daemon and waits until the peer is known."""
        self.peers[other.id] = (other, (endpoint or other.endpoint) if send else None)
        self.write_config()
        if self.proc is not None:
            self.reload()
            wait_for(lambda: self.peer_status(other.id), timeout=10,
                     what="%s to know peer %s" % (self.id, other.id))


def federation(root, school_id="12AB00", mbo_id="25LZ00", report_language="en", **net):
    """A school and an MBO daemon, started, each configured with the other."""
    school = Institution(root, school_id, "Praktijkschool De Brug", report_language,
                         **net).start()
    mbo = Institution(root, mbo_id, "MBO Entree College", report_language, **net).start()
    # Keys first, endpoints second, as administrators would: neither side then
    # dials a daemon that does not know it yet (it would be refused and retry).
    school.add_peer(mbo, send=False)
    mbo.add_peer(school, send=False)
    school.add_peer(mbo, send=True)
    mbo.add_peer(school, send=True)
    return school, mbo


# ---- synthetic data ----
GIVEN = ["Daan", "Sem", "Noah", "Lucas", "Finn", "Emma", "Julia", "Mila", "Tess", "Sophie",
         "Yara", "Mohammed", "Ayoub", "Fatima", "Sara", "Liam", "Zoë", "Anouk", "Bram", "Jesse"]
FAMILY = ["de Vries", "Jansen", "van den Berg", "Bakker", "Visser", "Smit", "Meijer", "de Boer",
          "Mulder", "de Groot", "Bos", "Vos", "Peters", "Hendriks", "van Leeuwen", "Dekker",
          "El Amrani", "Yilmaz", "Kaya", "Brouwer"]


def bsn(rng):
    """A random 9-digit number that passes the elfproef (BSN weights 9..2, -1)."""
    while True:
        d = [rng.randint(0, 9) for _ in range(8)]
        if d[0] == 1 and d[1] == 0:
            continue  # "10..." is read as an onderwijsnummer
        s = sum(x * w for x, w in zip(d, range(9, 1, -1))) % 11
        if s < 10 and any(d):
            return "".join(map(str, d)) + str(s)


def leavers_csv(path, n, dest="25LZ00", cohort="2024-2025", seed=1, program="pro", prefix="L"):
    """Write a leavers CSV of n pupils (pupil_ref PREFIX000001...); returns the
    rows as dicts."""
    rng = random.Random(seed)
    rows = []
    y = int(cohort[:4])
    seen = set()
    for i in range(n):
        pgn = bsn(rng)
        while pgn in seen:
            pgn = bsn(rng)
        seen.add(pgn)
        rows.append({
            "pupil_ref": "%s%06d" % (prefix, i + 1),
            "pgn": pgn,
            "given_name": rng.choice(GIVEN),
            "family_name": rng.choice(FAMILY) + "-%d" % i,
            "birth_date": "%04d-%02d-%02d" % (y - 16 - rng.randint(0, 2), rng.randint(1, 12), rng.randint(1, 28)),
            "program": program,
            "cohort": cohort,
            "exit_date": "%04d-07-%02d" % (y + 1, rng.randint(1, 15)),
            "destination_type": "mbo_entree",
            "destination_institution": dest,
            "advice": "entree",
            "advice_followed": "yes",
            "level_taal": "1F",
            "level_rekenen": "1F",
        })
    cols = list(rows[0].keys())
    with open(path, "w", encoding="utf-8") as f:
        f.write(",".join(cols) + "\n")
        for r in rows:
            f.write(",".join('"%s"' % r[c] if " " in r[c] else r[c] for c in cols) + "\n")
    return rows


def hand_over(school, rows, date="2025-06-01"):
    """Record registration and inzage for every row, then send all ready."""
    refs = [r["pupil_ref"] for r in rows]
    for i in range(0, len(refs), 500):
        school.cli("handover", "registered", "--date", date, *refs[i:i + 500])
    for i in range(0, len(refs), 500):
        school.cli("handover", "inzage", "--by", "pupil", "--agrees", "yes",
                   "--date", date, *refs[i:i + 500])
    return school.cli("handover", "send", "--all-ready")


def write_csv(path, rows, cols=None):
    """Write dicts as a CSV (RFC 4180 quoting, UTF-8, header row); cols
    defaults to the keys of the first row. Returns path."""
    import csv
    cols = cols or list(rows[0].keys())
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(cols)
        for r in rows:
            w.writerow([r.get(c, "") for c in cols])
    return path


class Relay:
    """A TCP relay on 127.0.0.1 to `upstream` (tcp://host:port): point a peer
    endpoint at relay.endpoint to watch or slow down what travels between two
    daemons. Keeps every byte per connection and direction when record=True
    (conns: [{"up": client->server bytes, "down": server->client bytes}]);
    passes at most `rate` bytes/s each way when rate is set. While the
    upstream is down it holds an accepted connection open (and retries)
    rather than closing it, like a network path, not a refusing proxy."""

    def __init__(self, upstream, rate=None, record=True):
        host, port = upstream[len("tcp://"):].rsplit(":", 1)
        self.upstream = (host, int(port))
        self.rate = rate
        self.record = record
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(16)
        self.endpoint = "tcp://127.0.0.1:%d" % self.lsock.getsockname()[1]
        self.lock = threading.Lock()
        self.conns = []
        self.bytes = {"up": 0, "down": 0}
        self.socks = []
        self.closed = False
        self.threads = [threading.Thread(target=self._accept, daemon=True)]
        self.threads[0].start()

    def _accept(self):
        while True:
            try:
                client, _ = self.lsock.accept()
            except OSError:
                return
            with self.lock:
                if self.closed:
                    client.close()
                    return
                self.socks.append(client)
            t = threading.Thread(target=self._connect, args=(client,), daemon=True)
            t.start()
            self.threads.append(t)

    def _connect(self, client):
        server = None
        while server is None:
            if self.closed:
                return
            try:
                server = socket.create_connection(self.upstream, timeout=2)
                server.settimeout(None)
            except OSError:
                # Upstream down: keep the client waiting unless it gave up.
                r, _, _ = select.select([client], [], [], 0.05)
                if r:
                    try:
                        peek = client.recv(1, socket.MSG_PEEK)
                    except OSError:
                        peek = b""
                    if not peek:
                        client.close()
                        return
                    time.sleep(0.05)
        rec = {"up": bytearray(), "down": bytearray()}
        with self.lock:
            if self.closed:
                server.close()
                return
            self.socks.append(server)
            self.conns.append(rec)
        for src, dst, key in ((client, server, "up"), (server, client, "down")):
            t = threading.Thread(target=self._pump, args=(src, dst, key, rec[key]), daemon=True)
            t.start()
            self.threads.append(t)

    def _pump(self, src, dst, key, buf):
        try:
            while True:
                data = src.recv(4096 if self.rate else 65536)
                if not data:
                    break
                with self.lock:
                    self.bytes[key] += len(data)
                    if self.record:
                        buf += data
                if self.rate:
                    time.sleep(len(data) / self.rate)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def captured(self, key):
        """All recorded bytes of one direction ("up" or "down"), connections joined."""
        with self.lock:
            return b"".join(bytes(c[key]) for c in self.conns)

    def count(self, key):
        """Bytes passed so far in one direction ("up" or "down")."""
        with self.lock:
            return self.bytes[key]

    def close(self):
        with self.lock:
            if self.closed:
                return
            self.closed = True
            socks = list(self.socks)
        try:
            self.lsock.shutdown(socket.SHUT_RDWR)   # wakes the accept() (Linux)
        except OSError:
            pass
        self.lsock.close()
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()
        for t in self.threads:
            t.join(5)


class TempDir:
    def __enter__(self):
        self.path = tempfile.mkdtemp(prefix="overstap-test-")
        return self.path

    def __exit__(self, *exc):
        if os.environ.get("OVERSTAP_KEEP_TMP"):   # debugging: keep logs and stores
            print("\nkept %s" % self.path)
            return
        subprocess.run(["rm", "-rf", self.path])


class DaemonTestCase(unittest.TestCase):
    """A temporary directory per test; every Institution appended to
    self.insts that is still running at the end is killed (under valgrind:
    stopped, and it must exit 0)."""

    def setUp(self):
        self._tmp = TempDir()
        self.root = self._tmp.__enter__()
        self.insts = []

    def tearDown(self):
        bad = {}
        for i in self.insts:
            if i.proc is None:
                continue
            if UNDER_VALGRIND:
                rc = i.stop()
                if rc != 0:
                    bad[i.id] = (rc, i.read_log()[-3000:])
            else:
                i.kill()
        self._tmp.__exit__(None, None, None)
        if bad:
            raise AssertionError("overstapd under valgrind exited non-zero: %s" % bad)


class FederationCase(unittest.TestCase):
    """A school and an MBO daemon for the whole class; both must stop cleanly
    (exit 0 on SIGTERM: the sanitizer build reports leaks that way)."""

    @classmethod
    def setUpClass(cls):
        cls._tmp = TempDir()
        cls.root = cls._tmp.__enter__()
        try:
            cls.school, cls.mbo = federation(cls.root)
        except BaseException:
            cls._tmp.__exit__(None, None, None)
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            rcs = {i.id: i.stop() for i in (cls.school, cls.mbo)}
            bad = {k: v for k, v in rcs.items() if v != 0}
            if bad:
                raise AssertionError("overstapd exited non-zero on SIGTERM %s (sanitizer report "
                                     "in the logs?):\n%s" % (bad, cls.mbo.read_log()[-3000:] +
                                                              cls.school.read_log()[-3000:]))
        finally:
            cls._tmp.__exit__(None, None, None)
