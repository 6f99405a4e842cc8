"""The learned matcher: second-round topics in every form, near misses, run-time teaching,
the shipped model."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.qa.features import features
from bot.qa.knowledge import DEFAULT_ROOT, KnowledgeBase, load_knowledge
from bot.qa.matcher import Matcher, load_matcher
from bot.qa.model import LinearModel
from bot.qa.training import (
    MODEL_FILE,
    NONE_LABEL,
    fingerprint,
    load_phrasings,
    train_model,
    training_examples,
)


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return load_matcher()


# Written for these tests (not copied from the phrasings, the knowledge base or any test set).
NEW_TOPICS: dict[str, dict[str, str]] = {
    "ncalayer-problems": {
        "ru": "ncalayer перестал видеть мой ключ на флешке",
        "kk": "NCALayer іске қосылмай тұр, не істеймін",
        "kk-nodiac": "нкалеер кате берип жатыр",
        "ru-lat": "ncalayer ne zapuskaetsya chto delat",
        "ru-typo": "нкалаер не видет ключ",
        "mix": "NCALayer ошибка шығарады қалай түзетемін",
    },
    "sign-on-phone": {
        "ru": "как подписать заявление прямо с телефона",
        "kk": "телефон арқылы құжатқа қалай қол қоямын",
        "kk-nodiac": "телефоннан кол кою калай",
        "ru-lat": "kak podpisat dokument s telefona",
        "ru-typo": "подписать с тилефона через qr можно",
        "mix": "телефоннан подписать қалай жасаймын",
    },
    "biometrics-failed": {
        "ru": "не проходит проверка лица при получении эцп",
        "kk": "биометриядан өте алмай жатырмын",
        "kk-nodiac": "биометрия отпей жатыр не истеимин",
        "kk-lat": "biometriya otpei jatyr",
        "ru-typo": "биометрия не праходит пишет ошибка",
        "mix": "биометрия не проходит, ХҚО-ға бару керек пе",
    },
    "sole-proprietor": {
        "ru": "какая эцп нужна индивидуальному предпринимателю",
        "kk": "жеке кәсіпкерге қандай ЭЦҚ керек",
        "kk-nodiac": "жк ушин эцк калай алам",
        "ru-lat": "ecp dlya ip kak poluchit",
        "ru-typo": "я ипшник какой ключ нужен для отчетов",
        "mix": "ИП үшін отдельный ЭЦП керек пе",
    },
    "cost": {
        "ru": "сколько стоит получить эцп",
        "kk": "ЭЦҚ алу ақылы ма",
        "kk-nodiac": "эцк канша турады",
        "ru-lat": "skolko stoit ecp",
        "ru-typo": "эцп платная или бесплатна",
        "mix": "ЭЦП бесплатно ма әлде ақылы ма",
    },
    "phone-number": {
        "ru": "сменил номер телефона и коды не приходят",
        "kk": "нөмірімді ауыстырдым, кодтар келмейді",
        "kk-nodiac": "жана номирди калай тиркеимин бмг",
        "ru-lat": "pomenyal nomer kody ne prihodyat",
        "ru-typo": "смс код не приходит на новый номер",
        "mix": "номер поменял, код келмей жатыр",
    },
    "id-document-changed": {
        "ru": "поменяла фамилию после свадьбы, эцп ещё действует",
        "kk": "жеке куәлігімді ауыстырдым, ЭЦҚ жарамды ма",
        "kk-nodiac": "фамилиямды ауыстырдым эцк жарамды ма",
        "ru-lat": "smenila familiyu ecp rabotaet",
        "ru-typo": "поменял удостоверение старая эцп работает?",
        "mix": "удостоверение ауыстырдым, ЭЦП работает ма",
    },
    "pin-blocked": {
        "ru": "токен заблокировался после трех неверных пин кодов",
        "kk": "PIN-кодты бірнеше рет қате тердім, токен бұғатталды",
        "kk-nodiac": "пин кодты уш рет кате тердим бугатталды",
        "ru-lat": "pin kod zablokirovan kaztoken",
        "ru-typo": "пин заблокирован на токине что делать",
        "mix": "казтокен пин заблокирован қалай ашамын",
    },
    "minors": {
        "ru": "можно ли сделать эцп ребенку 14 лет",
        "kk": "балаға ЭЦҚ алуға бола ма",
        "kk-nodiac": "баламнын атына эцк алуга бола ма",
        "ru-lat": "mozhno li rebenku ecp",
        "ru-typo": "эцп для ребенка школника",
        "mix": "ребенокқа ЭЦП алса бола ма",
    },
    "power-of-attorney": {
        "ru": "как оформить доверенность, чтобы за меня подавали документы",
        "kk": "сенімхат арқылы біреу менің атымнан құжат тапсыра ала ма",
        "kk-nodiac": "сенимхат беру калай",
        "ru-lat": "doverennost vmesto ecp",
        "ru-typo": "доверенось на бухгалтера без моего ключа",
        "mix": "доверенность беру керек бухгалтерге",
    },
    "loan-ban": {
        "ru": "как поставить запрет на выдачу кредитов на моё имя",
        "kk": "атыма несие алуға тыйым қалай саламын",
        "kk-nodiac": "несие алуга тыйым салу",
        "ru-lat": "zapret na kredity cherez egov",
        "ru-typo": "запрет на кридиты как поставить",
        "mix": "кредит алуға запрет қалай қоямын",
    },
}
# Close to a topic's words, but about another service or thing: the polite fallback.
NEAR_MISSES = [
    "как взять кредит в банке без справок",
    "несие алғым келеді қай банк жақсы",
    "забыл пин код от банковской карты",
    "как поменять номер телефона в каспи",
    "пароль от вайфая забыл",
    "сколько стоит загранпаспорт",
    "фамилияны қалай ауыстырамын",
    "балаға ЖСН қалай аламын",
    "каспи қосымшасы ашылмайды",
    "как сделать фото на паспорт",
    "telefonnyi nomer kaspi podderzhki",
    "ипотека алу үшін қандай құжат керек",
    "как восстановить аккаунт инстаграм",
]


@pytest.mark.parametrize(
    ("topic", "form"), [(t, f) for t, forms in NEW_TOPICS.items() for f in forms], ids=str
)
def test_new_topics_found_in_every_form(matcher: Matcher, topic: str, form: str) -> None:
    question = NEW_TOPICS[topic][form]
    assert matcher.match(question).topic == topic, question


@pytest.mark.parametrize("question", NEAR_MISSES)
def test_near_misses_fall_back(matcher: Matcher, question: str) -> None:
    assert matcher.match(question).topic is None


def test_add_example_teaches_a_topic_and_the_fallback() -> None:
    fresh = load_matcher()  # teaching changes the model: not the shared fixture
    email = "как сделать красивую подпись для почты gmail"
    assert fresh.match(email).topic is not None  # "подпись" pulls it into the EDS topics
    assert fresh.add_example(email, None, "ru")
    assert fresh.match(email).topic is None
    burnt = "эцп сгорела вместе с ноутбуком"
    assert fresh.add_example(burnt, "lost-or-stolen", "ru")
    assert fresh.match(burnt).topic == "lost-or-stolen"
    # What it knew before still holds.
    assert fresh.match("как продлить эцп онлайн").topic == "renew"
    assert fresh.match("какая погода будет завтра").topic is None


def test_add_example_generalises_to_a_variant() -> None:
    fresh = load_matcher()
    assert fresh.add_example("подпись в письме outlook настроить", None, "ru")
    assert fresh.match("подпись в письме outlook как настроить").topic is None


def test_add_example_refuses_unknown_topic_and_empty_text(matcher: Matcher) -> None:
    assert not matcher.add_example("как продлить эцп", "no-such-topic", "ru")
    assert not matcher.add_example("?!", "renew", "ru")


def test_teaching_does_not_touch_the_shipped_model() -> None:
    path = DEFAULT_ROOT / "knowledge" / MODEL_FILE
    before = path.read_bytes()
    fresh = load_matcher()
    fresh.add_example("эцп сгорела вместе с ноутбуком", "lost-or-stolen", "ru")
    assert path.read_bytes() == before


def test_shipped_model_is_current() -> None:
    kb = load_knowledge(DEFAULT_ROOT)
    examples = training_examples(kb, load_phrasings(DEFAULT_ROOT, tuple(kb.topics)))
    shipped = LinearModel.load(DEFAULT_ROOT / "knowledge" / MODEL_FILE)
    assert shipped is not None, "knowledge/matcher-model.json is missing"
    assert shipped.labels == (*kb.topics, NONE_LABEL)
    assert shipped.fingerprint == fingerprint(examples), (
        "the knowledge base, the phrasings or the feature code changed since the model was "
        "trained: run `python -m bot.qa.train` and commit knowledge/matcher-model.json"
    )


def _small_kb() -> KnowledgeBase:
    kb = load_knowledge(DEFAULT_ROOT)
    keep = ("renew", "cost", "loan-ban")
    return KnowledgeBase({t: kb.topics[t] for t in keep}, {"all": keep})


def test_model_round_trip(tmp_path: Path) -> None:
    kb = _small_kb()
    model = train_model(training_examples(kb, []), (*kb.topics, NONE_LABEL))
    model.save(tmp_path / "model.json")
    loaded = LinearModel.load(tmp_path / "model.json")
    assert loaded is not None and loaded.fingerprint == model.fingerprint
    _, feats = features("сколько стоит продлить эцп")
    expected = model.scores(model.vector(feats))
    assert loaded.scores(loaded.vector(feats)) == pytest.approx(expected, abs=1e-5)
    assert loaded.counts == model.counts


def test_unreadable_model_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "model.json").write_text("{not json", encoding="utf-8")
    assert LinearModel.load(tmp_path / "model.json") is None
    assert LinearModel.load(tmp_path / "missing.json") is None


def test_stale_model_is_retrained_at_start(caplog: pytest.LogCaptureFixture) -> None:
    kb = _small_kb()  # the shipped model's labels and fingerprint do not fit these topics
    with caplog.at_level(logging.WARNING, logger="bot.qa.matcher"):
        small = Matcher(kb, [])
    assert "python -m bot.qa.train" in caplog.text
    assert small.match("ЭЦП-ны қалай ұзартамын").topic == "renew"
    assert small.match("несие алуға тыйым салу").topic == "loan-ban"

