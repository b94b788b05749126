"""Understudy under Testcontainers: one container for the session, a world per test.

The container is the image scripts/image builds (UNDERSTUDY_IMAGE, default understudy:dev),
started with an admin token so the host, which the container sees as a remote caller, may use
the admin API. Each test gets its own world, so the tests may share emails, names and usernames.

    TESTCONTAINERS_RYUK_DISABLED=true UNDERSTUDY_IMAGE=understudy:dev pytest examples/testcontainers

Ryuk (Testcontainers' reaper) is an image from a registry; where none is reachable, switch it
off as above: the fixture stops its container itself.
"""

import json
import os
import re
import secrets
import urllib.error
import urllib.request

import pytest
from testcontainers.core.container import DockerContainer
from testcontainers.core.waiting_utils import wait_for_logs

IMAGE = os.environ.get("UNDERSTUDY_IMAGE", "understudy:dev")


class Understudy:
    """The running container: its mapped base URL and the admin token it was given."""

    def __init__(self, url, token):
        self.url = url
        self.token = token

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

    def admin(self, method, path, body=None):
        return self.call(method, f"{self.url}/__understudy{path}", body,
                         {"Authorization": f"Bearer {self.token}"})


class World:
    """One test's world in the container."""

    def __init__(self, understudy, name):
        self.understudy = understudy
        self.name = name
        self.url = f"{understudy.url}/__world/{name}"

    def vendor_url(self, vendor):
        return f"{self.url}/{vendor}"

    def admin(self, method, path, body=None):
        return self.understudy.admin(method, f"/worlds/{self.name}{path}", body)


@pytest.fixture(scope="session")
def understudy():
    token = secrets.token_hex(16)
    container = (
        DockerContainer(IMAGE)
        .with_exposed_ports(4141)
        .with_env("UNDERSTUDY_ADMIN_TOKEN", token)
    )
    with container:
        wait_for_logs(container, "understudy is serving", timeout=30)
        host = container.get_container_host_ip()
        port = container.get_exposed_port(4141)
        yield Understudy(f"http://{host}:{port}", token)


@pytest.fixture
def world(understudy, request):
    name = re.sub(r"[^A-Za-z0-9._-]", "-", request.node.name)[:64]
    created = World(understudy, name)
    yield created
    status, _ = understudy.admin("DELETE", f"/worlds/{name}")
    assert status in (204, 404)
