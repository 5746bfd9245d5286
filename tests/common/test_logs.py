"""One line per chapter with the same four counts for every daemon; LOG_LEVEL and
LOG_FORMAT=json|text respected by the daemons and by booru under gunicorn."""
from __future__ import annotations

import json
import logging

import pytest
import requests

from common.config import PROJECT_ROOT
from common.daemon import Chapter, Daemon
from common.logs import JsonFormatter, setup_logging
from tests.support import base_env, free_port, healthy, start_python, wait_until


def chapter(**counts: int) -> Chapter:
    report = Chapter()
    for key, n in counts.items():
        report.add(key, n)
    return report


@pytest.mark.parametrize("counts, summary", [
    ({"claimed": 5, "resolved": 3, "images": 7, "failed": 1, "dead": 1, "unsupported": 1},  # parsa
     {"claimed": 5, "done": 3, "failed": 2, "skipped": 1}),
    ({"claimed": 4, "encoded": 2, "failed": 1, "skipped": 1, "bytes": 999},  # coco
     {"claimed": 4, "done": 2, "failed": 1, "skipped": 1}),
    ({"subreddits": 2, "fetched": 10, "posted": 9, "errors": 1},  # greg
     {"claimed": 2, "done": 9, "failed": 1, "skipped": 0}),
    ({}, {"claimed": 0, "done": 0, "failed": 0, "skipped": 0}),
])
def test_every_daemon_summarises_claimed_done_failed_skipped(counts, summary):
    report = chapter(**counts)
    assert report.summary() == summary
    line = report.line(1.234)
    lead = " ".join(f"{k}={v}" for k, v in summary.items()) + " elapsed=1.23s"
    assert line.startswith(lead)
    for key in report.details():  # the daemon's own words follow, each once
        assert line.count(f" {key}=") == 1


class Quiet(Daemon):
    name = "quiet"

    def __init__(self, client: object):
        super().__init__(interval=0)
        self.client = client

    def chapter(self, report: Chapter) -> None:
        report.add("claimed", 3)
        report.add("done", 3)


class Reports:
    def __init__(self, fail: bool = False):
        self.fail = fail
        self.sent: list[tuple] = []

    def report_chapter(self, daemon: str, counts: dict, elapsed: float) -> None:
        if self.fail:
            raise ConnectionError("booru is away")
        self.sent.append((daemon, counts, elapsed))


def test_each_chapter_is_reported_to_booru_with_its_summary():
    client = Reports()
    Quiet(client).run_once()
    [(daemon, counts, elapsed)] = client.sent
    assert daemon == "quiet" and counts == {"claimed": 3, "done": 3, "failed": 0, "skipped": 0}
    assert elapsed >= 0


def test_a_failing_report_never_breaks_the_chapter_and_warns_once(caplog):
    daemon = Quiet(Reports(fail=True))
    with caplog.at_level(logging.DEBUG, logger="common.daemon"):
        reports = [daemon.run_once() for _ in range(3)]
    assert [r["claimed"] for r in reports] == [3, 3, 3]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "not reported to booru" in warnings[0].getMessage()
    assert caplog.text.count("quiet chapter: claimed=3 done=3 failed=0 skipped=0") == 3


def test_json_format_carries_the_chapter_fields():
    record = logging.LogRecord("common.daemon", logging.INFO, __file__, 1, "parsa chapter: %s", ("x",), None)
    record.fields = chapter(claimed=2, resolved=2).fields("parsa", 0.5)
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "parsa chapter: x" and entry["level"] == "INFO"
    assert {k: entry[k] for k in ("daemon", "claimed", "done", "failed", "skipped", "elapsed")} == {
        "daemon": "parsa", "claimed": 2, "done": 2, "failed": 0, "skipped": 0, "elapsed": 0.5}
    assert entry["counts"] == {"claimed": 2, "resolved": 2}


def test_log_level_is_respected(capsys):
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        setup_logging("WARNING", "text")
        logging.getLogger("x").info("hidden")
        logging.getLogger("x").warning("shown")
    finally:
        root.handlers[:], root.level = saved
    err = capsys.readouterr().err
    assert "shown" in err and "hidden" not in err


def json_lines(output: str) -> list[dict]:
    """Every line must be one JSON object."""
    lines = [line for line in output.splitlines() if line.strip()]
    assert lines
    entries = []
    for line in lines:
        entry = json.loads(line)
        assert isinstance(entry, dict), line
        entries.append(entry)
    return entries


@pytest.mark.slow
def test_a_real_daemon_logs_one_json_object_per_line(live_booru, run_daemon):
    parsa = run_daemon("parsa", env={"LOG_FORMAT": "json"})
    wait_until(lambda: parsa.output().count('"parsa chapter: ') >= 2, timeout=30, message="two chapters")
    assert parsa.stop() == 0
    entries = json_lines(parsa.output())
    chapters = [e for e in entries if e["message"].startswith("parsa chapter: ")]
    assert len(chapters) >= 2
    for entry in chapters:
        assert entry["daemon"] == "parsa" and entry["level"] == "INFO"
        assert {"claimed", "done", "failed", "skipped", "elapsed", "counts"} <= set(entry)
        assert entry["claimed"] == 0 and entry["elapsed"] >= 0
    assert any(e["message"] == "parsa stopped" for e in entries)


@pytest.mark.slow
def test_a_real_daemon_at_warning_level_logs_no_chapters(live_booru, run_daemon):
    greg = run_daemon("greg", "--once", env={"LOG_LEVEL": "WARNING"})
    assert greg.wait(30) == 0
    assert "greg chapter:" not in greg.output()
    quiet = run_daemon("greg", "--once")
    assert quiet.wait(30) == 0
    assert "greg chapter: claimed=0 done=0 failed=" in quiet.output()


@pytest.mark.slow
def test_booru_under_gunicorn_logs_json(database_uri, tmp_path):
    port = free_port()
    env = base_env(DATABASE_URI=database_uri, LOG_FORMAT="json", PROMETHEUS_MULTIPROC_DIR=str(tmp_path))
    booru = start_python("booru", ["-m", "gunicorn", "--config", str(PROJECT_ROOT / "booru" / "gunicorn_conf.py"),
                                   "--workers", "1", "--bind", f"127.0.0.1:{port}", "booru:create_app()"], env)
    try:
        url = f"http://127.0.0.1:{port}/api"
        wait_until(lambda: healthy(url), timeout=30, message="booru under gunicorn")
        assert requests.get(f"{url}/stats", timeout=5).status_code == 401
    finally:
        assert booru.stop() == 0
    entries = json_lines(booru.output())
    messages = " ".join(e["message"] for e in entries)
    assert "Booting worker" in messages and "GET /api/stats" in messages  # gunicorn's and its access log
    assert {e["logger"] for e in entries} >= {"gunicorn.error", "gunicorn.access"}


def test_an_unknown_level_or_format_is_said_once_and_does_not_stop_the_program(capsys):
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        setup_logging("LOUD", "xml")
        assert root.level == logging.INFO
    finally:
        root.handlers[:], root.level = saved
    err = capsys.readouterr().err
    assert "LOG_LEVEL=LOUD is not a level" in err and "LOG_FORMAT=xml is neither json nor text" in err
