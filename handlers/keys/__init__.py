"""Key registry routers, in order: secret refusal and certificate upload first, then the dialog
and the list."""

from __future__ import annotations

from aiogram import Router

from handlers.keys import add, edit, listing, renew, upload


def build_routers() -> list[Router]:
    return [
        # First, and without the consent gate: a private key is deleted for anyone.
        upload.build_router(),
        add.build_router(),
        listing.build_router(),
        edit.build_router(),
        renew.build_router(),
    ]
