"""The one place that decides whether text a user typed carries a secret.

Every text path asks here: the key dialog refuses what `find_sensitive` finds before
storing a note or a label; the upload router and the input-size middleware look for pasted
private keys (`looks_like_private_key_text`); the question handler refuses and never logs
what `looks_like_secret` finds. Nothing here logs, and the functions return kinds, not
the matched text.
"""

from __future__ import annotations

import re
from typing import Final, Literal

from bot.keys.der import b64decode
from bot.keys.private_keys import is_private_der

Sensitive = Literal["iin", "password", "code"]

# --- what must not be stored (the key dialog and editor) -------------------------------

# Groups of digits possibly separated by one space or hyphen ("850101 300012").
_DIGIT_GROUPS_RE: Final = re.compile(r"(?<!\d)\d+(?:[ \-]\d+)*(?!\d)")

_PASSWORD_KEY_RE: Final = re.compile(
    r"(?<!\w)(?P<key>"
    r"парол\w*|parol\w*|password\w*|passwd|pwd|pass(?=\s*[:=])"
    r"|[қк][ұу]пия\s?с[өо]з\w*"
    r"|(?:pin|пин)(?:[\s\-]?(?:code|код|kod)\w*)?"
    r")(?!\w)(?P<sep>\s*[:=]\s*|\s*[-—–]\s*|\s+)?",
    re.IGNORECASE,
)
_CODE_KEY_RE: Final = re.compile(
    r"(?<!\w)(?:код\w*|kod\w*|code\w*|смс|sms|otp)(?!\w)", re.IGNORECASE
)
_STRIP_CHARS: Final = ".,;:!?()[]{}«»\"'`“”„"
# Latin words that commonly follow "password"/"пароль" without being the password itself.
_NOT_A_PASSWORD: Final = frozenset(
    (
        "is for the of to in on at and or was not from my your key keys eds ecp egov"
        " ncalayer pki nca auth rsa gost id kaztoken etoken jacarta akey pin code sms"
    ).split()
)


_EMAIL_RE: Final = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]{2,}")


def _tokens(text: str) -> list[str]:
    out = []
    for raw in text.split():
        tok = raw.strip(_STRIP_CHARS)
        if tok:
            out.append(tok)
    return out


def _has_twelve_digit_number(text: str) -> bool:
    for m in _DIGIT_GROUPS_RE.finditer(text):
        groups = [len(g) for g in re.split(r"[ \-]", m.group())]
        # Consecutive groups of 3+ digits adding up to exactly 12 ("850101 300012",
        # "8501 0130 0012"); short groups are dates or phone numbers, so they break a run.
        for i in range(len(groups)):
            total = 0
            for n in groups[i:]:
                if n < 3:
                    break
                total += n
                if total >= 12:
                    break
            if total == 12:
                return True
    return False


def _is_mixed_secret(tok: str, min_len: int) -> bool:
    if len(tok) < min_len or "://" in tok or _EMAIL_RE.fullmatch(tok):
        return False
    return (
        any(c.isupper() for c in tok)
        and any(c.islower() for c in tok)
        and any(c.isdigit() for c in tok)
    )


def _looks_like_password(text: str) -> bool:
    for m in _PASSWORD_KEY_RE.finditer(text):
        sep = m.group("sep")
        following = _tokens(text[m.end() :])[:3]
        if not following:
            continue
        if sep and ("=" in sep or ":" in sep):
            return True
        cyrillic_key = not m.group("key").isascii()
        for tok in following:
            if any(c.isdigit() for c in tok) and len(tok) >= 4:
                return True
            # After a Russian/Kazakh keyword a Latin word is almost surely the password.
            if cyrillic_key and tok.isascii() and any(c.isalpha() for c in tok):
                if tok.casefold() not in _NOT_A_PASSWORD:
                    return True
    toks = _tokens(text)
    if len(toks) == 1 and _is_mixed_secret(toks[0], 6):
        return True
    return any(_is_mixed_secret(tok, 8) for tok in toks)


def _looks_like_code(text: str) -> bool:
    for m in _CODE_KEY_RE.finditer(text):
        for tok in _tokens(text[m.end() :])[:3]:
            if tok.isdigit() and 4 <= len(tok) <= 8:
                return True
    return False


def find_sensitive(text: str) -> Sensitive | None:
    """Classify text that must not be stored: an IIN-like number, a password/PIN, an SMS code.

    Deliberately conservative (any standalone 12-digit number counts as "iin"): a false
    refusal costs the user a retype, a false accept stores a secret.
    """
    if _has_twelve_digit_number(text):
        return "iin"
    if _looks_like_password(text):
        return "password"
    if _looks_like_code(text):
        return "code"
    return None


# --- private keys pasted as text -------------------------------------------------------

_PEM_PRIVATE_RE: Final = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----")
_B64_RUN_RE: Final = re.compile(r"[A-Za-z0-9+/=\r\n\t ]{80,}")


def looks_like_private_key_text(text: str) -> bool:
    """True if a message contains a PEM private key or a base64 PKCS#12/PKCS#8 blob."""
    if _PEM_PRIVATE_RE.search(text):
        return True
    for m in _B64_RUN_RE.finditer(text):
        words = m.group().split()
        # The run may swallow Latin words around the blob ("here <blob> thanks"), so also
        # try only the long pieces; a lost short last line is fine, the shape test copes
        # with a truncated tail.
        for candidate in ("".join(words), "".join(w for w in words if len(w) >= 16)):
            if len(candidate) < 64 or not re.search(r"[0-9+/]", candidate):
                continue  # plain prose also matches the character class
            blob = b64decode(candidate)
            if blob is not None and is_private_der(blob):
                return True
    return False


# --- questions: stricter, since they may be logged as unanswered ------------------------

# 12 digits standing alone: an IIN/BIN.
_IIN_RE: Final = re.compile(r"(?<!\d)\d{12}(?!\d)")
_QUESTION_CODE_RE: Final = re.compile(
    r"(?:код|kod|code|смс|sms|cмс|пин|pin)[^\d\n]{0,20}(?<!\d)\d{4,6}(?!\d)", re.IGNORECASE
)
_QUESTION_PASSWORD_RE: Final = re.compile(
    r"(?:парол\w*|password|parol\w*|pass|құпия\s?сөз\w*|купия\s?соз\w*|kupiya\s?soz\w*)"
    r"\s*([:=—-]|это|is|\s)\s*(\S{4,})",
    re.IGNORECASE,
)
# Ordinary words that follow "пароль:" in questions, not password values.
_PLAIN_WORDS: Final = frozenset(
    "забыл забыла забыли не помню потерял ұмыттым умыттым ұмытып умытып білмеймін какой қандай"
    " стандартный одинаковый неверный қате".split()
)


def looks_like_secret(text: str) -> bool:
    """True when a question seems to carry an IIN, an SMS/PIN code, a password value or a
    private key: everything `find_sensitive` refuses, plus question-specific phrasings."""
    if _IIN_RE.search(text) or _QUESTION_CODE_RE.search(text):
        return True
    if find_sensitive(text) is not None or looks_like_private_key_text(text):
        return True
    for sep, value in _QUESTION_PASSWORD_RE.findall(text):
        value = value.strip(".,!?;\"'«»")
        if len(value) < 4 or value.lower() in _PLAIN_WORDS:
            continue
        has_digit = any(ch.isdigit() for ch in value)
        mixed_case = value.isascii() and value.lower() != value and value.upper() != value
        if sep.strip() or has_digit or mixed_case:
            return True
    return False
