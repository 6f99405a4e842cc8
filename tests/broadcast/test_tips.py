from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.broadcast.html_check import extract_links, validate_telegram_html, visible_length
from bot.broadcast.tips import (
    LANGS,
    MAX_TIP_LENGTH,
    TOPICS,
    Tip,
    TipsError,
    TipsLibrary,
    load_tips,
)

LOCALES = Path(__file__).resolve().parents[2] / "locales"
KAZAKH_LETTERS = re.compile("[әғқңөұүһіӘҒҚҢӨҰҮҺІ]")
OFFICIAL_HOSTS = {"pki.gov.kz", "egov.kz"}


@pytest.fixture(scope="module")
def library() -> TipsLibrary:
    return load_tips(LOCALES)


def _all_texts(library: TipsLibrary) -> list[tuple[str, str, str]]:
    return [(tip.id, lang, tip.text(lang)) for tip in library for lang in LANGS]


# --- the shipped library -------------------------------------------------------------------


def test_library_has_enough_tips_in_both_languages(library: TipsLibrary) -> None:
    assert len(library.rotation_ids) >= 28
    for tip in library:
        assert set(tip.texts) == set(LANGS)


def test_files_have_the_same_ids_in_the_same_order() -> None:
    def ids(lang: str) -> list[str]:
        data = yaml.safe_load((LOCALES / lang / "tips.yaml").read_text(encoding="utf-8"))
        return [entry["id"] for entry in data["tips"]]

    assert ids("kk") == ids("ru")


def test_texts_are_short_valid_tip_html(library: TipsLibrary) -> None:
    for tip_id, lang, text in _all_texts(library):
        assert len(text) <= MAX_TIP_LENGTH, (tip_id, lang)
        assert visible_length(text) <= MAX_TIP_LENGTH, (tip_id, lang)
        assert validate_telegram_html(text, allowed_tags=frozenset({"b", "i", "a"})) == []


def test_links_point_only_to_official_sites(library: TipsLibrary) -> None:
    for tip_id, _, text in _all_texts(library):
        for url in extract_links(text):
            host = re.sub(r"^https://([^/]+).*$", r"\1", url)
            assert url.startswith("https://") and host in OFFICIAL_HOSTS, (tip_id, url)


def test_languages_are_really_kazakh_and_russian(library: TipsLibrary) -> None:
    for tip in library:
        assert KAZAKH_LETTERS.search(tip.text("kk")), tip.id
        assert not KAZAKH_LETTERS.search(tip.text("ru")), tip.id
        assert tip.text("kk") != tip.text("ru")


def test_official_places_are_named(library: TipsLibrary) -> None:
    for lang in LANGS:
        corpus = " ".join(tip.text(lang) for tip in library)
        for place in ("pki.gov.kz", "egov.kz", "eGov Mobile", "1414", "102"):
            assert place in corpus, (lang, place)


ASKS_FOR_SECRETS = re.compile(
    r"(пришлите|отправьте (нам|боту)|напишите (нам|боту)|введите (сюда|в чат)"
    r"|бізге жіберіңіз|ботқа жіберіңіз|чатқа жазыңыз)",
    re.IGNORECASE,
)
# Facts marked UNCONFIRMED in kz-eds-facts.md must not be asserted by a tip.
UNCONFIRMED = re.compile(r"\b123456\b|облачн|бұлттық ЭЦҚ|дроп", re.IGNORECASE)


def test_tips_never_ask_for_secrets_or_assert_unconfirmed_facts(library: TipsLibrary) -> None:
    for tip_id, lang, text in _all_texts(library):
        assert not ASKS_FOR_SECRETS.search(text), (tip_id, lang)
        assert not UNCONFIRMED.search(text), (tip_id, lang)


def test_topics_are_known_and_used_widely(library: TipsLibrary) -> None:
    topics = {tip.topic for tip in library}
    assert None not in topics and topics <= TOPICS
    assert len(topics) >= 15


def test_data_protection_day_campaign(library: TipsLibrary) -> None:
    campaign = library.campaign("data-protection-day")
    assert campaign and all(isinstance(tip, Tip) for tip in campaign)
    assert any("28 января" in tip.text("ru") and "28 қаңтар" in tip.text("kk") for tip in campaign)
    assert not set(library.rotation_ids) & {tip.id for tip in campaign}
    assert library.campaign("no-such-campaign") == []


def test_accessors(library: TipsLibrary) -> None:
    tip = library.get("change-psc-password")
    assert tip is not None and tip.topic == "change-password"
    assert library.text("change-psc-password", "ru") == tip.text("ru")
    assert "change-psc-password" in library.ids and "change-psc-password" in library
    assert library.get("nope") is None
    with pytest.raises(KeyError):
        library.text("nope", "ru")
    with pytest.raises(KeyError):
        library.text("change-psc-password", "en")
    assert not tip.text("ru").startswith(("\n", " ")) and not tip.text("ru").endswith("\n")


# --- rotation ------------------------------------------------------------------------------


def _lib(n: int, campaign_ids: tuple[str, ...] = ()) -> TipsLibrary:
    tips = [Tip(f"tip-{i}", {"kk": "ә", "ru": "а"}) for i in range(n)]
    tips += [Tip(cid, {"kk": "ә", "ru": "а"}, campaigns=("x",)) for cid in campaign_ids]
    return TipsLibrary(tips)


def test_next_tip_skips_sent_and_is_stable_per_seed(library: TipsLibrary) -> None:
    first = library.next_tip_for(set(), order_seed=7)
    assert first is not None and first == library.next_tip_for(set(), order_seed=7)
    second = library.next_tip_for({first}, order_seed=7)
    assert second not in (None, first)


def test_different_users_get_different_orders(library: TipsLibrary) -> None:
    firsts = {library.next_tip_for(set(), order_seed=seed) for seed in range(50)}
    assert len(firsts) > 5


def test_a_user_gets_every_rotation_tip_once_then_none(library: TipsLibrary) -> None:
    sent: set[str] = {"removed-long-ago"}  # unknown ids are ignored
    while (tip_id := library.next_tip_for(sent, order_seed=123)) is not None:
        assert tip_id not in sent
        sent.add(tip_id)
    assert sent - {"removed-long-ago"} == set(library.rotation_ids)


def test_campaign_tips_stay_out_of_rotation() -> None:
    lib = _lib(3, campaign_ids=("special",))
    seen = {lib.next_tip_for(set(), order_seed=s) for s in range(100)}
    assert "special" not in seen and seen <= set(lib.rotation_ids)


def test_new_tip_does_not_reshuffle_existing_order() -> None:
    old, new = _lib(10), _lib(11)
    assert [t for t in new.order_for(5) if t != "tip-10"] == old.order_for(5)


def test_next_tip_cycle_starts_a_new_round() -> None:
    lib = _lib(4)
    sent: set[str] = set()
    round_one = []
    for _ in range(4):
        tip_id, reset = lib.next_tip_cycle(sent, order_seed=9)
        assert not reset
        sent.add(tip_id)
        round_one.append(tip_id)
    tip_id, reset = lib.next_tip_cycle(sent, order_seed=9)
    assert reset and tip_id == round_one[0]
    assert lib.next_tip_cycle(set()) == (lib.order_for(0)[0], False)


def test_next_tip_cycle_without_rotation_tips_raises() -> None:
    with pytest.raises(LookupError):
        _lib(0, campaign_ids=("only-campaign",)).next_tip_cycle(set())


# --- validation of broken files ------------------------------------------------------------


def _write(root: Path, lang: str, tips: Any) -> None:
    (root / lang).mkdir(parents=True, exist_ok=True)
    (root / lang / "tips.yaml").write_text(
        yaml.safe_dump({"tips": tips}, allow_unicode=True), encoding="utf-8"
    )


def _entry(tip_id: str = "a-tip", text: str = "<b>Кеңес</b>", **extra: Any) -> dict[str, Any]:
    return {"id": tip_id, "text": text, **extra}


def test_minimal_valid_files_load(tmp_path: Path) -> None:
    _write(tmp_path, "kk", [_entry(topic="fraud", campaign="data-protection-day")])
    _write(
        tmp_path, "ru", [_entry(text="<b>Совет</b>", topic="fraud", campaign="data-protection-day")]
    )
    lib = load_tips(tmp_path)
    assert lib.ids == ("a-tip",) and lib.rotation_ids == ()
    assert lib.campaign("data-protection-day")[0].topic == "fraud"


@pytest.mark.parametrize(
    ("kk", "ru", "message"),
    [
        ([_entry()], [_entry("other")], "a-tip: missing in ru"),
        ([_entry()], [_entry(), _entry("extra")], "extra: missing in kk"),
        ([_entry(), _entry()], [_entry()], "duplicate id 'a-tip'"),
        ([_entry("Bad_Id")], [_entry("Bad_Id")], "id must be kebab-case"),
        ([_entry(text="<b>x")], [_entry()], "kk/a-tip: unclosed tag <b>"),
        ([_entry(text="a < b")], [_entry()], "bare '<'"),
        ([_entry(text="&nbsp;x")], [_entry()], "unknown entity"),
        ([_entry(text="<u>x</u>")], [_entry()], "tag <u> is not allowed"),
        ([_entry(text='<a href="http://pki.gov.kz">x</a>')], [_entry()], "link must be https"),
        ([_entry(text="ә" * 701)], [_entry()], "701 characters, limit is 700"),
        ([_entry(text="")], [_entry()], "kk/a-tip: text is missing"),
        ([_entry(topic="fraud")], [_entry(topic="revoke")], "topic differs"),
        ([_entry(topic="nonsense")], [_entry(topic="nonsense")], "unknown topic"),
        ([_entry(campaign="x")], [_entry()], "campaign differs"),
        ([_entry(campaign="Bad Name")], [_entry(campaign="Bad Name")], "kebab-case"),
        ([], [], "no tips found"),
    ],
)
def test_broken_files_are_rejected(
    tmp_path: Path, kk: list[dict[str, Any]], ru: list[dict[str, Any]], message: str
) -> None:
    _write(tmp_path, "kk", kk)
    _write(tmp_path, "ru", ru)
    with pytest.raises(TipsError, match=re.escape(message)):
        load_tips(tmp_path)


def test_emoji_count_as_two_units_towards_the_limit(tmp_path: Path) -> None:
    _write(tmp_path, "kk", [_entry(text="🔒" * 351)])
    _write(tmp_path, "ru", [_entry(text="🔒" * 350)])
    with pytest.raises(TipsError, match="kk/a-tip: 702 characters") as info:
        load_tips(tmp_path)
    assert "ru/a-tip" not in str(info.value)


def test_missing_or_malformed_file_is_reported(tmp_path: Path) -> None:
    _write(tmp_path, "kk", [_entry()])
    with pytest.raises(TipsError, match="cannot read"):
        load_tips(tmp_path)
    (tmp_path / "ru").mkdir()
    (tmp_path / "ru" / "tips.yaml").write_text("- just a list\n", encoding="utf-8")
    with pytest.raises(TipsError, match="expected a mapping with a 'tips' list"):
        load_tips(tmp_path)


def test_all_problems_are_reported_at_once(tmp_path: Path) -> None:
    _write(tmp_path, "kk", [_entry(text="<b>x"), _entry("two", text="&bogus;")])
    _write(tmp_path, "ru", [_entry(), _entry("two")])
    with pytest.raises(TipsError) as info:
        load_tips(tmp_path)
    assert "unclosed tag <b>" in str(info.value) and "&bogus;" in str(info.value)


def test_topic_ids_match_the_knowledge_base() -> None:
    # Kept as a copy so tips load without the Q&A module; this guards against drift.
    knowledge = pytest.importorskip("bot.qa.knowledge")
    assert set(knowledge.TOPIC_IDS) == TOPICS
