from __future__ import annotations

import pytest

from bot.broadcast.html_check import (
    check_length,
    extract_links,
    plain_text,
    validate_telegram_html,
    visible_length,
)

VALID = [
    "plain text",
    "",
    "<b>bold</b> <strong>strong</strong> <i>it</i> <em>em</em> <u>u</u> <ins>ins</ins>",
    "<s>s</s> <strike>strike</strike> <del>del</del>",
    '<span class="tg-spoiler">hidden</span> <tg-spoiler>hidden</tg-spoiler>',
    '<a href="https://pki.gov.kz">pki.gov.kz</a>',
    "<a href='https://egov.kz/cms/ru'>single quotes</a>",
    '<a href="https://example.com/?a=1&amp;b=2">escaped query</a>',
    '<a href="tg://user?id=123">mention</a>',
    "<code>x = 1</code>",
    "<pre>block</pre>",
    '<pre><code class="language-python">print("hi")</code></pre>',
    "<blockquote>quote</blockquote>",
    "<blockquote expandable>long quote</blockquote>",
    '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>',
    "<b>bold <i>bold italic <u>and underlined</u></i></b>",
    '<a href="https://egov.kz"><b>bold link</b></a>',
    '<b><a href="https://egov.kz">link in bold</a></b>',
    "<blockquote><b>bold</b> in a quote</blockquote>",
    "a &lt; b &gt; c &amp; d &quot;e&quot;",
    "&#128274; &#x1F512; &#1240;",
    "<B>upper-case tag names</B>",
    "<b >space before bracket</b >",
    "line one\nline two\n\n<b>ЭЦҚ</b> және <i>ЭЦП</i>",
]

INVALID = [
    ("<b>unclosed", "unclosed tag <b>"),
    ("<b><i>crossed</b></i>", "unmatched </b>"),
    ("closing only</i>", "unmatched </i>"),
    ("<script>alert(1)</script>", "unsupported tag <script>"),
    ("<div>block</div>", "unsupported tag <div>"),
    ("<br>", "unsupported tag <br>"),
    ("a < b", "bare '<'"),
    ("a <3", "bare '<'"),
    ("a > b", "bare '>'"),
    ("AT&T", "bare '&'"),
    ("Tom & Jerry", "bare '&'"),
    ("&nbsp;", "unknown entity &nbsp;"),
    ("&copy; 2025", "unknown entity &copy;"),
    ("&#0;", "invalid character reference"),
    ("&#xD800;", "invalid character reference"),
    ("<a>no href</a>", "needs a non-empty href"),
    ('<a href="">empty href</a>', "needs a non-empty href"),
    ("<a href=https://egov.kz>unquoted</a>", "must be quoted"),
    ('<a href="https://egov.kz>unclosed quote</a>', "no closing '>'"),
    ("<b", "no closing '>'"),
    ("<span>no class</span>", 'span class="tg-spoiler"'),
    ('<span class="bold">wrong class</span>', 'span class="tg-spoiler"'),
    ("<tg-emoji>👍</tg-emoji>", "numeric emoji-id"),
    ('<code class="language-python">x</code>', "only allowed directly inside <pre>"),
    ("<pre><b>x</b></pre>", "<b> is not allowed inside <pre>"),
    ("<code><i>x</i></code>", "<i> is not allowed inside <code>"),
    ('<a href="https://a.kz"><a href="https://b.kz">x</a></a>', "<a> is not allowed inside <a>"),
    ('<a href="https://a.kz"><code>x</code></a>', "<code> is not allowed inside <a>"),
    ("<blockquote><blockquote>x</blockquote></blockquote>", "cannot be nested"),
    ("<b/>", "malformed tag"),
    ("<b>x</b class='y'>", "cannot have attributes"),
    ('<a href="&bogus;">x</a>', "unknown entity &bogus;"),
]


@pytest.mark.parametrize("text", VALID)
def test_valid_html_has_no_errors(text: str) -> None:
    assert validate_telegram_html(text) == []


@pytest.mark.parametrize(("text", "expected"), INVALID)
def test_invalid_html_is_reported(text: str, expected: str) -> None:
    errors = validate_telegram_html(text)
    assert errors, text
    assert any(expected in e for e in errors), errors


def test_errors_carry_an_offset() -> None:
    assert validate_telegram_html("ok <x>") == ["offset 3: unsupported tag <x>"]


def test_one_unknown_tag_gives_one_error_per_tag() -> None:
    errors = validate_telegram_html("<script>x</script>")
    assert errors == ["offset 0: unsupported tag <script>", "offset 9: unsupported tag </script>"]


def test_allowed_tags_narrow_the_subset() -> None:
    text = "<b>x</b> <u>y</u> <u>z</u>"
    assert validate_telegram_html(text, allowed_tags=frozenset({"b", "u"})) == []
    assert validate_telegram_html(text, allowed_tags=frozenset({"b"})) == [
        "tag <u> is not allowed here"
    ]


def test_extract_links_unescapes_href() -> None:
    text = '<a href="https://x.kz/?a=1&amp;b=2">x</a> and <a href="https://egov.kz">e</a>'
    assert extract_links(text) == ["https://x.kz/?a=1&b=2", "https://egov.kz"]


def test_plain_text_strips_tags_and_decodes_entities() -> None:
    text = '<b>ЭЦП</b> &amp; <a href="https://pki.gov.kz">НУЦ</a> &lt;3 &#x1F512;'
    assert plain_text(text) == "ЭЦП & НУЦ <3 🔒"


@pytest.mark.parametrize(
    ("text", "length"),
    [
        ("abc", 3),
        ("<b>abc</b>", 3),
        ("&lt;&gt;&amp;&quot;", 4),
        ("ЭЦҚ құпиясөз", 12),  # Cyrillic is one UTF-16 unit per letter
        ("🔒", 2),  # outside the BMP: a surrogate pair
        ("&#128274;", 2),
        ("👍🏽", 4),  # emoji + skin-tone modifier, two pairs
        ("👨‍👩‍👧", 8),  # ZWJ family: 3 pairs + 2 joiners
        ("🇰🇿", 4),  # flag = two regional indicators
        ('<a href="https://very-long-url.example.kz/path">x</a>', 1),
        ("e\u0301", 2),  # e + combining accent, two code points
        ("\u00e9", 1),  # the precomposed letter
    ],
)
def test_visible_length_counts_utf16_units(text: str, length: int) -> None:
    assert visible_length(text) == length


def test_check_length_limits() -> None:
    assert check_length("<b>" + "a" * 4096 + "</b>") == []
    assert check_length("a" * 4097) == ["text is 4097 UTF-16 units long, limit is 4096"]
    # 2048 emoji are 4096 units: exactly at the limit; one more is over it.
    assert check_length("🔒" * 2048) == []
    assert check_length("🔒" * 2049) != []
    assert check_length("abc", limit=2) != []
    assert check_length("<b> </b>") == ["message text is empty after parsing"]
