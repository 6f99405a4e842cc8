"""Reusable test infrastructure: a throw-away PostgreSQL (postgres.py), the local Telegram
emulator with a user-side client and a bot-process wrapper (tta.py).

Both modules define pytest fixtures (postgres_server, postgres_url, tta_server, tta_token,
tta_client); bring them into a conftest with a plain import."""
