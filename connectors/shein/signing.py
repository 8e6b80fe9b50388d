"""SHEIN's cryptography: the request signature, the push signature and the AES of keys and events.

Its own module because the client and the webhook receiver share it: a request is signed with the
open key id and the decrypted secret key, a push with the app id and app secret, by one scheme; the
secret key and a push's `eventData` are decrypted by one AES. Pure: no I/O.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import string

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

IV = b"space-station-default-iv"[:16]


def signature(key_id: str, secret: str, path: str, timestamp: str, random_key: str) -> str:
    value = f"{key_id}&{timestamp}&{path}".encode()
    digest = hmac.new((secret + random_key).encode(), value, hashlib.sha256).hexdigest()
    return random_key + base64.b64encode(digest.encode()).decode()


def new_random_key() -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(5))


def aes_decrypt(cipher_text: str, app_secret: str) -> str:
    """AES-128-CBC, key app_secret[:16], IV "space-station-default-iv"[:16], base64, PKCS7.
    Raises ValueError when the text does not decrypt to UTF-8 (wrong app secret or corrupt data)."""
    try:
        raw = base64.b64decode(cipher_text, validate=True)
        decryptor = Cipher(algorithms.AES(app_secret.encode()[:16]), modes.CBC(IV)).decryptor()
        padded = decryptor.update(raw) + decryptor.finalize()
        unpadder = padding.PKCS7(128).unpadder()
        return (unpadder.update(padded) + unpadder.finalize()).decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise ValueError("does not decrypt") from None


def verify_webhook(app_id: str, app_secret: str, path: str, timestamp: str, sig: str) -> bool:
    """A push is signed like a request, but with the app id and app secret over the callback path."""
    if not (app_id and timestamp and sig) or len(sig) <= 5:
        return False
    return hmac.compare_digest(signature(app_id, app_secret, path, timestamp, sig[:5]), sig)
