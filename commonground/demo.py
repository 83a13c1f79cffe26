"""The demo region, loaded app by app in dependency order. `commonground demo` runs this."""

from __future__ import annotations

from django.db import transaction

from commonground.concerns.demo import load_concerns_demo
from commonground.improvement.demo import load_improvement_demo
from commonground.meetings.demo import load_meetings_demo
from commonground.organizations.demo import load_demo_region


@transaction.atomic
def load_demo() -> dict[str, int]:
    result = load_demo_region()
    result.update(load_improvement_demo())
    result.update(load_concerns_demo())
    result.update(load_meetings_demo())
    return result
