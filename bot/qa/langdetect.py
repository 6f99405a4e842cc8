"""Kazakh vs Russian detection for short, messy questions (any script, mixed)."""

from __future__ import annotations

import re

from bot.constants import Lang
from bot.qa.normalize import cyrillic_tokens, to_cyrillic

_KK_LETTERS = frozenset("әғқңөұүһі")
# Latin letters that only Kazakh Latin alphabets use.
_KK_LATIN = re.compile("[qäáöóüúūğǵñńı]")

# Words are compared after a light fold (kk letters -> ru letters, ё -> е), so list folded forms.
_KK_WORDS = frozenset(
    """
    калаи кандаи канша каида кашан неге нени ма ме ба бе па пе ба ма ше гои бола болады болама
    керек кажет мен сен ол биз сиз менин сенин оны маган мени бар жок жане пен бен уши ушин
    деген дегенимиз дегенди деп кеиин кеиин бирак егер онда осы сол бул барма жокпа бере береди
    алу алуга алам аламын алдим алдым истеу истеимин истеим кетти калды тур турган жатыр
    ушин туралы аркылы кимге киммен нешинши кандаи калаиша кеиин деимин айтшы кажет кажетпе
    ескертпе хабарлама кызмет курал жогалды жогалттым умыттым умытып урланды мерзими
    """.split()
)
_RU_WORDS = frozenset(
    """
    как что где когда почему зачем сколько какой какая какие какое кто чем чего мне меня мой моя
    мою мои моё мое свой своя это этот эта если или и а но в во на с со у к по от до за из для
    при без про над под через ли же бы нет можно нужно надо ещё еще уже я ты вы он она они
    мы его ее её их есть был была было делать сделать что-то пожалуйста подскажите скажите
    помогите хочу могу может нельзя куда откуда такое такой также тоже теперь потом все всё
    """.split()
)
_KK_SUFFIXES = (
    "дын", "дің", "дин", "тын", "тің", "тин", "нын", "нің", "нин", "ға", "ге", "қа", "ке",
    "дан", "ден", "тан", "тен", "нан", "нен", "лар", "лер", "дар", "дер", "тар", "тер",
    "мын", "мін", "мин", "сыз", "сіз", "сиз", "дым", "дім", "тым", "тім", "ымды", "імді",
    "уға", "уге", "ған", "ген", "қан", "кен", "ады", "еді", "атын", "етін", "ма", "ме",
)
_RU_SUFFIXES = (
    "ться", "тся", "ть", "ого", "его", "ому", "ему", "ый", "ий", "ой", "ая", "яя", "ое", "ее",
    "ые", "ие", "ция", "ции", "ние", "ния", "ешь", "ишь", "ют", "ят", "ал", "ала", "ли", "ла",
)
_LIGHT_FOLD = str.maketrans(
    {"ә": "а", "қ": "к", "ұ": "у", "ү": "у", "ө": "о", "ғ": "г", "ң": "н", "і": "и", "һ": "х",
     "ё": "е"}
)


def language_scores(text: str) -> tuple[float, float]:
    """Evidence for Kazakh and for Russian in the text, as (kk, ru)."""
    return _scores(text, to_cyrillic(text))


def _scores(text: str, cyrillic: str) -> tuple[float, float]:
    """language_scores of text, given its to_cyrillic form."""
    kk = 3.0 * len(_KK_LATIN.findall(text.lower()))
    ru = 0.0
    for token in cyrillic_tokens(cyrillic):
        if token.isdigit():
            continue
        if not _KK_LETTERS.isdisjoint(token):  # a Kazakh letter in it
            kk += 3.0
            continue
        light = token.translate(_LIGHT_FOLD)
        if light in _KK_WORDS:
            kk += 2.0
        elif light in _RU_WORDS:
            ru += 2.0
        elif len(light) > 3 and light.endswith(_KK_SUFFIXES):
            kk += 0.6
        elif len(light) > 3 and light.endswith(_RU_SUFFIXES):
            ru += 0.6
        if "ё" in token or "ъ" in token or "щ" in token:
            ru += 1.0
    return kk, ru


def detect_language(text: str) -> Lang | None:
    """Return "kk" or "ru" when the text says so clearly enough, else None."""
    cyrillic = to_cyrillic(text)
    if not cyrillic.strip():
        return None
    kk, ru = _scores(text, cyrillic)
    if kk == ru:
        return None
    return "kk" if kk > ru else "ru"
