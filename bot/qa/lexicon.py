"""Small hand-made lexicon over folded tokens: stopwords, EDS anchors, kk/ru concept groups.

Concept groups let a Kazakh word match a Russian example of the same meaning (and its
synonyms), which matters for mixed-language questions and thin example coverage.
"""

from __future__ import annotations

from functools import lru_cache

from bot.qa.normalize import WORD_CACHE, fold


def _folded(words: str) -> frozenset[str]:
    """Fold a hand-written word list exactly as questions are folded (э->е, ь dropped, ...)."""
    return frozenset(w for word in words.split() if (w := fold(word)))


def _folded_prefixes(*prefixes: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(p for prefix in prefixes if (p := fold(prefix))))


# Question/function words of both languages: they say nothing about the topic. Written as
# people type them; folded at import so that "это", "есть", "здесь" meet folded tokens.
STOPWORDS = _folded(
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
    """
)

# Prefixes (folded) that mark a question as being about EDS keys at all.
ANCHORS: tuple[str, ...] = _folded_prefixes(
    "ецп", "ключ", "килт", "подпис", "колтан", "нцалаиер", "егов", "пки", "токен", "сертифика",
    "парол", "купия", "пин", "куалик", "удостовер", "удик", "флеш", "бот", "смс", "аутх", "рса",
    "гост", "нуц", "уко", "цон", "хко", "картридер", "биометр", "перевипуск", "мобаил",
    "алаяк", "мошенн", "дроп", "код", "аиди", "чип", "облачн", "бултт", "казток",
)

# The question's object is the EDS key itself (or this bot, or a scam around keys): such a
# question is in scope even if it also names a bank, a tax or a document.
STRONG_ANCHORS: tuple[str, ...] = _folded_prefixes(
    "ецп", "ключ", "килт", "подпис", "колтан", "нцалаиер", "пки", "нуц", "уко", "токен",
    "казток", "сертифика", "аутх", "рса", "гост", "картридер", "бот", "мошенн", "алаяк", "дроп",
    "афер", "обман", "алдап", "якоби", "продикт",
)
# Verb forms of "sign" ("подписать договор") name an action, not the key: a weak anchor only.
SIGN_VERBS: tuple[str, ...] = _folded_prefixes("подписа", "подписыв", "подпиш")

# Everyday words of the bot's domain that carry no EDS word themselves (a file, a phone number,
# my data, logging in): enough for a close match, not for a loose one.
DOMAIN_WORDS: tuple[str, ...] = _folded_prefixes(
    "фаил", "данн", "дерек", "акпарат", "информац", "телефон", "номер", "номир", "уведомл",
    "оповещ", "хабарла", "ескерт", "напомин", "вход", "воит", "киру", "кирем", "кирес",
    "авториз", "хран", "сохран", "сакта", "переписк", "удал", "ошир",
)

# Objects of other services and everyday matters. Without a strong anchor such a question is
# out of scope: an IIN, a passport, a tax return, a pension, a bank card are not EDS keys,
# even when they are handled on egov.kz.
OFF_TOPIC: tuple[str, ...] = _folded_prefixes(
    "инстаграм", "инста", "уатсап", "ватсап", "уифи", "ваифаи", "каспи", "гмаил", "фаисбук",
    "тикток", "вконтакт", "погод", "ауа", "футбол", "фильм", "кино", "рецепт", "такси", "ипотек",
    # banks and payment cards
    "халик", "банк", "карта", "карти", "картас", "карточ", "депозит", "перевод", "аудар",
    # identity documents and numbers themselves
    "иин", "жсн", "паспорт", "водител", "справк", "аниктам", "несудим", "фамили", "прописк",
    # taxes, pensions, benefits, fines, property
    "налог", "салик", "декларац", "пенси", "зеинет", "енпф", "пособи", "жардемакш", "штраф",
    "аиипул", "садик", "балабак", "автомоб", "машин", "аренд", "нотариус", "курс", "доллар",
    "квартир", "пачер", "игр", "оиин", "музик", "фото", "видео",
)
# Accounts whose password is not an EDS password ("пароль от каспи / от егов").
SERVICES: tuple[str, ...] = _folded_prefixes(
    "егов", "каспи", "халик", "банк", "карта", "карти", "картас", "карточ", "почт", "гмаил",
    "аккаунт", "акаунт", "инстаграм", "уифи", "ваифаи", "телеграм", "уатсап", "ватсап",
)
# An ID card is a document first: it is about EDS only next to a word of signing or of the
# chip (reader, PIN, NCALayer, logging in to egov, the key itself).
DOCUMENTS: tuple[str, ...] = _folded_prefixes("удостовер", "удик", "куалик", "аиди")
DOCUMENT_CONTEXT: tuple[str, ...] = STRONG_ANCHORS + SIGN_VERBS + _folded_prefixes(
    "чип", "пин", "егов", "кол", "тиркеу", "вход", "воит", "киру", "кирем",
)
# Second person: a question addressed to the bot ("что вы храните", "сен не сақтайсың").
ADDRESSEE = _folded("ты тебе тебя тобой вы вам вас вами сен сенде саган сени сиз сизде сизге сизди")


# Objects of the second-round topics that are ours even without a word for the key: the online
# face check, a power of attorney, the Mobile Citizens Database (БМГ / МАБ).
TOPIC_OBJECTS: tuple[str, ...] = _folded_prefixes(
    "биометр", "идентифик", "сәйкестендір", "верифик", "доверенн", "сенімхат", "уполномоч", "бмг",
)
_TOPIC_OBJECT_WORDS = _folded("маб")


def is_strong(token: str) -> bool:
    """The token names the EDS key itself (not an action like "sign a contract")."""
    return token.startswith(STRONG_ANCHORS) and not token.startswith(SIGN_VERBS)


def names_our_object(tokens: list[str]) -> bool:
    """The question names the key, the bot, a scam, or another object of our topics.

    That is: a strong anchor, a second-round topic's own object, or a ban on loans (a ban word
    next to a loan word: "запрет на кредиты", "несие алуға тыйым").
    """
    if any(is_strong(t) or t.startswith(TOPIC_OBJECTS) or t in _TOPIC_OBJECT_WORDS for t in tokens):
        return True
    concepts = {concept_of(t) for t in tokens}
    return {"ban", "loan"} <= concepts


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
    # Past or perfect: the key has already expired ...
    "expire": (
        "истек", "истеч", "просроч", "законч", "кончил", "битип", "битти", "биткен", "отип",
        "откен", "недеиствит", "аякталд",
    ),
    # ... versus present/future: it is running out (validity, renewal).
    "expiring": (
        "истека", "заканчива", "закончит", "кончает", "битеди", "битетин", "битер", "битпе",
        "бітпеи",
    ),
    "check": (
        "провер", "посмотр", "смотр", "тексер", "тизим", "список", "кору", "корем", "корсет",
    ),
    "revoke": (
        "отозв", "отзов", "отзив", "аннул", "кери", "блокир", "бугат", "деактив", "жою", "жоям",
    ),
    "store": ("хран", "сакта", "сактал", "держ"),
    "change": ("смен", "помен", "измен", "озгерт", "ауистир"),
    "notify": ("смс", "уведомл", "оповещ", "хабарла", "ескерт"),
    "give": ("переда", "отда", "беруге", "берсе", "берди", "одолж"),
    "fraud": (
        "мошен", "афер", "алаяк", "дроп", "обман", "развел", "развод", "алдап", "звон", "позвон",
        "конирау", "продикт", "якоби",
    ),
    "bot": ("бот",),
    "login": ("вход", "воит", "киру", "кирем", "кирес", "авториз", "аутентиф"),
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
    # The topics of the second round.
    "cost": (
        "стоим", "цена", "цену", "цени", "платн", "бесплатн", "заплат", "деньг",
        "тенге", "ақылы", "тегін", "бағасы", "баға", "төлеу", "төлей", "ақша", "госпошлин", "баж",
    ),
    "child": (
        "ребен", "ребён", "дет", "сын", "доч", "школьн", "подрост", "несовершеннолет", "ученик",
        "внук", "бала", "оқушы", "жасөспірім", "кәмелет", "немере", "ұлым", "қызым",
    ),
    "proxy": (
        "доверенн", "сенімхат", "уполномоч", "представит", "өкіл", "нотариус", "атынан", "орныма",
    ),
    "face": (
        "биометр", "идентифик", "сәйкестендір", "верифик", "сверк", "камер", "селфи", "лицо",
        "лица", "лицу", "бет-әлпет",
    ),
    "ban": ("запрет", "тыйым", "стоп", "отказ"),
    "entrepreneur": ("предприним", "кәсіпкер", "упрощ"),
    "number": ("номер", "нөмір", "сим-карт", "симк"),
    "surname": ("фамил",),
    # Got blocked (a PIN, a token), unlike blocking a key on purpose (revoke).
    "blocked": ("заблок", "блокировк", "бұғатталд", "бұғатталып"),
}
# Short words a prefix would confuse with longer ones ("ип" and "ипотека").
_EXACT_CONCEPTS: dict[str, str] = {
    fold(w): c
    for w, c in {"ип": "entrepreneur", "жк": "entrepreneur", "бмг": "number", "маб": "number"}
    .items()
}
_PREFIXES: tuple[tuple[str, str], ...] = tuple(
    sorted(
        ((fp, c) for c, ps in _CONCEPTS.items() for fp in _folded_prefixes(*ps)),
        key=lambda pc: -len(pc[0]),
    )
)
# Kazakh compound verbs: the noun carries the meaning, the light verb after it ("тапсырыс беру"
# = to order, not "to give") is dropped.
LIGHT_VERBS: dict[str, tuple[str, ...]] = {"тапсирис": ("бер",), "отиниш": ("бер",)}
# Verbs of knowing/keeping: with a second-person pronoun they ask what the bot keeps.
_ABOUT_ME = _folded_prefixes(
    "зна", "биле", "помни", "запомин", "хран", "сохран", "сакта", "данн", "дерек", "переписк",
    "удал", "ошир",
)


# Two-word phrases whose words are stopwords one by one but together carry a meaning; each
# adds a token of that meaning. "что такое X", "X деген не": a request for a definition;
# "на меня", "за мной": issued in my name.
_PHRASES: dict[tuple[str, str], str] = {
    (fold(a), fold(b)): token
    for (a, b), token in {
        ("что", "такое"): "значение", ("что", "за"): "значение", ("это", "что"): "значение",
        ("деген", "не"): "значение", ("дегеніміз", "не"): "значение",
        ("деген", "немене"): "значение", ("дегеніміз", "немене"): "значение",
        ("на", "меня"): "имя", ("на", "мне"): "имя", ("за", "мной"): "имя",
    }.items()
}


def phrase_tokens(words: list[str]) -> list[str]:
    """Meaning tokens of the two-word phrases in folded words (see _PHRASES)."""
    found = {_PHRASES.get(pair) for pair in zip(words, words[1:], strict=False)}
    if fold("дегеніміз") in words:
        found.add("значение")
    return sorted(t for t in found if t is not None)


def light_verb_after(noun: str) -> tuple[str, ...]:
    """Prefixes of the light verb that, right after noun, only completes a compound verb."""
    for stem, verbs in LIGHT_VERBS.items():
        if noun.startswith(stem):
            return verbs
    return ()


def addressed_to_bot(tokens: list[str]) -> bool:
    """A question to "you" about knowing, keeping or deleting: it asks what the bot keeps."""
    return any(t in ADDRESSEE for t in tokens) and any(t.startswith(_ABOUT_ME) for t in tokens)


@lru_cache(maxsize=WORD_CACHE)
def concept_of(token: str) -> str | None:
    """Concept id a folded token belongs to, if any."""
    exact = _EXACT_CONCEPTS.get(token)
    if exact is not None:
        return exact
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
