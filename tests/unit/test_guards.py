"""api/guards.py: which requests a browser sent from the service's own pages."""

from __future__ import annotations

import pytest

from api.guards import cookie_authenticated, from_own_page

HOST = {"host": "vms.example:8080"}


@pytest.mark.parametrize(
    ("headers", "own"),
    [
        ({"sec-fetch-site": "same-origin"}, True),
        ({"sec-fetch-site": "same-site"}, False),  # another port of the same host
        ({"sec-fetch-site": "cross-site", "origin": "http://vms.example:8080"}, False),
        ({"origin": "http://vms.example:8080"}, True),
        ({"origin": "http://vms.example:9090"}, False),
        ({"origin": "null"}, False),
        ({"referer": "http://vms.example:8080/ui/"}, True),
        ({"referer": "http://evil.example/page"}, False),
        ({}, True),  # not a browser: nothing says it came from elsewhere
    ],
)
def test_own_pages(headers: dict[str, str], own: bool) -> None:
    assert from_own_page({**HOST, **headers}) is own


def test_cookie_authentication_is_the_cookie_without_a_bearer_token() -> None:
    assert cookie_authenticated({"cookie": "a=1; vms_session=t"}, "vms_session")
    assert not cookie_authenticated({"cookie": "vms_session=t", "authorization": "Bearer x"}, "vms_session")
    assert not cookie_authenticated({"cookie": "other_session=t"}, "vms_session")
