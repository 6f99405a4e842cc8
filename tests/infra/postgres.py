"""A throw-away PostgreSQL server for tests.

`PostgresServer` runs initdb + pg_ctl in a temp dir on 127.0.0.1 and a free port, tuned for speed
(no fsync), and removes everything on exit. With `KILT_TEST_PG_URL` set it uses that server and
database instead, and only creates (and later drops) extra databases on it.

    with PostgresServer() as pg:
        pg.url                      # postgresql+asyncpg://kilt@127.0.0.1:<port>/kilt_test
        pg.create_database()        # a fresh, uniquely named database -> its URL
        pg.create_template("kilt_template", migrate_sync)   # prepared once per session ...
        pg.create_database(template="kilt_template")        # ... copied per test (~20 ms)

The fixtures: `postgres_server` (session), `postgres_url` (an empty database per test),
`postgres_template` (the migrated `kilt_template`, once per session) and `postgres_db` (a fresh copy
of it per test, dropped afterwards so thousands of tests do not fill the disk).
"""

from __future__ import annotations

import asyncio
import glob
import os
import pwd
import re
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import URL, make_url

from tests.infra.service import Service, free_port

ENV_URL = "KILT_TEST_PG_URL"
TMPDIR_ENV = "KILT_TEST_PG_TMPDIR"
SHM_MIN_FREE = 2 * 1024**3
SUPERUSER = "kilt"
DEFAULT_DB = "kilt_test"
TEMPLATE_DB = "kilt_template"
RUN_AS = "postgres"  # initdb and postgres refuse to run as root
_BINARIES = ("initdb", "pg_ctl", "postgres")
_DB_NAME_RE = re.compile(r"[a-z_][a-z0-9_]{0,62}")


class PostgresError(RuntimeError):
    """The test server could not be set up."""


def find_pg_bindir() -> Path | None:
    """Directory holding initdb, pg_ctl and postgres: PATH first, then the newest
    /usr/lib/postgresql/*/bin (Debian keeps them off PATH)."""
    on_path = shutil.which("initdb")
    candidates: list[Path] = []
    if on_path:
        # /usr/local/bin/initdb may be a symlink; pg_ctl must come from the same install
        candidates.append(Path(on_path).resolve().parent)
        candidates.append(Path(on_path).parent)
    versions = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: [int(x) if x.isdigit() else 0 for x in Path(p).parent.name.split(".")],
        reverse=True,
    )
    candidates.extend(Path(p) for p in versions)
    for bindir in candidates:
        if all(os.access(bindir / name, os.X_OK) for name in _BINARIES):
            return bindir
    return None


def _is_root() -> bool:
    return os.geteuid() == 0


def postgres_available() -> tuple[bool, str]:
    """(True, "") when tests can get a PostgreSQL server, else (False, reason to skip)."""
    if os.environ.get(ENV_URL):
        return True, ""
    if find_pg_bindir() is None:
        return False, (
            "PostgreSQL binaries (initdb, pg_ctl, postgres) not found on PATH or in "
            f"/usr/lib/postgresql/*/bin; install PostgreSQL or set {ENV_URL}"
        )
    if _is_root():
        try:
            pwd.getpwnam(RUN_AS)
        except KeyError:
            return False, f"running as root and there is no '{RUN_AS}' user to run PostgreSQL as"
    return True, ""


def data_parent(in_memory: bool = True) -> str | None:
    """Where the throw-away cluster lives: KILT_TEST_PG_TMPDIR if set, else (in_memory) /dev/shm
    when it is a writable memory file system with room to spare (every test copies the ~8 MB
    template: on a busy disk that costs up to a second per test, in memory a few milliseconds),
    else /tmp as root (world-traversable, unlike a TMPDIR under /root the postgres user could not
    reach), else the default temp dir."""
    chosen = os.environ.get(TMPDIR_ENV)
    if chosen:
        return chosen
    shm = "/dev/shm"
    try:
        usage = shutil.disk_usage(shm)
        if in_memory and os.access(shm, os.W_OK | os.X_OK) and usage.free >= SHM_MIN_FREE:
            return shm
    except OSError:
        pass
    return "/tmp" if _is_root() else None



class _AdminConnection:
    """One asyncpg connection to the maintenance database, kept open on a private event loop in a
    daemon thread: usable from sync code and from inside a running loop alike, and per test it
    saves a thread, a loop and a connect for each CREATE/DROP DATABASE."""

    def __init__(self, dsn: str) -> None:
        self._dsn = dsn
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._conn: Any = None

    def execute(self, sql: str) -> None:
        self._run(sql, fetch=False)

    def fetchval(self, sql: str) -> Any:
        return self._run(sql, fetch=True)

    def _run(self, sql: str, fetch: bool) -> Any:
        with self._lock:
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                self._thread = threading.Thread(
                    target=self._loop.run_forever, name="pg-admin", daemon=True
                )
                self._thread.start()
            return asyncio.run_coroutine_threadsafe(self._go(sql, fetch), self._loop).result()

    async def _go(self, sql: str, fetch: bool) -> Any:
        import asyncpg

        if self._conn is None or self._conn.is_closed():
            self._conn = await asyncpg.connect(self._dsn, timeout=30)
        if fetch:
            return await self._conn.fetchval(sql)
        await self._conn.execute(sql)
        return None

    async def _close_conn(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            await conn.close(timeout=5)

    def close(self) -> None:
        with self._lock:
            loop, thread = self._loop, self._thread
            if loop is None or thread is None:
                return
            try:
                asyncio.run_coroutine_threadsafe(self._close_conn(), loop).result(timeout=10)
            except Exception:  # noqa: BLE001 - best effort: the server may be gone
                pass
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=10)
            loop.close()
            self._loop = self._thread = None


class PostgresServer(Service):
    """Context manager owning a PostgreSQL server (or an external one from KILT_TEST_PG_URL)."""

    def __init__(
        self, database: str = DEFAULT_DB, start_timeout: float = 60.0, in_memory: bool = False
    ) -> None:
        """in_memory: put the cluster in /dev/shm when possible (the test fixtures do; the
        benchmarks keep the default, a disk, like a real server)."""
        self.database = database
        self.in_memory = in_memory
        self.start_timeout = start_timeout
        self.external = bool(os.environ.get(ENV_URL))
        self.host = "127.0.0.1"
        self.port = 0
        self.tmpdir: Path | None = None
        self.startup_seconds = 0.0
        self._bindir: Path | None = None
        self._base_url: URL | None = None
        self._created: list[str] = []
        self._templates: set[str] = set()
        self._running = False
        self._admin: _AdminConnection | None = None
        self._version: int | None = None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        started = time.monotonic()
        if self.external:
            # the given database is used as is (it exists, e.g. a CI service's POSTGRES_DB);
            # only the databases we create there are ours to drop
            self._base_url = make_url(os.environ[ENV_URL]).set(drivername="postgresql+asyncpg")
            self.database = self._base_url.database or "postgres"
            self.host = self._base_url.host or "127.0.0.1"
            self.port = self._base_url.port or 5432
            self._execute("select 1")  # fail here, clearly, if the server is unreachable
        else:
            self._start_local()
        self.startup_seconds = time.monotonic() - started

    def _start_local(self) -> None:
        ok, reason = postgres_available()
        if not ok:
            raise PostgresError(reason)
        self._bindir = find_pg_bindir()
        self.tmpdir = Path(tempfile.mkdtemp(prefix="kilt-pg-", dir=data_parent(self.in_memory)))
        try:
            if _is_root():
                shutil.chown(self.tmpdir, RUN_AS, RUN_AS)
            self._initdb()
            # a port picked by free_port() can be taken before postgres binds it; try again
            for attempt in range(3):
                self.port = free_port()
                try:
                    self._pg_ctl_start()
                    break
                except PostgresError:
                    if attempt == 2 or "could not bind" not in self.log_text():
                        raise
            self._running = True
            self._base_url = URL.create(
                "postgresql+asyncpg", username=SUPERUSER, host=self.host, port=self.port
            )
            self._create(self.database, drop_on_stop=False)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        if self.external:
            for name in reversed(self._created):
                try:
                    self.drop_database(name)
                except Exception:  # noqa: BLE001 - best effort: the server may be gone
                    pass
            self._created.clear()
        if self._admin is not None:
            self._admin.close()
            self._admin = None
        if self.external:
            return
        if self._running and self.tmpdir is not None:
            self._pg(
                ["pg_ctl", "-D", str(self.data_dir), "-m", "immediate", "-w", "stop"], check=False
            )
            self._running = False
        if self.tmpdir is not None:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            self.tmpdir = None

    # ------------------------------------------------------------------ helpers
    @property
    def data_dir(self) -> Path:
        assert self.tmpdir is not None
        return self.tmpdir / "data"

    @property
    def log_path(self) -> Path:
        assert self.tmpdir is not None
        return self.tmpdir / "postgres.log"

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except (OSError, AssertionError):
            return ""

    def _pg(
        self, argv: list[str], check: bool = True, timeout: float = 120.0
    ) -> subprocess.CompletedProcess[str]:
        assert self._bindir is not None and self.tmpdir is not None
        cmd = [str(self._bindir / argv[0]), *argv[1:]]
        kwargs: dict[str, Any] = {}
        if _is_root():
            # as the unprivileged user, without root's supplementary groups
            kwargs = {"user": RUN_AS, "group": RUN_AS, "extra_groups": []}
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C"
        proc = subprocess.run(
            cmd,
            cwd=self.tmpdir,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            **kwargs,
        )
        if check and proc.returncode != 0:
            raise PostgresError(
                f"{argv[0]} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}\n"
                f"{self.log_text()[-4000:]}"
            )
        return proc

    def _initdb(self) -> None:
        self._pg(
            [
                "initdb",
                "-D",
                str(self.data_dir),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
                "--no-instructions",
            ]
        )

    def _pg_ctl_start(self) -> None:
        assert self.tmpdir is not None
        opts = (
            f"-h {self.host} -p {self.port} -k {self.tmpdir} -F "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._pg(
            [
                "pg_ctl",
                "-D",
                str(self.data_dir),
                "-l",
                str(self.log_path),
                "-o",
                opts,
                "-w",
                "-t",
                str(int(self.start_timeout)),
                "start",
            ]
        )

    # ------------------------------------------------------------------ databases
    @property
    def url(self) -> str:
        """SQLAlchemy async URL of the default database."""
        return self.url_for(self.database)

    def url_for(self, name: str) -> str:
        if self._base_url is None:
            raise PostgresError("server is not started")
        return self._base_url.set(database=name).render_as_string(hide_password=False)

    def _admin_dsn(self) -> str:
        # asyncpg wants a plain postgresql:// DSN; the maintenance db always exists
        assert self._base_url is not None
        return self._base_url.set(drivername="postgresql", database="postgres").render_as_string(
            hide_password=False
        )

    def _admin_connection(self) -> _AdminConnection:
        if self._admin is None:
            self._admin = _AdminConnection(self._admin_dsn())
        return self._admin

    def _execute(self, sql: str) -> None:
        self._admin_connection().execute(sql)

    @property
    def server_version(self) -> int:
        """server_version_num, e.g. 150004."""
        if self._version is None:
            self._version = int(self._admin_connection().fetchval("SHOW server_version_num"))
        return self._version

    @staticmethod
    def _check_name(name: str) -> None:
        if not _DB_NAME_RE.fullmatch(name):
            raise ValueError(f"unsafe database name {name!r}")

    def _create(self, name: str, drop_on_stop: bool, template: str | None = None) -> None:
        self._check_name(name)
        sql = f'CREATE DATABASE "{name}"'
        if template is not None:
            self._check_name(template)
            sql += f' TEMPLATE "{template}"'
            if self.server_version >= 150000:
                # copy the files instead of WAL-logging every page (15's default): ~3x faster
                sql += " STRATEGY FILE_COPY"
        self._execute(sql)
        if drop_on_stop:
            self._created.append(name)

    def create_database(self, name: str | None = None, template: str | None = None) -> str:
        """Create a database (unique name by default) and return its async URL: empty, or a copy
        of `template` (see create_template) made by the server, file by file, in milliseconds."""
        name = name or f"kilt_{uuid.uuid4().hex[:12]}"
        # on an external server clean up after ourselves; a local one is deleted whole
        self._create(name, drop_on_stop=self.external, template=template)
        return self.url_for(name)

    def create_template(self, name: str, prepare: Callable[[str], object]) -> str:
        """Create database `name`, call prepare(url) on it (e.g. run the migrations), then close
        it to connections, so that `create_database(template=name)` can copy it at any time
        (PostgreSQL refuses to copy a database someone is connected to). On an external server
        a unique suffix keeps concurrent runs apart. Returns the template's name."""
        if self.external:
            name = f"{name}_{uuid.uuid4().hex[:8]}"
        self._create(name, drop_on_stop=self.external)
        prepare(self.url_for(name))
        self._execute(f'ALTER DATABASE "{name}" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false')
        self._templates.add(name)
        return name

    def drop_database(self, name: str) -> None:
        self._check_name(name)
        if name in self._templates:  # a template cannot be dropped
            self._execute(f'ALTER DATABASE "{name}" WITH IS_TEMPLATE false')
            self._templates.discard(name)
        self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if name in self._created:
            self._created.remove(name)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """Session-wide server; skips (with the reason) when PostgreSQL is not installed.
    Import it into a conftest: `from tests.infra.postgres import postgres_server`."""
    ok, reason = postgres_available()
    if not ok:
        pytest.skip(reason)
    with PostgresServer(in_memory=True) as server:
        yield server


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """A fresh database per test, so tests never see each other's rows."""
    return postgres_server.create_database()


@pytest.fixture(scope="session")
def postgres_template(postgres_server: PostgresServer) -> str:
    """The `kilt_template` database, migrated to the newest schema once per session."""
    from storage.database import migrate_sync

    return postgres_server.create_template(TEMPLATE_DB, migrate_sync)


@pytest.fixture
def postgres_db(postgres_server: PostgresServer, postgres_template: str) -> Iterator[str]:
    """A fresh copy of the migrated template per test, dropped afterwards (WITH FORCE: also
    when a test left connections open)."""
    name = f"kilt_{uuid.uuid4().hex[:12]}"
    url = postgres_server.create_database(name, template=postgres_template)
    yield url
    postgres_server.drop_database(name)
