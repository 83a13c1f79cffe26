"""Cookies and response headers (AU4, I3), with the production settings' HTTPS on."""

from __future__ import annotations

import pytest
from django.urls import reverse

import config.settings as production
from tests.factories import TEST_PASSWORD

COOKIE_SETTINGS = (
    "SESSION_COOKIE_NAME",
    "SESSION_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SAMESITE",
    "CSRF_COOKIE_NAME",
    "CSRF_COOKIE_SECURE",
    "CSRF_COOKIE_SAMESITE",
)


@pytest.fixture
def production_cookies(settings):
    """The cookie settings exactly as production has them (HTTPS on)."""
    for name in COOKIE_SETTINGS:
        setattr(settings, name, getattr(production, name, getattr(settings, name)))
    return settings


def test_production_is_https_with_host_prefixed_secure_cookies():
    assert production.DEBUG is False
    assert production.HTTPS is True
    assert production.SESSION_COOKIE_NAME == "__Host-sessionid"
    assert production.CSRF_COOKIE_NAME == "__Host-csrftoken"
    assert production.SESSION_COOKIE_SECURE is True
    assert production.CSRF_COOKIE_SECURE is True
    assert production.SECURE_SSL_REDIRECT is True
    assert production.SECURE_HSTS_SECONDS >= 31536000


def test_the_csrf_cookie_is_host_prefixed_secure_and_same_site_lax(
    client, world, production_cookies
):
    response = client.get("/accounts/login/", secure=True)
    cookie = response.cookies["__Host-csrftoken"]
    assert cookie["secure"]
    assert cookie["path"] == "/"
    assert not cookie["domain"]  # __Host- cookies must not name a domain
    assert cookie["samesite"] == "Lax"


def test_the_session_cookie_is_host_prefixed_secure_http_only_and_same_site_lax(
    client, carmen, production_cookies
):
    response = client.post(
        "/accounts/login/", {"login": "carmen.reyes", "password": TEST_PASSWORD}, secure=True
    )
    assert response.status_code == 302
    cookie = response.cookies["__Host-sessionid"]
    assert cookie["secure"]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    assert cookie["path"] == "/"
    assert not cookie["domain"]
    # No "remember me": a browser-session cookie that dies with the browser.
    assert not cookie["expires"]
    assert not cookie["max-age"]


@pytest.fixture
def signed_in_page(client, carmen, login):
    login(carmen)
    response = client.get(reverse("core:home"), secure=True)
    assert response.status_code == 200
    return response


def test_a_signed_in_page_is_never_stored_in_a_cache(signed_in_page):
    cache_control = signed_in_page["Cache-Control"]
    assert "no-store" in cache_control
    assert "private" in cache_control


def test_a_signed_in_page_has_a_strict_content_security_policy(signed_in_page):
    policy = signed_in_page["Content-Security-Policy"]
    directives = {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}
    assert directives["script-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["base-uri"] == ["'none'"]
    assert "'unsafe-inline'" not in policy
    assert "'unsafe-eval'" not in policy


def test_a_signed_in_page_forbids_framing_sniffing_and_leaking_referrers(signed_in_page):
    assert signed_in_page["X-Frame-Options"] == "DENY"
    assert signed_in_page["X-Content-Type-Options"] == "nosniff"
    assert signed_in_page["Referrer-Policy"] == "same-origin"
    assert signed_in_page["Cross-Origin-Opener-Policy"] == "same-origin"


def test_every_response_carries_a_request_id(signed_in_page, client):
    assert len(signed_in_page["X-Request-ID"]) >= 8
    assert client.get("/healthz")["X-Request-ID"]


def test_a_plain_request_id_from_the_proxy_is_kept_and_a_forged_one_replaced(client, world):
    kept = client.get("/healthz", HTTP_X_REQUEST_ID="proxy-1234abcd")
    assert kept["X-Request-ID"] == "proxy-1234abcd"
    forged = client.get("/healthz", HTTP_X_REQUEST_ID="x\r\nSet-Cookie: evil=1")
    assert forged["X-Request-ID"] != "x\r\nSet-Cookie: evil=1"
    assert "\n" not in forged["X-Request-ID"]


def test_https_responses_carry_hsts_for_at_least_a_year(signed_in_page):
    hsts = signed_in_page["Strict-Transport-Security"]
    max_age = int(hsts.split("max-age=")[1].split(";")[0])
    assert max_age >= 31536000
    assert "includeSubDomains" in hsts


def test_the_login_page_has_the_same_protective_headers(client, world):
    response = client.get("/accounts/login/", secure=True)
    assert response["X-Frame-Options"] == "DENY"
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"


def test_plain_http_is_redirected_to_https_in_production(client, world, settings):
    settings.SECURE_SSL_REDIRECT = production.SECURE_SSL_REDIRECT
    response = client.get("/accounts/login/")
    assert response.status_code == 301
    assert response["Location"].startswith("https://")
