"""DSSE cross-check with Debian's python3-securesystemslib (the secure-systems-lab library).

Reads {"pem": SPKI PEM, "scheme": securesystemslib scheme, "envelope": DSSE envelope JSON}
on stdin; builds the DSSE v1 pre-authentication encoding from the envelope as the DSSE
specification defines it, and verifies the envelope's signature over it with securesystemslib.
Prints OK and exits 0, or prints the reason and exits 1. Exits 3 when securesystemslib is not
installed (apt-get install python3-securesystemslib), so a missing tool is never a pass.
"""
import base64
import json
import sys

try:
    from securesystemslib import keys as sslib_keys
    from securesystemslib.signer import Signature, SSlibKey
except ImportError as err:  # pragma: no cover - reported to the runner
    print(f"securesystemslib is not installed: {err}")
    sys.exit(3)


def pae(payload_type: str, payload: bytes) -> bytes:
    t = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(payload), payload)


def main() -> int:
    req = json.load(sys.stdin)
    env = req["envelope"]
    payload = base64.b64decode(env["payload"])
    sigs = env.get("signatures") or []
    if len(sigs) != 1:
        print(f"expected one signature, got {len(sigs)}")
        return 1
    keydict = sslib_keys.import_ecdsakey_from_public_pem(req["pem"], req["scheme"])
    key = SSlibKey.from_securesystemslib_key(keydict)
    sig = Signature(key.keyid, base64.b64decode(sigs[0]["sig"]).hex())
    try:
        key.verify_signature(sig, pae(env["payloadType"], payload))
    except Exception as err:  # securesystemslib raises its own exception types
        print(f"not verified: {type(err).__name__}: {err}")
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
