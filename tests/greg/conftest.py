"""Helpers for greg's tests: settings pointed at the fake internet, shared fixture paths."""
from __future__ import annotations

import dataclasses
import json
import threading
from pathlib import Path
from typing import Any

import pytest

from common.config import Settings, load_settings

SHARED = Path(__file__).resolve().parents[3] / "shared" / "fixtures"


def shared_json(name: str) -> Any:
    """A recorded payload from ../shared/fixtures, or skip when that directory is absent."""
    path = SHARED / name
    if not path.is_file():
        pytest.skip(f"{path} not present (recorded payloads are optional)")
    return json.loads(path.read_text(encoding="utf-8"))


def make_settings(**changes: Any) -> Settings:
    base = load_settings()
    defaults = dict(reddit_client_id="lzb-test-id", reddit_client_secret="lzb-test-secret",
                    reddit_user_agent="lzbooru-tests/1.0", pushshift_url="https://api.pushshift.io",
                    pushshift_token="", arctic_shift_url="https://arctic-shift.photon-reddit.com",
                    chapter_interval=0.2, fetch_timeout=5.0)
    defaults.update(changes)
    return dataclasses.replace(base, **defaults)


@pytest.fixture
def stop() -> threading.Event:
    return threading.Event()
