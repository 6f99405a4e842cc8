"""The fast scoring path (packed rows, one tokenization, cached transliteration, one language
pass) answers exactly as the plain computation it replaced, kept here as the reference."""

from __future__ import annotations

import csv
import math
from collections import Counter

import pytest

from bot.qa import langdetect as ld
from bot.qa.features import content_tokens, features
from bot.qa.knowledge import DEFAULT_ROOT
from bot.qa.lexicon import ANCHORS, DOMAIN_WORDS, names_our_object
from bot.qa.matcher import Matcher, load_matcher, out_of_scope
from bot.qa.model import LinearModel, Vector
from bot.qa.normalize import raw_tokens, to_cyrillic


def _questions() -> list[str]:
    """dev.tsv (../shared/qa, looked for above the repository) and benchmarks/data/*.tsv."""
    dev = [d for p in DEFAULT_ROOT.parents if (d := p / "shared" / "qa" / "dev.tsv").exists()]
    paths = dev[:1] + sorted((DEFAULT_ROOT / "benchmarks" / "data").glob("qa_*.tsv"))
    found: list[str] = []
    for path in paths:
        with path.open(encoding="utf-8", newline="") as fh:
            found += [r["question"] for r in csv.DictReader(fh, delimiter="\t")
                      if (r.get("question") or "").strip()]
    return found


QUESTIONS = _questions()


def ref_vector(model: LinearModel, feats: list[str]) -> Vector:
    vec = {}
    for f, c in Counter(feats).items():
        idf = model.idf(f)
        if idf is not None:
            vec[f] = (1.0 + math.log(c)) * idf
    norm = math.sqrt(sum(w * w for w in vec.values())) or 1.0
    return {f: w / norm for f, w in vec.items()}


def ref_scores(model: LinearModel, vec: Vector) -> list[float]:
    """The loop over every (label, weight) pair of a feature's row, run-time overlay after it."""
    result = [0.0] * len(model.labels)
    for f, v in vec.items():
        row = model._row.get(f)
        if row is not None:
            start, end = model._offsets[row], model._offsets[row + 1]
            for label, w in zip(model._label_ids[start:end], model._values[start:end],
                                strict=True):
                result[label] += w * v
        for label, w in model._extra.get(f, {}).items():
            result[label] += w * v
    return result


def ref_language_scores(text: str) -> tuple[float, float]:
    """language_scores as it was: its own transliteration, a generator per token."""
    kk = 3.0 * len(ld._KK_LATIN.findall(text.lower()))
    ru = 0.0
    for token in raw_tokens(text):
        if token.isdigit():
            continue
        if any(ch in ld._KK_LETTERS for ch in token):
            kk += 3.0
            continue
        light = token.translate(ld._LIGHT_FOLD)
        if light in ld._KK_WORDS:
            kk += 2.0
        elif light in ld._RU_WORDS:
            ru += 2.0
        elif len(light) > 3 and light.endswith(ld._KK_SUFFIXES):
            kk += 0.6
        elif len(light) > 3 and light.endswith(ld._RU_SUFFIXES):
            ru += 0.6
        if "ё" in token or "ъ" in token or "щ" in token:
            ru += 1.0
    return kk, ru


def ref_language(text: str) -> str | None:
    if not to_cyrillic(text).strip():
        return None
    kk, ru = ref_language_scores(text)
    return None if kk == ru else ("kk" if kk > ru else "ru")


def ref_match(m: Matcher, text: str) -> tuple[str | None, float, str | None, list[int]]:
    """(topic, confidence, language, labels ranked by score) as Matcher.match computed them."""
    lang = ref_language(text)
    tokens, feats = features(text)
    assert tokens == content_tokens(text)
    if not tokens:
        return None, 0.0, lang, []
    scores = ref_scores(m.model, ref_vector(m.model, feats))
    n = len(m.topic_ids)
    best = max(range(n), key=scores.__getitem__)
    signals = (
        scores[best] - scores[n],
        max(-10.0, min(10.0, m._bayes(feats))) / 5.0,
        float(names_our_object(tokens)),
        float(any(t.startswith(ANCHORS) for t in tokens)),
        float(any(t.startswith(DOMAIN_WORDS) for t in tokens)),
        float(out_of_scope(tokens)),
    )
    value = m.gate.value(signals)
    confidence = round(1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, value)))), 4)
    ranked = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
    return (m.topic_ids[best] if value > 0.0 else None), confidence, lang, ranked


def _check(m: Matcher, texts: list[str]) -> None:
    for text in texts:
        topic, confidence, lang, ranked = ref_match(m, text)
        got = m.match(text)
        assert (got.topic, got.score, got.lang_detected) == (topic, confidence, lang), text
        assert ld.language_scores(text) == ref_language_scores(text), text
        if ranked:
            vec = m.model.vector(features(text)[1])
            assert vec == ref_vector(m.model, features(text)[1])
            fast, slow = m.model.scores(vec), ref_scores(m.model, vec)
            assert sorted(range(len(fast)), key=lambda i: (-fast[i], i)) == ranked, text
            assert max(abs(a - b) for a, b in zip(fast, slow, strict=True)) < 1e-9, text


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return load_matcher()


def test_every_evaluation_question_answered_as_before(matcher: Matcher) -> None:
    assert len(QUESTIONS) > 500  # dev.tsv and the benchmark sets were found
    assert matcher.model._hot  # the packed path is what is being checked
    _check(matcher, QUESTIONS)


def test_long_text_takes_the_plain_loop_and_agrees(matcher: Matcher) -> None:
    words = " ".join(f"слово{i} ецп{i} kilt{i}" for i in range(300))
    vec = {f: 1.0 / 70 for f in list(matcher.model._row)[:4900]}
    assert len(vec) > 4096
    fast, slow = matcher.model.scores(vec), ref_scores(matcher.model, vec)
    assert max(abs(a - b) for a, b in zip(fast, slow, strict=True)) < 1e-9
    _check(matcher, [words])


def test_taught_examples_overlay_the_packed_rows() -> None:
    fresh = load_matcher()  # teaching changes the model: not the shared fixture
    assert fresh.add_example("ецп флешка сломалась в поезде", "lost-or-stolen")
    assert fresh.add_example("ecp kalai alamyn pochta arkyly", None)
    assert fresh.model._extra
    _check(fresh, ["флешка с ецп сломалась", "ecp pochta arkyly", *QUESTIONS[:100]])


def test_packing_without_hot_rows_gives_the_same_scores() -> None:
    model = LinearModel.load(DEFAULT_ROOT / "knowledge" / "matcher-model.json")
    assert model is not None
    vecs = [model.vector(features(q)[1]) for q in QUESTIONS[:200]]
    packed = [model.scores(v) for v in vecs]
    model._pack_hot(0)
    assert not model._hot
    assert [model.scores(v) for v in vecs] == [ref_scores(model, v) for v in vecs]
    for a, b in zip(packed, (ref_scores(model, v) for v in vecs), strict=True):
        assert max(abs(x - y) for x, y in zip(a, b, strict=True)) < 1e-9
