from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """A person who signs in. Their side and roles live on committee memberships."""

    email = models.EmailField("email address", unique=True)
    display_name = models.CharField(max_length=150, blank=True)
    job_title = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["last_name", "first_name", "username"]

    def __str__(self) -> str:
        return self.get_display_name()

    def get_display_name(self) -> str:
        if self.display_name:
            return self.display_name
        full = f"{self.first_name} {self.last_name}".strip()
        return full or self.username
