"""Simulated people: what each one sends next, decided from the bot's real replies.

A person who pressed nothing yet has no buttons; after the bot answers, the person may press
one of the buttons of the last inline keyboard the bot sent to that chat (menu, FAQ topics,
key cards, 👍/👎), so callback data is always the bot's own. Everything is plain JSON, as it
travels over the Bot API; no aiogram objects are built here.
"""

from __future__ import annotations

import csv
import itertools
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parents[1] / "data"
BOT = {"id": 4242, "is_bot": True, "first_name": "Kilt", "username": "kilt_bench_bot"}
COMMANDS = ("/mykeys", "/help", "/reminders", "/faq")
# Buttons a person presses at random; dialogs (ak:) are driven below, and buttons that
# delete, export, edit or change the language are left alone so the mix stays stable.
BROWSE = ("menu:mykeys", "menu:reminders", "menu:faq", "topic:", "fb:", "k:view:", "k:where:",
          "k:used:", "kl:page:")
LABELS = ("Ключ для налоговой", "Салық кілті", "ЭЦП директора", "Банк кілті")
NOTES = ("флешка в сейфе", "ноутбук бухгалтера", "токен у директора")
COMPANY = "ТОО «Сапа»"


def questions() -> list[str]:
    """Free-text questions of the tuning and holdout sets (never the unseen or blind ones)."""
    out: list[str] = []
    for name in ("qa_tuning.tsv", "qa_holdout.tsv"):
        with open(DATA / name, encoding="utf-8", newline="") as f:
            out += [row["question"] for row in csv.DictReader(f, delimiter="\t")]
    return out


@dataclass
class Person:
    uid: int
    lang: str
    will_consent: bool
    consented: bool = False
    keys: int = 0
    busy: bool = False  # an update of this person is with the bot, unanswered
    last_call: float = 0.0  # when the bot last called a method for this chat
    keyboard: list[str] = field(default_factory=list)  # callback data of the last keyboard
    kb_message: dict[str, Any] | None = None  # the bot's message that carries it
    dialog: str | None = None  # "save" or "cancel": the plan for an /addkey under way
    steps: int = 0

    @property
    def user(self) -> dict[str, Any]:
        return {"id": self.uid, "is_bot": False, "first_name": "Bench", "language_code": self.lang}

    @property
    def chat(self) -> dict[str, Any]:
        return {"id": self.uid, "type": "private", "first_name": "Bench"}


class People:
    def __init__(self, count: int, consent_share: float, certs: list[bytes], seed: int = 7):
        self.rng = random.Random(seed)
        self.all = [Person(100_000 + i, self.rng.choice(("ru", "kk")),
                           self.rng.random() < consent_share) for i in range(count)]
        self.by_uid = {p.uid: p for p in self.all}
        self.questions = questions()
        self.certs = certs
        self.files: dict[str, bytes] = {}
        self.update_ids = itertools.count(1)
        self.message_ids = itertools.count(1)
        self.phase = "setup"
        self.counts: dict[str, dict[str, int]] = {}  # per phase: how many of each action
        self.last_kind = ""  # the action of the update built last, for latency by kind

    # --- what a person sends ------------------------------------------------------------

    def next_update(self, p: Person, now: float) -> dict[str, Any]:
        """The next update of an idle person, by a fixed mix of actions."""
        p.busy = True
        if p.will_consent and not p.consented:  # set-up: /start, then the consent button
            if "consent:1" in p.keyboard:
                p.consented = True
                return self._press(p, "consent:1", "consent", now)
            return self._text(p, "/start", "start", now)
        if p.dialog is not None:
            return self._dialog_step(p, now)
        r = self.rng.random()
        if r < 0.42 or not p.consented:
            if p.consented or r < 0.8:
                return self._text(p, self.rng.choice(self.questions), "question", now)
            return self._text(p, self.rng.choice(("/help", "/faq")), "command", now)
        if r < 0.60:
            return self._text(p, self.rng.choice(COMMANDS), "command", now)
        if r < 0.84:
            browse = [d for d in p.keyboard if d.startswith(BROWSE)]
            if browse:
                return self._press(p, self.rng.choice(browse), "button", now)
            return self._text(p, self.rng.choice(self.questions), "question", now)
        if r < 0.97:
            p.dialog, p.steps = ("save" if self.rng.random() < 0.7 else "cancel"), 0
            if "menu:addkey" in p.keyboard and self.rng.random() < 0.3:
                return self._press(p, "menu:addkey", "addkey", now)
            return self._text(p, "/addkey", "addkey", now)
        p.dialog, p.steps = "save", 0
        return self._document(p, now)

    def _dialog_step(self, p: Person, now: float) -> dict[str, Any]:
        p.steps += 1
        buttons = [d for d in p.keyboard if d.startswith("ak:")]
        if not buttons or p.steps > 15:  # the dialog ended (limit, error): back to browsing
            p.dialog = None
            return self._text(p, self.rng.choice(self.questions), "question", now)
        if p.dialog == "cancel" and p.steps >= 2 and self.rng.random() < 0.5:
            p.dialog = None
            return self._press(p, "ak:cancel:", "dialog", now)
        forward = [d for d in buttons if d.split(":")[1] not in ("back", "cancel")]
        if not forward:  # a text-only step (company name)
            return self._text(p, COMPANY, "dialog", now)
        action = forward[0].split(":")[1]
        if action == "holder":
            forward = [d for d in forward if d.endswith("individual")] or forward
        if action == "save":
            p.dialog, p.keys = None, p.keys + 1
        elif action == "label_ok" and self.rng.random() < 0.5:
            return self._text(p, f"{self.rng.choice(LABELS)} {p.keys + 1}", "dialog", now)
        elif action == "skip" and self.rng.random() < 0.5:
            return self._text(p, self.rng.choice(NOTES), "dialog", now)
        return self._press(p, self.rng.choice(forward), "dialog", now)

    # --- update builders ----------------------------------------------------------------

    def _count(self, kind: str) -> None:
        self.last_kind = kind
        counts = self.counts.setdefault(self.phase, {})
        counts[kind] = counts.get(kind, 0) + 1

    def _message(self, p: Person, now: float, **fields: Any) -> dict[str, Any]:
        msg = {"message_id": next(self.message_ids), "date": int(now), "chat": p.chat,
               "from": p.user, **fields}
        return {"update_id": next(self.update_ids), "message": msg}

    def _text(self, p: Person, text: str, kind: str, now: float) -> dict[str, Any]:
        self._count(kind)
        fields: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            fields["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text)}]
        return self._message(p, now, **fields)

    def _press(self, p: Person, data: str, kind: str, now: float) -> dict[str, Any]:
        self._count(kind)
        uid = next(self.update_ids)
        message = p.kb_message or {"message_id": 1, "date": int(now), "chat": p.chat,
                                   "from": BOT, "text": "…"}
        query = {"id": f"cq{uid}", "from": p.user, "chat_instance": f"ci{p.uid}",
                 "message": message, "data": data}
        return {"update_id": uid, "callback_query": query}

    def _document(self, p: Person, now: float) -> dict[str, Any]:
        self._count("certificate")
        n = self.rng.randrange(len(self.certs))
        file_id = f"cert-{n}"
        self.files[file_id] = self.certs[n]
        doc = {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_name": f"AUTH_{n}.cer",
               "mime_type": "application/pkix-cert", "file_size": len(self.certs[n])}
        return self._message(p, now, document=doc)

    # --- what the bot does --------------------------------------------------------------

    def on_call(self, method: str, params: dict[str, Any], now: float) -> Any:
        """Telegram-shaped result of a Bot API call; remembers keyboards per chat."""
        chat = params.get("chat_id")
        p = self.by_uid.get(int(chat)) if chat is not None and str(chat).lstrip("-").isdigit() \
            else None
        if p is not None:
            p.last_call = now
        if method == "getMe":
            return BOT
        if method == "getFile":
            file_id = str(params.get("file_id"))
            size = len(self.files.get(file_id, b""))
            return {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_size": size,
                    "file_path": f"documents/{file_id}"}
        if method in ("sendMessage", "sendDocument", "editMessageText", "editMessageReplyMarkup"):
            if chat is None:
                return True  # an inline message: Telegram answers True
            return self._sent(method, params, p, now)
        return True

    def _sent(self, method: str, params: dict[str, Any], p: Person | None, now: float
              ) -> dict[str, Any]:
        chat = int(params["chat_id"])
        message_id = params.get("message_id")
        msg: dict[str, Any] = {
            "message_id": int(message_id) if message_id else next(self.message_ids),
            "date": int(now), "from": BOT,
            "chat": p.chat if p else {"id": chat, "type": "private", "first_name": "Bench"},
        }
        if method == "sendDocument":
            msg["document"] = {"file_id": "doc", "file_unique_id": "udoc"}
            msg["caption"] = params.get("caption") or ""
        else:
            msg["text"] = params.get("text") or "…"
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            msg["reply_markup"] = markup
            if p is not None:
                p.keyboard = [b["callback_data"] for row in markup["inline_keyboard"]
                              for b in row if "callback_data" in b]
                p.kb_message = msg
        return msg
