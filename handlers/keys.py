"""Key registry: secret refusal and certificate upload first, then the dialog and the list."""

from __future__ import annotations

from aiogram import Router

from handlers import keys_add, keys_edit, keys_list, keys_upload


def build_router() -> Router:
    router = Router(name=__name__)
    router.include_routers(
        # First, and without the consent gate: a private key is deleted for anyone.
        keys_upload.build_router(),
        keys_add.build_router(),
        keys_list.build_router(),
        keys_edit.build_router(),
    )
    return router
