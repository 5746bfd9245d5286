"""`flask setup` (what scripts/start runs) and the embedded database program's two modes."""
from __future__ import annotations

import subprocess
import sys

import psycopg2

from booru import create_app
from booru.auth import digest, generate_key
from common.config import PROJECT_ROOT
from tests.conftest import _execute
from tests.support import base_env


def test_setup_creates_migrates_and_installs_the_daemons_key(postgres_server, monkeypatch):
    uri = f"{postgres_server}/lzb_setup"
    key = generate_key()
    monkeypatch.setenv("API_KEY", key)
    monkeypatch.setenv("DATABASE_URI", "")  # embedded: setup may create the database itself
    try:
        app = create_app({"SQLALCHEMY_DATABASE_URI": uri})
        first = app.test_cli_runner().invoke(args=["setup", "--wait", "10"])
        assert first.exit_code == 0, first.output
        assert "created database lzb_setup" in first.output
        again = app.test_cli_runner().invoke(args=["setup", "--wait", "10"])
        assert again.exit_code == 0 and "created database" not in again.output
        with psycopg2.connect(uri) as connection, connection.cursor() as cursor:
            cursor.execute("SELECT role, revoked FROM api_key WHERE digest = %s", (digest(key),))
            assert cursor.fetchall() == [("admin", None)]
        client = app.test_client()
        assert client.get("/api/stats", headers={"X-API-Key": key}).status_code == 200
    finally:
        _execute(postgres_server, "DROP DATABASE IF EXISTS lzb_setup WITH (FORCE)")


def test_embedded_database_is_not_started_when_database_uri_is_set():
    env = base_env(DATABASE_URI="postgresql://someone@db.example.org/booru")
    result = subprocess.run([sys.executable, "-m", "booru.embedded_db"], env=env, cwd=PROJECT_ROOT,
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0
    assert "DATABASE_URI is set" in result.stdout
