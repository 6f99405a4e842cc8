"""The root router: feature routers in the order they must be tried."""

from __future__ import annotations

from aiogram import Router

from handlers import fallback, groups, language, privacy, start


def build_root_router() -> Router:
    root = Router(name="root")
    root.include_routers(
        groups.build_router(),
        start.build_router(),
        language.build_router(),
        privacy.build_router(),
        fallback.build_router(),  # last: catches what no feature claimed
    )
    return root
