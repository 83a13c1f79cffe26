"""The `commonground` console script: every management command, e.g. `commonground migrate`."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv if argv is None else argv)
    if len(args) > 1 and args[1] == "demo":
        # The demo is a local, plain-HTTP server with the console mail backend.
        os.environ.setdefault("COMMONGROUND_DEBUG", "1")
        # Demo logins for managers and admins work without an authenticator app;
        # production enforces two-step sign-in for those roles.
        os.environ.setdefault("COMMONGROUND_ENFORCE_MFA", "0")
    if len(args) > 1 and not args[1].startswith("-"):
        # Command names read better with hyphens (`commonground opinion-groups`); Django's
        # module names use underscores. Accept both.
        args[1] = args[1].replace("-", "_")
    if args[1:3] in (["access", "check"], ["access", "format"]):
        # The data steward's preflight and the format guide are pure (the management
        # command only forwards them): no settings, apps or database to load first (half a
        # second).
        from commonground.access.cli import run_check, run_format

        code = (run_check if args[2] == "check" else run_format)(args[3:])
        if code:
            raise SystemExit(code)
        return
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(args)


if __name__ == "__main__":
    main()
