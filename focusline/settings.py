"""Settings from the environment (``FOCUSLINE_*``), read when asked for, never at import time."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from focusline.errors import ConfigError

PROJECT_DIR = Path(__file__).resolve().parent.parent

DEFAULT_STEP_TIMEOUT_SECONDS = 600
DEFAULT_PIPELINE_TIMEOUT_MINUTES = 30
DEFAULT_WAREHOUSE_LOCK_TIMEOUT_SECONDS = 600.0
DEFAULT_HTTP_TIMEOUT_SECONDS = 60.0
DEFAULT_HTTP_MAX_ATTEMPTS = 5
MAX_RETRY_AFTER_SECONDS = 300.0
OPENAI_DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_KMS_TIMEOUT_SECONDS = 10.0


def _float_env(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"must be a number of seconds, got {raw!r}", field=name) from None
    if value < 0:
        raise ConfigError(f"must not be negative, got {raw!r}", field=name)
    return value


@dataclass(frozen=True)
class Settings:
    project_dir: Path
    configs_dir: Path
    warehouse_dir: Path
    state_dir: Path
    control_url: str
    key_file: Path
    warehouse_lock_timeout_seconds: float
    http_timeout_seconds: float
    openai_base_url: str
    # Cloud KMS wraps new credential data keys when the key name is set (orchestrator/kms.py)
    kms_key_name: str | None = None
    kms_endpoint: str | None = None
    kms_timeout_seconds: float = DEFAULT_KMS_TIMEOUT_SECONDS

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        state_dir = Path(env.get("FOCUSLINE_STATE_DIR") or PROJECT_DIR / ".focusline")
        return cls(
            project_dir=PROJECT_DIR,
            configs_dir=Path(env.get("FOCUSLINE_CONFIGS_DIR") or PROJECT_DIR / "configs"),
            warehouse_dir=Path(env.get("FOCUSLINE_WAREHOUSE_DIR") or PROJECT_DIR / "warehouse"),
            state_dir=state_dir,
            control_url=env.get("FOCUSLINE_CONTROL_URL") or f"sqlite:///{state_dir / 'control.db'}",
            key_file=Path(env.get("FOCUSLINE_KEY_FILE") or state_dir / "master.key"),
            warehouse_lock_timeout_seconds=_float_env(
                "FOCUSLINE_WAREHOUSE_LOCK_TIMEOUT", DEFAULT_WAREHOUSE_LOCK_TIMEOUT_SECONDS
            ),
            http_timeout_seconds=_float_env("FOCUSLINE_HTTP_TIMEOUT", DEFAULT_HTTP_TIMEOUT_SECONDS),
            openai_base_url=(env.get("FOCUSLINE_OPENAI_BASE_URL") or OPENAI_DEFAULT_BASE_URL).rstrip("/"),
            kms_key_name=env.get("FOCUSLINE_KMS_KEY_NAME", "").strip() or None,
            kms_endpoint=env.get("FOCUSLINE_KMS_ENDPOINT", "").strip() or None,
            kms_timeout_seconds=_float_env("FOCUSLINE_KMS_TIMEOUT", DEFAULT_KMS_TIMEOUT_SECONDS),
        )

    def warehouse_path(self, org_slug: str) -> Path:
        """The organisation's DuckDB file. ``org_slug`` must already be validated."""
        return self.warehouse_dir / f"{org_slug}.duckdb"
