"""The demo region, loaded app by app in dependency order. `commonground demo` runs this."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from commonground.access.demo import load_demo_access
from commonground.concerns.demo import load_concerns_demo
from commonground.deliberation.demo_ideas import load_demo_ideas
from commonground.deliberation.demo_polls import load_demo_polls
from commonground.improvement.demo import load_improvement_demo
from commonground.meetings.demo import load_meetings_demo
from commonground.organizations.demo import REGION_SLUG, load_demo_region
from commonground.organizations.models import Region
from commonground.summit.demo import load_demo_summit


@transaction.atomic
def load_demo() -> dict[str, Any]:
    result: dict[str, Any] = dict(load_demo_region())
    result.update(load_improvement_demo())
    result.update(load_concerns_demo())
    result.update(load_meetings_demo())
    result.update(load_demo_polls())
    result.update(load_demo_ideas())
    # Two years of scheduling data (COMMONGROUND_DEMO_APPOINTMENTS rows; 0 skips it).
    result.update(load_demo_access(Region.objects.get(slug=REGION_SLUG)))
    result.update(load_demo_summit())
    return result
