"""Integration: limits both sides know, dead letters and per-peer quotas
(design.md §4, issue 11 items 3 and 5), between two real daemons.

Before: a dossier within the school's limits but above the MBO's
max_message_size was resent ~40 times a second forever and every dossier
behind it waited; a valid peer could store as much as it liked (71,195
dossiers in 27 s). Now the oversized one is parked (kept, not sent, visible in
status, handover list/show and `outbox list`) and the rest goes through; a
retry or cancel command settles it; a peer over its quota is refused for now
and keeps its messages queued, with one audit entry per hour.

Run: python3 -m unittest -v test_limits   (OVERSTAPD / OVERSTAP from the environment)
"""
import json
import os
import time
import unittest

import harness
from harness import wait_for

MBO = "25LZ00"
DATE = "2025-06-01"
SMALL_LIMIT = 4096


class LimitsTest(harness.DaemonTestCase):

    def federation(self, **net):
        school, mbo = harness.federation(self.root, **net)
        self.insts = [school, mbo]
        return school, mbo

    def prepare(self, school, n, prefix, remarks=None, seed=1):
        """Import n leavers; registration and inzage recorded (remarks:
        ref -> text for the inzage of that pupil)."""
        path = os.path.join(self.root, "%s.csv" % prefix)
        rows = harness.leavers_csv(path, n, prefix=prefix, seed=seed)
        school.cli("import", "leavers", path)
        refs = [r["pupil_ref"] for r in rows]
        school.cli("handover", "registered", "--date", DATE, *refs)
        for ref in refs:
            extra = ["--remarks", remarks[ref]] if remarks and ref in remarks else []
            school.cli("handover", "inzage", "--by", "pupil", "--agrees", "yes",
                       "--date", DATE, ref, *extra)
        return refs

    def states(self, school):
        return {r["pupil_ref"]: r for r in school.cli_json("handover", "list")}

    def audit(self, inst, action):
        return [e for e in map(json.loads, inst.cli("audit", "export").stdout.splitlines())
                if e["action"] == action]

    def restart(self, inst, **net):
        inst.stop()
        inst.net.update(net)
        inst.write_config()
        inst.start()

    def test_oversized_dossier_parked_not_blocking_then_retried(self):
        school, mbo = self.federation()
        big = "Stage in de zorg. " * 340          # ~6 KB, within the school's limits
        refs = self.prepare(school, 3, "P", remarks={"P000001": big})

        # The MBO lowers its limit while the dossiers are queued: the school
        # learned 1 MiB from its last Hello, so it sends them.
        mbo.stop()
        out = school.cli("handover", "send", "--all-ready")
        self.assertEqual(out.stdout.count("queued "), 3)
        self.restart(mbo, max_message_size=SMALL_LIMIT)

        # The two small ones are delivered; the big one is parked, not resent.
        wait_for(lambda: [self.states(school)[r]["state"] for r in refs] ==
                 ["parked", "delivered", "delivered"], timeout=30,
                 what="P1 parked and P2, P3 delivered")
        row = self.states(school)["P000001"]
        self.assertIn("larger than %s's limit of %d bytes" % (MBO, SMALL_LIMIT), row["parked"])
        peer = school.peer_status(MBO)
        self.assertEqual(peer["parked"], 1)
        self.assertEqual(peer["outbox_depth"], 0)
        self.assertEqual(peer["peer_max_message_size"], SMALL_LIMIT)
        text = school.cli("status").stdout
        self.assertIn("%s: 1 message parked" % MBO, text)
        shown = school.cli("handover", "show", "P000001").stdout
        self.assertIn("parked", shown)
        self.assertIn("outbox retry", shown)

        # Never retried on its own: the MBO sees no more attempts.
        sent = peer["sent"]
        time.sleep(3)
        self.assertEqual(school.peer_status(MBO)["sent"], sent)

        # Queue time: the school now knows the limit and parks at once.
        refs4 = self.prepare(school, 1, "Q", remarks={"Q000001": big}, seed=2)
        out = school.cli("handover", "send", *refs4, check=False)
        self.assertEqual(out.returncode, 1)
        self.assertIn("parked Q000001: message of", out.stderr)
        self.assertEqual(self.states(school)["Q000001"]["state"], "parked")

        parked = school.cli_json("outbox", "list")
        self.assertEqual(len(parked), 2)
        self.assertEqual({p["kind"] for p in parked}, {"handover"})
        by_record = {p["record_id"]: p for p in parked}
        q_record = self.states(school)["Q000001"]["record_id"]
        self.assertIn(q_record, by_record)

        # Cancel one, retry the rest once the MBO takes larger messages.
        school.cli("outbox", "cancel", by_record[q_record]["message_id"])
        self.assertEqual(self.states(school)["Q000001"]["state"], "cancelled")
        bad = school.cli("outbox", "retry", "01234567-89ab-7def-8123-456789abcdef", check=False)
        self.assertEqual(bad.returncode, 1)
        self.assertIn("not a parked message", bad.stderr)
        self.restart(mbo, max_message_size=1048576)
        wait_for(lambda: school.peer_status(MBO)["peer_max_message_size"] == 1048576,
                 timeout=20, what="the school to hear the MBO's new limit")
        out = school.cli("outbox", "retry", "--all")
        self.assertIn("queued again 1 parked message", out.stdout)
        wait_for(lambda: self.states(school)["P000001"]["state"] == "delivered", timeout=30,
                 what="the retried dossier to be delivered")
        self.assertEqual(len(mbo.cli_json("inbox", "list")), 3)
        self.assertEqual(school.peer_status(MBO)["parked"], 0)
        self.assertEqual(len(self.audit(school, "message.parked")), 2)
        self.assertEqual(len(self.audit(school, "message.cancelled")), 1)
        self.assertEqual(len(self.audit(school, "message.retried")), 1)

    def test_quota_refuses_for_now_and_loses_nothing(self):
        school, mbo = self.federation()
        mbo.stop()
        mbo.net.update(max_messages_per_peer_per_hour=4)
        mbo.write_config()
        mbo.start()
        refs = self.prepare(school, 8, "R")
        school.cli("handover", "send", "--all-ready")

        # Four in this hour; the rest stay queued at the school (not cancelled,
        # not parked), told to come back later.
        wait_for(lambda: mbo.peer_status(school.id)["quota_refused"] >= 4, timeout=30,
                 what="the MBO to refuse what is over the quota")
        st = self.states(school)
        self.assertEqual(sorted(s["state"] for s in st.values()), ["delivered"] * 4 + ["queued"] * 4)
        self.assertEqual(len(mbo.cli_json("inbox", "list")), 4)
        peer = mbo.peer_status(school.id)
        self.assertEqual((peer["quota_messages"], peer["quota_messages_max"]), (4, 4))
        self.assertIn("%s: quota: 4 of 4 messages this hour" % school.id, mbo.cli("status").stdout)
        # Retries of refused messages do not each cost an audit entry.
        time.sleep(2)
        self.assertEqual(len(self.audit(mbo, "peer.quota_exceeded")), 1)
        self.assertEqual(school.peer_status(MBO)["parked"], 0)

        # A new window (here: the administrator raises the quota and restarts)
        # and the queued ones arrive; nothing was lost.
        self.restart(mbo, max_messages_per_peer_per_hour=0)
        wait_for(lambda: all(s["state"] == "delivered" for s in self.states(school).values()),
                 timeout=40, what="every dossier delivered after the quota was raised")
        self.assertEqual(len(mbo.cli_json("inbox", "list")), 8)

    def test_stored_bytes_quota(self):
        school, mbo = self.federation()
        self.prepare(school, 2, "S")
        school.cli("handover", "send", "--all-ready")
        wait_for(lambda: len(mbo.cli_json("inbox", "list")) == 2, what="two dossiers at the MBO")
        # What two dossiers take is counted once the next one comes.
        self.restart(mbo, max_stored_bytes_per_peer=100)
        self.prepare(school, 1, "T", seed=3)
        school.cli("handover", "send", "--all-ready")
        wait_for(lambda: mbo.peer_status(school.id)["quota_refused"] >= 1, timeout=30,
                 what="a dossier refused for the stored-bytes quota")
        peer = mbo.peer_status(school.id)
        self.assertGreater(peer["quota_stored_bytes"], 100)
        self.assertEqual(peer["quota_stored_bytes_max"], 100)
        self.assertEqual(self.states(school)["T000001"]["state"], "queued")
        entry = self.audit(mbo, "peer.quota_exceeded")
        self.assertEqual(len(entry), 1)
        self.assertIn("stored here are at their limit", json.dumps(entry[0]["detail"]))


if __name__ == "__main__":
    unittest.main()
