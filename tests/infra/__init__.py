"""Reusable test infrastructure: a throw-away PostgreSQL (postgres.py) and Redis (redis.py), the
local Telegram emulator with a user-side client and a bot-process wrapper (tta.py), several bot
instances behind a test webhook pusher (cluster.py); service.py holds what they share.

The modules define pytest fixtures (postgres_server, postgres_url, redis_server, redis_url,
tta_server, tta_token, tta_client); bring them into a conftest with a plain import."""
