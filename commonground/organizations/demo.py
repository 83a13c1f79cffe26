"""The demo region: a deterministic Northern California region with 26 clinics.

Everything a demo shows comes from here, so later features extend this one module. It is
bulk-loaded (one password hash for every demo person) so it loads in seconds.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from commonground.audit.models import AuditEvent
from commonground.audit.services import audit_record
from commonground.core.business_days import preset_holidays
from commonground.organizations.models import (
    BusinessCalendar,
    Clinic,
    Committee,
    Holiday,
    Membership,
    Region,
    Role,
    Side,
)

DEMO_PASSWORD = "common-ground-demo"  # noqa: S105 (documented demo credential)
REGION_SLUG = "northern-california"
SEED = 2026
PEOPLE_PER_CLINIC = 15


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    where: str


DEMO_LOGINS = [
    DemoLogin("clinician.oakland", "Clinician member", "Oakland PPC"),
    DemoLogin("cochair-clinician.oakland", "Clinician co-chair", "Oakland PPC"),
    DemoLogin("manager.oakland", "Manager member", "Oakland PPC"),
    DemoLogin("cochair-manager.oakland", "Management co-chair", "Oakland PPC"),
    DemoLogin("unionrep.oakland", "Union representative (observer)", "Oakland PPC"),
    DemoLogin("datasteward.region", "Data steward", "Regional committee"),
    DemoLogin("admin.region", "Regional admin", "Regional committee"),
]

# (city, clinic name, service lines)
CLINICS: list[tuple[str, str, list[str]]] = [
    (
        "Oakland",
        "Oakland Mental Health Center",
        ["adult", "child_family", "psychiatry", "intensive"],
    ),
    ("Richmond", "Richmond Behavioral Health", ["adult", "child_family", "addiction"]),
    ("San Francisco", "San Francisco Geary Mental Health", ["adult", "psychiatry", "eating"]),
    ("South San Francisco", "South San Francisco Psychiatry", ["adult", "psychiatry"]),
    ("San Rafael", "Marin Behavioral Health — San Rafael", ["adult", "child_family"]),
    ("Santa Rosa", "Santa Rosa Mental Health Center", ["adult", "child_family", "addiction"]),
    ("Vallejo", "Vallejo Behavioral Health", ["adult", "intensive", "addiction"]),
    ("Napa", "Napa Valley Counseling Center", ["adult", "child_family"]),
    ("Fairfield", "Fairfield Mental Health", ["adult", "psychiatry"]),
    ("Walnut Creek", "Walnut Creek Behavioral Health", ["adult", "child_family", "eating"]),
    ("Antioch", "Antioch Delta Mental Health", ["adult", "addiction"]),
    ("Pleasanton", "Tri-Valley Behavioral Health — Pleasanton", ["adult", "child_family"]),
    ("Fremont", "Fremont Mental Health Center", ["adult", "child_family", "psychiatry"]),
    ("Union City", "Union City Counseling Center", ["adult", "addiction"]),
    ("Hayward", "Hayward Behavioral Health", ["adult", "intensive", "psychiatry"]),
    ("San Leandro", "San Leandro Mental Health", ["adult", "child_family"]),
    (
        "San Jose",
        "San Jose Santa Teresa Behavioral Health",
        ["adult", "child_family", "psychiatry"],
    ),
    ("Santa Clara", "Santa Clara Homestead Mental Health", ["adult", "eating", "intensive"]),
    ("Campbell", "Campbell Counseling Center", ["adult", "child_family"]),
    ("Redwood City", "Redwood City Behavioral Health", ["adult", "addiction", "psychiatry"]),
    ("San Mateo", "San Mateo Mental Health Center", ["adult", "child_family"]),
    (
        "Sacramento",
        "Sacramento Point West Behavioral Health",
        ["adult", "child_family", "intensive"],
    ),
    ("Roseville", "Roseville Mental Health Center", ["adult", "addiction"]),
    ("Folsom", "Folsom Counseling Center", ["adult", "child_family"]),
    ("Stockton", "Stockton Behavioral Health", ["adult", "psychiatry", "addiction"]),
    ("Modesto", "Modesto Mental Health Center", ["adult", "child_family", "intensive"]),
]

FIRST_NAMES = [
    "Alicia",
    "Amara",
    "Andre",
    "Angela",
    "Anh",
    "Arjun",
    "Beatriz",
    "Benjamin",
    "Camila",
    "Carlos",
    "Carmen",
    "Chloe",
    "Daniel",
    "Deepa",
    "Diego",
    "Dolores",
    "Elena",
    "Emeka",
    "Esther",
    "Farah",
    "Fatima",
    "Gabriel",
    "Grace",
    "Hana",
    "Hector",
    "Imani",
    "Isaac",
    "Jamal",
    "Janet",
    "Javier",
    "Jin",
    "Joanna",
    "Jorge",
    "Julia",
    "Kai",
    "Kavita",
    "Keisha",
    "Kenji",
    "Laila",
    "Leticia",
    "Liam",
    "Lucia",
    "Luis",
    "Malik",
    "Maria",
    "Marisol",
    "Maya",
    "Miguel",
    "Mina",
    "Nadia",
    "Naomi",
    "Nikhil",
    "Olivia",
    "Omar",
    "Pablo",
    "Priya",
    "Rafael",
    "Rosa",
    "Ruth",
    "Samuel",
    "Sara",
    "Simone",
    "Sofia",
    "Tamika",
    "Teresa",
    "Thanh",
    "Tomas",
    "Valeria",
    "Vanessa",
    "Victor",
    "Wei",
    "Yasmin",
    "Yusuf",
    "Zoe",
]
LAST_NAMES = [
    "Acosta",
    "Adeyemi",
    "Aguilar",
    "Ahmed",
    "Alvarez",
    "Bautista",
    "Bell",
    "Brooks",
    "Castillo",
    "Chan",
    "Chavez",
    "Cohen",
    "Cruz",
    "Delgado",
    "Diaz",
    "Dang",
    "Edwards",
    "Espinoza",
    "Fernandez",
    "Flores",
    "Garcia",
    "Gomez",
    "Gupta",
    "Haddad",
    "Hernandez",
    "Huang",
    "Ibarra",
    "Jackson",
    "Johnson",
    "Kapoor",
    "Kim",
    "Le",
    "Lee",
    "Lopez",
    "Martinez",
    "Mendoza",
    "Morales",
    "Nakamura",
    "Nguyen",
    "Okafor",
    "Ortiz",
    "Park",
    "Patel",
    "Pham",
    "Ramirez",
    "Reyes",
    "Rivera",
    "Robinson",
    "Rodriguez",
    "Romero",
    "Salazar",
    "Sanchez",
    "Santos",
    "Shah",
    "Silva",
    "Singh",
    "Tanaka",
    "Torres",
    "Tran",
    "Vargas",
    "Vasquez",
    "Walker",
    "Washington",
    "Williams",
    "Wong",
    "Yamamoto",
    "Zhang",
]
CLINICIAN_TITLES = [
    "Licensed Clinical Social Worker",
    "Licensed Marriage and Family Therapist",
    "Clinical Psychologist",
    "Licensed Professional Clinical Counselor",
    "Psychiatric Nurse Practitioner",
    "Addiction Medicine Therapist",
]
MANAGER_TITLES = [
    "Department Administrator",
    "Clinic Manager",
    "Assistant Department Administrator",
    "Behavioral Health Manager",
    "Medical Director",
]

# The clinics close on California state-employee holidays (CalHR; see business_days), for
# the two years of demo history and the year ahead.
HOLIDAY_PRESET = "ca-state"

PPC_PURPOSE = (
    "The {clinic} Professional Practice Committee brings clinicians and managers together "
    "to raise concerns about the quality of care, find common ground, and test improvements "
    "so that patients get prompt, compassionate and consistent mental health care."
)
REGIONAL_PURPOSE = (
    "The regional committee gathers what the clinic committees raise, spots patterns across "
    "clinics, and takes to joint leadership what no clinic can fix alone."
)
SUMMIT_PURPOSE = (
    "Once a year the clinic committees meet at the regional summit to share what worked, "
    "rank ideas across clinics, and agree on the next year's regional priorities."
)


def _slug(text: str) -> str:
    from django.utils.text import slugify

    return slugify(text.replace("—", " "))


class _People:
    """Unique, deterministic names and usernames."""

    def __init__(self, rng: random.Random, password_hash: str) -> None:
        self.rng = rng
        self.password_hash = password_hash
        self.taken: set[str] = set()
        self.users: list[Any] = []

    def make(self, *, username: str | None = None, title: str = "", staff: bool = False) -> Any:
        while True:
            first = self.rng.choice(FIRST_NAMES)
            last = self.rng.choice(LAST_NAMES)
            handle = username or f"{first}.{last}".lower()
            if handle not in self.taken:
                break
            if username:
                raise ValueError(f"duplicate demo username {username}")
        self.taken.add(handle)
        user_model = get_user_model()
        user = user_model(
            username=handle,
            email=f"{handle}@demo.commonground.invalid",
            first_name=first,
            last_name=last,
            job_title=title,
            password=self.password_hash,
            is_staff=staff,
        )
        self.users.append(user)
        return user


COCHAIRS_SINCE = dt.date(2023, 1, 2)


def _start(rng: random.Random) -> dt.date:
    return dt.date(2022, 1, 3) + dt.timedelta(days=rng.randrange(0, 4 * 365))


def demo_region_exists() -> bool:
    return Region.objects.filter(slug=REGION_SLUG).exists()


@transaction.atomic
def load_demo_region() -> dict[str, int]:
    """Create the demo region. Safe to call twice: a loaded region is left as it is."""
    if demo_region_exists():
        return {"created": 0}
    rng = random.Random(SEED)
    people = _People(rng, make_password(DEMO_PASSWORD))

    region = Region.objects.create(name="Northern California", slug=REGION_SLUG)
    calendar = BusinessCalendar.objects.create(
        name="California clinics (Monday to Friday, state holidays)", weekend_days=[5, 6]
    )
    this_year = timezone.localdate().year
    Holiday.objects.bulk_create(
        Holiday(calendar=calendar, date=day, name=name)
        for day, name in preset_holidays(
            HOLIDAY_PRESET, range(this_year - 3, this_year + 2)
        ).items()
    )
    clinics = Clinic.objects.bulk_create(
        Clinic(
            region=region,
            name=name,
            slug=_slug(city),
            city=city,
            service_lines=lines,
            calendar=calendar,
        )
        for city, name, lines in CLINICS
    )
    ppcs = Committee.objects.bulk_create(
        Committee(
            region=region,
            clinic=clinic,
            kind=Committee.Kind.CLINIC_PPC,
            name=f"{clinic.city} Professional Practice Committee",
            slug=f"ppc-{clinic.slug}",
            purpose=PPC_PURPOSE.format(clinic=clinic.name),
        )
        for clinic in clinics
    )
    regional, summit = Committee.objects.bulk_create(
        [
            Committee(
                region=region,
                kind=Committee.Kind.REGIONAL,
                name="Northern California Regional Practice Committee",
                slug="regional-committee",
                purpose=REGIONAL_PURPOSE,
            ),
            Committee(
                region=region,
                kind=Committee.Kind.SUMMIT,
                name="Northern California PPC Summit",
                slug="summit",
                purpose=SUMMIT_PURPOSE,
            ),
        ]
    )

    seats: list[Membership] = []
    summit_candidates: list[tuple[Any, str]] = []
    clinic_leads: list[tuple[Any, Any]] = []  # (clinician co-chair, management co-chair)

    def seat(
        person: Any,
        committee: Committee,
        side: str,
        role: str,
        start: dt.date,
        end: dt.date | None = None,
    ) -> None:
        seats.append(
            Membership(
                person=person,
                committee=committee,
                side=side,
                role=role,
                start_date=start,
                end_date=end,
            )
        )

    for clinic, ppc in zip(clinics, ppcs, strict=True):
        is_oakland = clinic.slug == "oakland"
        size = 12 if is_oakland else rng.randint(6, 14)
        fixed: dict[str, str] = {}
        if is_oakland:
            fixed = {
                "cochair_clinician": "cochair-clinician.oakland",
                "cochair_manager": "cochair-manager.oakland",
                "clinician": "clinician.oakland",
                "manager": "manager.oakland",
                "union_rep": "unionrep.oakland",
            }
        co_c = people.make(
            username=fixed.get("cochair_clinician"), title=rng.choice(CLINICIAN_TITLES)
        )
        co_m = people.make(username=fixed.get("cochair_manager"), title=rng.choice(MANAGER_TITLES))
        # Co-chairs have served through the two years of demo history they sign for.
        seat(co_c, ppc, Side.CLINICIAN, Role.CO_CHAIR, min(_start(rng), COCHAIRS_SINCE))
        seat(co_m, ppc, Side.MANAGEMENT, Role.CO_CHAIR, min(_start(rng), COCHAIRS_SINCE))
        clinic_leads.append((co_c, co_m))
        summit_candidates += [(co_c, Side.CLINICIAN), (co_m, Side.MANAGEMENT)]
        # The rest of the committee: about 60% clinicians, with a union observer at most clinics.
        remaining = size - 2
        has_rep = is_oakland or rng.random() < 0.7
        if has_rep:
            rep = people.make(username=fixed.get("union_rep"), title="Union representative")
            seat(rep, ppc, Side.CLINICIAN, Role.UNION_REP, _start(rng))
            remaining -= 1
        managers = max(1, round(remaining * 0.4))
        for index in range(remaining):
            is_manager = index < managers
            if is_oakland and index == 0:
                username = fixed["manager"]
            elif is_oakland and index == managers:
                username = fixed["clinician"]
            else:
                username = None
            title = rng.choice(MANAGER_TITLES if is_manager else CLINICIAN_TITLES)
            person = people.make(username=username, title=title)
            side = Side.MANAGEMENT if is_manager else Side.CLINICIAN
            seat(person, ppc, side, Role.MEMBER, _start(rng))
            summit_candidates.append((person, side))
        # Staff of the clinic who are not on the committee; some served before and left.
        for index in range(PEOPLE_PER_CLINIC - size):
            is_manager = rng.random() < 0.25
            person = people.make(
                title=rng.choice(MANAGER_TITLES if is_manager else CLINICIAN_TITLES)
            )
            side = Side.MANAGEMENT if is_manager else Side.CLINICIAN
            if index < 2:
                start = dt.date(2021, 3, 1) + dt.timedelta(days=rng.randrange(0, 500))
                seat(
                    person,
                    ppc,
                    side,
                    Role.MEMBER,
                    start,
                    start + dt.timedelta(days=rng.randrange(200, 700)),
                )
            summit_candidates.append((person, side))

    # Regional committee: co-chairs from two clinics, a clinician and a manager from about
    # half the clinics, the regional admin and the data steward.
    reg_c, _ = clinic_leads[1]
    _, reg_m = clinic_leads[2]
    start = dt.date(2023, 1, 9)
    seat(reg_c, regional, Side.CLINICIAN, Role.CO_CHAIR, start)
    seat(reg_m, regional, Side.MANAGEMENT, Role.CO_CHAIR, start)
    for index, (lead_c, lead_m) in enumerate(clinic_leads):
        if index in (1, 2) or index % 2:
            continue
        seat(lead_c, regional, Side.CLINICIAN, Role.MEMBER, start)
        seat(lead_m, regional, Side.MANAGEMENT, Role.MEMBER, start)
    admin = people.make(username="admin.region", title="Regional Partnership Administrator")
    steward = people.make(username="datasteward.region", title="Access Data Analyst")
    seat(admin, regional, Side.NEUTRAL, Role.REGIONAL_ADMIN, start)
    seat(steward, regional, Side.NEUTRAL, Role.DATA_STEWARD, start)
    facilitator = people.make(title="Partnership Facilitator")
    seat(facilitator, regional, Side.NEUTRAL, Role.FACILITATOR, start)

    # Summit: the same two co-chairs, the facilitator, and about 250 people from the clinics.
    summit_start = dt.date(2026, 9, 1)
    seat(reg_c, summit, Side.CLINICIAN, Role.CO_CHAIR, summit_start)
    seat(reg_m, summit, Side.MANAGEMENT, Role.CO_CHAIR, summit_start)
    seat(facilitator, summit, Side.NEUTRAL, Role.FACILITATOR, summit_start)
    chosen = {id(reg_c), id(reg_m)}
    pool = [(p, s) for p, s in summit_candidates if id(p) not in chosen]
    for person, seat_side in rng.sample(pool, k=min(247, len(pool))):
        seat(person, summit, seat_side, Role.MEMBER, summit_start)

    user_model = get_user_model()
    user_model.objects.bulk_create(people.users)
    for membership in seats:  # refresh person ids assigned by bulk_create
        membership.person_id = membership.person.pk
    Membership.objects.bulk_create(seats)
    EmailAddress.objects.bulk_create(
        EmailAddress(user=user, email=user.email, verified=True, primary=True)
        for user in people.users
    )
    audit_record(
        action=AuditEvent.Action.CREATE,
        object_type="organizations.region",
        object_id=str(region.pk),
        object_repr=region.name,
        changes={"demo_seed": SEED, "clinics": len(clinics), "people": len(people.users)},
    )
    return {
        "created": 1,
        "clinics": len(clinics),
        "committees": len(ppcs) + 2,
        "people": len(people.users),
        "memberships": len(seats),
    }


def demo_logins() -> Iterable[DemoLogin]:
    return DEMO_LOGINS
