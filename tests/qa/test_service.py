"""Answer language choice, fallback text, secret detection and the `ask` CLI contract."""

from __future__ import annotations

import io
import json

import pytest

from bot.keys.secrets import looks_like_secret
from bot.qa.cli import run_ask
from bot.qa.knowledge import DEFAULT_ROOT, TOPIC_IDS
from bot.qa.service import QAService, build_service, fluent_fallback


@pytest.fixture(scope="module")
def service() -> QAService:
    return build_service(DEFAULT_ROOT)


def test_answer_in_users_language(service: QAService) -> None:
    result = service.answer("Как продлить ЭЦП онлайн?", "ru")
    assert (result.topic, result.lang, result.answered_in_other_language) == ("renew", "ru", False)
    assert result.answer == service.kb.text("renew", "ru").answer
    assert result.related == list(service.kb.topics["renew"].related)


def test_clear_other_language_wins(service: QAService) -> None:
    result = service.answer("ЭЦҚ құпиясөзін ұмытып қалдым", "ru")
    assert result.topic == "forgot-password"
    assert result.lang == "kk" and result.answered_in_other_language


def test_unclear_language_keeps_user_choice(service: QAService) -> None:
    result = service.answer("NCALayer", "kk")
    assert result.lang == "kk" and not result.answered_in_other_language


def test_no_user_language_uses_detected_then_russian(service: QAService) -> None:
    assert service.answer("ЭЦҚ мерзімі өтіп кетті").lang == "kk"
    assert service.answer("NCALayer").lang == "ru"


def test_fallback_comes_from_fluent(service: QAService) -> None:
    for lang, question in (("ru", "посоветуй сериал"), ("kk", "бүгін қандай мереке")):
        result = service.answer(question, lang)
        assert result.topic is None and result.related == []
        assert result.answer == fluent_fallback()(lang)
        assert "/faq" in result.answer and "1414" in result.answer


def test_custom_fallback_callable(service: QAService) -> None:
    custom = QAService(service.kb, service.matcher, lambda lang: f"fallback-{lang}")
    assert custom.answer("ертең ауа райы қандай", "kk").answer == "fallback-kk"


def test_fluent_files_have_same_ids() -> None:
    ids = {}
    for lang in ("kk", "ru"):
        text = (DEFAULT_ROOT / "locales" / lang / "questions.ftl").read_text(encoding="utf-8")
        ids[lang] = {ln.split("=")[0].strip() for ln in text.splitlines() if ln[:1].isalpha()}
    assert ids["kk"] == ids["ru"]
    assert {"questions-fallback", "questions-secret-warning", "btn-helpful"} <= ids["kk"]


@pytest.mark.parametrize(
    "text",
    [
        "мой иин 880101300123 помогите",
        "пришел код из смс 583920 что делать",
        "sms kod 4821",
        "пароль: Qwerty123",
        "password Kilt2024x",
        "құпиясөз: Aa12345678",
        "менің паролім Astana2025",
    ],
)
def test_secret_detected(text: str) -> None:
    assert looks_like_secret(text)


@pytest.mark.parametrize(
    "text",
    [
        "забыл пароль от эцп",
        "как поменять пароль ЭЦП?",
        "ЭЦҚ құпиясөзін ұмыттым",
        "эцп на 1 год или 3 года",
        "что за смс код приходит при перевыпуске",
        "позвоните 1414",
    ],
)
def test_ordinary_question_is_not_secret(text: str) -> None:
    assert not looks_like_secret(text)


def test_cli_json_from_stdin(service: QAService) -> None:
    out = io.StringIO()
    stdin = io.StringIO("Как отозвать ЭЦП\n\n   \nкакая погода завтра\nNCALayer орнату\n")
    assert run_ask(None, None, True, stdin, out, service=service) == 0
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(lines) == 3
    for obj in lines:
        assert set(obj) == {"topic", "lang", "score", "answer"}
        assert obj["lang"] in ("kk", "ru") and isinstance(obj["score"], float)
        assert obj["topic"] is None or obj["topic"] in TOPIC_IDS
    assert [o["topic"] for o in lines] == ["revoke", None, "ncalayer"]
    assert "ЭЦП" in out.getvalue()  # ensure_ascii=False


def test_cli_text_argument_human_readable(service: QAService) -> None:
    out = io.StringIO()
    assert run_ask("Потерял флешку с ЭЦП", "ru", False, io.StringIO(), out, service=service) == 0
    text = out.getvalue()
    assert text.startswith("[lost-or-stolen · ru") and "<b>" not in text


def test_cli_builds_its_own_service() -> None:
    out = io.StringIO()
    assert run_ask("ЭЦҚ деген не", "kk", True, io.StringIO(), out) == 0
    assert json.loads(out.getvalue())["topic"] == "what-is-eds"


def test_cli_rejects_unknown_language(service: QAService) -> None:
    out = io.StringIO()
    assert run_ask("x", "en", True, io.StringIO(), out, service=service) == 2
