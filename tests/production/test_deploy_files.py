"""Deploy files stay consistent with the code: compose.yaml, Dockerfile, the systemd unit.
(Docker cannot run here; these checks parse the files as compose, docker and systemd would.)"""

from __future__ import annotations

import configparser
import re
from pathlib import Path

import yaml

from bot.config import Settings

REPO = Path(__file__).resolve().parents[2]


def test_compose_runs_two_webhook_instances_behind_caddy_with_healthchecks() -> None:
    compose = yaml.safe_load((REPO / "compose.yaml").read_text())
    services = compose["services"]
    assert {"bot1", "bot2", "migrate", "postgres", "redis", "caddy"} <= set(services)
    for name in ("bot1", "bot2"):
        bot = services[name]
        assert bot["command"] == ["run", "--webhook"]
        env = bot["environment"]
        assert env["DATABASE_URL"].startswith("postgresql+asyncpg://")
        assert env["REDIS_URL"].startswith("redis://redis:")
        assert "DATA_KEY" in env and env["WEBHOOK_HOST"] == "0.0.0.0"
        assert "/healthz" in " ".join(bot["healthcheck"]["test"])
        assert bot["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        grace = int(bot["stop_grace_period"].rstrip("s"))
        assert grace > Settings.model_fields["shutdown_timeout"].default
    assert services["migrate"]["command"] == ["migrate"]
    for name in ("postgres", "redis", "caddy"):
        assert services[name]["healthcheck"]["test"]
    assert re.search(r":\d+\.\d+", services["postgres"]["image"])  # pinned versions
    assert "./deploy/Caddyfile:/etc/caddy/Caddyfile:ro" in services["caddy"]["volumes"]
    caddyfile = (REPO / "deploy" / "Caddyfile").read_text()
    assert "bot1:8080 bot2:8080" in caddyfile and "health_uri /healthz" in caddyfile


def test_dockerfile_is_multi_stage_pinned_and_non_root() -> None:
    text = (REPO / "Dockerfile").read_text()
    assert re.search(r"ARG PYTHON_IMAGE=python:3\.11\.\d+-slim", text)
    assert len(re.findall(r"^FROM ", text, re.M)) == 2
    assert re.search(r"^USER kilt$", text, re.M)
    assert "pip install -e ." in text  # the README's install step
    for folder in ("bot", "handlers", "storage", "locales", "knowledge"):
        assert f"COPY {folder} ./{folder}" in text
    ignored = (REPO / ".dockerignore").read_text().split()
    assert ".env" in ignored and "data" in ignored and ".git" in ignored


def test_systemd_unit_stops_gracefully() -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.read(REPO / "deploy" / "kilt-bot.service")
    service = unit["Service"]
    assert service["ExecStart"].endswith("-m bot run --webhook")
    assert service["ExecStartPre"].endswith("-m bot migrate")
    assert service["KillSignal"] == "SIGTERM"
    assert int(service["TimeoutStopSec"]) > Settings.model_fields["shutdown_timeout"].default
    assert service["User"] == "kilt" and unit["Install"]["WantedBy"] == "multi-user.target"
