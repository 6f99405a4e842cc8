"""Taught phrasings: looked up before the matcher, exact or near copies only; TSV export."""

from __future__ import annotations

import pytest

from bot.qa.learned import LearnedIndex, export_tsv, text_form
from bot.qa.service import QAService

UNKNOWN = "на госуслугах висит чужое заявление на справку, что это?"


@pytest.fixture
def qa(qa_service: QAService) -> QAService:
    return qa_service.copy()


def test_taught_question_beats_the_matcher_and_unlearn_restores_it(qa: QAService) -> None:
    assert qa.answer(UNKNOWN, "ru").topic is None
    qa.learn(UNKNOWN, "fraud", "ru")
    result = qa.answer(UNKNOWN, "ru")
    assert (result.topic, result.learned) == ("fraud", True)
    assert result.answer == qa.kb.text("fraud", "ru").answer
    assert result.related == list(qa.kb.topics["fraud"].related)
    qa.unlearn(UNKNOWN)
    assert qa.answer(UNKNOWN, "ru").topic is None


def test_near_copies_match_but_other_questions_do_not(qa: QAService) -> None:
    qa.learn(UNKNOWN, "fraud", "ru")
    assert qa.answer("На Госуслугах висит чужое заявление на справку что это", "ru").learned
    assert qa.answer("на госуслугах висит чужое заявлене на справку, что это?", "ru").learned
    assert qa.answer("na gosuslugah visit chuzhoe zayavlenie na spravku chto eto").learned
    assert not qa.answer("на госуслугах висит моё заявление, что это?", "ru").learned
    assert qa.answer("как продлить эцп", "ru").topic == "renew"


def test_out_of_scope_falls_back_in_the_question_language(qa: QAService) -> None:
    question = "ЭЦҚ арқылы әжеме зейнетақы рәсімдеуге бола ма?"
    qa.learn(question, None, "kk")
    result = qa.answer(question, "ru")
    assert (result.topic, result.learned, result.lang) == (None, True, "kk")
    assert result.answered_in_other_language
    assert result.answer == qa.fallback_text("kk")


def test_copies_do_not_share_learned_phrasings(qa: QAService, qa_service: QAService) -> None:
    qa.learn(UNKNOWN, "fraud", "ru")
    assert qa_service.answer(UNKNOWN, "ru").topic is None
    assert qa.copy().answer(UNKNOWN, "ru").topic is None


def test_unknown_topic_is_refused_and_stale_topics_skipped_on_load(qa: QAService) -> None:
    with pytest.raises(ValueError):
        qa.learn(UNKNOWN, "no-such-topic", "ru")
    qa.load_learned([(UNKNOWN, "no-such-topic", "ru"), ("совсем другой вопрос про X", None, "ru")])
    assert len(qa.learned) == 1
    assert not qa.answer(UNKNOWN, "ru").learned


def test_index_ignores_questions_with_nothing_left_after_redaction() -> None:
    index = LearnedIndex()
    index.add("87011234567", "fraud", "ru")
    assert len(index) == 0 and index.lookup("87019999999") is None


def test_export_tsv_rows_and_forms() -> None:
    tsv = export_tsv(
        [
            ("Мен <name>, кілт\tжоғалды", "lost-or-stolen", "kk"),
            ("kak prodlit ecp", "renew", "ru"),
            ("погода в Алматы", None, "ru"),
            ("килт жогалды не истеймин", "lost-or-stolen", "kk"),
        ]
    )
    assert tsv.splitlines() == [
        "form\ttopic\tquestion",
        "kk\tlost-or-stolen\tМен <name>, кілт жоғалды",
        "kk-nodiac\tlost-or-stolen\tкилт жогалды не истеймин",
        "ru-lat\trenew\tkak prodlit ecp",
        "ru\tnone\tпогода в Алматы",
    ]
    assert text_form("ecq qalai alamyn", "kk") == "kk-lat"
