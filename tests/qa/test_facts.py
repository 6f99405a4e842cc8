"""Facts the texts must get right, in both languages (../shared/kz-eds-facts.md, round 2)."""

from __future__ import annotations

import re

import pytest

from bot.broadcast.tips import load_tips
from bot.i18n import LOCALES_DIR, Translator
from bot.qa.knowledge import DEFAULT_ROOT, LANGS, load_knowledge
from bot.reminders.calendar import DEFAULT_ALARM_DAYS
from bot.reminders.planning import DEFAULT_OFFSETS

KB = load_knowledge(DEFAULT_ROOT)
TIPS = load_tips(LOCALES_DIR)
T = Translator()
PSC = {"ru": "ЦОН", "kk": "ХҚО"}
REVOKE = {"ru": r"отзов|отозв|отзыв", "kk": r"кері қайтар"}
AND = {"ru": "и", "kk": "және"}


def answer(topic: str, lang: str) -> str:
    return KB.text(topic, lang).answer


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?;:])\s+|\n", text) if s.strip()]


def all_texts(lang: str) -> list[str]:
    return [KB.text(t, lang).answer for t in KB.topics] + [tip.text(lang) for tip in TIPS]


@pytest.mark.parametrize("lang", LANGS)
def test_storage_example_is_safe(lang: str) -> None:
    text = T.get(lang, "keys-ask-storage").lower()
    assert "бухгалтер" not in text and "ноутбук" not in text
    assert "сейф" in text


def test_sole_proprietor_is_offered_with_the_individual() -> None:
    assert "ИП" in T.get("ru", "btn-keys-holder-individual")
    assert "ЖК" in T.get("kk", "btn-keys-holder-individual")
    assert "ИП" not in T.get("ru", "btn-keys-holder-legal")
    assert "ЖК" not in T.get("kk", "btn-keys-holder-legal")


@pytest.mark.parametrize(("lang", "sp", "iin"), [("ru", "ИП", "ИИН"), ("kk", "ЖК", "ЖСН")])
def test_legal_entity_sends_sole_proprietors_to_the_personal_key(
    lang: str, sp: str, iin: str
) -> None:
    for topic in ("legal-entity", "sole-proprietor"):
        assert sp in answer(topic, lang) and iin in answer(topic, lang), topic


@pytest.mark.parametrize(("lang", "no_old_key"), [("ru", "старый ключ"), ("kk", "ескі кілт")])
def test_only_key_lost_gets_a_new_key_first(lang: str, no_old_key: str) -> None:
    for topic in ("lost-or-stolen", "revoke", "id-document-changed"):
        text = answer(topic, lang)
        assert no_old_key in text, topic
        first_new = text.index(no_old_key)
        assert re.search(REVOKE[lang], text[first_new:]), f"{topic}: revoke after the new key"


@pytest.mark.parametrize("lang", LANGS)
def test_revocation_at_a_psc_is_not_promised(lang: str) -> None:
    bad = [s for text in all_texts(lang) for s in sentences(text)
           if PSC[lang] in s and re.search(REVOKE[lang], s)]
    assert bad == []


@pytest.mark.parametrize("lang", LANGS)
def test_law_370_is_not_quoted_as_current(lang: str) -> None:
    for text in all_texts(lang):
        if "370-II" in text:
            assert "255-VIII" in text, text[:80]
        assert not re.search(r"ст\. ?\d+[^.]{0,30}370|370-II Заңының \d+-бабы|Закон об ЭЦП \(ст",
                             text)
    assert "255-VIII" in answer("never-share", lang)
    assert "255-VIII" in TIPS.text("never-give-your-key", lang)


@pytest.mark.parametrize(("lang", "mci"), [("ru", "МРП"), ("kk", "АЕК")])
def test_fines_by_who_pays(lang: str, mci: str) -> None:
    for text in (answer("never-share", lang), TIPS.text("never-give-your-key", lang)):
        assert f"10 {mci}" in text  # transfer, individuals
        assert f"15–150 {mci}" in text  # transfer, businesses
        assert f"50–200 {mci}" in text  # using someone else's key


@pytest.mark.parametrize(("lang", "report"), [("ru", "кредитную историю"), ("kk", "несие тарих")])
def test_fraud_names_the_loan_ban_and_the_credit_report(lang: str, report: str) -> None:
    text = answer("fraud", lang)
    assert "Стоп-кредит" in text and report in text and "egov.kz" in text


@pytest.mark.parametrize(("lang", "reissue", "new_password"),
                         [("ru", "перевыпуст", "новый пароль"),
                          ("kk", "қайта шығару", "жаңа құпиясөз")])
def test_change_password_gives_the_reissue_step(lang: str, reissue: str, new_password: str) -> None:
    text = answer("change-password", lang)
    assert reissue in text and new_password in text and "pki.gov.kz" in text
    assert re.search(REVOKE[lang], text), "old keys keep the old password: revoke them"


@pytest.mark.parametrize(("lang", "present", "hedge"),
                         [("ru", "записывается", "не подтверждено"),
                          ("kk", "жазылады", "расталмаған")])
def test_id_card_chip_writing_is_hedged(lang: str, present: str, hedge: str) -> None:
    text = answer("id-card", lang)
    assert present not in text and hedge in text and "1414" in text


@pytest.mark.parametrize(("lang", "if_works", "tomorrow"),
                         [("ru", "Если ключ ещё работает", "завтра"),
                          ("kk", "Кілт әлі істеп тұрса", "ертең")])
def test_expiry_day_says_if_it_still_works(lang: str, if_works: str, tomorrow: str) -> None:
    text = T.get(lang, "reminders-expiry-today", label="X", date="01.01.2027")
    assert if_works in text and tomorrow not in text
    for topic in ("renew", "expired"):
        assert "сертификат" in answer(topic, lang), topic  # the time of day is in it


@pytest.mark.parametrize(("lang", "card"), [("ru", "удостоверени"), ("kk", "куәлік")])
def test_only_id_cards_need_a_card_reader(lang: str, card: str) -> None:
    clauses = [c for s in sentences(answer("validity", lang)) for c in s.split(",")]
    with_reader = [c for c in clauses if "картридер" in c]
    assert with_reader
    for clause in with_reader:
        assert card in clause and "окен" not in clause, clause  # "токен"/"Токен"


@pytest.mark.parametrize(("lang", "bmg"),
                         [("ru", "Базы мобильных граждан"), ("kk", "Мобильді азаматтар базас")])
def test_reissue_codes_go_to_the_mobile_citizens_database_number(lang: str, bmg: str) -> None:
    for text in (answer("renew", lang), answer("sms-notifications", lang),
                 TIPS.text("roaming-for-codes", lang), TIPS.text("never-share-sms-codes", lang)):
        assert bmg in text, text[:60]
    old = {"ru": "1414 нужны для входа на egov.kz и перевыпуска",
           "kk": "1414-тен келетін кодтар egov.kz-ке кіруге және кілтті қайта шығаруға"}[lang]
    assert not any(old in text for text in all_texts(lang))


@pytest.mark.parametrize("lang", LANGS)
def test_data_protection_day_observed_since_2007(lang: str) -> None:
    text = TIPS.text("dpd-why-today", lang)
    assert "2007" in text and "1981" in text


def _stage_lists(text: str, lang: str) -> list[list[int]]:
    found = re.findall(rf"(\d+(?:, \d+)+) {AND[lang]} (\d+)", text)
    return [[int(n) for n in head.split(", ")] + [int(last)] for head, last in found]


@pytest.mark.parametrize("lang", LANGS)
def test_reminder_days_named_in_texts_are_the_real_ones(lang: str) -> None:
    days_before = [d for d in DEFAULT_OFFSETS if d > 0]
    texts = all_texts(lang)
    named = [lst for text in texts for lst in _stage_lists(text, lang)]
    assert named, "the validity answer names the reminder days"
    assert all(lst == days_before for lst in named), named
    assert 0 in DEFAULT_OFFSETS and -1 in DEFAULT_OFFSETS  # "last day" and "the day after"
    ics = _stage_lists(T.get(lang, "keys-ics-caption"), lang)
    assert ics == [list(DEFAULT_ALARM_DAYS)]


def test_eds_is_feminine_in_russian_key_label_example() -> None:
    assert "Моя ЭЦП" in T.get("ru", "keys-ask-label")
