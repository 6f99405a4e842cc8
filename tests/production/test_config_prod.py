"""Production settings: REDIS_URL, LOG_FORMAT, METRICS_PORT; an unreachable Redis stops `run`
with one line that does not print the URL (it may carry a password)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, Settings, load_settings
from tests.foundation.test_config_cli import GOOD_TOKEN, run_cli
from tests.infra.service import free_port


@pytest.mark.parametrize(
    ("name", "value"),
    [("REDIS_URL", "http://cache:6379"), ("LOG_FORMAT", "xml"), ("METRICS_PORT", "web"),
     ("SHUTDOWN_TIMEOUT", "0")],
)
def test_bad_production_setting_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str, value: str
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=f"^{name} "):
        load_settings()


def test_production_settings_parse(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REDIS_URL", "redis://:pw@redis:6379/0")
    monkeypatch.setenv("LOG_FORMAT", "JSON")
    monkeypatch.setenv("METRICS_PORT", "9100")
    s = load_settings()
    assert s.redis_url is not None and "pw" not in repr(s)
    assert (s.log_format, s.metrics_port, s.metrics_host) == ("json", 9100, "127.0.0.1")
    for name in ("REDIS_URL", "LOG_FORMAT", "METRICS_PORT"):
        monkeypatch.delenv(name)
    defaults = Settings(_env_file=None)  # type: ignore[call-arg]
    assert defaults.redis_url is None and defaults.metrics_port is None
    assert (defaults.log_format, defaults.shutdown_timeout) == ("text", 20.0)


def test_unreachable_redis_stops_run_with_one_line(tmp_path: Path) -> None:
    url = f"redis://:hunter2-secret@127.0.0.1:{free_port()}/0"  # nothing listens there
    proc = run_cli("run", env={"BOT_TOKEN": GOOD_TOKEN, "REDIS_URL": url}, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("error: REDIS_URL: Redis does not")
    assert "hunter2" not in proc.stderr + proc.stdout
