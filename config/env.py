"""Typed readers for settings that come from the environment.

Each reader fails loudly (ImproperlyConfigured) on a value it cannot parse, and the
secret reader also accepts ``NAME_FILE`` pointing at a file, as container secrets do.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from exc


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default or [])
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_secret(name: str) -> str | None:
    """The value of NAME, or the contents of the file named by NAME_FILE."""
    value = os.environ.get(name)
    if value:
        return value
    path = os.environ.get(f"{name}_FILE")
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE points at an unreadable file") from exc
    return None


def secret_key_from(data_dir: Path) -> str:
    """SECRET_KEY from the environment, else a key generated once into the data directory.

    The generated file is created with mode 0600 and never leaves the data directory, so a
    fresh checkout has no committed secret and restarts keep sessions valid.
    """
    configured = env_secret("SECRET_KEY")
    if configured:
        return configured
    key_file = data_dir / "secret_key"
    try:
        return _read_key_file(key_file)
    except FileNotFoundError:
        pass
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(64)
    # gunicorn workers import the settings at the same moment on the first run. Creating
    # the file in place let a second worker crash on O_EXCL or read it still empty, so the
    # key is written in full to a private (0600) temporary file and then hard-linked into
    # place: the link fails if another worker won, and then that worker's key is used.
    fd, tmp_name = tempfile.mkstemp(dir=data_dir, prefix=".secret_key.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(key)
        try:
            os.link(tmp_name, key_file)
        except FileExistsError:
            return _read_key_file(key_file)
    finally:
        os.unlink(tmp_name)
    return key


def _read_key_file(key_file: Path) -> str:
    key = key_file.read_text(encoding="utf-8").strip()
    if not key:
        raise ImproperlyConfigured(
            f"{key_file} is empty: set SECRET_KEY, or delete the file to generate a new key"
        )
    return key
