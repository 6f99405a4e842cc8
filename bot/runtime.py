"""What `python -m bot run` does: config → database → bot → dispatcher → polling/webhook, and a
graceful shutdown on SIGTERM/SIGINT (README "Production")."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
from datetime import timedelta
from functools import partial

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode

from bot.app import build_dispatcher, register_commands
from bot.broadcast.engine import BroadcastEngine
from bot.concurrency import commit_before_send
from bot.config import ConfigError, Settings
from bot.context import utc_now
from bot.delivery import LocalPacer, ObservedPacer, Pacer
from bot.health import HealthCheck, add_ops_routes, start_ops_server
from bot.i18n import Translator
from bot.instances import KEY_PREFIX, SharedState, build_shared_state
from bot.job_context import JobContext
from bot.learning import LearnedLoader, schedule_refresh
from bot.lifecycle import Lifecycle, RunningJobs, stop_scheduler
from bot.metrics import Metrics, install_api_metrics
from bot.model_init import settle_bot_context_init
from bot.qa.service import build_service
from bot.scheduler import build_scheduler
from bot.startup import connect
from bot.telegram_session import JsonBodySession
from storage.database import create_engine, create_session_pool, migrate
from storage.encryption import FieldCipher
from storage.write_behind import WriteBehind

logger = logging.getLogger("bot")
# Updates handled at once by this process in long polling. Past it, aiogram stops fetching
# until one finishes, so a burst waits at Telegram instead of in memory: measured with 1,000
# people in flight (benchmarks/load.py's open loop when the bot falls behind), each update held
# about 35 KB (its task, middleware frames, a database session waiting for a connection), +35 MB
# of peak memory; the database pool serves 15 at a time anyway (5 + 10 overflow).
UPDATES_IN_FLIGHT = 100

GC_YOUNG_THRESHOLD = 10_000


def make_bot(settings: Settings) -> Bot:
    session = JsonBodySession()
    if settings.telegram_api_url:
        session = JsonBodySession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
    return commit_before_send(Bot(
        settings.require_token(),
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    ))


async def connect_shared_state(settings: Settings, webhook: bool) -> SharedState:
    url = settings.redis_url.get_secret_value().strip() if settings.redis_url else None
    shared = build_shared_state(url, settings.update_dedup_seconds)
    if shared.redis is not None:
        try:
            await shared.ping()
        except Exception as exc:  # the URL may hold a password: name the error type only
            await shared.close()
            raise ConfigError(f"REDIS_URL: Redis does not answer ({type(exc).__name__})") from None
    elif webhook and settings.database_url.startswith("postgresql"):
        logger.warning(
            "REDIS_URL is not set: user locks and update de-duplication hold within this "
            "process only; run a single instance or set REDIS_URL"
        )
    return shared


def build_pacer(settings: Settings, bot: Bot, shared: SharedState) -> Pacer:
    """With Redis, one rate for the bot across all its instances; else this process's own."""
    if shared.redis is None:
        return LocalPacer(settings.send_rps)
    from bot.delivery.redis_pacer import RedisPacer

    return RedisPacer(shared.redis, f"{KEY_PREFIX}:{bot.id}", settings.send_rps)


async def poll_until(stop: asyncio.Event, bot: Bot, dp: Dispatcher) -> None:
    """Long polling until `stop` is set (or polling fails, which is raised)."""
    polling = asyncio.create_task(
        dp.start_polling(
            bot, handle_signals=False, close_bot_session=False,
            tasks_concurrency_limit=UPDATES_IN_FLIGHT,
        )
    )
    stopped = asyncio.create_task(stop.wait())
    await asyncio.wait({polling, stopped}, return_when=asyncio.FIRST_COMPLETED)
    if not polling.done():
        await dp.stop_polling()  # no getUpdates any more; handlers already started go on
    stopped.cancel()
    await polling


def settle_heap() -> None:
    """What start-up built (the Q&A index, the dispatcher, texts, SQLAlchemy's mappers) lives as
    long as the process. Out of the collector's reach, a full collection scans only what updates
    left behind (a gc.callbacks timer during benchmarks/load.py had put collections at 15% of
    the bot's CPU, 16 of them full ones, before this; 4-6% after). The young
    generation's threshold is raised because each update allocates thousands of short-lived
    objects (pydantic models, SQL rows): collections run less often and find more garbage."""
    gc.collect(1)
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, 10, 10)


async def main(settings: Settings, webhook: bool = False) -> None:
    current, old = settings.data_keys()
    cipher = FieldCipher(current, old)
    await migrate(settings.database_url)
    engine = create_engine(settings.database_url, **settings.engine_options())
    pool = create_session_pool(engine)
    translator = Translator()
    bot = make_bot(settings)
    metrics, lifecycle = Metrics(), Lifecycle()
    install_api_metrics(bot, metrics, lifecycle)
    try:
        shared = await connect_shared_state(settings, webhook)
    except BaseException:
        await bot.session.close()
        await engine.dispose()
        raise
    # The one pacer of this bot: reminders, broadcasts and tips all take their slots from it.
    pacer = ObservedPacer(build_pacer(settings, bot, shared), metrics.pacer_wait_seconds.observe)
    broadcasts = BroadcastEngine(
        bot, pool, cipher, translator, settings, utc_now, pacer, metrics=metrics,
        stale_after=settings.claim_lease(timedelta(minutes=2)),
    )
    lifecycle.on_shutdown.append(broadcasts.stop)
    # Log rows (last seen, unanswered questions, votes) in batches; the hook runs after the
    # updates in flight finished and flushes what is queued (storage/write_behind.py).
    write_behind = WriteBehind(pool)
    lifecycle.on_shutdown.append(write_behind.close)
    dp = build_dispatcher(
        settings, pool, cipher, translator, utc_now, qa=build_service(),
        isolation=shared.isolation, dedup=shared.dedup, metrics=metrics, lifecycle=lifecycle,
        broadcasts=broadcasts, write_behind=write_behind,
    )
    scheduler = build_scheduler(
        JobContext(bot, pool, cipher, translator, settings, utc_now, pacer, broadcasts,
                   metrics, lifecycle)
    )
    learned = LearnedLoader(dp["qa"], pool, cipher)
    await learned.refresh()  # phrasings admins taught, before the first question
    schedule_refresh(scheduler, learned)
    settle_bot_context_init()  # every Telegram object built in one step (bot/model_init.py)
    settle_heap()
    jobs = RunningJobs(scheduler)
    health = HealthCheck(
        pool, scheduler, lifecycle, polling=not webhook,
        redis_ping=shared.ping if shared.redis is not None else None,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    budget = settings.shutdown_timeout
    deadline = loop.time() + budget  # re-armed when the shutdown starts

    def remaining() -> float:
        return max(0.1, deadline - loop.time())

    async def drain() -> None:
        nonlocal deadline
        deadline = loop.time() + budget
        lifecycle.draining = True
        logger.info("stopping: %d update(s) in flight", lifecycle.in_flight)
        if not await lifecycle.wait_idle(remaining()):
            logger.warning("%d update(s) still in flight after %.0f s", lifecycle.in_flight, budget)

    ops = None
    try:
        commands = partial(register_commands, bot, translator, settings.admin_ids)
        if not await connect(bot, settings.telegram_api_url, stop, commands):
            return  # stopped while Telegram was out of reach
        scheduler.start()
        if not webhook and settings.metrics_port is not None:
            ops = await start_ops_server(
                settings.metrics_host, settings.metrics_port, health, metrics
            )
        logger.info("bot started (%s)", "webhook" if webhook else "long polling")
        if webhook:
            from bot.webhook import serve_webhook

            await serve_webhook(
                bot, dp, settings, stop,
                routes=lambda app: add_ops_routes(app, health, metrics), drain=drain,
            )
        else:
            await poll_until(stop, bot, dp)
            await drain()
    finally:
        lifecycle.draining = True
        await stop_scheduler(scheduler, jobs, remaining())
        await lifecycle.run_shutdown_hooks(remaining())  # e.g. delivery code releasing claims
        if ops is not None:
            await ops.cleanup()
        await bot.session.close()
        await shared.close()
        await engine.dispose()
        logger.info("bot stopped")
