"""redact() keeps the wording of a question and drops names and numbers, in Russian and Kazakh;
question_key() groups the same question however it was typed."""

from __future__ import annotations

import pytest

from bot.qa.redact import MAX_STORED, question_key, redact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Russian: names after a cue word, phones, IIN, cards, e-mails, dates, long numbers.
        ("Здравствуйте, меня зовут Айгерим Сапарова, как продлить ЭЦП?",
         "Здравствуйте, меня зовут <name>, как продлить ЭЦП?"),
        ("Я Иван Петрович Сидоров, забыл пароль", "Я <name>, забыл пароль"),
        ("ФИО: Ким Ольга. Где мой ключ?", "ФИО: <name>. Где мой ключ?"),
        ("мой ИИН 850101300012 что делать", "мой ИИН <iin> что делать"),
        ("БИН 120140 012345 для ТОО", "БИН <iin> для ТОО"),
        ("звоните +7 (701) 123-45-67 или 8 777 111 22 33",
         "звоните <phone> или <phone>"),
        ("номер 87011234567 не получает смс", "номер <phone> не получает смс"),
        ("списали с карты 4400 4301 2345 6789", "списали с карты <card>"),
        ("пишите на aigerim.s+eds@mail.kz", "пишите на <email>"),
        ("родилась 01.02.1990, ключ просрочен", "родилась <date>, ключ просрочен"),
        ("договор № 1234567 и счёт 123 45 67", "договор № <number> и счёт <number>"),
        ("смотрите https://example.kz/a?token=abc и @someone_here",
         "смотрите <link> и <link>"),
        # Kazakh, with and without its letters, and typed in Latin.
        ("Сәлеметсіз бе, мен Асхат, ЭЦҚ-ны қалай аламын?",
         "Сәлеметсіз бе, мен <name>, ЭЦҚ-ны қалай аламын?"),
        ("Менің атым Айгүл Серікқызы. Кілтім жоғалды", "Менің атым <name>. Кілтім жоғалды"),
        ("Тегім Нұрланов, ЖСН 900515400123", "Тегім <name>, ЖСН <iin>"),
        ("мен Айгерим нөмірім 8 701 123 45 67", "мен <name> нөмірім <phone>"),
        ("menya zovut Aigerim, kak prodlit ecp", "menya zovut <name>, kak prodlit ecp"),
        ("Atym Dana, ecq qalai alamyn", "Atym <name>, ecq qalai alamyn"),
    ],
)
def test_redact_removes_personal_details(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Сколько стоит ЭЦП в 2024 году? Звонил в 1414, сказали 3 дня",
        "ЭЦҚ мен құпиясөзді бір жерде сақтауға бола ма?",  # "мен" = "and" before a lowercase word
        "Мен ЭЦҚ-ны қалай жаңартамын?",  # capitals of an abbreviation are not a name
        "я забыл пароль от NCALayer",
        "Какая погода будет в Алматы 25 ноября?",
    ],
)
def test_redact_keeps_ordinary_questions(text: str) -> None:
    assert redact(text) == text


def test_redact_is_idempotent_collapses_spaces_and_caps_length() -> None:
    text = "меня  зовут Айгерим,\n\tтел 87011234567 " + "очень длинный вопрос " * 30
    once = redact(text)
    assert redact(once) == once
    assert "  " not in once and "\n" not in once
    assert len(once) == MAX_STORED


def test_question_key_groups_the_same_question() -> None:
    key = question_key("Как продлить ЭЦП?")
    assert key == question_key("эцп, как ПРОДЛИТЬ")
    assert key == question_key("kak prodlit ecp")
    assert question_key("ЭЦҚ қалай аламын") == question_key("эцк калай аламын")
    # Different personal details, same question.
    assert question_key(redact("меня зовут Айгерим, тел 87011234567, где ключ?")) == (
        question_key(redact("Меня зовут Асхат, тел +7 777 111 22 33, где ключ"))
    )
    assert question_key("как продлить эцп") != question_key("как отозвать эцп")
    assert question_key("<name> <phone> !!!") == ""
