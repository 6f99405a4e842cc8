"""Text normalisation shared by the matcher and the language detector.

Everything is folded into one reduced Cyrillic alphabet so that Kazakh typed with or without its
special letters, and Kazakh or Russian typed in Latin, all meet the knowledge base halfway.
"""

from __future__ import annotations

import re
from functools import lru_cache

import snowballstemmer

# Kazakh-specific letters -> their nearest Russian letters (how people type without a kk layout).
_KK_FOLD = str.maketrans(
    {"ә": "а", "қ": "к", "ұ": "у", "ү": "у", "ө": "о", "ғ": "г", "ң": "н", "і": "и", "һ": "х"}
)
# Russian letters merged for matching: people swap them freely when typing fast or in Latin.
_RU_FOLD = str.maketrans({"ё": "е", "э": "е", "й": "и", "ы": "и", "ъ": "", "ь": ""})

# Longest first so that "shch" wins over "sh", and "sh" over "s"; the reflexive verb ending
# "-tsya" ("vydaetsya") is "-тся", not "-ця".
_LATIN_MULTI: tuple[tuple[str, str], ...] = (
    ("tsya", "тся"), ("tsia", "тся"),
    ("shch", "щ"), ("sch", "щ"), ("zh", "ж"), ("kh", "х"), ("ch", "ч"), ("sh", "ш"), ("ts", "ц"),
    ("ya", "я"), ("yu", "ю"), ("yo", "е"), ("ye", "е"), ("ia", "я"), ("iu", "ю"), ("gh", "г"),
    ("ng", "ң"),
)
_LATIN_SINGLE: dict[str, str] = {
    "a": "а", "b": "б", "c": "ц", "d": "д", "e": "е", "f": "ф", "g": "г", "h": "х", "i": "и",
    "j": "ж", "k": "к", "l": "л", "m": "м", "n": "н", "o": "о", "p": "п", "q": "қ", "r": "р",
    "s": "с", "t": "т", "u": "у", "v": "в", "w": "у", "x": "х", "y": "ы", "z": "з",
    # Kazakh Latin alphabets (2017-2021) and Turkish-style letters people borrow.
    "ä": "ә", "á": "ә", "ö": "ө", "ó": "ө", "ü": "ү", "ú": "ү", "ū": "ұ", "ğ": "ғ", "ǵ": "ғ",
    "ñ": "ң", "ń": "ң", "ı": "ы", "ş": "ш", "ç": "ч", "é": "е", "è": "е",
}
_LATIN_RE = re.compile(
    "|".join(re.escape(m) for m, _ in _LATIN_MULTI) + "|[" + "".join(_LATIN_SINGLE) + "]"
)
_LATIN_MAP = dict(_LATIN_MULTI) | _LATIN_SINGLE
_HAS_LATIN = re.compile("[a-zäáöóüúūğǵñńışçéè]")
_TOKEN_RE = re.compile(r"[0-9a-zа-яёәғқңөұүһі]+")
_CYR_TOKEN_RE = re.compile(r"[0-9а-я]+")

# Kazakh endings after folding (ы/і -> и), longest first; stripped greedily, layer by layer.
_KK_SUFFIXES: tuple[str, ...] = tuple(
    sorted(
        {
            # plural, possessive, case
            "лар", "лер", "дар", "дер", "тар", "тер", "им", "ин", "си", "миз", "низ", "нин",
            "дин", "тин", "ни", "ди", "ти", "га", "ге", "ка", "ке", "на", "не", "да", "де",
            "та", "те", "нда", "нде", "дан", "ден", "тан", "тен", "нан", "нен", "мен", "бен",
            "пен", "даги", "деги", "таги", "теги", "ндаги", "ндеги", "дики", "тики",
            # verb: infinitive, converbs, participles, tense/person, negation, passive
            "у", "уга", "уге", "уди", "ип", "атин", "етин", "итин", "амин", "емин", "аимин",
            "еимин", "имин", "асин", "есин", "ади", "еди", "иди", "дим", "тим", "ган", "ген",
            "кан", "кен", "гим", "ким", "маи", "меи", "баи", "беи", "паи", "пеи", "ма", "ме",
            "ба", "бе", "па", "пе", "ил", "мин", "син", "сиз", "ткен", "тти", "дди", "ипти",
            "ипсиз", "иниз", "ими", "иси", "аиди", "еиди", "удан", "уден",
        },
        key=len,
        reverse=True,
    )
)
_MIN_STEM = 3
# Per-word caches (stems, concepts): the knowledge base's vocabulary and the usual words of
# questions fit with room to spare; the bound keeps a long-running bot's memory flat however
# many different typos people send (about 2 MB per cache when full).
WORD_CACHE = 8192
_MIN_KK_ROOT = 4

_ru_stemmer = snowballstemmer.stemmer("russian")


# Latin-typed words repeat (ecp, kalai, kilt): the regex with a callback per letter is the
# costly part of a Latin question. Bounded: at most about a megabyte.
@lru_cache(maxsize=4096)
def _translit_token(token: str) -> str:
    return _LATIN_RE.sub(lambda m: _LATIN_MAP[m.group(0)], token)


def to_cyrillic(text: str) -> str:
    """Lowercase and transliterate Latin-typed Kazakh/Russian into Cyrillic, keeping kk letters."""
    text = text.lower()
    if not _HAS_LATIN.search(text):
        return text
    return " ".join(
        _translit_token(tok) if _HAS_LATIN.search(tok) else tok for tok in text.split()
    )


def fold(text: str) -> str:
    """Full folding: Cyrillic, no Kazakh-specific letters, merged similar Russian letters."""
    return to_cyrillic(text).translate(_KK_FOLD).translate(_RU_FOLD)


def tokenize(text: str) -> list[str]:
    """Folded word tokens; punctuation and hyphens split words."""
    return _CYR_TOKEN_RE.findall(fold(text))


def raw_tokens(text: str) -> list[str]:
    """Lowercased tokens after transliteration but before folding (keeps kk letters)."""
    return cyrillic_tokens(to_cyrillic(text))


def cyrillic_tokens(cyrillic: str) -> list[str]:
    """raw_tokens of a text that already went through to_cyrillic."""
    return _TOKEN_RE.findall(cyrillic)


@lru_cache(maxsize=WORD_CACHE)
def stem_ru(token: str) -> str:
    """Russian Snowball stem of a folded token."""
    if token.isdigit() or len(token) <= _MIN_STEM:
        return token
    return str(_ru_stemmer.stemWord(token))


@lru_cache(maxsize=WORD_CACHE)
def stem_kk(token: str) -> str:
    """Strip up to four layers of Kazakh endings, never below a two-letter root."""
    if token.isdigit():
        return token
    for _ in range(4):
        for suffix in _KK_SUFFIXES:
            if token.endswith(suffix) and len(token) - len(suffix) >= _MIN_KK_ROOT:
                token = token[: -len(suffix)]
                break
        else:
            break
    return token


def char_ngrams(token: str, sizes: tuple[int, ...] = (3, 4)) -> list[str]:
    """Character n-grams of a padded token: robust to typos and agglutinative endings."""
    padded = f"<{token}>"
    return [padded[i : i + n] for n in sizes for i in range(len(padded) - n + 1)]
