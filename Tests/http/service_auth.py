"""atproto service-auth tokens for the HTTP tests, signed with keys generated here.

`bearer_headers(did, nsid)` is what viewer-state tests use: it registers (once per DID) a fresh
secp256k1 key for the DID with the PLC stand-in the API resolves through, and returns an
`Authorization: Bearer <jwt>` header for that method.

Environment (scripts/test.sh): SERVICE_DID (the API's audience) and TEST_PLC_PORT (the stand-in's
port; the API was started with PLC_URL=http://127.0.0.1:$TEST_PLC_PORT).
"""
import base64
import json
import os
import secrets
import threading
import time

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from plc_standin import PlcStandIn

SERVICE_DID = os.environ.get("SERVICE_DID", "did:web:appview.test")
PLC_PORT = int(os.environ.get("TEST_PLC_PORT", "18082"))

CURVES = {
    # name: (cryptography curve, JWT alg, multicodec prefix, group order n)
    "secp256k1": (ec.SECP256K1, "ES256K", bytes([0xE7, 0x01]),
                  0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141),
    "p256": (ec.SECP256R1, "ES256", bytes([0x80, 0x24]),
             0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551),
}

_BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def base58btc(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    text = ""
    while number:
        number, digit = divmod(number, 58)
        text = _BASE58[digit] + text
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + text


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def json_part(value) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


def new_plc_did() -> str:
    alphabet = "abcdefghijklmnopqrstuvwxyz234567"
    return "did:plc:" + "".join(secrets.choice(alphabet) for _ in range(24))


class SigningKey:
    def __init__(self, curve="secp256k1"):
        self.curve = curve
        self.ec_curve, self.alg, self.prefix, self.order = CURVES[curve]
        self.private_key = ec.generate_private_key(self.ec_curve())

    def multikey(self) -> str:
        point = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint)
        return "z" + base58btc(self.prefix + point)

    def sign(self, message: bytes, high_s=False) -> bytes:
        """64-byte r‖s over SHA-256 of `message`, low-S unless `high_s` (then deliberately n − s)."""
        r, s = decode_dss_signature(self.private_key.sign(message, ec.ECDSA(hashes.SHA256())))
        if s > self.order // 2:
            s = self.order - s
        if high_s:
            s = self.order - s
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def did_document(did, key, handle=None):
    document = {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": did,
        "verificationMethod": [{
            "id": did + "#atproto", "type": "Multikey", "controller": did, "publicKeyMultibase": key.multikey()}],
        "service": [{"id": "#atproto_pds", "type": "AtprotoPersonalDataServer", "serviceEndpoint": "https://pds.invalid"}],
    }
    if handle:
        document["alsoKnownAs"] = ["at://" + handle]
    return document


def make_token(key, iss, aud=SERVICE_DID, lxm=None, exp_in=60, header=None, payload=None, high_s=False):
    """A compact JWT as a PDS mints it; `header`/`payload` entries override (None deletes)."""
    now = int(time.time())
    head = {"typ": "JWT", "alg": key.alg}
    body = {"iat": now, "iss": iss, "aud": aud, "exp": now + exp_in, "jti": secrets.token_hex(8)}
    if lxm is not None:
        body["lxm"] = lxm
    for target, overrides in ((head, header), (body, payload)):
        for name, value in (overrides or {}).items():
            if value is None:
                target.pop(name, None)
            else:
                target[name] = value
    signing_input = json_part(head) + "." + json_part(body)
    return signing_input + "." + b64url(key.sign(signing_input.encode(), high_s=high_s))


class Account:
    """A DID whose document (with `key`) the stand-in serves."""

    def __init__(self, did, key):
        self.did = did
        self.key = key

    def token(self, nsid=None, **options):
        return make_token(self.key, self.did, lxm=nsid, **options)

    def headers(self, nsid=None, **options):
        return {"Authorization": "Bearer " + self.token(nsid, **options)}


_lock = threading.Lock()
_standin = None
_accounts = {}


def plc() -> PlcStandIn:
    """The process-wide PLC stand-in on TEST_PLC_PORT, started on first use."""
    global _standin
    with _lock:
        if _standin is None:
            _standin = PlcStandIn(PLC_PORT)
        return _standin


def register(did=None, curve="secp256k1", handle=None) -> Account:
    """Publishes a fresh key for `did` (a new did:plc when None) and returns the account.
    Registering a DID again rotates its key."""
    standin = plc()
    did = did or new_plc_did()
    if did.startswith("did:web:") and did != standin.web_did:
        raise ValueError(f"the stand-in can only serve did:plc and {standin.web_did}, not {did}")
    account = Account(did, SigningKey(curve))
    standin.register(did, did_document(did, account.key, handle))
    with _lock:
        _accounts[did] = account
    return account


def account_for(did) -> Account:
    """The registered account of `did`, registering it on first use."""
    with _lock:
        account = _accounts.get(did)
    return account or register(did)


def bearer_headers(did: str, nsid: str) -> dict:
    """`{"Authorization": "Bearer <jwt>"}` for `did` calling `nsid` (aud = SERVICE_DID, exp in 60 s)."""
    return account_for(did).headers(nsid)
