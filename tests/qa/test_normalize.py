"""Folding, transliteration, stemming and language detection."""

from __future__ import annotations

import pytest

from bot.qa.langdetect import detect_language
from bot.qa.normalize import char_ngrams, fold, stem_kk, stem_ru, to_cyrillic, tokenize


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ЁЛКА", "елка"),
        ("құпиясөз", "купиясоз"),
        ("Әже Һәм", "аже хам"),
        ("Электронная", "електронная"),
        ("мой", "мои"),
    ],
)
def test_fold_basic(text: str, expected: str) -> None:
    assert fold(text) == expected


def test_fold_kazakh_letters_individually() -> None:
    pairs = {"ә": "а", "қ": "к", "ұ": "у", "ү": "у", "ө": "о", "ғ": "г", "ң": "н", "і": "и",
             "һ": "х"}
    for kk, ru in pairs.items():
        assert fold(kk) == ru


@pytest.mark.parametrize(
    ("latin", "cyrillic"),
    [
        ("shchit", "щит"),
        ("zhanartu", "жанарту"),
        ("chto", "что"),
        ("kharakter", "характер"),
        ("tsentr", "центр"),
        ("klyuch", "ключ"),
        ("yurlico", "юрлицо"),
        ("qalai", "қалаи"),
        ("joğaldy", "жоғалды"),
        ("ağash", "ағаш"),
        ("äke", "әке"),
        ("ögiz", "өгиз"),
        ("ümit", "үмит"),
        ("ūly", "ұлы"),
        ("tañ", "таң"),
        ("ıs", "ыс"),
    ],
)
def test_latin_to_cyrillic(latin: str, cyrillic: str) -> None:
    assert to_cyrillic(latin) == cyrillic


def test_latin_and_cyrillic_meet_after_folding() -> None:
    assert fold("ecq parolin umyttym") == fold("ЭЦҚ паролін ұмыттым")
    assert fold("zabyl parol ot klyucha") == fold("забыл пароль от ключа")
    assert fold("kupiyasoz") == fold("құпиясөз")


def test_tokenize_drops_punctuation_and_splits_hyphens() -> None:
    assert tokenize("ЭЦҚ-ны, қалай?! (pki.gov.kz)") == ["ецк", "ни", "калаи", "пки", "гов", "кз"]


def test_stemmers_merge_word_forms() -> None:
    assert stem_ru(fold("ключа")) == stem_ru(fold("ключи"))
    assert stem_ru(fold("продлить")) == stem_ru(fold("продлит"))
    assert stem_kk(fold("ұзартамын")) == stem_kk(fold("ұзартуға")) == stem_kk(fold("ұзарту"))
    assert stem_kk(fold("жоғалтып")).startswith("жогал")
    assert stem_kk(fold("кілттің")) == "килт"


def test_char_ngrams_are_padded() -> None:
    grams = char_ngrams("ецп")
    assert "<ец" in grams and "цп>" in grams and "<ецп" in grams


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("ЭЦҚ құпиясөзін ұмыттым", "kk"),
        ("эцк паролин умытып калдым не истеимин", "kk"),
        ("ecq qalai alamyn", "kk"),
        ("ЭЦП-ны қалай получить етемін", "kk"),
        ("Как продлить ЭЦП?", "ru"),
        ("kak prodlit ecp", "ru"),
        ("что делать если потерял флешку", "ru"),
        ("мерзімі бітті", "kk"),
    ],
)
def test_detect_language(text: str, lang: str) -> None:
    assert detect_language(text) == lang


@pytest.mark.parametrize("text", ["", "   ", "123456", "NCALayer", "?!"])
def test_detect_language_without_signal(text: str) -> None:
    assert detect_language(text) is None
