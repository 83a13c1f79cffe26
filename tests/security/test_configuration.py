"""Settings from the environment, and `commonground check --deploy` with production settings."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_list, env_secret, secret_key_from

REPO = Path(__file__).resolve().parents[2]
COMMONGROUND = Path(sys.executable).with_name("commonground")


def production_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """A clean environment as an operator would set it: nothing inherited from the tests."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("COMMONGROUND_", "DJANGO_", "SECRET_KEY", "DATABASE_URL"))
        and key not in {"ALLOWED_HOSTS", "EMAIL_BACKEND", "PYTEST_CURRENT_TEST"}
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "COMMONGROUND_DATA_DIR": str(data_dir),
            "ALLOWED_HOSTS": "commonground.example.org",
        }
    )
    env.update(extra)
    return env


def production_settings(data_dir: Path, *names: str, **extra: str) -> dict:
    """Import config.settings in a fresh interpreter and read some of its values."""
    script = (
        "import json, sys, config.settings as s\n"
        "print(json.dumps({n: getattr(s, n, None) for n in sys.argv[1:]}, default=str))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, *names],
        cwd=REPO,
        env=production_env(data_dir, **extra),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


# --- commonground check --deploy ---


def test_check_deploy_reports_no_issues_with_production_settings(tmp_path):
    result = subprocess.run(
        [str(COMMONGROUND), "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO,
        env=production_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "no issues" in output
    assert "WARNING" not in output
    # It generated its own key into the data directory rather than using a committed one.
    assert (tmp_path / "secret_key").exists()


def test_check_deploy_still_reports_no_issues_with_hsts_preload_switched_on(tmp_path):
    result = subprocess.run(
        [str(COMMONGROUND), "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO,
        env=production_env(tmp_path, COMMONGROUND_HSTS_PRELOAD="1"),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --- SECRET_KEY ---


@pytest.fixture
def no_configured_secret(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("SECRET_KEY_FILE", raising=False)


def test_without_a_secret_key_one_is_generated_into_the_data_dir_readable_only_by_its_owner(
    tmp_path, no_configured_secret
):
    data_dir = tmp_path / "var"
    key = secret_key_from(data_dir)
    key_file = data_dir / "secret_key"
    assert key_file.read_text(encoding="utf-8").strip() == key
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(key) >= 50
    assert len(set(key)) >= 5


def test_the_generated_secret_key_is_reused_on_the_next_start(tmp_path, no_configured_secret):
    first = secret_key_from(tmp_path)
    assert secret_key_from(tmp_path) == first


def test_two_fresh_data_dirs_get_different_secret_keys(tmp_path, no_configured_secret):
    assert secret_key_from(tmp_path / "one") != secret_key_from(tmp_path / "two")


def test_a_secret_key_from_the_environment_wins_and_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "k" * 20 + "from-the-environment-0123456789abcdef")
    assert secret_key_from(tmp_path).endswith("from-the-environment-0123456789abcdef")
    assert not (tmp_path / "secret_key").exists()


def test_a_secret_key_can_come_from_a_container_secret_file(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    secret = tmp_path / "docker-secret"
    secret.write_text("mounted-secret-value-0123456789\n", encoding="utf-8")
    monkeypatch.setenv("SECRET_KEY_FILE", str(secret))
    assert secret_key_from(tmp_path / "data") == "mounted-secret-value-0123456789"


def test_workers_starting_together_on_first_run_agree_on_one_secret_key(tmp_path):
    """gunicorn starts several workers at once; none may crash or read a half-written key."""
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from config.env import secret_key_from\n"
        "start = float(sys.argv[2])\n"
        "while time.time() < start: pass\n"
        "print(secret_key_from(Path(sys.argv[1])))\n"
    )
    env = production_env(tmp_path)
    for round_number in range(3):
        data_dir = tmp_path / f"round-{round_number}"
        start = time.time() + 1.0
        workers = [
            subprocess.Popen(
                [sys.executable, "-c", script, str(data_dir), str(start)],
                cwd=REPO,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(4)
        ]
        results = [worker.communicate(timeout=60) for worker in workers]
        for worker, (_, stderr) in zip(workers, results, strict=True):
            assert worker.returncode == 0, stderr
        keys = {stdout.strip() for stdout, _ in results}
        assert len(keys) == 1
        assert keys == {(data_dir / "secret_key").read_text(encoding="utf-8").strip()}
        assert "" not in keys


def test_an_empty_secret_key_file_is_refused_rather_than_used(tmp_path, no_configured_secret):
    (tmp_path / "secret_key").write_text("", encoding="utf-8")
    with pytest.raises(ImproperlyConfigured):
        secret_key_from(tmp_path)


def test_the_production_settings_use_the_generated_key(tmp_path):
    values = production_settings(tmp_path, "SECRET_KEY")
    assert values["SECRET_KEY"] == (tmp_path / "secret_key").read_text(encoding="utf-8").strip()


def test_no_secret_key_file_is_committed_to_the_repository():
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    assert not [path for path in tracked if Path(path).name == "secret_key"]


# --- DEBUG, hosts, database ---


def test_debug_is_off_unless_asked_for(tmp_path):
    assert production_settings(tmp_path, "DEBUG")["DEBUG"] is False
    assert production_settings(tmp_path, "DEBUG", COMMONGROUND_DEBUG="1")["DEBUG"] is True
    assert production_settings(tmp_path, "DEBUG", COMMONGROUND_DEBUG="0")["DEBUG"] is False


def test_the_demo_command_switches_debug_on_and_production_does_not(monkeypatch):
    from commonground import __main__ as cli

    seen: dict[str, str | None] = {}

    def fake_execute(argv):
        seen["debug"] = os.environ.get("COMMONGROUND_DEBUG")

    monkeypatch.delenv("COMMONGROUND_DEBUG", raising=False)
    monkeypatch.setattr("django.core.management.execute_from_command_line", fake_execute)
    cli.main(["commonground", "check"])
    assert seen["debug"] is None
    cli.main(["commonground", "demo"])
    assert seen["debug"] == "1"


def test_allowed_hosts_come_from_the_environment(tmp_path):
    values = production_settings(
        tmp_path, "ALLOWED_HOSTS", ALLOWED_HOSTS="commonground.example.org, ppc.example.org"
    )
    assert values["ALLOWED_HOSTS"] == ["commonground.example.org", "ppc.example.org"]


def test_production_allows_no_host_until_one_is_configured(tmp_path):
    env = production_env(tmp_path)
    del env["ALLOWED_HOSTS"]
    script = "import json, config.settings as s; print(json.dumps(s.ALLOWED_HOSTS))"
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


def test_the_default_database_is_a_sqlite_file_inside_the_data_dir(tmp_path):
    values = production_settings(tmp_path, "DATABASES")
    default = values["DATABASES"]["default"]
    assert default["ENGINE"] == "django.db.backends.sqlite3"
    assert Path(default["NAME"]) == tmp_path.resolve() / "commonground.sqlite3"


def test_the_data_dir_defaults_to_var_in_the_working_directory(tmp_path):
    env = production_env(tmp_path)
    del env["COMMONGROUND_DATA_DIR"]
    script = "import config.settings as s; print(s.DATA_DIR)"
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert Path(result.stdout.strip().splitlines()[-1]) == (tmp_path / "var").resolve()
    assert (tmp_path / "var" / "secret_key").exists()


def test_a_database_url_from_the_environment_is_used(tmp_path):
    values = production_settings(
        tmp_path,
        "DATABASES",
        DATABASE_URL="postgres://cg:pw@db.internal:5432/commonground",
    )
    default = values["DATABASES"]["default"]
    assert default["ENGINE"] == "django.db.backends.postgresql"
    assert default["HOST"] == "db.internal"
    assert default["NAME"] == "commonground"


def test_email_settings_come_from_the_environment(tmp_path):
    values = production_settings(
        tmp_path,
        "EMAIL_BACKEND",
        "EMAIL_HOST",
        "EMAIL_PORT",
        "EMAIL_HOST_USER",
        "EMAIL_HOST_PASSWORD",
        "DEFAULT_FROM_EMAIL",
        EMAIL_HOST="smtp.example.org",
        EMAIL_PORT="2525",
        EMAIL_HOST_USER="mailer",
        EMAIL_HOST_PASSWORD="smtp-secret",
        DEFAULT_FROM_EMAIL="Common Ground <ppc@example.org>",
    )
    assert values == {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "smtp.example.org",
        "EMAIL_PORT": 2525,
        "EMAIL_HOST_USER": "mailer",
        "EMAIL_HOST_PASSWORD": "smtp-secret",
        "DEFAULT_FROM_EMAIL": "Common Ground <ppc@example.org>",
    }


def test_behind_a_proxy_the_client_address_and_https_come_from_the_proxy(tmp_path):
    values = production_settings(
        tmp_path,
        "ALLAUTH_TRUSTED_PROXY_COUNT",
        "SECURE_PROXY_SSL_HEADER",
        COMMONGROUND_BEHIND_PROXY="1",
    )
    assert values["ALLAUTH_TRUSTED_PROXY_COUNT"] == 1
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]


def test_without_a_proxy_forwarded_headers_are_not_trusted(tmp_path):
    values = production_settings(tmp_path, "ALLAUTH_TRUSTED_PROXY_COUNT", "SECURE_PROXY_SSL_HEADER")
    assert values["ALLAUTH_TRUSTED_PROXY_COUNT"] == 0
    assert values["SECURE_PROXY_SSL_HEADER"] is None


# --- the typed readers ---


@pytest.mark.parametrize("raw", ["1", "true", "TRUE", " yes ", "on"])
def test_env_bool_reads_true_spellings(monkeypatch, raw):
    monkeypatch.setenv("COMMONGROUND_FLAG", raw)
    assert env_bool("COMMONGROUND_FLAG", False) is True


@pytest.mark.parametrize("raw", ["0", "false", "No", "off", ""])
def test_env_bool_reads_false_spellings(monkeypatch, raw):
    monkeypatch.setenv("COMMONGROUND_FLAG", raw)
    assert env_bool("COMMONGROUND_FLAG", True) is False


@pytest.mark.parametrize("raw", ["maybe", "2", "ture", "enabled"])
def test_a_bad_boolean_is_refused_loudly(monkeypatch, raw):
    monkeypatch.setenv("COMMONGROUND_FLAG", raw)
    with pytest.raises(ImproperlyConfigured, match="COMMONGROUND_FLAG"):
        env_bool("COMMONGROUND_FLAG", False)


def test_a_bad_boolean_stops_the_settings_from_loading(tmp_path):
    env = production_env(tmp_path, COMMONGROUND_DEBUG="sometimes")
    result = subprocess.run(
        [sys.executable, "-c", "import config.settings"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "COMMONGROUND_DEBUG" in result.stderr


def test_an_unset_boolean_takes_its_default(monkeypatch):
    monkeypatch.delenv("COMMONGROUND_FLAG", raising=False)
    assert env_bool("COMMONGROUND_FLAG", True) is True
    assert env_bool("COMMONGROUND_FLAG", False) is False


def test_a_bad_integer_is_refused_loudly(monkeypatch):
    monkeypatch.setenv("EMAIL_PORT", "five-eight-seven")
    with pytest.raises(ImproperlyConfigured, match="EMAIL_PORT"):
        env_int("EMAIL_PORT", 587)


def test_env_list_splits_on_commas_and_drops_blanks(monkeypatch):
    monkeypatch.setenv("ALLOWED_HOSTS", " a.example.org, ,b.example.org ")
    assert env_list("ALLOWED_HOSTS") == ["a.example.org", "b.example.org"]


def test_an_unreadable_secret_file_is_refused_loudly(tmp_path, monkeypatch):
    monkeypatch.delenv("EMAIL_HOST_PASSWORD", raising=False)
    monkeypatch.setenv("EMAIL_HOST_PASSWORD_FILE", str(tmp_path / "missing"))
    with pytest.raises(ImproperlyConfigured, match="EMAIL_HOST_PASSWORD_FILE"):
        env_secret("EMAIL_HOST_PASSWORD")
