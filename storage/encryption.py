"""Field encryption at rest (AES-256-GCM) and HMAC blind indexes for lookups.

Ciphertext layout: b"\x01" + key_id (4 bytes) + nonce (12 bytes) + AES-GCM(ct + tag).
The key id lets DATA_KEY_OLD decrypt rows written before a rotation; `reencrypt`
rewrites them under the current key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

VERSION = b"\x01"
NONCE_LEN = 12
BLIND_INDEXES_KEPT = 4096  # FieldCipher.blind_index: recent lookups (well under 1 MB)


class DecryptionError(Exception):
    """The ciphertext was written under a key we do not have, or was tampered with."""


def _derive(master: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(master)


def key_id(master: bytes) -> bytes:
    """A short, non-secret fingerprint of a master key."""
    return hashlib.sha256(b"kilt-key-id" + master).digest()[:4]


class FieldCipher:
    """Encrypts personal fields; only repositories call it."""

    def __init__(self, current: bytes, old: list[bytes] | None = None) -> None:
        self._current_id = key_id(current)
        self._aead = {key_id(k): AESGCM(_derive(k, b"kilt-field-aes")) for k in [*(old or [])]}
        self._aead[self._current_id] = AESGCM(_derive(current, b"kilt-field-aes"))
        # The blind index key follows the current key; rotation recomputes every index.
        self._index_key = _derive(current, b"kilt-blind-index")
        # Recent indexes: an update needs its user's and its dialog's (four HMACs), and the
        # same people write again and again. Bounded; the key never changes in an instance.
        self._indexes: dict[str, str] = {}

    def encrypt(self, plaintext: str, context: str = "") -> bytes:
        nonce = os.urandom(NONCE_LEN)
        aad = context.encode()
        ct = self._aead[self._current_id].encrypt(nonce, plaintext.encode("utf-8"), aad)
        return VERSION + self._current_id + nonce + ct

    def decrypt(self, blob: bytes, context: str = "") -> str:
        if not blob or blob[:1] != VERSION:
            raise DecryptionError("unknown ciphertext format")
        kid, nonce, ct = blob[1:5], blob[5 : 5 + NONCE_LEN], blob[5 + NONCE_LEN :]
        aead = self._aead.get(bytes(kid))
        if aead is None:
            raise DecryptionError("ciphertext written under an unknown key (set DATA_KEY_OLD)")
        try:
            return aead.decrypt(nonce, bytes(ct), context.encode()).decode("utf-8")
        except InvalidTag as exc:
            raise DecryptionError("ciphertext failed authentication") from exc

    def encrypt_opt(self, plaintext: str | None, context: str = "") -> bytes | None:
        return None if plaintext is None else self.encrypt(plaintext, context)

    def decrypt_opt(self, blob: bytes | None, context: str = "") -> str | None:
        return None if blob is None else self.decrypt(blob, context)

    def encrypt_json(self, value: Any, context: str = "") -> bytes:
        return self.encrypt(json.dumps(value, ensure_ascii=False, default=str), context)

    def decrypt_json(self, blob: bytes, context: str = "") -> Any:
        return json.loads(self.decrypt(blob, context))

    def needs_rotation(self, blob: bytes | None) -> bool:
        return blob is not None and bytes(blob[1:5]) != self._current_id

    def blind_index(self, value: int | str) -> str:
        """Deterministic HMAC of a lookup value (e.g. a Telegram id): equal in, equal out."""
        text = str(value)
        found = self._indexes.get(text)
        if found is None:
            found = hmac.new(self._index_key, text.encode(), hashlib.sha256).hexdigest()
            if len(self._indexes) >= BLIND_INDEXES_KEPT:
                self._indexes.clear()
            self._indexes[text] = found
        return found
