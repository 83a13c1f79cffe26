"""factory_boy factories for the foundation models."""

from __future__ import annotations

import datetime as dt

import factory
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model

from commonground.organizations.models import (
    BusinessCalendar,
    Clinic,
    Committee,
    Membership,
    Region,
    Role,
    Side,
)

TEST_PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"person{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.org")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def verified_email(obj, create, extracted, **kwargs):
        if create:
            obj.save()
            EmailAddress.objects.get_or_create(
                user=obj, email=obj.email, defaults={"verified": True, "primary": True}
            )


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Region {n}")
    slug = factory.Sequence(lambda n: f"region-{n}")


class CalendarFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BusinessCalendar
        django_get_or_create = ("name",)

    name = "Weekdays"
    weekend_days = factory.LazyFunction(lambda: [5, 6])


class ClinicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Clinic

    region = factory.SubFactory(RegionFactory)
    name = factory.Sequence(lambda n: f"Clinic {n}")
    slug = factory.Sequence(lambda n: f"clinic-{n}")
    city = "Oakland"
    service_lines = factory.LazyFunction(lambda: ["adult"])
    calendar = factory.SubFactory(CalendarFactory)


class CommitteeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Committee

    region = factory.LazyAttribute(lambda o: o.clinic.region if o.clinic else RegionFactory())
    clinic = factory.SubFactory(ClinicFactory)
    kind = Committee.Kind.CLINIC_PPC
    name = factory.LazyAttribute(lambda o: f"{o.clinic.city} PPC" if o.clinic else "Committee")
    slug = factory.Sequence(lambda n: f"committee-{n}")
    purpose = "Raise concerns and improve care together."
    is_active = True


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    person = factory.SubFactory(UserFactory)
    committee = factory.SubFactory(CommitteeFactory)
    side = Side.CLINICIAN
    role = Role.MEMBER
    start_date = dt.date(2024, 1, 8)
