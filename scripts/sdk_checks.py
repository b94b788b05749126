"""What both Dub SDK scripts share: recorded checks, expectations on the SDK's typed errors,
and the summary. The SDK's `errors` module is passed in, since each script runs under its own
SDK version."""

from __future__ import annotations

import sys
import traceback

RESULTS: list[tuple[str, bool, str]] = []


def record(name: str, fn, *args, **kwargs):
    """Runs one check, records and prints PASS/FAIL with the reason; returns its value."""
    try:
        value = fn(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - report every failure
        detail = f"{type(exc).__name__}: {exc}"
        RESULTS.append((name, False, detail))
        print(f"FAIL {name}: {detail}", flush=True)
        traceback.print_exc(limit=3)
        return None
    RESULTS.append((name, True, ""))
    print(f"PASS {name}", flush=True)
    return value


def expect(cond: bool, message: str) -> None:
    if not cond:
        raise AssertionError(message)


def value(v):
    """An SDK enum's value, or the value itself."""
    return getattr(v, "value", v)


def expect_raises(errors, error_cls, call, code: str):
    """`call` must raise the SDK's typed error `error_cls` whose envelope code is `code`."""
    try:
        res = call()
    except error_cls as exc:
        got = value(exc.data.error.code)
        expect(got == code, f"{error_cls.__name__} carried code {got!r}, wanted {code!r}")
        expect(bool(exc.data.error.message), "error message is empty")
        return exc
    except errors.SDKError as exc:
        raise AssertionError(f"wanted {error_cls.__name__}, got untyped SDKError: {exc}"[:500]) from exc
    raise AssertionError(f"wanted {error_cls.__name__}, call succeeded with {res!r}"[:500])


def summary() -> int:
    """Prints the failures and the counts; the exit status (0 when every check passed)."""
    passed = sum(1 for _, ok, _ in RESULTS if ok)
    failed = len(RESULTS) - passed
    print()
    for name, ok, detail in RESULTS:
        if not ok:
            print(f"  failed: {name}: {detail}")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


def start(argv: list[str], label: str, sdk, token: str, free_token: str):
    """The base URL from the command line, a run id, and the three clients every run uses: the
    Business workspace's key, an unknown key and the free-plan workspace's key. `None` (after
    printing the usage) without a URL."""
    import uuid

    if len(argv) != 2:
        print(f"usage: {argv[0]} BASE_URL   (e.g. http://127.0.0.1:4141)", file=sys.stderr)
        return None
    base = argv[1].rstrip("/")
    server_url = f"{base}/dub"
    run = uuid.uuid4().hex[:10]
    print(f"Dub SDK ({label}) checks against {server_url} (run {run})", flush=True)
    clients = [sdk(token=t, server_url=server_url, timeout_ms=10_000) for t in (token, "dub_not_a_real_key", free_token)]
    return (base, run, *clients)
