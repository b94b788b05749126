"""A world per test: the pattern to copy into your own suite.

Every test gets a fresh, isolated world on one running Understudy, named after the test (and
the xdist worker, so the same test on two workers never shares one). The world is dropped when
the test ends. Point each SDK's base URL at the world's prefix and nothing else changes.

    UNDERSTUDY_URL=http://127.0.0.1:4141 pytest -n 4 examples/python
"""

import json
import os
import re
import urllib.error
import urllib.request

import pytest

BASE = os.environ.get("UNDERSTUDY_URL", "http://127.0.0.1:4141").rstrip("/")


class World:
    """One world of the fake: its base URL for SDKs, and its admin API."""

    def __init__(self, base, name):
        self.name = name
        self.url = f"{base}/__world/{name}"
        self.admin = f"{base}/__understudy/worlds/{name}"

    def vendor_url(self, vendor):
        return f"{self.url}/{vendor}"

    def call(self, method, url, body=None, headers=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(url, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                raw, status = response.read(), response.status
        except urllib.error.HTTPError as error:
            raw, status = error.read(), error.code
        return status, (json.loads(raw) if raw else None)

    def state(self, vendor):
        status, body = self.call("GET", f"{self.admin}/vendors/{vendor}/state")
        assert status == 200, body
        return body


@pytest.fixture
def world(request, worker_id):
    name = re.sub(r"[^A-Za-z0-9._-]", "-", f"{worker_id}-{request.node.name}")[:64]
    created = World(BASE, name)
    yield created
    status, _ = created.call("DELETE", f"{BASE}/__understudy/worlds/{name}")
    assert status in (204, 404)
