"""Every topic is found from each input form; out-of-scope questions fall back."""

from __future__ import annotations

import pytest

from bot.qa.matcher import Matcher, load_matcher


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return load_matcher()


# One question per topic and form, written for these tests (not in the KB, dev.tsv or holdout).
CASES: dict[str, dict[str, str]] = {
    "what-is-eds": {
        "ru": "для чего вообще эта цифровая подпись",
        "kk": "цифрлық қолтаңба не үшін қажет",
        "kk-nodiac": "электрондык колтанба деген не",
        "kk-lat": "elektrondyq qoltanba degen ne",
        "ru-lat": "zachem nuzhna elektronnaya podpis",
        "mix": "ЭЦП не үшін нужна",
    },
    "get-eds": {
        "ru": "где можно получить ключ эцп",
        "kk": "ЭЦҚ алу үшін қайда бару керек",
        "kk-nodiac": "эцк алгым келеди калай",
        "kk-lat": "ecq alu ushin ne isteu kerek",
        "ru-lat": "kak oformit ecp cherez egov",
        "mix": "ЭЦП оформить қалай жасаймын",
    },
    "validity": {
        "ru": "сколько лет действует ключ на удостоверении",
        "kk": "ЭЦҚ қанша уақыт жарамды болады",
        "kk-nodiac": "эцк канша жылга жарамды",
        "kk-lat": "ecq merzimi qansha",
        "ru-lat": "srok deistviya klyucha ecp",
        "mix": "ЭЦП сколько действует қанша жыл",
    },
    "renew": {
        "ru": "как продлить эцп через личный кабинет",
        "kk": "ЭЦҚ-ны қалай ұзартуға болады",
        "kk-nodiac": "эцк узарту калай",
        "kk-lat": "ecq ny uzartu onlain",
        "ru-lat": "prodlenie ecp onlain",
        "mix": "ЭЦП продлить қалай болады",
    },
    "expired": {
        "ru": "у меня истек срок эцп",
        "kk": "ЭЦҚ-ның мерзімі бітіп қалды не істеу керек",
        "kk-nodiac": "эцк мерзими битип калды",
        "kk-lat": "ecq merzimi bitip qaldy",
        "ru-lat": "ecp prosrochena chto delat",
        "mix": "ЭЦП истекла не істеймін",
    },
    "forgot-password": {
        "ru": "забыл пароль от ключа что делать",
        "kk": "ЭЦҚ құпиясөзін ұмытып қалдым",
        "kk-nodiac": "эцк купиясозин умыттым",
        "kk-lat": "ecq kupiyasozin umyttym",
        "ru-lat": "zabyl parol ot klyucha ecp",
        "mix": "пароль ұмытып қалдым ЭЦП",
    },
    "change-password": {
        "ru": "как поменять пароль на ключе эцп",
        "kk": "ЭЦҚ құпиясөзін қалай өзгертемін",
        "kk-nodiac": "эцк паролин калай ауыстырамын",
        "kk-lat": "ecq paroliñ ozgertu",
        "ru-lat": "kak pomenyat parol ecp",
        "mix": "ЭЦП пароль сменить қалай",
    },
    "safe-storage": {
        "ru": "как правильно хранить ключи эцп",
        "kk": "ЭЦҚ-ны қалай дұрыс сақтаймын",
        "kk-nodiac": "эцк кайда сактау керек",
        "kk-lat": "ecq ny qaida saqtaimyn",
        "ru-lat": "gde luchshe hranit ecp",
        "mix": "ЭЦП хранить қайда дұрыс",
    },
    "lost-or-stolen": {
        "ru": "потерял флешку на которой была эцп",
        "kk": "ЭЦҚ бар флешкам жоғалды",
        "kk-nodiac": "эцк бар флешкам жогалды",
        "kk-lat": "ecq bar fleshkam joğaldy",
        "ru-lat": "ukrali noutbuk s ecp",
        "mix": "флешка потерялась ЭЦҚ сонда еді",
    },
    "revoke": {
        "ru": "как отозвать старый ключ эцп",
        "kk": "ЭЦҚ-ны кері қайтарып алу жолы",
        "kk-nodiac": "эцк кери кайтарып алу",
        "kk-lat": "ecq keri qaitaryp alu jolu",
        "ru-lat": "kak annulirovat ecp",
        "mix": "ЭЦП отозвать керек қалай",
    },
    "keys-in-my-name": {
        "ru": "как посмотреть сколько ключей на меня оформлено",
        "kk": "атыма қанша ЭЦҚ шығарылған",
        "kk-nodiac": "атымда канша эцк бар",
        "kk-lat": "atymda qansha ecq bar",
        "ru-lat": "skolko klyuchei ecp na menya",
        "mix": "на моё имя қанша ЭЦП бар",
    },
    "sms-notifications": {
        "ru": "не приходит смс об окончании эцп",
        "kk": "ЭЦҚ туралы смс хабарлама келмейді",
        "kk-nodiac": "эцк смс хабарлама келмеиди",
        "kk-lat": "ecq sms habarlama",
        "ru-lat": "sms uvedomlenie ob okonchanii ecp",
        "mix": "смс уведомление келмейді ЭЦП",
    },
    "never-share": {
        "ru": "можно ли дать свою эцп коллеге",
        "kk": "ЭЦҚ-ны досыма беруге бола ма",
        "kk-nodiac": "эцк ны туыска беруге бола ма",
        "kk-lat": "ecq ny dosyma beruge bola ma",
        "ru-lat": "mozhno li dat ecp drugu",
        "mix": "ЭЦП бухгалтерге беруге можно",
    },
    "fraud": {
        "ru": "мошенники взяли кредит на мою эцп",
        "kk": "алаяқтар ЭЦҚ-мды пайдаланды",
        "kk-nodiac": "алаяктар эцк сурап жатыр",
        "kk-lat": "alaiaqtar ecq suraidy",
        "ru-lat": "moshenniki prosyat ecp",
        "mix": "мошенники ЭЦҚ сұрап жатыр",
    },
    "id-card": {
        "ru": "эцп на удостоверении личности с чипом",
        "kk": "жеке куәлікке жазылған ЭЦҚ",
        "kk-nodiac": "жеке куаликтеги эцк картридер",
        "kk-lat": "jeke kuäliktegi ecq",
        "ru-lat": "ecp na udostoverenii",
        "mix": "удостоверениедегі ЭЦП қалай жұмыс істейді",
    },
    "ncalayer": {
        "ru": "зачем нужна программа ncalayer",
        "kk": "NCALayer қалай орнатамын",
        "kk-nodiac": "ncalayer калаи орнатамын",
        "kk-lat": "ncalayer ornatu",
        "ru-lat": "ncalayer skachat gde",
        "mix": "NCALayer что это, қалай орнатамын",
    },
    "auth-vs-sign": {
        "ru": "auth или gost какой ключ для подписи",
        "kk": "AUTH пен GOST кілтінің айырмасы",
        "kk-nodiac": "кол кою ушин кай килт auth rsa",
        "kk-lat": "auth pen rsa aiyrmashylygy",
        "ru-lat": "auth ili rsa kakoi klyuch",
        "mix": "AUTH или RSA қайсысы",
    },
    "legal-entity": {
        "ru": "эцп для директора тоо",
        "kk": "заңды тұлғаға ЭЦҚ алу",
        "kk-nodiac": "занды тулганын эцк сы",
        "kk-lat": "zañdy tulğa ecq",
        "ru-lat": "ecp dlya yurlica",
        "mix": "юрлицо үшін ЭЦП қалай алады",
    },
    "cloud-eds": {
        "ru": "облачная эцп в egov mobile",
        "kk": "бұлтты ЭЦҚ деген не",
        "kk-nodiac": "бултты эцк деген не",
        "kk-lat": "bulttty ecq degen ne",
        "ru-lat": "oblachnaya ecp",
        "mix": "облачная ЭЦП деген не",
    },
    "bot-privacy": {
        "ru": "что хранит бот обо мне",
        "kk": "бот мен туралы қандай деректер сақтайды",
        "kk-nodiac": "бот деректеримди сактаи ма",
        "kk-lat": "bot derekterimdi saqtai ma",
        "ru-lat": "chto bot hranit obo mne",
        "mix": "бот мои данные сақтайды ма",
    },
}
OUT_OF_SCOPE = [
    "какая погода будет в выходные",
    "кто чемпион по футболу",
    "как взять ипотеку",
    "где купить билет на поезд",
    "ертең ауа райы қандай",
    "футболдан кім жеңді",
    "несие алғым келеді",
    "qalaisyn dosym",
    "pogoda v astane",
    "рецепт бешбармака",
    "как записаться на прием к терапевту",
    "жол полициясының айыппұлын қалай төлеймін",
]
FORMS = ("ru", "kk", "kk-nodiac", "kk-lat", "ru-lat", "mix")


@pytest.mark.parametrize(
    ("topic", "form"), [(t, f) for t in CASES for f in FORMS], ids=lambda v: str(v)
)
def test_topic_found_for_every_form(matcher: Matcher, topic: str, form: str) -> None:
    question = CASES[topic][form]
    assert matcher.match(question).topic == topic, question


@pytest.mark.parametrize("question", OUT_OF_SCOPE)
def test_out_of_scope_falls_back(matcher: Matcher, question: str) -> None:
    assert matcher.match(question).topic is None


@pytest.mark.parametrize("question", ["", "?!...", "   "])
def test_empty_or_contentless_questions_fall_back(matcher: Matcher, question: str) -> None:
    assert matcher.match(question).topic is None
