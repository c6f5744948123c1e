"""Integration: privacy at rest and on the wire (design.md §4 CURVE, §5 store).

- After a transfer, neither institution's sqlite store (main file, -wal, -shm)
  holds a pupil's name, PGN, birth date, pupil ref, care notes, inzage
  remarks or the mentor's contact data as bytes
  (what `strings` would find), neither while the daemons run nor after they
  stopped; nor do the daemons' (debug-level) logs.
- On the wire: a TCP relay (harness.Relay) sits between the school and the MBO
  (the school's peer endpoint is the relay), records every byte both ways,
  and the handovers must have passed through it without any of that showing.

Run: python3 -m unittest -v test_privacy   (OVERSTAPD / OVERSTAP from the environment)
"""
import base64
import glob
import hashlib
import hmac
import os
import random
import sqlite3
import time
import unittest

import harness
from harness import wait_for
from test_reliability import hkdf_sha256, inbox_pseudonym_key

MBO = "25LZ00"
DATE = "2025-06-01"
REMARKS = "Wil graag in de dierverzorging; moeder vraagt om één vast aanspreekpunt"


def private_rows(path, n, seed, prefix):
    """n leavers whose personal data is distinctive enough to search for as
    bytes without chance hits: two given names, double family names."""
    rng = random.Random(seed)
    rows = harness.leavers_csv(path, n, seed=seed, prefix=prefix)
    used = set()
    for i, r in enumerate(rows):
        while True:
            g = rng.sample(harness.GIVEN, 2)
            f = rng.sample(harness.FAMILY, 2)
            key = (tuple(g), tuple(f))
            if key not in used:
                used.add(key)
                break
        r["given_name"] = "%s %s" % tuple(g)
        r["family_name"] = "%s-%s" % tuple(f)
        # Free-text care notes and the mentor's contact data: personal too.
        r["support_needs"] = "job_coach:begeleider %s op dinsdag;extra_time" % g[0]
        r["mentor_name"] = "mentor %s" % rng.choice(harness.FAMILY)
        r["mentor_email"] = "mentor.%04d@debrug.example" % i
        r["mentor_phone"] = "06-%08d" % rng.randrange(10 ** 8)
    harness.write_csv(path, rows)
    return rows


def secrets_of(rows):
    """The byte strings that must never appear: label -> bytes."""
    out = {"remarks": REMARKS.encode()}
    for r in rows:
        ref = r["pupil_ref"]
        out["%s pgn" % ref] = r["pgn"].encode()
        out["%s given_name" % ref] = r["given_name"].encode()
        out["%s family_name" % ref] = r["family_name"].encode()
        out["%s full name" % ref] = ("%s %s" % (r["given_name"], r["family_name"])).encode()
        out["%s birth_date" % ref] = r["birth_date"].encode()
        out["%s support note" % ref] = r["support_needs"].split(":", 1)[1].split(";")[0].encode()
        out["%s mentor_email" % ref] = r["mentor_email"].encode()
        out["%s mentor_phone" % ref] = r["mentor_phone"].encode()
        out["%s pupil_ref" % ref] = ref.encode()
    return out


def find_secrets(data, secrets):
    return sorted(label for label, s in secrets.items() if s in data)


def hand_over_with_remarks(school, rows):
    """harness.hand_over, with remarks on the first pupil's inzage."""
    refs = [r["pupil_ref"] for r in rows]
    school.cli("handover", "registered", "--date", DATE, *refs)
    school.cli("handover", "inzage", refs[0], "--by", "pupil", "--agrees", "yes",
               "--date", DATE, "--remarks", REMARKS)
    school.cli("handover", "inzage", "--by", "pupil", "--agrees", "yes", "--date", DATE, *refs[1:])
    return school.cli("handover", "send", "--all-ready")


class PrivacyTest(harness.DaemonTestCase):

    def stop_all(self):
        for i in self.insts:
            rc = i.stop()
            self.assertEqual(rc, 0, "overstapd %s exited %s on SIGTERM (sanitizer report?):\n%s"
                             % (i.id, rc, i.read_log()[-4000:]))

    def wait_delivered(self, school, mbo, n):
        wait_for(lambda: len(school.cli_json("handover", "list", "--state", "delivered")) == n,
                 timeout=60, what="%d handovers delivered" % n)
        wait_for(lambda: school.peer_status(MBO)["outbox_depth"] == 0, timeout=10,
                 what="an empty outbox")
        self.assertEqual(len(mbo.cli_json("inbox", "list")), n)

    def store_bytes(self, inst):
        """name -> bytes of the store and its -wal/-shm companions."""
        out = {}
        for path in sorted(glob.glob(inst.db + "*")):
            with open(path, "rb") as f:
                out[os.path.basename(path)] = f.read()
        return out

    def assert_store_clean(self, inst, secrets, when):
        files = self.store_bytes(inst)
        self.assertIn("store.db", files)
        # The files are read correctly: the non-personal columns are plain text.
        self.assertIn(b"2024-2025", b"".join(files.values()), "%s store %s: no cohort found "
                      "at all; are these the right files?" % (inst.id, when))
        for name, data in files.items():
            found = find_secrets(data, secrets)
            self.assertEqual(found, [], "%s %s %s holds personal data in plain text: %s"
                             % (inst.id, name, when, ", ".join(found[:12])))
        return sorted(files)

    # ------------------------------------------------------------------
    def test_store_files_hold_no_names_or_pgns(self):
        school, mbo = harness.federation(self.root)
        self.insts = [school, mbo]
        n = 60
        rows = private_rows(os.path.join(self.root, "leavers.csv"), n, seed=77, prefix="PRV-")
        school.cli("import", "leavers", os.path.join(self.root, "leavers.csv"))
        hand_over_with_remarks(school, rows)
        self.wait_delivered(school, mbo, n)
        # The transfer really carried the data the stores must not show.
        some = school.cli_json("handover", "list")[0]
        d = mbo.cli_json("inbox", "show", some["record_id"])["dossier"]
        self.assertIn(d["pgn"], {r["pgn"] for r in rows})
        secrets = secrets_of(rows)

        # While running: the recent pages live in the -wal.
        seen = {}
        for inst in (school, mbo):
            seen[inst.id] = self.assert_store_clean(inst, secrets, "while running")
        self.assertIn("store.db-wal", seen[mbo.id], "expected the receiver's store in WAL mode")
        # After a clean stop (checkpointed into the main file).
        self.stop_all()
        for inst in (school, mbo):
            self.assert_store_clean(inst, secrets, "after stopping")
        # Nor in the logs, at debug level.
        for inst in (school, mbo):
            found = find_secrets(inst.read_log().encode(), secrets)
            self.assertEqual(found, [], "%s's log holds personal data: %s" % (inst.id, found[:12]))

    # ------------------------------------------------------------------
    def test_wire_through_a_relay_carries_no_names_or_pgns(self):
        school = harness.Institution(self.root, "12AB00", "Praktijkschool De Brug").start()
        self.insts = [school]
        mbo = harness.Institution(self.root, MBO, "MBO Entree College").start()
        self.insts.append(mbo)
        relay = harness.Relay(mbo.endpoint)
        self.addCleanup(relay.close)
        mbo.add_peer(school, send=True)
        school.add_peer(mbo, send=True, endpoint=relay.endpoint)
        self.assertEqual(school.peer_status(MBO)["endpoint"], relay.endpoint)
        wait_for(lambda: school.peer_status(MBO)["connected"], timeout=30,
                 what="the school to connect to the MBO through the relay")

        n = 50
        rows = private_rows(os.path.join(self.root, "leavers.csv"), n, seed=88, prefix="WIRE-")
        school.cli("import", "leavers", os.path.join(self.root, "leavers.csv"))
        before_up, before_down = relay.count("up"), relay.count("down")
        hand_over_with_remarks(school, rows)
        self.wait_delivered(school, mbo, n)
        self.stop_all()
        relay.close()

        # Through the relay: the relay is the school's only way to the MBO,
        # and the dossiers' bytes went up it and the acks came down it.
        up, down = relay.captured("up"), relay.captured("down")
        self.assertGreaterEqual(len(relay.conns), 1)
        self.assertGreater(len(up) - before_up, n * 200,
                           "too few bytes went through the relay for %d dossiers" % n)
        self.assertGreater(len(down) - before_down, 0, "no acks came back through the relay")
        # CURVE, as the ZMTP greeting of every connection says (in clear text).
        for c in relay.conns:
            for key in ("up", "down"):
                greeting = bytes(c[key][:64])
                if greeting:
                    self.assertIn(b"CURVE\0", greeting, "a %s greeting without CURVE" % key)
                    self.assertNotIn(b"NULL\0", greeting)
        secrets = secrets_of(rows)
        for key, data in (("school -> MBO", up), ("MBO -> school", down)):
            found = find_secrets(data, secrets)
            self.assertEqual(found, [], "plain personal data on the wire (%s): %s"
                             % (key, ", ".join(found[:12])))


def derivable_plaintexts(inst):
    """Everything in inst's store that opens with a key master.key gives:
    master itself, every sub-key (HKDF labels), every pupil key still
    wrapped, tried on every blob of every table with every value of its row
    as the AAD (and the fixed labels). What an attacker holding the store
    and master.key reads; label -> plaintexts."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.exceptions import InvalidTag
    with open(os.path.join(inst.keys, "master.key")) as f:
        master = base64.b64decode(f.read().strip())
    keys = [master] + [hkdf_sha256(master, label) for label in
                       (b"overstap outbox v1", b"overstap pseudonym v1", b"overstap audit v1")]
    db = sqlite3.connect("file:%s?mode=ro" % inst.db, uri=True)
    for (wrapped,) in db.execute("SELECT wrapped FROM pupil_keys WHERE wrapped IS NOT NULL"):
        # the AAD is the label with its NUL (store.c s_key_aad, sizeof)
        keys.append(AESGCM(master).decrypt(wrapped[:12], wrapped[12:], b"overstap-pupil-key-v1\0"))
    out = []
    tables = [t for (t,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    for t in tables:
        for row in db.execute("SELECT * FROM %s" % t):
            aads = [v.encode() if isinstance(v, str) else v for v in row
                    if isinstance(v, (str, bytes))] + [b"overstap-pupil-key-v1\0", b""]
            for blob in (v for v in row if isinstance(v, bytes) and len(v) > 28):
                for k in keys:
                    for aad in aads:
                        try:
                            out.append(AESGCM(k).decrypt(blob[:12], blob[12:], aad))
                            break
                        except InvalidTag:
                            pass
    db.close()
    return out


def pseudonym_tags(key, r):
    """The HMACs (the store's pseudonym key) of r's PGN and pupil number, as
    the daemon derives them: what a guessed BSN or number is tried against."""
    return {"pgn": hmac.new(key, b"pgn:" + r["pgn"].encode(), hashlib.sha256).digest(),
            "ref": hmac.new(key, b"ref:" + r["pupil_ref"].encode(), hashlib.sha256).digest()}


class DerivableKeysTest(harness.DaemonTestCase):
    """Issue 16 item 3/4: after erasure and after retention, nothing that any
    key derivable from master.key opens holds the pupil's PGN, name or birth
    date, at the school or at the MBO, and no pseudonym of the PGN or pupil
    number is left anywhere in the store's files. A third pupil, neither erased nor
    expired, is the control: the same search must find it."""

    def test_erased_and_expired_pupils_leave_nothing_readable(self):
        school, mbo = harness.federation(self.root)
        self.insts += [school, mbo]
        path = os.path.join(self.root, "d.csv")
        rows = private_rows(path, 3, 77, "D")
        school.cli("import", "leavers", path)
        hand_over_with_remarks(school, rows)
        wait_for(lambda: len(mbo.cli_json("inbox", "list")) == 3, what="three dossiers at the MBO")
        rid = {r["pupil_ref"]: r["record_id"] for r in school.cli_json("handover", "list")}
        # The MBO registers D000002 (a Registration: its PGN travels back).
        mbo.cli("registration", "record", rows[1]["pgn"], "--from", school.id)
        def settled():
            db = sqlite3.connect("file:%s?mode=ro" % mbo.db, uri=True)
            try:
                return db.execute("SELECT count(*) FROM outbox WHERE body_case = 18"
                                  " AND state != 0").fetchone()[0] == 1
            finally:
                db.close()
        wait_for(settled, what="the registration answered by the school")

        # D000001 erased at the school, and at the MBO by its own staff (the
        # school's erasure does not reach a dossier held on the statute).
        school.cli("erase", "D000001", "--yes")
        mbo.cli("erase", rid["D000001"], "--yes")
        self.assertTrue(mbo.cli_json("inbox", "show", rid["D000001"])["erased_at"])
        # D000002 expired by retention on both sides.
        for inst, sql in ((school, "UPDATE leavers SET delivered_at = ? WHERE record_id = ?"),
                          (mbo, "UPDATE inbox SET received_at = ? WHERE record_id = ?")):
            self.assertEqual(inst.stop(), 0)
            inst.policy.update({"retention_sent_days": 30, "retention_received_days": 30})
            inst.write_config()
            db = sqlite3.connect(inst.db)
            db.execute(sql, (int((time.time() - 31 * 86400) * 1000), rid["D000002"]))
            db.commit()
            db.close()
            inst.start()
        wait_for(lambda: mbo.cli_json("inbox", "show", rid["D000002"])["erased_at"],
                 what="retention at the MBO")
        wait_for(lambda: school.cli_json("audit", "verify")["entries"] > 0 and
                 [o for o in school.cli_json("handover", "list")
                  if o["record_id"] == rid["D000002"]][0]["pupil_ref"] == "(erased)",
                 what="retention at the school")

        for inst in (school, mbo):
            texts = b"\n".join(derivable_plaintexts(inst))
            for r in rows[:2]:
                for field in ("pgn", "given_name", "family_name", "birth_date"):
                    self.assertNotIn(r[field].encode(), texts, "%s: %s's %s opens with a key "
                                     "master.key gives" % (inst.id, r["pupil_ref"], field))
            # the control: the pupil kept is found, so the search does open things
            self.assertIn(rows[2]["pgn"].encode(), texts, "%s: the search found nothing" % inst.id)
            for field in ("family_name", "given_name", "birth_date"):
                self.assertIn(rows[2][field].encode(), texts)

        # No pseudonym master.key gives leads from an erased or expired
        # pupil's PGN to a row, the MBO's link to its registration included
        # (design.md §3.10); the control pupil's still does.
        key = inbox_pseudonym_key(mbo)
        db = sqlite3.connect("file:%s?mode=ro" % mbo.db, uri=True)
        try:
            held = {bytes(p) for (p,) in db.execute(
                "SELECT pseudonym FROM inbox UNION ALL SELECT pseudonym FROM registrations_sent")}
        finally:
            db.close()
        def pseudo(r):
            return hmac.new(key, b"pgn:" + r["pgn"].encode(), hashlib.sha256).digest()
        for r in rows[:2]:
            self.assertNotIn(pseudo(r), held, "%s's PGN still leads to a row" % r["pupil_ref"])
        self.assertIn(pseudo(rows[2]), held)

        # Not only those tables: no HMAC master.key gives over a guessed PGN
        # or pupil number is anywhere in either store's files (every table,
        # the audit log, the WAL), for an erased or an expired pupil.
        for inst in (school, mbo):
            key = inbox_pseudonym_key(inst)
            raw = b"".join(PrivacyTest.store_bytes(self, inst).values())
            for r in rows[:2]:
                for what, tag in pseudonym_tags(key, r).items():
                    self.assertFalse(tag in raw, "%s: the %s pseudonym of %s is still in the "
                                     "store" % (inst.id, what, r["pupil_ref"]))
            self.assertTrue(pseudonym_tags(key, rows[2])["pgn"] in raw, "%s: the search finds nothing" % inst.id)

    def test_settled_registration_not_left_in_the_wal(self):
        """Issue 16 item 3: a Registration the MBO sent (the PGN inside,
        under the outbox key master.key gives) is emptied when the school
        acknowledges it, but its old page stayed in the store's -wal file
        for as long as the daemon ran (until an erasure truncated it): the
        sealed bytes were there to open. Now the WAL is truncated after such
        a message settles."""
        school, mbo = harness.federation(self.root)
        self.insts += [school, mbo]
        path = os.path.join(self.root, "r.csv")
        rows = private_rows(path, 1, 78, "R")
        school.cli("import", "leavers", path)
        self.assertEqual(school.stop(), 0)        # the registration stays queued at the MBO
        mbo.cli("registration", "record", rows[0]["pgn"], "--from", school.id)
        db = sqlite3.connect("file:%s?mode=ro" % mbo.db, uri=True)
        try:
            (sealed,) = db.execute("SELECT sealed FROM outbox WHERE body_case = 18").fetchone()
        finally:
            db.close()
        sealed = bytes(sealed)
        self.assertGreater(len(sealed), 60)
        school.start()
        wait_for(lambda: school.cli_json("handover", "list")[0]["state"] == "registered",
                 what="the registration at the school")

        def left():
            return [name for name, data in PrivacyTest.store_bytes(self, mbo).items()
                    if sealed[12:60] in data]
        wait_for(lambda: not left(), timeout=10,
                 what="the sealed registration gone from the MBO's store files")

if __name__ == "__main__":
    unittest.main()
