"""`flask --app booru …` commands: setup, keys, subreddit, stats."""
from __future__ import annotations

import time
from pathlib import Path

import click
import psycopg2
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from flask_migrate import upgrade
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from booru import auth, sqlalchemy_uri
from booru.errors import ApiError
from booru.func import links as links_func
from booru.func import stats as stats_func
from booru.func import subreddits
from booru.port_probe import probe


def _fail(exc: ApiError) -> None:
    raise click.ClickException(exc.message)


def _unavailable(exc: OperationalError) -> click.ClickException:
    reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
    return click.ClickException(f"the database is unavailable ({reason}); is the stack running? (scripts/start)")


class DatabaseAwareGroup(AppGroup):
    """Commands whose database is away end with one clear line, not a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except OperationalError as exc:
            raise _unavailable(exc) from None


keys = DatabaseAwareGroup("keys", help="Create, list and revoke API keys.")
subreddit = DatabaseAwareGroup("subreddit", help="Register, list and remove subreddits.")
links = DatabaseAwareGroup("links", help="Maintain the link queue.")


@links.command("reclassify")
def reclassify() -> None:
    """Queue again the unsupported links that a resolver now handles."""
    counts = links_func.reclassify_links()
    click.echo(f"examined {counts['examined']} unsupported links; {counts['requeued']} now have a resolver "
               f"and are pending again")


@keys.command("create")
@click.option("--role", required=True, type=click.Choice(auth.ROLES))
@click.option("--name", default="", help="what the key is for")
def create_key(role: str, name: str) -> None:
    """Create a key; it is printed once, on the last line."""
    row, key = auth.create_key(role, name)
    click.echo(f"created key {row.id} ({row.name}, role {row.role}); keep it, it is not shown again:")
    click.echo(key)


@keys.command("list")
def list_keys() -> None:
    for row in auth.list_keys():
        state = f"revoked {row.revoked:%Y-%m-%d %H:%M}" if row.revoked else "active"
        click.echo(f"{row.id:>4}  {row.role:<7} {state:<24} {row.name}")


@keys.command("revoke")
@click.argument("key_id", type=int)
def revoke_key(key_id: int) -> None:
    try:
        row = auth.revoke_key(key_id)
    except ApiError as exc:
        _fail(exc)
    click.echo(f"revoked key {row.id} ({row.name})")


@subreddit.command("add")
@click.argument("name")
@click.option("--source", default=None, help="aggregation source for this subreddit only")
def add_subreddit(name: str, source: str | None) -> None:
    """Register a subreddit after checking it exists with the configured source."""
    try:
        row = subreddits.register_subreddit(name, source)
    except ApiError as exc:
        _fail(exc)
    click.echo(f"registered r/{row.name} (created {row.created:%Y-%m-%d})")


@subreddit.command("list")
def list_subreddits() -> None:
    """The registered subreddits with their source and progress."""
    for row in subreddits.list_subreddits():
        click.echo(_subreddit_line(row))


@subreddit.command("remove")
@click.argument("name")
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
def remove_subreddit(name: str, yes: bool) -> None:
    """Unregister a subreddit and delete its submissions, links and images."""
    try:
        row = subreddits.get_subreddit(name)
        counts = subreddits.contents(row.name)
        click.echo(f"r/{row.name}: {counts['submissions']} submissions, {counts['links']} links and "
                   f"{counts['images']} images (with their fingerprints) will be deleted.")
        if not yes:
            click.confirm(f"Delete r/{row.name} and all of it?", abort=True)
        removed = subreddits.delete_subreddit(row.name, confirm=row.name)
    except ApiError as exc:
        _fail(exc)
    click.echo(f"removed r/{row.name}: {removed['submissions']} submissions, {removed['links']} links, "
               f"{removed['images']} images")


def _when(moment) -> str:
    return f"{moment:%Y-%m-%d %H:%M}" if moment else "never"


def _queue(name: str, counts: dict[str, int]) -> str:
    """`links        total 3: pending 1  claimed 1  done 0 ...`"""
    return f"{name:<12} total {sum(counts.values())}: " + "  ".join(f"{k} {v}" for k, v in counts.items())


def _subreddit_line(row) -> str:
    source = row.source or current_app.config["SETTINGS"].greg_source
    return (f"r/{row.name:<22} source {source:<18} updated {_when(row.updated):<16}  "
            f"backfilled to {_when(row.backfilled_until):<16}  last polled {_when(row.last_polled)}")


@click.command("stats")
@with_appcontext
def print_stats() -> None:
    """Print the state of the archive and the queues."""
    try:
        data = stats_func.archive_stats()
    except OperationalError as exc:
        raise _unavailable(exc) from None
    click.echo(f"submissions  {data['submissions']}")
    click.echo(f"fingerprints {data['fingerprints']}")
    click.echo(_queue("links", data["links"]))
    click.echo(_queue("images", data["images"]))
    click.echo(stats_func.upgrade_progress(data["versions"]))
    click.echo(f"subreddits   {len(data['subreddits'])}")
    for row in data["subreddits"]:
        click.echo("  " + _subreddit_line(row))


def _maintenance_dsn(uri: str) -> str:
    """libpq's form of `uri`, on the server's maintenance database."""
    url = make_url(uri).set(database="postgres")
    return url.render_as_string(hide_password=False).replace("+psycopg2", "")


def wait_for_server(uri: str, seconds: float, embedded_port: int | None = None) -> None:
    """Wait until the PostgreSQL server answers (on its maintenance database). On the embedded
    database's port, a program that is not PostgreSQL, or a PostgreSQL that refuses the
    password, ends the wait at once: the embedded server could not start there."""
    url = make_url(uri)
    deadline = time.monotonic() + seconds
    while True:
        try:
            psycopg2.connect(_maintenance_dsn(uri), connect_timeout=3).close()
            return
        except psycopg2.OperationalError as exc:
            if embedded_port is not None:
                _refuse_foreign(embedded_port, str(exc))
            if time.monotonic() > deadline:
                hint = "; see var/log/database.log" if embedded_port is not None else ""
                raise click.ClickException(f"the database at {url.host}:{url.port} did not answer: "
                                           f"{str(exc).strip()}{hint}")
            time.sleep(0.5)


def _refuse_foreign(port: int, error: str) -> None:
    """Fail with a clear line when the embedded database's port is held by someone else."""
    state = probe(port)
    if state == "other":
        raise click.ClickException(f"port {port} is in use by another program, so the embedded PostgreSQL "
                                   f"cannot listen there; free it or set EMBEDDED_DB_PORT in .env")
    if state == "postgres" and "password authentication failed" in error:
        raise click.ClickException(f"another PostgreSQL already listens on 127.0.0.1:{port} (it refused the "
                                   f"password in var/pgpassword); stop it or set EMBEDDED_DB_PORT in .env")


def ensure_ours(uri: str, pgdata: Path) -> None:
    """Refuse to touch a server on the embedded database's port whose data is not ours."""
    connection = psycopg2.connect(_maintenance_dsn(uri), connect_timeout=3)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SHOW data_directory")
            (theirs,) = cursor.fetchone()
    finally:
        connection.close()
    if Path(theirs).resolve() != pgdata.resolve():
        url = make_url(uri)
        raise click.ClickException(f"another PostgreSQL (data in {theirs}) already listens on {url.host}:{url.port}; "
                                   f"nothing was created in it. Stop it or set EMBEDDED_DB_PORT in .env")


def create_database(uri: str) -> bool:
    """Create the database named in `uri` on its server if it is missing."""
    url = make_url(uri)
    connection = psycopg2.connect(_maintenance_dsn(uri))
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (url.database,))
            if cursor.fetchone():
                return False
            cursor.execute(f'CREATE DATABASE "{url.database}"')
            return True
    finally:
        connection.close()


@click.command("setup")
@click.option("--wait", default=60.0, help="seconds to wait for the database server")
@with_appcontext
def setup(wait: float) -> None:
    """Wait for the database, create it (embedded), apply migrations, queue again the unsupported
    links a resolver now handles, install the daemons' key."""
    settings = current_app.config["SETTINGS"]
    uri = current_app.config["SQLALCHEMY_DATABASE_URI"]
    # the embedded server's address, not a database given to this app in its config (tests)
    embedded = settings.embedded and make_url(uri) == make_url(sqlalchemy_uri(settings.database_uri))
    wait_for_server(uri, wait, settings.embedded_db_port if embedded else None)
    if embedded:
        ensure_ours(uri, settings.var_dir / "pgdata")
    if settings.embedded and create_database(uri):
        click.echo(f"created database {make_url(uri).database}")
    upgrade()
    counts = links_func.reclassify_links()
    if counts["requeued"]:
        click.echo(f"{counts['requeued']} unsupported links now have a resolver and are pending again")
    if settings.api_key:
        try:
            auth.ensure_key(settings.api_key, "admin", "daemons (API_KEY in .env)")
        except ApiError as exc:
            _fail(exc)
        click.echo("the API_KEY from .env is installed (role admin)")
    click.echo("database ready")


def init_cli(app: Flask) -> None:
    for command in (keys, subreddit, links, print_stats, setup):
        app.cli.add_command(command)
