"""Drives worlds through HAProxy and checks world affinity (used by scripts/haproxy-check).

50 worlds run concurrently, each a fixed sequence of mixed operations (Dub partner creates, a
duplicate, a list; Enhance customer creates and a list; an admin clock move in the world). The
same names, emails and usernames are reused in every world on purpose. Then:
  - each world is held by exactly one instance (asked through each instance's own
    GET /__understudy/worlds, which creates nothing);
  - every world's state, and every answer it got, equals what a lone reference instance gives
    for the same requests (timestamps aside: real time passes between the two runs).

Usage: world_affinity.py BALANCER_URL REFERENCE_URL INSTANCE_URL...
"""

import concurrent.futures
import json
import re
import sys
import urllib.error
import urllib.request

WORLDS = 50
DUB = {"Authorization": "Bearer dub_understudy_test"}
ENHANCE = {"Authorization": "Bearer enhance_understudy_test"}
MO = "00000000-0000-4000-8000-000000000001"
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")


def call(base, method, path, headers=None, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method)
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        raw = error.read()
        status = error.code
    return status, (json.loads(raw) if raw else None)


def masked(value):
    """The value with timestamps and the ids derived from them replaced."""
    text = TIMESTAMP.sub("<time>", json.dumps(value, sort_keys=True))
    return json.loads(text)


def steps(world):
    """The requests one world makes, some through the path prefix and some through the header."""
    prefix = f"/__world/{world}"
    header = {"X-Understudy-World": world}
    out = []
    for n in range(3):
        person = {"programId": "prog_understudy", "name": f"Ada {n}",
                  "email": f"ada{n}@example.com", "username": f"ada{n}"}
        out.append(("POST", f"{prefix}/dub/partners", DUB, person))
    # A duplicate: 409 in every world, since each world took the email itself.
    out.append(("POST", "/dub/partners", {**DUB, **header},
                {"programId": "prog_understudy", "name": "Ada", "email": "ada0@example.com",
                 "username": "ada0"}))
    out.append(("POST", f"/__understudy/worlds/{world}/clock/advance", {}, {"seconds": 60}))
    for n in range(2):
        out.append(("POST", f"/enhance/orgs/{MO}/customers", {**ENHANCE, **header},
                    {"name": f"Customer {n}"}))
    out.append(("GET", f"{prefix}/enhance/orgs/{MO}/customers", ENHANCE, None))
    out.append(("GET", f"{prefix}/dub/partners?programId=prog_understudy", DUB, None))
    return out


def drive(base, world):
    answers = [call(base, method, path, headers, body)
               for method, path, headers, body in steps(world)]
    status, state = call(base, "GET", f"/__understudy/worlds/{world}/state")
    assert status == 200, (world, status, state)
    return answers, state


def main():
    balancer, reference, instances = sys.argv[1], sys.argv[2], sys.argv[3:]
    names = [f"w-{n:02d}" for n in range(WORLDS)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
        balanced = dict(zip(names, pool.map(lambda w: drive(balancer, w), names)))
    failures = []
    holders = {name: [] for name in names}
    for index, instance in enumerate(instances):
        status, listed = call(instance, "GET", "/__understudy/worlds")
        assert status == 200, (instance, status)
        for world in listed:
            if world["name"] in holders:
                holders[world["name"]].append(index)
    spread = [0] * len(instances)
    for name, held in holders.items():
        if len(held) != 1:
            failures.append(f"{name} is held by instances {held}, not exactly one")
        else:
            spread[held[0]] += 1
    # The reference: the same worlds, one after another, on a lone instance.
    for name in names:
        answers, state = drive(reference, name)
        got_answers, got_state = balanced[name]
        if masked(answers) != masked(got_answers):
            failures.append(f"{name}: answers differ from a single instance's")
        if masked(state) != masked(got_state):
            failures.append(f"{name}: state differs from a single instance's")
    statuses = sorted({s for answers, _ in balanced.values() for s, _ in answers})
    print(f"{WORLDS} worlds, {len(steps('x'))} requests each, statuses seen {statuses}; "
          f"worlds per instance {spread}")
    if len([n for n in spread if n > 0]) < 2:
        failures.append(f"the balancer sent every world to one instance: {spread}")
    if failures:
        print("\n".join(failures[:20]), file=sys.stderr)
        sys.exit(1)
    print("every world lives on exactly one instance and matches a single instance")


if __name__ == "__main__":
    main()
