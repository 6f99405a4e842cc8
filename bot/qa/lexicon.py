"""Small hand-made lexicon over folded tokens: stopwords, EDS anchors, kk/ru concept groups.

Concept groups let a Kazakh word match a Russian example of the same meaning (and its
synonyms), which matters for mixed-language questions and thin example coverage.
"""

from __future__ import annotations

from functools import lru_cache

# Folded question/function words of both languages: they say nothing about the topic.
STOPWORDS = frozenset(
    """
    как что где когда почему зачем какои какая какие какое кто чем чего мне меня мои моя мою мое
    свои своя это этот эта если или и а но в во на с со у к по от до за из для при без про над под
    через ли же бы не нет да можно нужно надо еще уже я ти ви он она они ми его ее их есть бил била
    било делать сделать пожалуиста подскажите скажите помогите хочу могу может нельзя такое такои
    также тоже теперь потом все вообще просто чтоби будет бить очень так там тут здесь то
    калаи кандаи каида кашан неге нени канша сколко ма ме ба бе па пе ше гои бола болади болама
    керек кажет мен сен ол биз сиз менин сенин маган мени бар жок жане пен бен уши ушин деген
    дегенимиз деп бирак
    нин син си мди ми низ низди даги деги дан ден нан нен тан тен
    егер осы сол бул ози озим нарсе еди екен гана да де та те ни ди ти ге га ка ке ну
    гов кз ввв http https
    """.split()
)

# Folded prefixes that mark a question as being about EDS keys at all.
ANCHORS: tuple[str, ...] = (
    "ецп", "ключ", "килт", "подпис", "колтан", "нцалаиер", "егов", "пки", "токен", "сертифика",
    "парол", "купия", "пин", "куалик", "удостовер", "удик", "флеш", "бот", "смс", "аутх", "рса",
    "гост", "нуц", "уко", "цон", "хко", "картридер", "биометр", "перевипуск", "мобаил",
    "алаяк", "мошенн", "дроп", "код", "аиди",
)

# Words specific to EDS keys themselves; a question with one of them is never "other service".
STRONG_ANCHORS: tuple[str, ...] = (
    "ецп", "ключ", "килт", "подпис", "колтан", "нцалаиер", "пки", "нуц", "уко", "токен",
    "сертифика", "аутх", "рса", "гост",
)
# Other services and everyday topics: with no strong anchor such a question is out of scope.
OFF_TOPIC: tuple[str, ...] = (
    "инстаграм", "инста", "уатсап", "ватсап", "уифи", "ваифаи", "каспи", "гмаил", "фаисбук",
    "тикток", "вконтакт", "погод", "ауа", "футбол", "фильм", "кино", "рецепт", "такси", "ипотек",
)

# Spelling variants of the same thing, merged before any statistics.
CANON = {
    "ецк": "ецп", "еп": "ецп", "едс": "ецп", "кардридер": "картридер", "мобиле": "мобаил",
}

# concept -> folded prefixes (kk and ru) that express it.
_CONCEPTS: dict[str, tuple[str, ...]] = {
    "eds": ("ецп", "колтанб", "подпис"),
    "key": ("ключ", "килт"),
    "password": ("парол", "купиясоз", "купия"),
    "pin": ("пин",),
    "forget": ("забы", "забил", "умит", "помн", "есим"),
    "lose": ("потер", "утер", "утрат", "жогал", "пропа"),
    "steal": ("укра", "краж", "урла", "урлан", "своров"),
    "term": ("срок", "мерзим", "жарамд", "годн"),
    "renew": ("продл", "перевипус", "обнов", "узарт", "жанарт"),
    "expire": (
        "истек", "истеч", "просроч", "законч", "кончил", "битип", "битти", "биткен", "отип",
        "откен", "недеиствит",
    ),
    "revoke": (
        "отозв", "отзов", "отзив", "аннул", "кери", "блокир", "бугат", "деактив", "жою", "жоям",
    ),
    "store": ("хран", "сакта", "сактал", "держ"),
    "change": ("смен", "помен", "измен", "озгерт", "ауистир"),
    "notify": ("смс", "уведомл", "оповещ", "хабарла", "ескерт"),
    "give": ("переда", "отда", "беруге", "берсе", "берди", "одолж"),
    "fraud": ("мошен", "афер", "алаяк", "дроп", "обман", "развел", "развод", "алдап"),
    "loan": ("кредит", "несие", "заим", "микрокредит"),
    "idcard": ("удостовер", "удик", "куалик", "аиди"),
    "reader": ("картридер",),
    "legal": ("юрлиц", "юридич", "тоо", "жшс", "занди", "компан", "организ", "фирм", "мекеме"),
    "employee": ("сотрудн", "работник", "кизметкер", "уволи", "жумистан"),
    "cloud": ("облач", "булт"),
    "phone": ("телефон", "смартфон", "мобаил", "приложени", "косимша"),
    "data": ("данн", "дерек", "информац", "акпарат"),
    "delete": ("удал", "ошир"),
    "myname": ("атим", "имя", "имени"),
    "get": ("получ", "оформ", "расимд", "заказ", "тапсирис"),
    "install": ("установ", "орнат", "скача", "жукте"),
    "two": ("два", "дву", "еки"),
    "file": ("фаил",),
    "choose": ("вибр", "вибор", "танда"),
    "explain": ("обясн", "расскаж", "тусиндир", "значени"),
}
_PREFIXES: tuple[tuple[str, str], ...] = tuple(
    sorted(((p, c) for c, ps in _CONCEPTS.items() for p in ps), key=lambda pc: -len(pc[0]))
)


@lru_cache(maxsize=65536)
def concept_of(token: str) -> str | None:
    """Concept id a folded token belongs to, if any."""
    for prefix, concept in _PREFIXES:
        if token.startswith(prefix):
            return concept
    return None


def canon(token: str) -> str:
    """Merge spelling variants (NCALayer typed in any script, ЭЦК/ЭЦП, ...)."""
    if token.startswith(("нкал", "нцал", "нкел")):
        return "нцалаиер"
    # Kazakh endings glued to the abbreviation: "эцкны", "эцпмен", "эцпшка" all mean "ЭЦП".
    if token.startswith(("ецп", "ецк")):
        return "ецп"
    return CANON.get(token, token)
