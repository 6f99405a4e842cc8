"""Key registry: secret refusal and certificate upload first, then the dialog and the list."""

from __future__ import annotations

from aiogram import Router

from handlers.keys import add, edit, listing, renew, upload


def build_router() -> Router:
    router = Router(name=__name__)
    router.include_routers(
        # First, and without the consent gate: a private key is deleted for anyone.
        upload.build_router(),
        add.build_router(),
        listing.build_router(),
        edit.build_router(),
        renew.build_router(),
    )
    return router
