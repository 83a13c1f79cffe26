"""A1, A2, A3 (light): the anonymity canary sweep (docs/reliability-security.md 3.6 and 4.2).

A canary clinician, the *raiser* (username ``canary-raiser-7f3a``, Zephyrine Quillfeather,
``zq-canary@example.org``, user id 7340031, address 203.0.113.77, a canary user agent, and
the session key their real sign-in gave them), sits on the Oakland PPC with enough other
clinicians for anonymity. Through the real views they co-sign a concern, raise an anonymous
and a confidential concern and follow the anonymous one up with its receipt; the daily release
then publishes it, and every notification it causes is emailed.

The raiser is an ordinary member too, so their name rightly appears on rosters, in the admin
and on their own sign-in in the audit trail. To tell those appearances from a leak, a *twin*
(``canary-shadow-9b2e``, Xanthippe Marrowbright, user id 8451142, 203.0.113.78) is set up the
same way — seated, signed in, co-signing — but raises nothing. A page (or every page of one
list or of one kind of object: see ``tests.crawler.group_key``) may show the raiser no more
often than the twin; wherever the twin does not appear, that means 0 occurrences. The address,
user agent and session key may appear nowhere at all, for either of them. The user ids are
large and unusual so that they can be searched everywhere as whole numbers.

Then the crawler (``tests.crawler``) fetches, as each viewer, every URL pattern instantiated
with the access matrix's kwargs builders, every concern, list filter, audit filter, admin
changelist and object page (staff), and every same-site link, htmx partial (``HX-Request``),
CSV export and calendar feed reachable from them. Emails, notification rows, audit rows and
log records are checked after each sweep.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.cache import caches
from django.db import models
from django.test import Client
from django.urls import NoReverseMatch, get_resolver, reverse
from django.utils import timezone

from commonground.audit.models import AuditEvent
from commonground.audit.selectors import audit_object_types
from commonground.concerns import services
from commonground.concerns.models import Concern, IdentityMode, Status
from commonground.core.permissions import allowed
from commonground.notifications.models import Notification
from commonground.notifications.services import digests_send, remind_due
from commonground.organizations.models import Clinic, Committee, Side
from tests.access_matrix import MATRIX, THIRD_PARTY_PREFIXES
from tests.crawler import Crawler, Fetched, group_key
from tests.factories import TEST_PASSWORD, MembershipFactory, UserFactory
from tests.test_permission_matrix import _walk

MAX_PAGES = 1000  # per role; the staff superuser also walks every admin object page
MAX_PAGES_STAFF = 1500
MIN_PAGES = 40

ANON = {
    "title": "Afraid to speak up about waits",
    "description": "Raising wait times in team meetings has led to **cold responses**.",
    "category": "other",
    "patient_impact": "Problems with access stay hidden.",
    "proposed_idea": "Make access problems an agenda item every month.",
}
CONF = {
    "title": "Pressure to close cases early",
    "description": "Some of us have been told to discharge patients after eight sessions.",
    "category": "clinical",
    "patient_impact": "Patients who still need care lose it.",
    "proposed_idea": "A joint rule for when treatment ends.",
}


# --- the canaries --------------------------------------------------------------------------


@dataclass
class Canary:
    pk: int
    username: str
    first_name: str
    last_name: str
    email: str
    ip: str
    user_agent: str
    session_key: str = ""
    user: Any = None

    # Identifiers that may appear only where the twin's appear as often (rosters, admin).
    COMPARED = ("username", "first_name", "last_name", "email", "id")
    # Identifiers that no output may carry, for anyone.
    NEVER = ("ip", "user_agent", "session_key")

    def values(self) -> dict[str, str]:
        return {
            "username": self.username,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "email": self.email,
            "ip": self.ip,
            "user_agent": self.user_agent,
            "session_key": self.session_key,
        }

    def count(self, text: str) -> Counter[str]:
        """Occurrences of each identifier, case-insensitive, also URL-encoded."""
        found: Counter[str] = Counter()
        lowered = text.lower()
        for kind, value in self.values().items():
            if not value:
                continue
            forms = {value.lower(), quote(value, safe="").lower()}
            found[kind] = sum(lowered.count(form) for form in forms)
        found["id"] = len(re.findall(rf"(?<![\w.-]){self.pk}(?![\w-])", text))
        return +found

    def first_context(self, text: str, width: int = 80) -> str:
        lowered = text.lower()
        needles = [v.lower() for v in self.values().values() if v]
        hits = [lowered.find(n) for n in needles if n in lowered]
        match = re.search(rf"(?<![\w.-]){self.pk}(?![\w-])", text)
        if match:
            hits.append(match.start())
        if not hits:
            return ""
        start = min(hits)
        return " ".join(text[max(0, start - width) : start + width].split())


RAISER = {
    "pk": 7340031,
    "username": "canary-raiser-7f3a",
    "first_name": "Zephyrine",
    "last_name": "Quillfeather",
    "email": "zq-canary@example.org",
    "ip": "203.0.113.77",
    "user_agent": "CanaryBrowser/7f3a (raiser; +zq)",
}
TWIN = {
    "pk": 8451142,
    "username": "canary-shadow-9b2e",
    "first_name": "Xanthippe",
    "last_name": "Marrowbright",
    "email": "xm-canary@example.org",
    "ip": "203.0.113.78",
    "user_agent": "CanaryBrowser/9b2e (twin; +xm)",
}


def _seat_and_sign_in(world: Any, spec: dict[str, Any]) -> tuple[Canary, Client]:
    canary = Canary(**spec)
    canary.user = UserFactory(
        id=canary.pk,
        username=canary.username,
        first_name=canary.first_name,
        last_name=canary.last_name,
        email=canary.email,
    )
    MembershipFactory(person=canary.user, committee=world.ppc_a, side=Side.CLINICIAN)
    client = Client(
        REMOTE_ADDR=canary.ip, HTTP_X_FORWARDED_FOR=canary.ip, HTTP_USER_AGENT=canary.user_agent
    )
    response = client.post(
        reverse("account_login"), {"login": canary.username, "password": TEST_PASSWORD}
    )
    assert response.status_code == 302, response.content[:500]
    assert client.session["_auth_user_id"] == str(canary.pk)
    canary.session_key = client.session.session_key
    assert canary.session_key
    return canary, client


def _evidence(name: str) -> Any:
    """A small CSV of figures, so evidence pages, downloads and their audit rows are swept."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, b"week,waits\n2026-11-02,31\n2026-11-09,29\n", "text/csv")


def _raise(client: Client, committee: Any, mode: str, fields: dict[str, str]) -> Any:
    return client.post(
        reverse("concerns:concern-raise", args=[committee.slug]),
        {
            **fields,
            "identity_mode": mode,
            "not_a_grievance": "on",
            "evidence": [_evidence(f"{mode}-waits.csv")],
        },
    )


def _token(response: Any) -> str:
    assert response.status_code == 200, response.content[:500]
    match = re.search(r'class="receipt-code"><code>([^<]+)</code>', response.content.decode())
    assert match, "the receipt page shows the code"
    return match.group(1)


# --- the scenario --------------------------------------------------------------------------


@dataclass
class Scenario:
    world: Any
    raiser: Canary
    twin: Canary
    named: Concern
    anonymous: Concern
    confidential: Concern | None
    audit_mark: int  # the last audit event before the raiser's first submission
    matrix_urls: list[str] = field(default_factory=list)

    @property
    def canaries(self) -> tuple[Canary, Canary]:
        return self.raiser, self.twin


def _enough_clinicians(world: Any) -> None:
    """Anonymity needs k clinicians on the committee: Oakland gets three more (six with
    Carmen, Diego and Ruth, eight with the canaries)."""
    for index in range(3):
        MembershipFactory(
            person=UserFactory(username=f"oakland-clinician-{index}"),
            committee=world.ppc_a,
            side=Side.CLINICIAN,
        )


def _matrix_urls(world: Any) -> list[str]:
    """Every GET-able URL pattern of the app, instantiated for every scope (this also
    creates the objects the access matrix uses: concerns, meetings, decisions, actions,
    projects, measures, notifications, Carmen's calendar feed token)."""
    urls = []
    for name, entry in MATRIX.items():
        if "GET" not in entry.ok:
            continue
        for scope in entry.scopes:
            kwargs = entry.kwargs(world, scope) if entry.kwargs else {}
            try:
                urls.append(reverse(name, kwargs=kwargs))
            except NoReverseMatch:  # a matrix row ahead of its URL: S1 reports it
                continue
    return urls


def build_scenario(world: Any, capture: Any, *, confidential: bool = True) -> Scenario:
    _enough_clinicians(world)
    matrix_urls = _matrix_urls(world)
    named = Concern.objects.get(committee=world.ppc_a, identity_mode=IdentityMode.NAMED)
    raiser, raiser_client = _seat_and_sign_in(world, RAISER)
    twin, twin_client = _seat_and_sign_in(world, TWIN)
    with capture(execute=True):
        # Both co-sign the same named concern: co-signing is not anonymous.
        for client in (raiser_client, twin_client):
            cosign = reverse("concerns:concern-cosign", args=[named.pk])
            assert client.post(cosign).status_code == 302
        audit_mark = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
        token = _token(_raise(raiser_client, world.ppc_a, IdentityMode.ANONYMOUS, ANON))
        conf = None
        if confidential:
            response = _raise(raiser_client, world.ppc_a, IdentityMode.CONFIDENTIAL, CONF)
            assert response.status_code == 302, response.content[:500]
            conf = Concern.all_objects.get(title=CONF["title"])
        lookup = reverse("concerns:receipt-lookup")
        before = raiser_client.post(lookup, {"token": token})
        assert before.status_code == 200 and b"waiting for" in before.content
        assert services.release_anonymous_concerns() == 1
        after = raiser_client.post(lookup, {"token": token})
        assert ANON["title"].encode() in after.content
    # Every email the new concerns cause: at once, as reminders of lapsing clocks, in digests.
    later = timezone.now() + dt.timedelta(days=45)
    with capture(execute=True):
        remind_due(now=later)
        digests_send(frequency="daily", now=later)
        digests_send(frequency="weekly", now=later)
    anonymous = Concern.objects.get(title=ANON["title"])
    assert anonymous.raised_by_id is None
    assert [a.uploaded_by_id for a in anonymous.attachments.all()] == [None]
    return Scenario(world, raiser, twin, named, anonymous, conf, audit_mark or 0, matrix_urls)


# --- what each viewer fetches --------------------------------------------------------------


def _third_party_urls() -> list[str]:
    urls = []
    for route, name in _walk(get_resolver().url_patterns):
        if not route.startswith(tuple(THIRD_PARTY_PREFIXES)) or "<" in route or "(?P" in route:
            continue
        try:
            urls.append(reverse(name) if name else "/" + route.lstrip("^").rstrip("$"))
        except NoReverseMatch:
            continue
    return urls


def _admin_urls(objects: bool) -> list[str]:
    urls = [reverse("admin:index")]
    for model in list(admin.site._registry):
        meta = model._meta
        urls.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
        if not objects:
            continue
        # Every object's change page; the delete confirmation too for people, since it
        # lists every object that refers to the person.
        views = ("change", "delete") if model is get_user_model() else ("change",)
        for pk in model._default_manager.order_by("pk").values_list("pk", flat=True):
            for view in views:
                try:
                    urls.append(
                        reverse(f"admin:{meta.app_label}_{meta.model_name}_{view}", args=[pk])
                    )
                except NoReverseMatch:
                    continue
    return urls


def seeds_for(scn: Scenario, viewer: Any) -> list[str]:
    urls = ["/", *scn.matrix_urls, reverse("concerns:receipt-lookup")]
    urls += [
        reverse("concerns:concern-detail", args=[pk])
        for pk in Concern.objects.values_list("pk", flat=True)
    ]
    for committee in Committee.objects.all():
        base = reverse("concerns:concern-list", args=[committee.slug])
        urls += [base, f"{base}?status=", *(f"{base}?status={s}" for s in Status.values)]
        urls.append(reverse("organizations:roster-export", args=[committee.slug]))
    audit = reverse("audit:event-list")
    urls += [audit, f"{audit}?actor={viewer.username}", f"{audit}?since={timezone.localdate()}"]
    urls += [f"{audit}?action={action}" for action in AuditEvent.Action.values]
    urls += [f"{audit}?clinic={pk}" for pk in Clinic.objects.values_list("pk", flat=True)]
    urls += [f"{audit}?object_type={kind}" for kind in audit_object_types()]
    urls += _third_party_urls()
    urls += _admin_urls(objects=viewer.is_staff)
    return urls


# --- checking ------------------------------------------------------------------------------


@dataclass
class Findings:
    never: list[str] = field(default_factory=list)
    more_than_twin: list[str] = field(default_factory=list)
    legitimate: set[str] = field(default_factory=set)


def check_pages(scn: Scenario, pages: list[Fetched]) -> Findings:
    raiser, twin = scn.canaries
    findings = Findings()
    groups: dict[str, dict[str, Counter[str]]] = defaultdict(
        lambda: {"raiser": Counter(), "twin": Counter()}
    )
    examples: dict[str, list[str]] = defaultdict(list)
    for page in pages:
        label = f"{page.url}{' [htmx]' if page.htmx else ''} ({page.status})"
        text = page.body + "\n" + page.headers
        key = group_key(page.url)
        for who, canary in (("raiser", raiser), ("twin", twin)):
            found = canary.count(text)
            never = {k: n for k, n in found.items() if k in Canary.NEVER}
            if never:
                findings.never.append(f"{label}: {who} {never}: …{canary.first_context(text)}…")
            groups[key][who].update(found)
            if who == "raiser" and found:
                examples[key].append(f"{label}: …{raiser.first_context(text)}…")
    for key, counts in groups.items():
        if counts["twin"]:
            findings.legitimate.add(key)
        excess = {
            kind: (counts["raiser"][kind], counts["twin"][kind])
            for kind in Canary.COMPARED
            if counts["raiser"][kind] > counts["twin"][kind]
        }
        if excess:
            findings.more_than_twin.append(
                f"{key}: raiser vs twin {excess}; e.g. " + " | ".join(examples[key][:2])
            )
    return findings


def _row_text(obj: models.Model) -> str:
    return "\n".join(f"{f.attname}={getattr(obj, f.attname)!s}" for f in obj._meta.concrete_fields)


def check_channels(scn: Scenario, log_records: list[Any]) -> None:
    """Email, notifications, audit rows and log records never name the raiser."""
    raiser, twin = scn.canaries
    problems = []
    for message in mail.outbox:
        text = message.message().as_string() + "".join(
            str(body) for body, _ in getattr(message, "alternatives", [])
        )
        if raiser.count(text):
            problems.append(f"email {message.subject!r} to {message.to}: {raiser.count(text)}")
    rows = [("notification", _row_text(n)) for n in Notification.objects.all()]
    rows += [
        ("audit event written after the submission", _row_text(event))
        for event in AuditEvent.objects.filter(id__gt=scn.audit_mark)
    ]
    problems += [f"{what}: {text!r}" for what, text in rows if raiser.count(text)]
    # The confidential concern's creation names no actor, and its request is not tied to
    # any event that does.
    created = AuditEvent.objects.filter(
        object_type="concerns.concern", action=AuditEvent.Action.CREATE, id__gt=scn.audit_mark
    )
    for event in created:
        assert event.actor_id is None and event.actor_label == "", _row_text(event)
        if event.request_id:
            tied = AuditEvent.objects.filter(request_id=event.request_id).exclude(pk=event.pk)
            assert not tied.exclude(actor_id=None).exists(), (
                f"request {event.request_id} ties {_row_text(event)!r} to an actor"
            )
    raiser_in_logs: Counter[str] = Counter()
    twin_in_logs: Counter[str] = Counter()
    for record in log_records:
        text = f"{record.name} {record.getMessage()} {record.exc_text or ''}"
        raiser_in_logs.update(raiser.count(text))
        twin_in_logs.update(twin.count(text))
        never = {k: n for k, n in raiser.count(text).items() if k in Canary.NEVER}
        if never:
            problems.append(f"log {record.name}: {never}: {record.getMessage()[:200]!r}")
    problems += [
        f"logs name the raiser's {kind} more often than the twin's"
        for kind in Canary.COMPARED
        if raiser_in_logs[kind] > twin_in_logs[kind]
    ]
    assert not problems, "the raiser leaks through:\n" + "\n".join(problems)
    assert mail.outbox, "the sweep expects the new concerns to have been emailed"
    assert Notification.objects.filter(kind="concern_raised").exists()


# --- A1: the sweep -------------------------------------------------------------------------

# Viewer persona -> whether the confidential concern is in the scenario. Everyone here
# must not learn who raised it; the clinician co-chair and the union rep may learn who
# raised a confidential concern, so their sweep has the anonymous concern only.
VIEWERS = {
    "manager_a": True,  # Maria, Oakland manager
    "cochair_manager_a": True,  # Omar, Oakland management co-chair
    "regional_admin": True,  # Ada
    "data_steward": True,  # Dana
    "regional_cochair_manager": True,  # Hector, regional management co-chair
    "staff": True,  # the superuser: the admin too
    "clinician_a": True,  # Carmen, a clinician colleague
    "clinician_b": True,  # Kenji, a Richmond clinician
    "cochair_clinician_a": False,  # Diego, clinician co-chair
    "union_rep_a": False,  # Ruth, union rep
}


@pytest.mark.parametrize("persona", list(VIEWERS))
def test_no_output_names_the_raiser(
    world, persona, caplog, django_capture_on_commit_callbacks, capsys
):
    caplog.set_level("DEBUG")
    scn = build_scenario(world, django_capture_on_commit_callbacks, confidential=VIEWERS[persona])
    viewer = world.person(persona)
    client = Client()
    client.force_login(viewer)
    crawler = Crawler(client, max_pages=MAX_PAGES_STAFF if viewer.is_staff else MAX_PAGES)
    with django_capture_on_commit_callbacks(execute=True):
        pages = crawler.crawl(seeds_for(scn, viewer))
    with capsys.disabled():
        print(
            f"\nA1 {persona}: {len(pages)} responses "
            f"({sum(not p.htmx for p in pages)} pages, {sum(p.htmx for p in pages)} htmx), "
            f"{len({group_key(p.url) for p in pages})} groups"
        )
        findings = check_pages(scn, pages)
        print(f"   the twin (and so the raiser) may appear on: {sorted(findings.legitimate)}")
    assert len(pages) >= MIN_PAGES, f"the sweep as {persona} fetched only {len(pages)} pages"
    assert not crawler.truncated, f"the sweep as {persona} hit its bound: raise it"
    errors = [f"{p.url} {p.status}" for p in pages if p.status >= 500]
    assert not errors, errors
    reached = {p.url for p in pages if p.status == 200}
    for concern in (scn.anonymous, scn.confidential):
        if concern is not None and allowed(viewer, "concerns.view_concern", concern):
            assert concern.get_absolute_url() in reached, f"{persona} never saw {concern}"
    assert not findings.never, "address, user agent or session key shown:\n" + "\n".join(
        findings.never
    )
    assert not findings.more_than_twin, (
        f"as {persona}, pages name the raiser more often than the twin (a leak):\n"
        + "\n".join(findings.more_than_twin)
    )
    check_channels(scn, caplog.records)


# --- A2: nothing stored points at the raiser -----------------------------------------------


def _snapshot() -> dict[tuple[str, Any], tuple[Any, ...]]:
    """Every row of every table Django knows (many-to-many tables too), plus the cache,
    which is a database table in production (``commonground_cache``)."""
    rows: dict[tuple[str, Any], tuple[Any, ...]] = {}
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.proxy or not meta.managed:
            continue
        names = [f.attname for f in meta.concrete_fields]
        for values in model._base_manager.values_list(*names):
            rows[(meta.db_table, values[names.index(meta.pk.attname)])] = tuple(
                f"{name}={value!s}" for name, value in zip(names, values, strict=True)
            )
    cache = caches["default"]
    for key, value in list(getattr(cache, "_cache", {}).items()):
        rows[("cache", key)] = (f"key={key}", f"value={value!r}")
    return rows


def _linked_rows(before: dict, after: dict, canary: Canary) -> list[str]:
    hits = []
    for key, row in after.items():
        if before.get(key) == row:
            continue
        text = "\n".join(row)
        found = canary.count(text)
        if found:
            hits.append(f"{key[0]} {key[1]}: {dict(found)}: {text[:300]!r}")
    return hits


def _own_session(canary: Canary) -> tuple[str, str]:
    return ("django_session", canary.session_key)


def test_an_anonymous_submission_writes_no_row_that_points_at_the_raiser(
    world, django_capture_on_commit_callbacks
):
    _enough_clinicians(world)
    raiser, client = _seat_and_sign_in(world, RAISER)
    before = _snapshot()
    with django_capture_on_commit_callbacks(execute=True):
        token = _token(_raise(client, world.ppc_a, IdentityMode.ANONYMOUS, ANON))
        assert services.release_anonymous_concerns() == 1
    after = _snapshot()
    new_or_changed = [key for key, row in after.items() if before.get(key) != row]
    assert any(table == "concerns_concern" for table, _ in new_or_changed)
    assert any(table == "concerns_receipt" for table, _ in new_or_changed)
    # Documented exception: the raiser's own session row, signed in before the submission
    # and re-saved by every request (SESSION_SAVE_EVERY_REQUEST, the sliding idle timeout).
    # It is the session, not the concern: no column of it names the concern.
    session = after.pop(_own_session(raiser))
    assert ANON["title"] not in "".join(session) and token not in "".join(session)
    hits = _linked_rows(before, after, raiser)
    assert not hits, "rows written by the anonymous submission point at the raiser:\n" + (
        "\n".join(hits)
    )
    stored = "\n".join("\n".join(row) for row in after.values())
    assert token not in stored, "the receipt code is stored in plain text"


def test_following_up_with_the_receipt_stores_nothing_that_points_at_the_raiser(
    world, django_capture_on_commit_callbacks
):
    """A6's follow-up, under A2's rule: after the release, the raiser looks the concern up
    with the receipt code. Nothing it writes (tables, the cache table) may hold their id,
    names, session key, address or user agent."""
    _enough_clinicians(world)
    raiser, client = _seat_and_sign_in(world, RAISER)
    with django_capture_on_commit_callbacks(execute=True):
        token = _token(_raise(client, world.ppc_a, IdentityMode.ANONYMOUS, ANON))
        services.release_anonymous_concerns()
    before = _snapshot()
    response = client.post(reverse("concerns:receipt-lookup"), {"token": token})
    assert ANON["title"].encode() in response.content
    after = _snapshot()
    after.pop(_own_session(raiser))
    hits = _linked_rows(before, after, raiser)
    assert not hits, "the receipt follow-up stores what points at the raiser:\n" + "\n".join(hits)


# --- A3 (light): no time of day, no order -------------------------------------------------

TIME_OF_DAY = re.compile(r"\b(?:[01]?\d|2[0-3]):[0-5]\d\b|\b\d{1,2}(?::\d\d)?\s?[ap]\.?m\.?(?!\w)")
TAGS = re.compile(r"<[^>]+>")


def _visible_text(html: str) -> str:
    return " ".join(TAGS.sub(" ", html).split())


def test_released_concerns_show_no_time_of_day_and_random_ids(world, login):
    people = []
    for index in range(8):
        person = UserFactory(username=f"timing-canary-{index}")
        MembershipFactory(person=person, committee=world.ppc_a, side=Side.CLINICIAN)
        people.append(person)
    for index, person in enumerate(people):
        client = Client()
        client.force_login(person)
        fields = {**ANON, "title": f"Timed anonymous concern number {index}"}
        _token(_raise(client, world.ppc_a, IdentityMode.ANONYMOUS, fields))
    assert services.release_anonymous_concerns() == 8
    released = list(Concern.objects.filter(title__startswith="Timed anonymous"))
    assert len(released) == 8
    for concern in released:
        assert isinstance(concern.pk, uuid.UUID) and concern.pk.version == 4
        assert type(concern.raised_on) is dt.date
    assert not [f.name for f in Concern._meta.concrete_fields if isinstance(f, models.TimeField)]
    assert not [
        f.name for f in Concern._meta.concrete_fields if isinstance(f, models.DateTimeField)
    ], "a concern column holds a time of day"

    client = login(world.person("manager_a"))
    pages = [reverse("concerns:concern-list", args=[world.ppc_a.slug])]
    pages += [reverse("concerns:concern-detail", args=[c.pk]) for c in released]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200
        html = response.content.decode()
        text = _visible_text(html)
        assert not TIME_OF_DAY.findall(text), (
            f"{url} shows a time of day: {TIME_OF_DAY.findall(text)}"
        )
        # Dates are shown as dates only ("Nov 2, 2026"), never with a time after them.
        assert re.search(r"\b[A-Z][a-z]{2} \d{1,2}, \d{4}\b", text), url
        for concern_id in re.findall(r"/concerns/([0-9a-f-]{36})/", html):
            assert uuid.UUID(concern_id).version == 4


def test_the_sweep_catches_a_raiser_it_should_not_see(world, django_capture_on_commit_callbacks):
    """Positive control: the raiser also raises a *named* concern, which rightly shows their
    name to Maria. The same checks that pass above must flag it: on pages and in the audit
    trail written after the first submission."""
    scn = build_scenario(world, django_capture_on_commit_callbacks)
    client = Client(REMOTE_ADDR=scn.raiser.ip, HTTP_USER_AGENT=scn.raiser.user_agent)
    client.force_login(scn.raiser.user)
    response = _raise(client, world.ppc_a, IdentityMode.NAMED, {**CONF, "title": "Named one"})
    assert response.status_code == 302
    viewer = Client()
    viewer.force_login(world.person("manager_a"))
    crawler = Crawler(viewer, max_pages=40)
    pages = crawler.crawl([response["Location"]])
    flagged = check_pages(scn, pages).more_than_twin
    assert any(line.startswith("/concerns/<id>/:") for line in flagged), flagged
    with pytest.raises(AssertionError, match=r"actor_id=7340031|audit event written after"):
        check_channels(scn, [])
