"""Configuration from the environment and `.env` (environment variables win)."""
from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path

from dotenv import load_dotenv

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def _float(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    return float(value) if value else default


def _str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip() or default


# Per role: requests and searches by upload or URL per minute, or "none" (unlimited).
QUOTA_DEFAULTS = {"reader": "600,60", "public": "120,12", "admin": "none", "greg": "none", "parsa": "none",
                  "coco": "none"}


def _quota(name: str, default: str) -> tuple[int, int] | None:
    """`QUOTA_READER=600,60` -> (600, 60); `none` -> None."""
    value = _str(name, default).lower()
    if value in ("none", "0"):
        return None
    try:
        requests, searches = (int(part) for part in value.split(","))
    except ValueError:
        raise ValueError(f"{name} must be '<requests>,<searches>' per minute or 'none', not {value!r}") from None
    return requests, searches


@dataclass(frozen=True)
class Settings:
    url: str
    api_key: str
    database_uri: str
    var_dir: Path
    embedded_db_port: int
    log_level: str
    log_format: str
    chapter_interval: float
    lease_seconds: int
    retry_delay: int
    max_tries: int
    # greg
    greg_source: str
    reddit_client_id: str
    reddit_client_secret: str
    reddit_user_agent: str
    pushshift_url: str
    pushshift_token: str
    arctic_shift_url: str
    # parsa
    imgur_client_id: str
    parsa_batch: int
    parsa_threads: int
    # coco and search
    coco_batch: int
    coco_threads: int
    coco_processes: int
    max_image_bytes: int
    max_image_pixels: int
    fetch_timeout: float
    fetch_deadline: float
    # booru's limits (README "Limits")
    statement_timeout: float
    max_tag_terms: int
    max_decode_pixels: int
    quotas: dict[str, tuple[int, int] | None]  # role -> (requests, searches) per minute; None = unlimited

    @property
    def embedded(self) -> bool:
        """True when no DATABASE_URI is set and the stack runs its own PostgreSQL."""
        return not os.environ.get("DATABASE_URI", "").strip()

    def as_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def embedded_database_uri(port: int) -> str:
    return f"postgresql://postgres@127.0.0.1:{port}/booru"


def load_settings(env_file: str | os.PathLike | None = None) -> Settings:
    """Read `.env` (ENV_FILE, or the project root's) without overriding the environment."""
    load_dotenv(env_file or os.environ.get("ENV_FILE") or PROJECT_ROOT / ".env", override=False)
    port = _int("EMBEDDED_DB_PORT", 5433)
    return Settings(
        url=_str("URL", "http://127.0.0.1:5000/api").rstrip("/"),
        api_key=_str("API_KEY"),
        database_uri=_str("DATABASE_URI") or embedded_database_uri(port),
        var_dir=Path(_str("VAR_DIR", str(PROJECT_ROOT / "var"))),
        embedded_db_port=port,
        log_level=_str("LOG_LEVEL", "INFO").upper(),
        log_format=_str("LOG_FORMAT", "text").lower(),
        chapter_interval=_float("CHAPTER_INTERVAL", 60.0),
        lease_seconds=_int("LEASE_SECONDS", 600),
        retry_delay=_int("RETRY_DELAY", 3600),
        max_tries=_int("MAX_TRIES", 3),
        greg_source=_str("GREG_SOURCE", "reddit"),
        reddit_client_id=_str("REDDIT_CLIENT_ID"),
        reddit_client_secret=_str("REDDIT_CLIENT_SECRET"),
        reddit_user_agent=_str("REDDIT_USER_AGENT", "lzbooru/1.0"),
        pushshift_url=_str("PUSHSHIFT_URL", "https://api.pushshift.io").rstrip("/"),
        pushshift_token=_str("PUSHSHIFT_TOKEN"),
        arctic_shift_url=_str("ARCTIC_SHIFT_URL", "https://arctic-shift.photon-reddit.com").rstrip("/"),
        imgur_client_id=_str("IMGUR_CLIENT_ID"),
        parsa_batch=_int("PARSA_BATCH", 50),
        parsa_threads=_int("PARSA_THREADS", 8),
        coco_batch=_int("COCO_BATCH", 64),
        coco_threads=_int("COCO_THREADS", 8),
        coco_processes=_int("COCO_PROCESSES", os.cpu_count() or 1),
        max_image_bytes=_int("MAX_IMAGE_BYTES", 32 * 1024 * 1024),
        max_image_pixels=_int("MAX_IMAGE_PIXELS", 64_000_000),
        fetch_timeout=_float("FETCH_TIMEOUT", 10.0),
        fetch_deadline=_float("FETCH_DEADLINE", 60.0),
        statement_timeout=_float("STATEMENT_TIMEOUT", 5.0),
        max_tag_terms=_int("MAX_TAG_TERMS", 8),
        max_decode_pixels=_int("MAX_DECODE_PIXELS", 15_000_000),
        quotas={role: _quota(f"QUOTA_{role.upper()}", default) for role, default in QUOTA_DEFAULTS.items()},
    )
