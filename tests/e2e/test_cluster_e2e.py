"""Three real bot instances (`python -m bot run --webhook`) on one PostgreSQL, one Redis and the
local Telegram, behind a test webhook pusher that plays Telegram and the load balancer
(tests/infra/cluster.py): each update handled once, one user's dialog in order across
instances, every reminder and broadcast message delivered once through a kill -9 of one
instance, and the three together within SEND_RPS."""

from __future__ import annotations

import asyncio
import base64
import math
import os
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.broadcast.engine import FLUSH_EVERY
from bot.context import utc_now
from bot.reminders.engine import SENDERS
from bot.reminders.hooks import on_key_saved
from handlers.keys.ui import AddCb
from storage.broadcasts import Audience
from storage.database import create_engine, create_session_pool, migrate_sync
from storage.dto import KeyDraft
from storage.encryption import FieldCipher
from storage.repositories import Repos
from tests.infra.cluster import BotCluster, WebhookPusher
from tests.infra.postgres import PostgresServer
from tests.infra.redis import RedisServer
from tests.infra.tta import TTAClient, TTAServer, make_token

pytestmark = pytest.mark.e2e
ADMIN = 900001
N = 3
STALL = 0.15  # s: how late a paced call may reach (or be stamped by) the local Telegram here
TZ = ZoneInfo("Asia/Almaty")


def cluster_env(
    tta: TTAServer, pg: PostgresServer, redis: RedisServer, **extra: str
) -> dict[str, str]:
    url = pg.create_database()
    migrate_sync(url)  # once, as compose's `migrate` service does, before the instances start
    return {
        "BOT_TOKEN": make_token(),
        "TELEGRAM_API_URL": tta.base_url,
        "DATABASE_URL": url,
        "REDIS_URL": redis.url,
        "DATA_KEY": base64.b64encode(os.urandom(32)).decode(),
        "ADMIN_IDS": str(ADMIN),
        "LOG_LEVEL": "INFO",
        "THROTTLE_PER_MINUTE": "600",  # the test types far faster than a person
        "REMINDER_SCAN_SECONDS": "1",
        **extra,
    }


async def flush_redis(url: str) -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(url)
    try:
        await client.flushdb()
    finally:
        await client.aclose()


class Db:
    """The shared database as the test sees it: seeding and reading back, with the bots' key."""

    def __init__(self, env: dict[str, str]) -> None:
        self.url = env["DATABASE_URL"]
        self.cipher = FieldCipher(base64.b64decode(env["DATA_KEY"]))

    async def run(self, work: Any) -> Any:
        engine = create_engine(self.url)
        try:
            async with create_session_pool(engine)() as session:
                result = await work(Repos.build(session, self.cipher))
                await session.commit()
                return result
        finally:
            await engine.dispose()

    async def users(self, chats: list[int], *, broadcasts: bool = True) -> None:
        async def work(repos: Repos) -> None:
            now = utc_now()
            for chat in chats:
                user = await repos.users.create(chat, "ru", "Asia/Almaty", now, True)
                await repos.users.update_settings(user.id, window_start=0, window_end=0,
                                                  broadcasts_opt_in=broadcasts)

        await self.run(work)

    async def due_reminders(self, chats: list[int]) -> None:
        """A key expiring in 3 days for each user: the 3-days-left reminder is due now."""

        async def work(repos: Repos) -> None:
            now = utc_now()
            expires = now.astimezone(TZ).date() + timedelta(days=3)
            for chat in chats:
                user = await repos.users.get_by_tg(chat)
                assert user is not None
                draft = KeyDraft(kind="file", purpose="personal", expires_on=expires,
                                 label=f"key {chat}")
                key = await repos.keys.add(user.id, draft, now)
                await on_key_saved(repos, user, key, now)

        await self.run(work)

    async def broadcast(self) -> int:
        async def work(repos: Repos) -> int:
            now = utc_now()
            return await repos.broadcasts.create(
                ADMIN, {"kk": "<b>Кеңес</b>", "ru": "<b>Совет</b>"}, Audience(), now, now,
                progress_chat=ADMIN,
            )

        return int(await self.run(work))

    async def keys_of(self, chat: int) -> list[Any]:
        async def work(repos: Repos) -> list[Any]:
            user = await repos.users.get_by_tg(chat)
            return [] if user is None else await repos.keys.list_for_user(user.id)

        return list(await self.run(work))

    async def broadcast_status(self, broadcast_id: int) -> tuple[str, dict[str, int]]:
        async def work(repos: Repos) -> tuple[str, dict[str, int]]:
            b = await repos.broadcasts.get(broadcast_id)
            assert b is not None
            return b.status, (await repos.broadcasts.counts(broadcast_id)).by_status

        result: tuple[str, dict[str, int]] = await self.run(work)
        return result

    async def reminder_claims_before(self, moment: datetime) -> int:
        from sqlalchemy import func, select

        from storage.models import ReminderClaim

        async def work(repos: Repos) -> int:
            return int(await repos.session.scalar(
                select(func.count()).select_from(ReminderClaim)
                .where(ReminderClaim.claimed_at < moment)
            ) or 0)

        result: int = await self.run(work)
        return result

    async def unknown_chats(self, broadcast_id: int) -> set[int]:
        from sqlalchemy import select

        from storage.models import Delivery, User

        async def work(repos: Repos) -> set[int]:
            rows = await repos.session.execute(
                select(User.tg_id_enc).join(Delivery, Delivery.user_id == User.id)
                .where(Delivery.broadcast_id == broadcast_id, Delivery.status == "unknown")
            )
            return {int(self.cipher.decrypt(enc, "users.tg_id")) for (enc,) in rows.all()}

        result: set[int] = await self.run(work)
        return result


async def sends(tg: TTAClient, chats: set[int], since: float = 0.0) -> list[dict[str, Any]]:
    """The bots' accepted sendMessage calls to `chats`."""
    calls = await tg.calls("sendMessage", since=since)
    return [c for c in calls if c["status"] == 200 and int(c["params"]["chat_id"]) in chats]


def max_in_window(times: list[float], window: float = 1.0) -> int:
    """The most calls in any sliding window of `window` seconds."""
    times, best, start = sorted(times), 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


def arrivals(calls: list[dict[str, Any]]) -> list[float]:
    """When each call reached the local Telegram (`t` is when it answered)."""
    return sorted(c["t"] - c["ms"] / 1000 for c in calls)


def assert_within(times: list[float], rps: float) -> None:
    """At most `rps` messages a second, as far as arrival times at the local Telegram can show.
    The shared pacer spaces the bot's sends at least 1/rps apart, so rps + 1 of them may span
    exactly 1 s (the fencepost), and on this busy 2-core machine a process (a bot, or the shim
    that stamps the calls) stalls for up to STALL s and lets a few paced calls arrive together.
    So a sliding 1 s window may hold rps + 1 + rps * STALL; a second instance sending on its own
    would show about 2x. Over a longer window the stall weighs less; on average, exactly rps."""
    allowance = 1 + math.ceil(rps * STALL)
    for window in (1.0, 3.0):
        peak = max_in_window(times, window)
        limit = rps * window + allowance
        assert peak <= limit, f"{peak} messages within {window} s, SEND_RPS {rps}"
    # n messages need at least (n - 1) / rps seconds
    assert times[-1] - times[0] >= (len(times) - 1) / rps - STALL, (len(times), times)


async def wait_until(check: Any, timeout: float, what: str, cluster: BotCluster) -> Any:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        assert time.monotonic() < deadline, f"{what} within {timeout}s\n{cluster.logs()}"
        await asyncio.sleep(0.2)


# ------------------------------------------------------------------ a cluster for tests 1, 2, 4
SEND_RPS = 8  # low, so a few dozen reminders take seconds and the limit is easy to see


@pytest.fixture(scope="module")
def cluster(
    tta_server: TTAServer,
    postgres_server: PostgresServer,
    redis_server: RedisServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[BotCluster]:
    asyncio.run(flush_redis(redis_server.url))
    env = cluster_env(tta_server, postgres_server, redis_server, SEND_RPS=str(SEND_RPS))
    with BotCluster(env, tmp_path_factory.mktemp("cluster"), n=N) as running:
        yield running


async def test_each_update_is_handled_once_across_instances(
    cluster: BotCluster, tta_server: TTAServer
) -> None:
    users = list(range(76_001, 76_009))
    per_user = 6
    before = cluster.metric_sum("kilt_updates_duplicate_total")
    # Every third update also goes to another instance: with the original or after its answer.
    async with TTAClient(tta_server.base_url, cluster.token) as tg, WebhookPusher(
        cluster, duplicate=lambda u, n: n % 3 == 0
    ) as pusher:
        since = time.time()
        await asyncio.gather(*(
            tg.send_command(chat, "/help", language_code="ru")
            for _ in range(per_user) for chat in users
        ))

        async def all_replied() -> bool:
            return len(await sends(tg, set(users), since)) >= len(users) * per_user

        await wait_until(all_replied, 60, "every /help answered", cluster)
        await pusher.wait_idle()
        await asyncio.sleep(0.5)  # a late second reply would show up here
        replies = Counter(int(c["params"]["chat_id"]) for c in await sends(tg, set(users), since))
    assert replies == dict.fromkeys(users, per_user)
    assert pusher.stats.updates == len(users) * per_user
    spread = pusher.stats.by_instance()
    assert sorted(spread) == [0, 1, 2] and min(spread.values()) >= 10, spread
    copies = pusher.stats.copies
    assert copies >= len(users) * per_user // 3
    dropped = cluster.metric_sum("kilt_updates_duplicate_total") - before
    assert dropped == copies, (dropped, copies)


async def test_one_users_dialog_stays_in_order_across_instances(
    cluster: BotCluster, tta_server: TTAServer
) -> None:
    users = list(range(77_001, 77_006))
    db = Db(cluster.env)
    await db.users(users)
    today = utc_now().astimezone(TZ).date()
    issued, expiry = today - timedelta(days=30), today + timedelta(days=335)

    async def dialog(tg: TTAClient, chat: int) -> None:
        """Every step at once, without waiting for a single reply."""
        shown = {"message_id": 1, "date": int(time.time()), "text": "…",
                 "chat": {"id": chat, "type": "private", "first_name": "T"},
                 "from": {"id": tg.bot_id, "is_bot": True, "first_name": "Kilt"}}

        async def press(action: str, value: str = "") -> None:
            data = AddCb(action=action, value=value).pack()
            await tg.send_callback(shown, data, language_code="ru")

        async def say(text: str) -> None:
            await tg.send_message(chat, text, language_code="ru")

        await tg.send_command(chat, "/addkey", language_code="ru")
        await press("kind", "file")
        await press("holder", "individual")
        await press("purpose", "auth")
        await say(issued.strftime("%d.%m.%Y"))
        await say(expiry.strftime("%d.%m.%Y"))
        await say(f"сейф {chat}")
        await say(f"Ключ {chat}")
        await press("save")

    async with TTAClient(tta_server.base_url, cluster.token) as tg, WebhookPusher(
        cluster, duplicate=lambda u, n: n % 3 == 1
    ) as pusher:
        await asyncio.gather(*(dialog(tg, chat) for chat in users))

        async def saved() -> bool:
            return all(await asyncio.gather(*(db.keys_of(c) for c in users)))

        try:
            await wait_until(saved, 30, "every dialog saved its key", cluster)
        except AssertionError:
            texts = [m.get("text", "")[:60] for m in await tg.bot_messages(users[0])]
            raise AssertionError(f"not saved; the bot said to {users[0]}: {texts}") from None
        await pusher.wait_idle()
    # Each user's steps were spread over all three instances.
    for chat in users:
        mine = {d.instance for d in pusher.stats.deliveries if d.status == 200 and not d.copy
                and d.update_id in pusher.stats.updates_of.get(chat, ())}
        assert mine == {0, 1, 2}, (chat, mine)
    for chat in users:
        keys = await db.keys_of(chat)
        assert len(keys) == 1, (chat, keys)
        key = keys[0]
        assert (key.kind, key.holder, key.purpose) == ("file", "individual", "auth")
        assert (key.issued_on, key.expires_on) == (issued, expiry)
        assert (key.storage_note, key.label) == (f"сейф {chat}", f"Ключ {chat}")


async def test_three_instances_together_stay_within_send_rps(
    cluster: BotCluster, tta_server: TTAServer
) -> None:
    chats = list(range(78_001, 78_041))
    db = Db(cluster.env)
    await db.users(chats, broadcasts=False)
    async with TTAClient(tta_server.base_url, cluster.token) as tg:
        # Telegram's own flood limit at exactly SEND_RPS: any overshoot would be a 429.
        await tg.configure(global_rps=SEND_RPS, global_burst=SEND_RPS)
        since = time.time()
        sent_before = [cluster.metric(i, "kilt_reminders_sent_total") for i in range(N)]
        await db.due_reminders(chats)  # every instance scans each second

        async def all_sent() -> list[dict[str, Any]] | None:
            calls = await sends(tg, set(chats), since)
            return calls if len({c["params"]["chat_id"] for c in calls}) == len(chats) else None

        calls = await wait_until(all_sent, 60, "every reminder sent", cluster)
        await asyncio.sleep(1.5)  # a scan or two more: nothing may be sent again
        calls = await sends(tg, set(chats), since)
        stats = await tg.stats()
        await tg.configure(reset=True)
    assert not any(k.startswith("sendMessage 429") for k in stats), stats
    per_chat = Counter(int(c["params"]["chat_id"]) for c in calls)
    assert per_chat == dict.fromkeys(chats, 1)
    by_instance = [cluster.metric(i, "kilt_reminders_sent_total") - sent_before[i]
                   for i in range(N)]
    assert sum(by_instance) == len(chats)
    assert sum(1 for n in by_instance if n) >= 2, by_instance  # they really shared the work
    assert_within(arrivals(calls), SEND_RPS)


# ------------------------------------------------------------------ kill -9 mid-delivery
LEASE = 4  # CLAIM_LEASE_SECONDS: a dead instance's claims are retaken after this
KILL_RPS = 30  # SEND_RPS of this cluster, and the local Telegram's own limit
WORKERS = 4  # broadcast workers per instance (bot/broadcast/engine.py)


async def test_kill_9_mid_delivery_every_message_once(
    tta_server: TTAServer,
    postgres_server: PostgresServer,
    redis_server: RedisServer,
    tmp_path: Path,
) -> None:
    await flush_redis(redis_server.url)
    env = await asyncio.to_thread(cluster_env, tta_server, postgres_server, redis_server,
                                  SEND_RPS=str(KILL_RPS), CLAIM_LEASE_SECONDS=str(LEASE))
    db = Db(env)
    bcast = list(range(79_000, 79_240))
    remind = list(range(79_500, 79_560))
    await db.users(bcast)
    await db.users(remind, broadcasts=False)
    await db.due_reminders(remind)
    broadcast_id = await db.broadcast()
    ours = {*bcast, *remind}
    async with TTAClient(tta_server.base_url, env["BOT_TOKEN"]) as tg:
        # Telegram's own flood limit, as in production: any overshoot would be a 429.
        await tg.configure(global_rps=KILL_RPS, global_burst=KILL_RPS)
        try:
            since = time.time()
            with BotCluster(env, tmp_path, n=N) as cluster:
                total = len(ours)

                async def a_third_done() -> bool:
                    return len(await sends(tg, ours, since)) >= total // 3

                await wait_until(a_third_done, 90, "a third of the messages", cluster)
                killed_at = utc_now()
                cluster.kill(0)  # SIGKILL: claims, leases and queued rows left behind
                done_at_kill = len(await sends(tg, ours, since))
                assert done_at_kill < total * 0.8, "the work finished before the kill"
                # A live scanner never sends on a claim older than half the lease and hands it
                # back: what is still claimed from before the kill after that is the dead one's.
                await asyncio.sleep(LEASE / 2 + 0.5)
                orphaned = await db.reminder_claims_before(killed_at)

                async def finished() -> bool:
                    status, _ = await db.broadcast_status(broadcast_id)
                    got = {int(c["params"]["chat_id"]) for c in await sends(tg, ours, since)}
                    return status == "done" and set(remind) <= got

                await wait_until(finished, 90, "all delivered after the kill", cluster)
                await asyncio.sleep(1.5)  # later scans must not send anything again
                calls = await sends(tg, ours, since)
                stats = await tg.stats()
                logs = cluster.logs()
        finally:
            await tg.configure(reset=True)
    per_chat = Counter(int(c["params"]["chat_id"]) for c in calls)
    # Broadcast: at most once. Only a row whose send was in flight at the kill may be missing,
    # and it is a row settled `unknown`; rows sent but whose outcome was still buffered
    # (FLUSH_EVERY) are `unknown` too, though delivered (README "Delivery guarantees").
    status, counts = await db.broadcast_status(broadcast_id)
    unknown = await db.unknown_chats(broadcast_id)
    missing = {c for c in bcast if per_chat[c] == 0}
    assert all(per_chat[c] <= 1 for c in bcast), "a recipient got the broadcast twice"
    assert missing <= unknown, (missing, unknown)
    assert len(missing) <= 1 * WORKERS, counts  # one killed instance × its in-flight sends
    assert len(unknown) <= WORKERS + FLUSH_EVERY, counts
    assert counts.get("sent", 0) == len(bcast) - len(unknown), counts
    # Reminders: at least once. Only the messages in flight at the kill (a claim's users go out
    # SENDERS at a time) may come twice.
    assert all(per_chat[c] >= 1 for c in remind)
    repeated = sum(per_chat[c] - 1 for c in remind)
    assert repeated <= SENDERS, {c: n for c, n in per_chat.items() if c in remind and n > 1}
    if orphaned:  # the killed instance held reminder claims: the others retook them
        assert "recovered" in logs, orphaned
    assert not any(k.startswith("sendMessage 429") for k in stats), stats
    assert_within(arrivals(calls), KILL_RPS)

