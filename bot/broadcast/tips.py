"""Security tips library: bilingual texts from locales/*/tips.yaml and per-user rotation."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.broadcast.html_check import extract_links, validate_telegram_html, visible_length
from bot.constants import LANGUAGES

LANGS: tuple[str, ...] = LANGUAGES
MAX_TIP_LENGTH = 700
# Tips are short announcements: bold, italic and https links are all they need.
TIP_TAGS = frozenset({"b", "i", "a"})
# Topic ids of the knowledge base (/work/shared/TOPICS.md); a tip may point to one.
TOPICS = frozenset(
    {"what-is-eds", "get-eds", "validity", "renew", "expired", "forgot-password",
     "change-password", "safe-storage", "lost-or-stolen", "revoke", "keys-in-my-name",
     "sms-notifications", "never-share", "fraud", "id-card", "ncalayer", "auth-vs-sign",
     "legal-entity", "cloud-eds", "bot-privacy", "ncalayer-problems", "sign-on-phone",
     "biometrics-failed", "sole-proprietor", "cost", "phone-number", "id-document-changed",
     "pin-blocked", "minors", "power-of-attorney", "loan-ban"}
)  # fmt: skip
_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class TipsError(ValueError):
    """The tips files are inconsistent; the message lists every problem found."""


@dataclass(frozen=True)
class Tip:
    id: str
    texts: Mapping[str, str]
    topic: str | None = None
    campaigns: tuple[str, ...] = ()

    def text(self, lang: str) -> str:
        return self.texts[lang]


class TipsLibrary:
    """Validated tips in file order; campaign tips are kept out of the regular rotation."""

    def __init__(self, tips: list[Tip]) -> None:
        self._tips = {tip.id: tip for tip in tips}
        self._rotation = tuple(tip.id for tip in tips if not tip.campaigns)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(self._tips)

    @property
    def rotation_ids(self) -> tuple[str, ...]:
        """Ids sent one by one to users; campaign tips go out only with their campaign."""
        return self._rotation

    def __len__(self) -> int:
        return len(self._tips)

    def __iter__(self) -> Iterator[Tip]:
        return iter(self._tips.values())

    def __contains__(self, tip_id: object) -> bool:
        return tip_id in self._tips

    def get(self, tip_id: str) -> Tip | None:
        return self._tips.get(tip_id)

    def text(self, tip_id: str, lang: str) -> str:
        """Tip text in lang; KeyError for an unknown id or language."""
        return self._tips[tip_id].text(lang)

    def campaign(self, name: str) -> list[Tip]:
        return [tip for tip in self._tips.values() if name in tip.campaigns]

    def order_for(self, order_seed: int) -> list[str]:
        """Rotation order for one user: stable per seed, and a new tip only slots in, never
        reshuffles the rest, so users who are halfway through keep their sequence."""
        return sorted(self._rotation, key=lambda tid: _rank(order_seed, tid))

    def next_tip_for(self, sent_ids: AbstractSet[str], order_seed: int) -> str | None:
        """The first rotation tip not in sent_ids, or None when the user has had them all."""
        return next((tid for tid in self.order_for(order_seed) if tid not in sent_ids), None)

    def next_tip_cycle(self, sent_ids: AbstractSet[str], order_seed: int = 0) -> tuple[str, bool]:
        """Next tip and reset=True when a new round starts (the caller then clears sent_ids)."""
        tip_id = self.next_tip_for(sent_ids, order_seed)
        if tip_id is not None:
            return tip_id, False
        order = self.order_for(order_seed)
        if not order:
            raise LookupError("the tips library has no rotation tips")
        return order[0], True


def _rank(seed: int, tip_id: str) -> bytes:
    # A hash, not random.shuffle: the order must not depend on the Python version or on the
    # other ids in the library.
    return hashlib.sha256(f"{seed}:{tip_id}".encode()).digest()


def _read(path: Path, errors: list[str]) -> dict[str, dict[str, Any]]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        errors.append(f"{path}: cannot read: {exc}")
        return {}
    entries = data.get("tips") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        errors.append(f"{path}: expected a mapping with a 'tips' list")
        return {}
    out: dict[str, dict[str, Any]] = {}
    for n, entry in enumerate(entries):
        tid = entry.get("id") if isinstance(entry, dict) else None
        if not isinstance(tid, str) or not _ID.match(tid):
            errors.append(f"{path}: entry {n}: id must be kebab-case, got {tid!r}")
        elif tid in out:
            errors.append(f"{path}: duplicate id {tid!r}")
        else:
            out[tid] = entry
    return out


def _campaigns(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def _check_text(where: str, text: Any, errors: list[str]) -> None:
    if not isinstance(text, str) or not text.strip():
        errors.append(f"{where}: text is missing")
        return
    errors += [f"{where}: {e}" for e in validate_telegram_html(text, allowed_tags=TIP_TAGS)]
    errors += [f"{where}: link must be https: {url}" for url in extract_links(text)
               if not url.startswith("https://")]  # fmt: skip
    if (length := visible_length(text)) > MAX_TIP_LENGTH:
        errors.append(f"{where}: {length} characters, limit is {MAX_TIP_LENGTH}")


def load_tips(root: Path) -> TipsLibrary:
    """Load root/<lang>/tips.yaml for every language; TipsError lists all problems at once."""
    errors: list[str] = []
    files = {lang: _read(root / lang / "tips.yaml", errors) for lang in LANGS}
    first, *others = LANGS
    for lang in others:
        for tid in files[first].keys() - files[lang].keys():
            errors.append(f"{tid}: missing in {lang}")
        for tid in files[lang].keys() - files[first].keys():
            errors.append(f"{tid}: missing in {first}")
    tips: list[Tip] = []
    for tid, entry in files[first].items():
        entries = {lang: files[lang][tid] for lang in LANGS if tid in files[lang]}
        for field in ("topic", "campaign"):
            if len({repr(e.get(field)) for e in entries.values()}) > 1:
                errors.append(f"{tid}: {field} differs between languages")
        topic = entry.get("topic")
        if topic is not None and topic not in TOPICS:
            errors.append(f"{tid}: unknown topic {topic!r}")
        campaigns = _campaigns(entry.get("campaign"))
        if not all(isinstance(c, str) and _ID.match(c) for c in campaigns):
            errors.append(f"{tid}: campaign names must be kebab-case")
        for lang, e in entries.items():
            _check_text(f"{lang}/{tid}", e.get("text"), errors)
        texts = {lang: str(e.get("text", "")).strip() for lang, e in entries.items()}
        tips.append(Tip(tid, texts, topic, campaigns))
    if not tips:
        errors.append(f"{root}: no tips found")
    if errors:
        raise TipsError("invalid tips:\n" + "\n".join(errors))
    return TipsLibrary(tips)
