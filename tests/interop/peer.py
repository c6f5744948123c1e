"""An independent overstap peer in Python (design.md §4), for interop and hostile-peer
tests against a real overstapd.

It is written from the protocol documents only: the Envelope and Handover come
from the classes protoc generated from proto/overstap.proto (OVERSTAP_GEN), the
transport is a pyzmq CURVE DEALER, and Ed25519 comes from `cryptography`. It
never calls the project's C code to build or check a message, so a mistake
shared by both C sides (say, in the signing input) shows up here as a failure.

Run with Debian's system python3 (python3-zmq, python3-protobuf,
python3-cryptography).
"""
import base64
import hashlib
import os
import re
import secrets
import struct
import sys
import time
import uuid

import zmq
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (Ed25519PrivateKey,
                                                               Ed25519PublicKey)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

_GEN = os.environ.get("OVERSTAP_GEN") or os.path.join(
    os.environ.get("OVERSTAP_SRC", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")),
    "build", "gen")
if _GEN not in sys.path:
    sys.path.insert(0, _GEN)
import overstap_pb2 as pb  # noqa: E402  (generated at build time)

PROTOCOL_VERSION = 1
SIG_DOMAIN = b"overstap-sig-v1\x00"
BATCH_DOMAIN = b"overstap-batch-v1\x00"
SIG_LEN = 64
GROUP_MAX = 512

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
INSTITUTION_RE = re.compile(r"^[0-9]{2}[0-9A-Z]{2}[0-9]{2}$")


# ---- identifiers ----

def uuid7(ms=None):
    """A UUIDv7 (RFC 9562) in canonical lowercase text: 48-bit unix ms, version
    7, 74 random bits with the RFC 4122 variant."""
    ms = int(time.time() * 1000) if ms is None else ms
    rand = int.from_bytes(secrets.token_bytes(10), "big")
    rand_a = rand >> 68 & 0xFFF
    rand_b = rand & ((1 << 62) - 1)
    v = (ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | rand_a << 64 | 0b10 << 62 | rand_b
    return str(uuid.UUID(int=v))


def now_ms():
    return int(time.time() * 1000)


# ---- body numbering ----

def body_number(name):
    """The Envelope field number of a body oneof member ("handover" -> 11)."""
    return pb.Envelope.DESCRIPTOR.fields_by_name[name].number


def body_names():
    return [f.name for f in pb.Envelope.DESCRIPTOR.oneofs_by_name["body"].fields]


# ---- signing ----

def _u32(n):
    return struct.pack(">I", n)


def _lv(b):
    if isinstance(b, str):
        b = b.encode("utf-8")
    return _u32(len(b)) + b


def signing_input(field_number, message_id, sender, recipient, created_at, body):
    """The exact bytes an Envelope's signature covers (proto/overstap.proto):
    "overstap-sig-v1" 0x00, u32be(body field number), u32be(len) message_id,
    u32be(len) sender, u32be(len) recipient, i64be(created_at), u32be(len) body."""
    return (SIG_DOMAIN + _u32(field_number) + _lv(message_id) + _lv(sender) + _lv(recipient) +
            struct.pack(">q", created_at) + _lv(body))


def envelope_signing_input(env):
    name = env.WhichOneof("body")
    if name is None:
        raise ValueError("envelope has no body")
    return signing_input(body_number(name), env.message_id, env.sender, env.recipient,
                         env.created_at, getattr(env, name))


def load_sign_pub(b64):
    """An Ed25519 public key from the base64 text of its raw 32 bytes (sign.pub)."""
    raw = base64.b64decode(b64.strip(), validate=True)
    if len(raw) != 32:
        raise ValueError("signing public key is %d bytes, not 32" % len(raw))
    return Ed25519PublicKey.from_public_bytes(raw)


# ---- batch signatures (proto/overstap.proto, design.md §4.3) ----
# RFC 9162 §2.1 with SHA-256: leaf = H(0x00 || signing input), node =
# H(0x01 || left || right); the batch signature is over
# "overstap-batch-v1" 0x00 || u32be(batch_size) || root.

def _sha256(b):
    return hashlib.sha256(b).digest()


def leaf_hash(signing_input_bytes):
    return _sha256(b"\x00" + signing_input_bytes)


def node_hash(left, right):
    return _sha256(b"\x01" + left + right)


def merkle_root(leaves):
    """MTH(D[n]) of RFC 9162 §2.1.1 over leaf hashes."""
    n = len(leaves)
    if n == 1:
        return leaves[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return node_hash(merkle_root(leaves[:k]), merkle_root(leaves[k:]))


def merkle_path(leaves, m):
    """PATH(m, D[n]) of RFC 9162 §2.1.3.1: the sibling hashes from leaf m up."""
    n = len(leaves)
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return merkle_path(leaves[:k], m) + [merkle_root(leaves[k:])]
    return merkle_path(leaves[k:], m - k) + [merkle_root(leaves[:k])]


def root_from_path(leaf, index, size, path):
    """The root leaf and path lead to (RFC 9162 §2.1.3.2), or None when the
    path does not fit index and size."""
    if index >= size:
        return None
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0 or len(p) != 32:
            return None
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


def batch_signing_input(size, root):
    return BATCH_DOMAIN + _u32(size) + root


def verify_envelope(env, public_key):
    """True when env is signed by public_key: its v1 signature, or for a
    batch-signed envelope its path leads to a root whose batch signature
    verifies."""
    if isinstance(public_key, str):
        public_key = load_sign_pub(public_key)
    if len(env.signature) != SIG_LEN:
        return False
    try:
        if env.batch_size == 0:
            if env.batch_index or len(env.batch_path):
                return False
            signed = envelope_signing_input(env)
        else:
            if env.batch_size > GROUP_MAX:
                return False
            root = root_from_path(leaf_hash(envelope_signing_input(env)), env.batch_index,
                                  env.batch_size, list(env.batch_path))
            if root is None:
                return False
            signed = batch_signing_input(env.batch_size, root)
        public_key.verify(env.signature, signed)
        return True
    except (InvalidSignature, ValueError):
        return False


# ---- messages ----

def consent_assertion(**fields):
    """A ConsentAssertion (as a dict) for a pupil's handover consent to anyone."""
    a = dict(consent_id=str(uuid.uuid4()), purpose="handover", counterpart="*",
             grantor="pupil", granted_at="2025-05-01", valid_until="")
    a.update(fields)
    return a


def handover(**fields):
    """A Handover the daemon accepts; keyword arguments override fields
    (nested messages given as dicts; support_needs as a list of dicts)."""
    defaults = dict(
        record_id=str(uuid.uuid4()),
        pgn="123456782",
        given_name="Zoë",
        family_name="van den Berg",
        birth_date="2008-03-14",
        program=pb.PRO,
        cohort="2024-2025",
        exit_date="2025-07-04",
        destination=pb.MBO_ENTREE,
        advice=pb.ADVICE_ENTREE,
        advice_followed=pb.TRI_YES,
        level_taal=pb.LEVEL_1F,
        level_rekenen=pb.LEVEL_1F,
        support_needs=[{"code": "structuur", "note": "vaste plek in de klas"}],
        mentor={"name": "J. Mentor", "email": "mentor@example.nl", "phone": "010-1234567"},
        inzage={"reviewer": pb.REVIEWER_PUPIL, "reviewed_on": "2025-06-01",
                "remarks": "Akkoord.", "recorded_by": "mentor1"},
        basis="statute",
        registered_on="2025-06-01",
        # The care note above is free text: it needs a handover consent, which
        # the dossier asserts (design.md §3).
        consents=[consent_assertion()],
    )
    defaults.update(fields)
    h = pb.Handover()
    for k, v in defaults.items():
        if v is None:
            continue
        if k == "support_needs":
            for s in v:
                h.support_needs.add(**s)
        elif k == "consents":
            for a in v:
                h.consents.add(**a)
        elif k in ("mentor", "inzage"):
            getattr(h, k).CopyFrom(getattr(pb, "MentorContact" if k == "mentor" else "Inzage")(**v))
        else:
            setattr(h, k, v)
    return h


# ---- raw protobuf, for what the generated classes will not build ----

def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def raw_field(number, payload, wire_type=2):
    """One encoded field: a length-delimited one by default (bytes/string/message),
    a varint when wire_type is 0 and payload an int."""
    tag = varint(number << 3 | wire_type)
    if wire_type == 0:
        return tag + varint(payload)
    return tag + varint(len(payload)) + payload


class Identity:
    """A Python institution: its id, a CURVE keypair and an Ed25519 key."""

    def __init__(self, iid, name=None):
        self.id = iid
        self.name = name or "Python peer %s" % iid
        pub, sec = zmq.curve_keypair()
        self.curve_pub = pub.decode("ascii")
        self.curve_secret = sec.decode("ascii")
        self.sign_key = Ed25519PrivateKey.generate()
        raw = self.sign_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.sign_pub = base64.b64encode(raw).decode("ascii")

    def as_peer(self):
        """The dict harness.Institution.add_peer takes."""
        return {"curve_pub": self.curve_pub, "sign_pub": self.sign_pub, "name": self.name}

    def sign(self, data):
        return self.sign_key.sign(data)

    def envelope(self, recipient, body, body_name="handover", message_id=None, created_at=None,
                 sender=None, version=PROTOCOL_VERSION, signer=None):
        """A signed Envelope (the message object; .SerializeToString() for the wire).
        body is a protobuf message or raw bytes; signer defaults to this identity."""
        env = pb.Envelope()
        env.version = version
        env.message_id = uuid7() if message_id is None else message_id
        env.sender = self.id if sender is None else sender
        env.recipient = recipient
        env.created_at = now_ms() if created_at is None else created_at
        setattr(env, body_name, body if isinstance(body, bytes) else body.SerializeToString())
        env.signature = (signer or self).sign(envelope_signing_input(env))
        return env

    def sign_group(self, envs):
        """Sign the (unsigned) envelopes as one group: one signature over the
        Merkle root, each envelope given its index, the size and its path."""
        leaves = [leaf_hash(envelope_signing_input(e)) for e in envs]
        sig = self.sign(batch_signing_input(len(envs), merkle_root(leaves)))
        for i, e in enumerate(envs):
            e.signature = sig
            e.batch_size = len(envs)
            e.batch_index = i
            del e.batch_path[:]
            e.batch_path.extend(merkle_path(leaves, i))
        return envs

    def connect(self, ctx, endpoint, server_curve_pub, **opts):
        return Connection(ctx, self, endpoint, server_curve_pub, **opts)


class Connection:
    """A CURVE DEALER from an Identity to a daemon's ROUTER."""

    def __init__(self, ctx, ident, endpoint, server_curve_pub, **opts):
        self.ident = ident
        self.sock = ctx.socket(zmq.DEALER)
        self.sock.linger = 0
        self.sock.sndtimeo = self.SEND_TIMEOUT_MS
        self.sock.curve_secretkey = ident.curve_secret.encode("ascii")
        self.sock.curve_publickey = ident.curve_pub.encode("ascii")
        self.sock.curve_serverkey = server_curve_pub.encode("ascii")
        for k, v in opts.items():
            setattr(self.sock, k, v)
        self.sock.connect(endpoint)

    # A DEALER whose handshake the daemon refused (unknown CURVE key, wrong
    # server key) has no pipe left: libzmq ends the session on a ZAP or CURVE
    # failure and does not reconnect, and a DEALER without a pipe blocks in
    # send for ever. When the refusal beat a test's send, interop.test_interop
    # hung until ctest killed it. So a send gives up after SEND_TIMEOUT_MS and
    # returns False: from the peer's side that is what a refused connection is.
    SEND_TIMEOUT_MS = 5000

    def send(self, data):
        """Queue one message; False if the connection was refused (see above)."""
        if not isinstance(data, bytes):
            data = data.SerializeToString()
        return self.send_multipart([data])

    def send_multipart(self, frames):
        try:
            self.sock.send_multipart(frames)
            return True
        except zmq.Again:
            return False

    def recv(self, timeout=10.0):
        """The next message's frames, or None if nothing arrives within timeout s."""
        if self.sock.poll(int(timeout * 1000), zmq.POLLIN):
            return self.sock.recv_multipart()
        return None

    def close(self):
        self.sock.close(0)


class AckError(AssertionError):
    pass


def parse_ack(frames, daemon_id, peer_id, daemon_sign_pub):
    """Check a reply from a daemon and return its Ack: one frame, an Envelope of
    version 1 with a UUID message id, from daemon_id to peer_id, an `ack` body
    signed by the daemon's signing key (base64 sign.pub), and a well-formed Ack."""
    if frames is None:
        raise AckError("no reply")
    if len(frames) != 1:
        raise AckError("reply has %d frames" % len(frames))
    env = pb.Envelope()
    env.ParseFromString(frames[0])
    if env.version != PROTOCOL_VERSION:
        raise AckError("reply has version %d" % env.version)
    if not UUID_RE.match(env.message_id):
        raise AckError("reply message id %r is not a UUID" % env.message_id)
    if env.sender != daemon_id or env.recipient != peer_id:
        raise AckError("reply from %r to %r" % (env.sender, env.recipient))
    if env.WhichOneof("body") != "ack":
        raise AckError("reply body is %r" % env.WhichOneof("body"))
    if abs(env.created_at - now_ms()) > 600000:
        raise AckError("reply created_at %d is off" % env.created_at)
    if not verify_envelope(env, daemon_sign_pub):
        raise AckError("ack signature does not verify with the daemon's sign.pub")
    ack = pb.Ack()
    ack.ParseFromString(env.ack)
    return ack
