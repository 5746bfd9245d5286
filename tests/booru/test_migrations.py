"""The schema exists only through migrations: up, up again (no change), down to nothing."""
from __future__ import annotations

import psycopg2
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from booru import create_app
from booru.extensions import db
from tests.conftest import _execute

TABLES = {"subreddit", "submission", "link", "image", "histogram", "dhash", "region_dhash", "thumbnail", "tag",
          "image_tag", "api_key"}


@pytest.fixture
def empty_database(postgres_server):
    _execute(postgres_server, "CREATE DATABASE lzb_empty")
    yield f"{postgres_server}/lzb_empty"
    _execute(postgres_server, "DROP DATABASE lzb_empty WITH (FORCE)")


def _tables(uri: str) -> set[str]:
    with psycopg2.connect(uri) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        return {row[0] for row in cursor.fetchall()}


def _constraints(uri: str) -> set[str]:
    with psycopg2.connect(uri) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT conname FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace "
                       "WHERE n.nspname = 'public' AND contype IN ('p', 'f', 'u', 'c') "
                       "AND conname <> 'alembic_version_pkc'")
        return {row[0] for row in cursor.fetchall()}


def test_upgrade_again_and_downgrade(empty_database):
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database})
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    assert _tables(empty_database) == TABLES | {"alembic_version"}
    before = _constraints(empty_database)
    assert {"pk_link", "fk_link_id_submission", "ck_link_state", "uq_image_submission_id_url",
            "fk_image_tag_tag_id_tag", "ck_api_key_role"} <= before
    assert all(name.split("_")[0] in {"pk", "fk", "uq", "ck"} for name in before)

    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0  # again: nothing to do
    assert _constraints(empty_database) == before
    with app.app_context():
        with db.engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), db.metadata)
        db.engine.dispose()
    assert differences == [], "the models and the migrations disagree"

    assert runner.invoke(args=["db", "downgrade", "base"]).exit_code == 0
    assert _tables(empty_database) == {"alembic_version"}
    assert _constraints(empty_database) == set()
