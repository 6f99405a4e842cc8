"""What the matcher's classifier sees of a question: tokens and sparse features.

Everything here shapes the trained model, so the model's fingerprint covers this file (with
normalize.py and lexicon.py): change it and `python -m bot.qa.train` must be run again.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.qa.lexicon import (
    STOPWORDS,
    addressed_to_bot,
    canon,
    concept_of,
    is_strong,
    light_verb_after,
    phrase_tokens,
)
from bot.qa.normalize import char_ngrams, stem_kk, stem_ru, tokenize


def content_tokens(text: str) -> list[str]:
    """Folded, canonicalised tokens without stopwords or light verbs of compound verbs."""
    return _content_tokens(tokenize(text))


def _content_tokens(words: list[str]) -> list[str]:
    tokens: list[str] = []
    for t in words:
        if t in STOPWORDS or (tokens and t.startswith(light_verb_after(tokens[-1]) or "\0")):
            continue
        tokens.append(canon(t))
    if addressed_to_bot(words) and not any(is_strong(t) for t in tokens):
        tokens.append("бот")
    tokens += phrase_tokens(words)
    return tokens


def _stem(token: str) -> str:
    return min(stem_ru(token), stem_kk(token), key=len)


def features(text: str) -> tuple[list[str], list[str]]:
    """Content tokens of text and its features for the classifier.

    Stems (the shorter of the Russian and the Kazakh one, plus the Russian one), pairs of
    neighbouring stems, concepts a kk or ru word expresses and pairs of them ("how many" + "term"
    = validity), function words ("сколько", "можно", "қалай" tell cost from validity, a ban
    from a how-to), and character 3- and 4-grams (typos, agglutinative endings, transliteration).
    """
    words = tokenize(text)
    tokens = _content_tokens(words)
    stems = [_stem(t) for t in tokens]
    feats = [f"w:{s}" for s in stems]
    feats += [f"w:{r}" for t in tokens if (r := stem_ru(t)) not in stems]
    feats += [f"b:{a}_{b}" for a, b in zip(stems, stems[1:], strict=False)]
    concepts = sorted({c for t in tokens if (c := concept_of(t)) is not None})
    feats += [f"k:{c}" for c in concepts]
    feats += [f"kk:{a}+{b}" for i, a in enumerate(concepts) for b in concepts[i + 1 :]]
    feats += [f"s:{w}" for w in words if w in STOPWORDS]
    feats += [f"c:{g}" for t in tokens for g in char_ngrams(t)]
    return tokens, feats


def vocabulary(feats: Iterable[str]) -> set[str]:
    """Features the in-scope/out-of-scope naive Bayes counts: words and concepts, once each."""
    return {f for f in feats if f[0] in "wk" and f[1] == ":"}
