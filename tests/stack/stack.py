"""The whole LZBooru stack as supervisord.conf starts it, in a temporary directory.

`Stack.start()` writes a copy of the project's supervisord.conf whose `var/` paths point into a
temporary directory and whose `.venv/bin/` is the running interpreter's bin directory (programs,
commands and stop settings unchanged), starts supervisord with an environment that selects the
embedded PostgreSQL, a free port for booru and the fake internet, runs `flask --app booru setup`
as scripts/start does, and waits for /api/health.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import xmlrpc.client
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from supervisor.xmlrpc import SupervisorTransport

from booru.auth import generate_key
from common.config import PROJECT_ROOT
from tests.support import GUARD_DIR, free_port, wait_until

BIN = Path(sys.executable).parent
PROGRAMS = ("database", "booru", "greg", "parsa", "coco")
DAEMONS = ("greg", "parsa", "coco")
STACK_SETTINGS = {
    "CHAPTER_INTERVAL": "1", "LEASE_SECONDS": "5", "RETRY_DELAY": "2", "MAX_TRIES": "3",
    "FETCH_TIMEOUT": "3", "FETCH_DEADLINE": "8", "LOG_LEVEL": "INFO", "LOG_FORMAT": "text",
    "GREG_SOURCE": "reddit", "REDDIT_CLIENT_ID": "lzb-stack-id", "REDDIT_CLIENT_SECRET": "lzb-stack-secret",
    "REDDIT_USER_AGENT": "lzbooru-stack-tests/1.0", "IMGUR_CLIENT_ID": "lzb-stack-imgur",
    "BOORU_WORKERS": "2", "BOORU_THREADS": "4", "PARSA_BATCH": "10", "PARSA_THREADS": "4",
    "COCO_BATCH": "16", "COCO_THREADS": "4",
}


def stack_config(source: str, var: Path) -> str:
    """supervisord.conf with var/ in `var` and the programs run by this interpreter's bin dir."""
    text = source.replace("%(here)s/.venv/bin/", f"{BIN}/")
    text = text.replace("%(here)s/var", str(var))
    return text.replace("%(here)s", str(PROJECT_ROOT))


def stack_env(var: Path, booru_port: int, db_port: int, api_key: str, internet: dict[str, str]) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith(("PYTEST", "COV_"))}
    env.update(STACK_SETTINGS)
    env.update(internet)
    env.update({
        "ENV_FILE": os.devnull, "DATABASE_URI": "", "VAR_DIR": str(var), "EMBEDDED_DB_PORT": str(db_port),
        "BOORU_BIND": f"127.0.0.1:{booru_port}", "URL": f"http://127.0.0.1:{booru_port}/api",
        "API_KEY": api_key, "PROMETHEUS_MULTIPROC_DIR": str(var / "prometheus"), "PYTHONUNBUFFERED": "1",
        "PYTHONPATH": os.pathsep.join([str(PROJECT_ROOT), str(GUARD_DIR)]), "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
    })
    return env


@dataclass
class Stack:
    home: Path
    env: dict[str, str]
    supervisord: subprocess.Popen | None = None
    timings: dict[str, float] = field(default_factory=dict)

    # -- paths and settings -------------------------------------------------------------------

    @property
    def var(self) -> Path:
        return self.home / "var"

    @property
    def config(self) -> Path:
        return self.home / "supervisord.conf"

    @property
    def url(self) -> str:
        return self.env["URL"]

    @property
    def api_key(self) -> str:
        return self.env["API_KEY"]

    # -- lifecycle ----------------------------------------------------------------------------

    @classmethod
    def create(cls, internet: dict[str, str]) -> "Stack":
        # outside pytest's private temporary folders: PostgreSQL runs as its own user
        home = Path(tempfile.mkdtemp(prefix="lzb-stack-"))
        home.chmod(0o755)
        var = home / "var"
        (var / "log").mkdir(parents=True)
        env = stack_env(var, free_port(), free_port(), generate_key(), internet)
        stack = cls(home, env)
        stack.config.write_text(stack_config((PROJECT_ROOT / "supervisord.conf").read_text(), var))
        return stack

    def start(self) -> "Stack":
        began = time.monotonic()
        self.supervisord = subprocess.Popen([str(BIN / "supervisord"), "--nodaemon", "-c", str(self.config)],
                                            env=self.env, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL,
                                            stderr=subprocess.DEVNULL, start_new_session=True)
        wait_until(lambda: self.info("booru"), timeout=30, interval=0.2, message="supervisord's socket")
        self.setup()
        self.wait_healthy(60)
        self.timings["start"] = time.monotonic() - began
        return self

    def setup(self) -> None:
        """`flask --app booru setup`, as scripts/start runs it."""
        done = subprocess.run([str(BIN / "flask"), "--app", "booru", "setup", "--wait", "120"], env=self.env,
                              cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=180)
        assert done.returncode == 0, f"flask setup failed:\n{done.stdout}\n{done.stderr}\n{self.tails()}"

    def shutdown(self, keep: bool = False) -> None:
        if self.supervisord is not None and self.supervisord.poll() is None:
            self.ctl("shutdown", timeout=200)
            try:
                self.supervisord.wait(200)
            except subprocess.TimeoutExpired:
                os.killpg(self.supervisord.pid, signal.SIGKILL)
                self.supervisord.wait()
        if not keep:
            shutil.rmtree(self.home, ignore_errors=True)

    # -- supervisord --------------------------------------------------------------------------

    def ctl(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
        return subprocess.run([str(BIN / "supervisorctl"), "-c", str(self.config), *args], env=self.env,
                              capture_output=True, text=True, timeout=timeout)

    def rpc(self) -> Any:
        transport = SupervisorTransport(None, None, f"unix://{self.var}/supervisor.sock")
        return xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport).supervisor

    def info(self, program: str) -> dict:
        """supervisord's getProcessInfo: statename, pid, start, exitstatus, spawnerr..."""
        return self.rpc().getProcessInfo(program)

    def running(self, program: str) -> bool:
        return self.info(program)["statename"] == "RUNNING"

    def pid(self, program: str) -> int:
        return int(self.info(program)["pid"])

    def kill(self, program: str) -> int:
        """`supervisorctl signal KILL`: the program's main process only, as the OOM killer would;
        returns the killed pid (also its process group: supervisord starts each program in one)."""
        pid = self.pid(program)
        done = self.ctl("signal", "KILL", program)
        assert done.returncode == 0, done.stdout + done.stderr
        return pid

    def restarted(self, program: str, old_pid: int) -> bool:
        info = self.info(program)
        return info["statename"] == "RUNNING" and info["pid"] not in (0, old_pid)

    def ensure_running(self) -> None:
        """Every program up and booru healthy (after a test that stopped something)."""
        for program in PROGRAMS:
            if not self.running(program):
                self.ctl("start", program)
        wait_until(lambda: all(self.running(p) for p in PROGRAMS), timeout=60, interval=0.3,
                   message="every program RUNNING")
        self.wait_healthy(60)

    # -- logs ---------------------------------------------------------------------------------

    def log(self, program: str) -> str:
        path = self.var / "log" / f"{program}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def supervisor_log(self) -> str:
        path = self.var / "log" / "supervisord.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def tails(self, chars: int = 2500) -> str:
        parts = [f"--- {name} ---\n{self.log(name)[-chars:]}" for name in PROGRAMS]
        return "\n".join(parts + [f"--- supervisord ---\n{self.supervisor_log()[-chars:]}"])

    # -- the API ------------------------------------------------------------------------------

    def request(self, method: str, path: str, timeout: float = 30, **kwargs: Any) -> requests.Response:
        headers = {"X-API-Key": self.api_key, **kwargs.pop("headers", {})}
        return requests.request(method, f"{self.url}{path}", headers=headers, timeout=timeout, **kwargs)

    def get(self, path: str, **params: Any) -> Any:
        answer = self.request("GET", path, params=params)
        assert answer.status_code == 200, f"GET {path}: {answer.status_code} {answer.text[:500]}"
        return answer.json()

    def post(self, path: str, body: Any) -> Any:
        answer = self.request("POST", path, json=body)
        assert answer.status_code in (200, 201), f"POST {path}: {answer.status_code} {answer.text[:500]}"
        return answer.json()

    def healthy(self) -> bool:
        try:
            return requests.get(f"{self.url}/health", timeout=3).status_code == 200
        except requests.RequestException:
            return False

    def wait_healthy(self, timeout: float) -> None:
        try:
            wait_until(self.healthy, timeout=timeout, interval=0.3, message="booru's /api/health")
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{self.tails()}") from None

    def all_pages(self, path: str, **params: Any) -> list[dict]:
        items, cursor = [], None
        while True:
            page = self.get(path, limit=1000, **params, **({"cursor": cursor} if cursor else {}))
            items.extend(page["items"])
            cursor = page.get("cursor")
            if not cursor or not page["items"]:
                return items

    def images(self, subreddit: str | None = None) -> list[dict]:
        return self.all_pages("/image", state="any", **({"subreddit": subreddit} if subreddit else {}))

    def links(self) -> dict[str, dict]:
        return {link["id"]: link for link in self.all_pages("/link")}

    def submissions(self, subreddit: str) -> dict[str, dict]:
        return {s["id"]: s for s in self.all_pages("/submission", subreddit=subreddit)}

    def stats(self) -> dict:
        return self.get("/stats")

    def drained(self) -> bool:
        """No link or image waiting, leased or due for a retry."""
        data = self.stats()
        links, images = data["links"], data["images"]
        return not (links["pending"] or links["claimed"] or links["failed"] or images["pending"]
                    or images["claimed"])

    def wait_drained(self, timeout: float = 120) -> float:
        began = time.monotonic()
        try:
            wait_until(self.drained, timeout=timeout, interval=0.5, message="the pipeline to drain")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; stats {self.stats()}\n{self.tails()}") from None
        return time.monotonic() - began


def group_alive(pgid: int) -> bool:
    """Whether any process of this process group is left (orphaned children of a killed program)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True

