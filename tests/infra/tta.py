"""A local Telegram for end-to-end tests: ../shared/tta (telegram-test-api + shim.py).

`TTAServer` installs the npm emulator into a writable cache (once), starts it and the shim on free
loopback ports and stops both on exit. `TTAClient` plays the user through the shim's test side.
`BotProcess` runs the real bot (`python -m bot run`) as a child process with its output in a log.

    with TTAServer() as tta:
        async with TTAClient(tta.base_url, token) as tg:
            await tg.send_command(42, "/start", language_code="kk")
            reply = await tg.wait_for_bot_message(42, lambda m: "Сәлем" in m.get("text", ""))

Updates are per bot token, so a fresh `make_token()` per test isolates tests on one server; the
shim's fault config, stats and call log are global (`TTAClient.reset()` restores them).
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import aiohttp
import pytest

from tests.infra.service import Service, free_port

REPO = Path(__file__).resolve().parents[2]
# TTA_SHARED_DIR: where shim.py and start_emulator.js are when not in ../shared/tta (a worktree).
SHARED_TTA = Path(os.environ.get("TTA_SHARED_DIR") or REPO.parent / "shared" / "tta")
TTA_PACKAGE = "telegram-test-api"
TTA_VERSION = "4.2.1"

Predicate = Callable[[dict[str, Any]], bool]


class TTAError(RuntimeError):
    """The emulator could not be started, or a test-side request failed."""


# ---------------------------------------------------------------------------------------- setup
def tta_deps_dir() -> Path:
    return Path(os.environ.get("TTA_DEPS") or REPO / ".cache" / "tta")


def _package_json(deps: Path) -> Path:
    return deps / "node" / "node_modules" / TTA_PACKAGE / "package.json"


def tta_available(shared_dir: Path = SHARED_TTA, deps: Path | None = None) -> tuple[bool, str]:
    """(True, "") when the emulator can run here, else (False, reason to skip)."""
    if shutil.which("node") is None:
        return False, "node is not installed (needed for the telegram-test-api emulator)"
    for name in ("start_emulator.js", "shim.py"):
        if not (shared_dir / name).is_file():
            return False, f"{shared_dir / name} is missing"
    if not _package_json(deps or tta_deps_dir()).is_file() and shutil.which("npm") is None:
        return False, f"npm is not installed and {TTA_PACKAGE} is not in {deps or tta_deps_dir()}"
    return True, ""


def ensure_emulator_installed(deps: Path | None = None) -> Path:
    """npm-install the emulator into <deps>/node unless already there; returns node_modules.
    A file lock keeps parallel test processes (xdist) from installing over each other."""
    deps = deps or tta_deps_dir()
    node_dir = deps / "node"
    if _package_json(deps).is_file():
        return node_dir / "node_modules"  # installed: no lock, so a read-only cache works too
    node_dir.mkdir(parents=True, exist_ok=True)
    with open(deps / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _package_json(deps).is_file():
            npm = shutil.which("npm")
            if npm is None:
                raise TTAError(f"npm is not installed and {TTA_PACKAGE} is not in {deps}")
            proc = subprocess.run(
                [
                    npm,
                    "install",
                    "--prefix",
                    str(node_dir),
                    "--no-audit",
                    "--no-fund",
                    f"{TTA_PACKAGE}@{TTA_VERSION}",
                ],
                capture_output=True,
                text=True,
                timeout=600,
                check=False,
            )
            if proc.returncode != 0 or not _package_json(deps).is_file():
                raise TTAError(f"npm install failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return node_dir / "node_modules"



def make_token(bot_id: int | None = None) -> str:
    """A token in Telegram's `<bot id>:<secret>` shape (aiogram validates it)."""
    bot_id = bot_id or secrets.randbelow(9 * 10**9) + 10**9
    return f"{bot_id}:AA{secrets.token_urlsafe(24)}"


def _stop_process(proc: subprocess.Popen[bytes] | None, timeout: float) -> int | None:
    if proc is None:
        return None
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


def _tail(path: Path, chars: int = 4000) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return ""


# ---------------------------------------------------------------------------------------- server
class TTAServer(Service):
    """Context manager running the emulator + shim on 127.0.0.1; `.base_url` is the shim."""

    def __init__(
        self,
        *,
        deps_dir: Path | None = None,
        shared_dir: Path | None = None,
        shim_config: Mapping[str, Any] | None = None,
        extra_env: Mapping[str, str] | None = None,
        startup_timeout: float = 30.0,
        log_dir: Path | None = None,
        shim_port: int | None = None,
    ) -> None:
        self.deps_dir = deps_dir or tta_deps_dir()
        self.shared_dir = shared_dir or SHARED_TTA
        self.shim_config = dict(shim_config or {})
        self.extra_env = dict(extra_env or {})
        self.startup_timeout = startup_timeout
        self.log_dir = log_dir
        self.emu_port = 0
        self.shim_port = 0
        self.fixed_shim_port = shim_port  # e.g. where a bot is already trying to connect
        self.startup_seconds = 0.0
        self._emu: subprocess.Popen[bytes] | None = None
        self._shim: subprocess.Popen[bytes] | None = None
        self._logs: list[IO[bytes]] = []
        self._own_log_dir = False

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.shim_port}"

    @property
    def emulator_url(self) -> str:
        return f"http://127.0.0.1:{self.emu_port}"

    def start(self) -> None:
        started = time.monotonic()
        ok, reason = tta_available(self.shared_dir, self.deps_dir)
        if not ok:
            raise TTAError(reason)
        node_modules = ensure_emulator_installed(self.deps_dir)
        if self.log_dir is None:
            self.log_dir = Path(tempfile.mkdtemp(prefix="kilt-tta-"))
            self._own_log_dir = True
        self.log_dir.mkdir(parents=True, exist_ok=True)
        try:
            # a port from free_port() can be grabbed by someone else before we bind it: retry
            for attempt in range(3):
                try:
                    self._start_pair(node_modules)
                    break
                except TTAError:
                    self._stop_children()
                    if attempt == 2:
                        raise
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - started

    def _spawn(self, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        assert self.log_dir is not None
        log = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - closed in stop()
        self._logs.append(log)
        return subprocess.Popen(
            argv,
            env={**os.environ, **self.extra_env, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=self.shared_dir,
        )

    def _start_pair(self, node_modules: Path) -> None:
        assert self.log_dir is not None
        self.emu_port, self.shim_port = free_port(), self.fixed_shim_port or free_port()
        while self.shim_port == self.emu_port:
            self.emu_port = free_port()
        self._emu = self._spawn(
            "emulator",
            ["node", str(self.shared_dir / "start_emulator.js")],
            {
                "TTA_HOST": "127.0.0.1",
                "TTA_PORT": str(self.emu_port),
                "NODE_PATH": str(node_modules),
            },
        )
        self._wait_http(self._emu, f"{self.emulator_url}/", "emulator")
        self.start_shim()

    def start_shim(self) -> None:
        """(Re)start the shim on its port, in front of the running emulator."""
        shim_env = {
            "TTA_EMU_URL": self.emulator_url,
            "TTA_SHIM_HOST": "127.0.0.1",
            "TTA_SHIM_PORT": str(self.shim_port),
        }
        if self.shim_config:
            shim_env["TTA_SHIM_CONFIG"] = json.dumps(self.shim_config)
        # the shim needs aiohttp, which this interpreter (the project's venv) has
        self._shim = self._spawn(
            "shim", [sys.executable, str(self.shared_dir / "shim.py")], shim_env
        )
        self._wait_http(self._shim, f"{self.base_url}/_shim/health", "shim", need_ok=True)

    def _wait_http(
        self, proc: subprocess.Popen[bytes], url: str, name: str, need_ok: bool = False
    ) -> None:
        assert self.log_dir is not None
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise TTAError(
                    f"{name} exited with {proc.returncode}:\n{_tail(self.log_dir / f'{name}.log')}"
                )
            try:
                with urllib.request.urlopen(url, timeout=1):
                    return
            except urllib.error.HTTPError:
                if not need_ok:  # the emulator answers 500 "Route not found" on / when up
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise TTAError(
            f"{name} did not answer {url} within {self.startup_timeout}s:\n"
            f"{_tail(self.log_dir / f'{name}.log')}"
        )

    def stop_shim(self) -> None:
        """Stop only the shim: to the bot, Telegram is unreachable until start_shim()."""
        _stop_process(self._shim, 5.0)
        self._shim = None

    def _stop_children(self) -> None:
        _stop_process(self._shim, 5.0)
        _stop_process(self._emu, 5.0)
        self._shim = self._emu = None
        for log in self._logs:
            log.close()
        self._logs.clear()

    def stop(self) -> None:
        self._stop_children()
        if self._own_log_dir and self.log_dir is not None:
            shutil.rmtree(self.log_dir, ignore_errors=True)
            self.log_dir = None
            self._own_log_dir = False

    def logs(self) -> str:
        """Emulator and shim output, for failure messages."""
        if self.log_dir is None:
            return ""
        return "\n".join(f"--- {p.name}\n{_tail(p)}" for p in sorted(self.log_dir.glob("*.log")))


# ---------------------------------------------------------------------------------------- client
_HTML_TAG_RE = re.compile(r"<[^>]*>")
_HTML_ENTITY_RE = re.compile(r"&(#x[0-9a-fA-F]+|#[0-9]+|lt|gt|amp|quot);")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def html_to_text(src: str) -> str:
    """What a Telegram user sees of an HTML parse_mode text (the shim has already rejected
    malformed markup, so dropping tags and decoding Telegram's four entities is enough)."""

    def entity(m: re.Match[str]) -> str:
        name = m.group(1)
        if name.startswith("#x"):
            return chr(int(name[2:], 16))
        if name.startswith("#"):
            return chr(int(name[1:]))
        return _NAMED[name]

    return _HTML_ENTITY_RE.sub(entity, _HTML_TAG_RE.sub("", src))


def _seconds(value: Any) -> int:
    try:
        d = int(value)
    except (TypeError, ValueError):
        return int(time.time())
    return d // 1000 if d > 10**11 else d  # the emulator stores milliseconds


def _utf16_len(s: str) -> int:
    return len(s.encode("utf-16-le")) // 2


class TTAClient:
    """The user's side of the local Telegram, for one bot token.

    Request shapes (shim -> emulator client API; every body carries botToken):
      POST /sendMessage   {botToken, date, from, chat, text, ...Message fields}
      POST /sendCommand   same plus entities=[{offset: 0, length, type: "bot_command"}]
      POST /sendCallback  {botToken, date, from, message: <the bot's Message>, data}
      POST /getUpdatesHistory {token} -> [{time(ms), botToken, message, messageId, ...}]
      GET  /_shim/calls?method=&since=, GET|POST /_shim/stats, POST /_shim/config,
      POST /_shim/upload?filename= (raw body), POST /_shim/update {token, update},
      GET  /_shim/files/<file_id>, GET /_shim/commands
    """

    def __init__(self, base_url: str, bot_token: str, *, request_timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.bot_token = bot_token
        self.bot_id = int(bot_token.split(":", 1)[0])
        self._timeout = aiohttp.ClientTimeout(total=request_timeout)
        self._session: aiohttp.ClientSession | None = None
        self._chats: dict[int, dict[str, Any]] = {}

    async def __aenter__(self) -> TTAClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    # -------------------------------------------------------------------- transport
    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    async def _request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: Mapping[str, str] | None = None,
        data: bytes | None = None,
    ) -> Any:
        async with self._http().request(
            method, self.base_url + path, json=json_body, params=params, data=data
        ) as resp:
            text = await resp.text()
        try:
            body = json.loads(text)
        except ValueError:
            raise TTAError(f"{method} {path}: HTTP {resp.status}: {text[:500]}") from None
        if resp.status != 200 or (isinstance(body, dict) and body.get("ok") is False):
            raise TTAError(f"{method} {path}: HTTP {resp.status}: {body}")
        return body.get("result") if isinstance(body, dict) else body

    # -------------------------------------------------------------------- building updates
    @staticmethod
    def user(
        user_id: int,
        *,
        first_name: str = "Tester",
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
    ) -> dict[str, Any]:
        """A Telegram User object for a human."""
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        if last_name:
            user["last_name"] = last_name
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        return user

    def _chat(
        self, chat_id: int, user: Mapping[str, Any], chat_type: str | None, title: str | None
    ) -> dict[str, Any]:
        if chat_id > 0 and chat_type in (None, "private"):
            chat = {"id": chat_id, "type": "private", "first_name": user.get("first_name", "")}
            for key in ("last_name", "username"):
                if user.get(key):
                    chat[key] = user[key]
        else:
            kind = chat_type or ("supergroup" if str(chat_id).startswith("-100") else "group")
            chat = {"id": chat_id, "type": kind, "title": title or f"chat {chat_id}"}
        self._chats[chat_id] = chat
        return chat

    def _chat_of(self, chat_id: int) -> dict[str, Any]:
        known = self._chats.get(chat_id)
        if known:
            return dict(known)
        if chat_id < 0:
            kind = "supergroup" if str(chat_id).startswith("-100") else "group"
            return {"id": chat_id, "type": kind, "title": f"chat {chat_id}"}
        return {"id": chat_id, "type": "private", "first_name": f"user{chat_id}"}

    def _message(
        self,
        chat_id: int,
        text: str | None,
        *,
        user: Mapping[str, Any] | None,
        user_fields: Mapping[str, Any],
        chat_type: str | None,
        chat_title: str | None,
        entities: Sequence[Mapping[str, Any]] | None,
        document: Mapping[str, Any] | None,
        caption: str | None,
        reply_to: Mapping[str, Any] | None,
        extra: Mapping[str, Any] | None,
    ) -> dict[str, Any]:
        sender = (
            dict(user)
            if user
            else self.user(
                user_fields.get("user_id") or (chat_id if chat_id > 0 else 1),
                **{k: v for k, v in user_fields.items() if k != "user_id"},
            )
        )
        sender.setdefault("is_bot", False)
        msg: dict[str, Any] = {
            "botToken": self.bot_token,  # the emulator files updates by token
            "date": int(time.time()),
            "from": sender,
            "chat": self._chat(chat_id, sender, chat_type, chat_title),
        }
        if text is not None:
            msg["text"] = text
        if entities:
            msg["entities"] = [dict(e) for e in entities]
        if document is not None:
            msg["document"] = dict(document)
        if caption is not None:
            msg["caption"] = caption
        if reply_to is not None:
            msg["reply_to_message"] = self._clean(reply_to)
        if extra:
            msg.update(extra)
        if text is None and document is None and not extra:
            raise ValueError("a message needs text, a document or extra fields")
        return msg

    @staticmethod
    def _clean(message: Mapping[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in message.items() if k not in ("botToken", "html", "caption_html")}

    # -------------------------------------------------------------------- user actions
    async def send_message(
        self,
        chat_id: int,
        text: str | None = None,
        *,
        user: Mapping[str, Any] | None = None,
        user_id: int | None = None,
        first_name: str = "Tester",
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
        chat_type: str | None = None,
        chat_title: str | None = None,
        entities: Sequence[Mapping[str, Any]] | None = None,
        document: Mapping[str, Any] | None = None,
        caption: str | None = None,
        reply_to: Mapping[str, Any] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The user writes to the bot. In a private chat the sender is the chat (chat_id);
        `user` (a full User dict) overrides the user_* fields. `document` is a Document from
        upload(). Returns the message as sent (the emulator assigns message_id itself)."""
        msg = self._message(
            chat_id,
            text,
            user=user,
            user_fields={
                "user_id": user_id,
                "first_name": first_name,
                "last_name": last_name,
                "username": username,
                "language_code": language_code,
            },
            chat_type=chat_type,
            chat_title=chat_title,
            entities=entities,
            document=document,
            caption=caption,
            reply_to=reply_to,
            extra=extra,
        )
        await self._request("POST", "/sendMessage", json_body=msg)
        return self._clean(msg)

    async def send_command(
        self,
        chat_id: int,
        command: str,
        *,
        user: Mapping[str, Any] | None = None,
        user_id: int | None = None,
        first_name: str = "Tester",
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
        chat_type: str | None = None,
        chat_title: str | None = None,
    ) -> dict[str, Any]:
        """The user sends a command, e.g. "/start" or "/start ref_42", with the bot_command
        entity Telegram attaches (the emulator's /sendCommand requires entities)."""
        text = command if command.startswith("/") else f"/{command}"
        word = text.split(maxsplit=1)[0]
        entities = [{"offset": 0, "length": _utf16_len(word), "type": "bot_command"}]
        msg = self._message(
            chat_id,
            text,
            user=user,
            user_fields={
                "user_id": user_id,
                "first_name": first_name,
                "last_name": last_name,
                "username": username,
                "language_code": language_code,
            },
            chat_type=chat_type,
            chat_title=chat_title,
            entities=entities,
            document=None,
            caption=None,
            reply_to=None,
            extra=None,
        )
        await self._request("POST", "/sendCommand", json_body=msg)
        return self._clean(msg)

    async def send_callback(
        self,
        message: Mapping[str, Any],
        data: str,
        *,
        user: Mapping[str, Any] | None = None,
        user_id: int | None = None,
        first_name: str = "Tester",
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
    ) -> dict[str, Any]:
        """The user presses an inline button: `message` is the bot's message carrying it
        (as returned by bot_messages), `data` the button's callback_data. The callback query
        id is assigned by the emulator; see calls("answerCallbackQuery") for the answer."""
        chat_id = int(message["chat"]["id"])
        sender = (
            dict(user)
            if user
            else self.user(
                user_id or (chat_id if chat_id > 0 else 1),
                first_name=first_name,
                last_name=last_name,
                username=username,
                language_code=language_code,
            )
        )
        sender.setdefault("is_bot", False)
        query = {
            "botToken": self.bot_token,
            "date": int(time.time()),
            "from": sender,
            "message": self._clean(message),
            "data": data,
        }
        await self._request("POST", "/sendCallback", json_body=query)
        return self._clean(query)

    async def inject_update(self, update: Mapping[str, Any]) -> dict[str, Any]:
        """Any raw Update the client API cannot make (edited_message, my_chat_member...);
        the shim assigns update_id and returns the update."""
        result = await self._request(
            "POST", "/_shim/update", json_body={"token": self.bot_token, "update": dict(update)}
        )
        return dict(result)

    async def upload(self, filename: str, data: bytes) -> dict[str, Any]:
        """Store a file the user will send; returns a Document for send_message(document=)."""
        result = await self._request(
            "POST", "/_shim/upload", params={"filename": filename}, data=data
        )
        return dict(result)

    async def download(self, file_id: str) -> bytes:
        """Contents of a file the bot sent (Document/photo file_id from bot_messages)."""
        async with self._http().get(f"{self.base_url}/_shim/files/{file_id}") as resp:
            if resp.status != 200:
                raise TTAError(f"file {file_id}: HTTP {resp.status}")
            return await resp.read()

    # -------------------------------------------------------------------- what the bot did
    def _bot_message(self, record: Mapping[str, Any]) -> dict[str, Any]:
        raw = dict(record["message"])
        chat_id = int(raw.pop("chat_id"))
        raw.pop("message_id", None)  # an edit merges its own params into the stored message
        msg: dict[str, Any] = {
            "message_id": int(record["messageId"]),
            "from": {
                "id": self.bot_id,
                "is_bot": True,
                "first_name": "TTA Test Bot",
                "username": "tta_test_bot",
            },
            "chat": self._chat_of(chat_id),
            "date": _seconds(record.get("time")),
        }
        html = str(raw.get("parse_mode") or "").upper() == "HTML"
        for key, value in raw.items():
            if key in ("text", "caption"):
                value = str(value)
                msg[key] = html_to_text(value) if html else value
                if html:
                    msg[f"{key}_html" if key == "caption" else "html"] = value
                continue
            if isinstance(value, str) and value[:1] in ("{", "["):
                try:
                    value = json.loads(value)  # aiogram sends nested objects JSON-encoded
                except ValueError:
                    pass
            msg[key] = value
        markup = msg.get("reply_markup")
        # the shim stores an empty inline keyboard for an edit that removed the buttons
        if isinstance(markup, dict) and markup.get("inline_keyboard") == []:
            del msg["reply_markup"]
        return msg

    async def history(self) -> list[dict[str, Any]]:
        """The emulator's raw records for this token (user and bot messages), oldest first."""
        result = await self._request(
            "POST", "/getUpdatesHistory", json_body={"token": self.bot_token}
        )
        return list(result or [])

    async def bot_messages(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        """The bot's messages (to `chat_id`, or to everyone) as Telegram Message dicts, oldest
        first, in their current state (edits applied, deleted ones gone). For HTML parse_mode
        `text` is what the user sees and `html` the markup the bot sent."""
        out = []
        for record in await self.history():
            raw = record.get("message")
            if not isinstance(raw, dict) or "chat_id" not in raw:
                continue  # a user's message or callback, not the bot's
            if chat_id is not None and str(raw["chat_id"]) != str(chat_id):
                continue
            out.append(self._bot_message(record))
        out.sort(key=lambda m: int(m["message_id"]))
        return out

    async def last_bot_message_id(self, chat_id: int | None = None) -> int:
        """For wait_for_bot_message(after_id=...): ignore what the bot sent before now."""
        return max((m["message_id"] for m in await self.bot_messages(chat_id)), default=0)

    async def wait_for_bot_message(
        self,
        chat_id: int | None,
        predicate: Predicate | None = None,
        timeout: float = 10.0,  # noqa: ASYNC109 - a polling deadline, reads better in tests
        *,
        after_id: int = 0,
        interval: float = 0.05,
    ) -> dict[str, Any]:
        """Poll until the bot has a message to `chat_id` (newer than after_id) for which
        predicate holds; returns the first such. Edited messages are re-checked each poll."""
        deadline = time.monotonic() + timeout
        seen: list[dict[str, Any]] = []
        while True:
            seen = [m for m in await self.bot_messages(chat_id) if m["message_id"] > after_id]
            for msg in seen:
                if predicate is None or predicate(msg):
                    return msg
            if time.monotonic() >= deadline:
                texts = [m.get("text", m.get("caption")) for m in seen[-10:]]
                raise TimeoutError(
                    f"no matching bot message to chat {chat_id} within {timeout}s; "
                    f"last ones: {texts}"
                )
            await asyncio.sleep(interval)

    async def calls(
        self, method: str | None = None, since: float | None = None
    ) -> list[dict[str, Any]]:
        """Bot API calls the bot made (all tokens): {t, method, status, ms, params,
        description, result}; since is a time.time() value."""
        params: dict[str, str] = {}
        if method:
            params["method"] = method
        if since is not None:
            params["since"] = repr(since)
        return list(await self._request("GET", "/_shim/calls", params=params))

    async def wait_for_call(
        self,
        method: str,
        predicate: Predicate | None = None,
        timeout: float = 10.0,  # noqa: ASYNC109 - a polling deadline, reads better in tests
        *,
        since: float | None = None,
    ) -> dict[str, Any]:
        """Poll calls(method, since) until one matches predicate."""
        deadline = time.monotonic() + timeout
        while True:
            for call in await self.calls(method, since):
                if predicate is None or predicate(call):
                    return call
            if time.monotonic() >= deadline:
                raise TimeoutError(f"no matching {method} call within {timeout}s")
            await asyncio.sleep(0.05)

    async def commands(self) -> list[dict[str, Any]]:
        """Command lists set with setMyCommands: [{token, scope, language_code, commands}]."""
        return list(await self._request("GET", "/_shim/commands"))

    # -------------------------------------------------------------------- faults and stats
    async def configure(self, **faults: Any) -> dict[str, Any]:
        """Update the shim's fault config (keys: global_rps, global_burst, per_chat_rps,
        per_chat_burst, group_per_minute, retry_after, blocked, deactivated, missing_chats,
        latency_ms, inject=[{method, chat_id, code, description, retry_after, times}]).
        Returns the whole config. Pass reset=True to start from the defaults."""
        return dict(await self._request("POST", "/_shim/config", json_body=faults))

    async def config(self) -> dict[str, Any]:
        return dict(await self._request("GET", "/_shim/config"))

    async def stats(self, clear: bool = False) -> dict[str, int]:
        """Counters "<method> <status>" of bot calls; clear=True also empties the call log."""
        return dict(await self._request("POST" if clear else "GET", "/_shim/stats"))

    async def reset(self) -> None:
        """Default fault config, empty stats and call log (emulator messages stay)."""
        await self._request("POST", "/_shim/config", json_body={"reset": True})
        await self._request("POST", "/_shim/stats")


# ---------------------------------------------------------------------------------------- bot
_TERMINATING = {signal.SIGKILL, signal.SIGTERM, signal.SIGINT, signal.SIGQUIT}


class BotProcess(Service):
    """The real bot as a child process: `python -m bot run` with `env` on top of os.environ,
    stdout+stderr appended to `log_path` (a marker line before each start)."""

    def __init__(
        self,
        env: Mapping[str, str],
        cwd: Path | str | None = None,
        *,
        log_path: Path | str | None = None,
        args: Sequence[str] | None = None,
        inherit_env: bool = True,
        stop_timeout: float = 10.0,
    ) -> None:
        self.env = dict(env)
        self.cwd = Path(cwd) if cwd is not None else REPO
        self.args = list(args) if args is not None else [sys.executable, "-m", "bot", "run"]
        self.inherit_env = inherit_env
        self.stop_timeout = stop_timeout
        # without a path, a temp file is made at the first start (and kept, for post-mortems)
        self.log_path: Path | None = Path(log_path) if log_path is not None else None
        self.starts = 0
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def returncode(self) -> int | None:
        return self._proc.poll() if self._proc else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> None:
        if self.running:
            raise RuntimeError("bot process is already running")
        env = {**os.environ, **self.env} if self.inherit_env else dict(self.env)
        env.setdefault("PYTHONUNBUFFERED", "1")  # log lines appear as they happen
        self.starts += 1
        if self.log_path is None:
            fd, name = tempfile.mkstemp(prefix="kilt-bot-", suffix=".log")
            os.close(fd)
            self.log_path = Path(name)
        with open(self.log_path, "ab") as log:
            # one line (repr escapes newlines) so wait_for_log can skip it
            log.write(f"\n=== start #{self.starts}: {self.args!r}\n".encode())
            log.flush()
            # a new session: the test's Ctrl-C does not reach the bot, kill() only hits it
            self._proc = subprocess.Popen(
                self.args,
                cwd=self.cwd,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    def kill(self, sig: int = signal.SIGKILL, wait: bool | None = None) -> int | None:
        """Send `sig`; for terminating signals (or wait=True) wait for the exit and return
        the exit code (negative = killed by that signal)."""
        if self._proc is None or self._proc.poll() is not None:
            return self.returncode
        self._proc.send_signal(sig)
        if wait if wait is not None else sig in _TERMINATING:
            return self.wait(self.stop_timeout)
        return None

    def wait(self, timeout: float | None = None) -> int:
        if self._proc is None:
            raise RuntimeError("bot process was never started")
        return self._proc.wait(timeout)

    def stop(self) -> int | None:
        """SIGTERM (a graceful shutdown), SIGKILL if it does not exit in stop_timeout."""
        return _stop_process(self._proc, self.stop_timeout)

    def restart(self) -> None:
        self.stop()
        self.start()

    def log_text(self) -> str:
        if self.log_path is None:
            return ""
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def wait_for_log(self, pattern: str | re.Pattern[str], timeout: float = 30.0) -> str:
        """Block until the log (since the latest start) matches; returns the matching line.
        Fails early when the process exits."""
        regex = re.compile(re.escape(pattern)) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + timeout
        while True:
            # only what the latest run printed, without its marker line
            text = self.log_text().rsplit("\n=== start #", 1)[-1].partition("\n")[2]
            for line in text.splitlines():
                if regex.search(line):
                    return line
            if not self.running:
                raise RuntimeError(
                    f"bot exited ({self.returncode}) before logging "
                    f"{regex.pattern!r}:\n{text[-4000:]}"
                )
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"bot did not log {regex.pattern!r} in {timeout}s:\n{text[-4000:]}"
                )
            time.sleep(0.05)


# ---------------------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="session")
def tta_server() -> Iterator[TTAServer]:
    """Session-wide emulator + shim; skips (with the reason) when node is absent.
    Import it into a conftest: `from tests.infra.tta import tta_server`."""
    ok, reason = tta_available()
    if not ok:
        pytest.skip(reason)
    with TTAServer() as server:
        yield server


@pytest.fixture
def tta_token() -> str:
    """A fresh bot token per test: the emulator keeps updates apart by token."""
    return make_token()


@pytest.fixture
async def tta_client(tta_server: TTAServer, tta_token: str) -> AsyncIterator[TTAClient]:
    """Client for this test's token; restores the shim's default faults afterwards."""
    async with TTAClient(tta_server.base_url, tta_token) as client:
        try:
            yield client
        finally:
            await client.reset()
