from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from commonground.demo import load_demo
from commonground.organizations.demo import DEMO_LOGINS, DEMO_PASSWORD


class Command(BaseCommand):
    help = "Load the deterministic demo region (26 clinics, about 400 people). Safe to rerun."

    def handle(self, *args: Any, **options: Any) -> None:
        result = load_demo()
        if result["created"]:
            self.stdout.write(
                f"Demo region loaded: {result['clinics']} clinics, {result['committees']} "
                f"committees, {result['people']} people, {result['memberships']} seats, "
                f"{result.get('projects', 0)} improvement projects, "
                f"{result.get('concerns', 0)} concerns, {result.get('meetings', 0)} meetings, "
                f"{result.get('appointments', 0):,} appointments."
            )
        else:
            self.stdout.write("Demo region already loaded.")
        self.stdout.write(f"Demo logins (password: {DEMO_PASSWORD}):")
        for login in DEMO_LOGINS:
            self.stdout.write(f"  {login.username:<28} {login.role} · {login.where}")
