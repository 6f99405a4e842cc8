"""The closed vocabularies of a key record. Values are what the database stores and what
callback data carries, so they never change; a StrEnum member equals its string."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum


class KeyKind(StrEnum):
    """Where the key lives."""

    FILE = "file"
    ID_CARD = "id_card"
    TOKEN = "token"
    CLOUD = "cloud"


class KeyHolder(StrEnum):
    """Whom the certificate was issued to."""

    INDIVIDUAL = "individual"
    LEGAL = "legal"


class KeyPurpose(StrEnum):
    """What the key is for: signing in (AUTH), signing documents (RSA or GOST), or both."""

    AUTH = "auth"
    SIGN_RSA = "sign_rsa"
    SIGN_GOST = "sign_gost"
    BOTH = "both"


# In the order the dialog offers them.
KINDS: tuple[KeyKind, ...] = tuple(KeyKind)
HOLDERS: tuple[KeyHolder, ...] = tuple(KeyHolder)
PURPOSES: tuple[KeyPurpose, ...] = tuple(KeyPurpose)
# The fields a user picks from buttons (in the dialog and the editor), with their choices.
CHOICES: Mapping[str, tuple[StrEnum, ...]] = {"kind": KINDS, "holder": HOLDERS,
                                               "purpose": PURPOSES}
