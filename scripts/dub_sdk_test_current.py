#!/usr/bin/env python3
"""Drive today's Dub Python SDK (dub==0.39.0, pinned in scripts/python-env) against a running
Understudy fake: all eight partner operations, the SDK's typed errors and its parsing of every
success.

Usage:  .venv-dub-current/bin/python scripts/dub_sdk_test_current.py http://127.0.0.1:4141
        (the Dub API is under <base>/dub, the admin API under <base>/__understudy)

Plain script, no pytest: prints one line per check and exits non-zero if any fails. Every run
uses fresh emails, usernames and URLs (uuid), so it passes against a fake that already holds
state from earlier runs, including runs of scripts/dub_sdk_test.py (SDK 0.18.0).
"""

from __future__ import annotations

import json
import os
import sys
import urllib.request

from dub import Dub
from dub.models import errors

import sdk_checks
from sdk_checks import expect, record, summary, value

TOKEN = "dub_understudy_test"
FREE_TOKEN = "dub_understudy_free"  # free-plan workspace: the plan gate answers 403
PROGRAM_ID = "prog_understudy"  # the default program of TOKEN's workspace
DOMAIN = "understudy.link"
PROGRAM_URL = "https://understudy.example"
SEEDED_APPROVED = "pn_SEEDapproved000000000001"  # README "Seeded worlds": 120 clicks recorded
SEEDED_BANNED = "pn_SEEDbanned00000000000001"



def check(name: str):
    """Decorator: run the check now, record and print PASS/FAIL with the reason."""

    def wrap(fn):
        return record(name, fn)

    return wrap


def expect_raises(error_cls, call, code: str):
    """Call must raise the SDK's typed error `error_cls` whose envelope code is `code`."""
    return sdk_checks.expect_raises(errors, error_cls, call, code)


def admin(base: str, method: str, path: str, body=None):
    """One admin API call; returns the decoded JSON body (or None)."""
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    # A fake in a container sees the host as a remote client: it admits admin calls that carry
    # the token it was started with.
    token = os.environ.get("UNDERSTUDY_ADMIN_TOKEN")
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(f"{base}/__understudy{path}", data=data, method=method,
                                 headers=headers)
    with urllib.request.urlopen(req, timeout=10) as res:
        text = res.read()
    return json.loads(text) if text else None


def main() -> int:
    started = sdk_checks.start(sys.argv, "current", Dub, TOKEN, FREE_TOKEN)
    if started is None:
        return 2
    base, run, dub, bad, free = started
    email = f"today-{run}@understudy.example"
    username = f"today{run}"
    state: dict[str, object] = {}

    @check("listPartners: 200 parsed; seeded partners in several statuses, totals from recorded events")
    def _():
        res = dub.partners.list(request={"page_size": 100, "sort_by": "createdAt", "sort_order": "asc"})
        expect(isinstance(res, list), f"not a list: {type(res)}")
        by_id = {p.id: p for p in res}
        expect(SEEDED_APPROVED in by_id, "seeded approved partner missing")
        ada = by_id[SEEDED_APPROVED]
        expect(value(ada.status) == "approved", f"status {ada.status!r}")
        expect(ada.total_clicks == 120 and ada.total_sales == 3, f"totals {ada.total_clicks} / {ada.total_sales}")
        banned = dub.partners.list(request={"status": "banned"})
        expect(SEEDED_BANNED in {p.id for p in banned}, "status=banned does not list the seeded banned partner")
        expect(all(value(p.status) == "banned" for p in banned), "status filter let others through")

    @check("createPartner without programId: 201 parsed, default program, link key = username")
    def _():
        res = dub.partners.create(request={"email": email, "name": f"Today {run}", "username": username})
        expect(res.id.startswith("pn_"), f"id {res.id!r}")
        expect(res.program_id == PROGRAM_ID, f"programId {res.program_id!r}")
        expect(value(res.status) == "approved", f"status {res.status!r}")
        expect(res.links is not None and len(res.links) == 1 and res.links[0].key == username, f"links {res.links!r}")
        expect(res.links[0].short_link == f"https://{DOMAIN}/{username}", f"shortLink {res.links[0].short_link!r}")
        state["partner"] = res.id
        state["link"] = res.links[0].id

    partner = state.get("partner")

    @check("createPartner again with the same email: enrolment updated (same id, new tenantId), no new link")
    def _():
        res = dub.partners.create(request={"email": email, "tenant_id": f"tenant-{run}"})
        expect(res.id == partner, f"id {res.id!r} != {partner!r}")
        expect(res.tenant_id == f"tenant-{run}", f"tenantId {res.tenant_id!r}")
        expect(len(res.links or []) == 1, f"links {res.links!r}")

    @check("createPartnerLink without url: 201 parsed, the program URL")
    def _():
        res = dub.partners.create_link(request={"partner_id": partner, "key": f"{username}-2"})
        expect(res.url == PROGRAM_URL and res.partner_id == partner, f"url {res.url!r} partner {res.partner_id!r}")
        expect(res.program_id == PROGRAM_ID and res.disabled_at is None, f"{res.program_id!r} {res.disabled_at!r}")

    @check("upsertPartnerLink by tenantId: same URL twice -> same link, 200 parsed")
    def _():
        req = {"tenant_id": f"tenant-{run}", "url": f"{PROGRAM_URL}/today/{run}"}
        first, second = dub.partners.upsert_link(request=req), dub.partners.upsert_link(request=req)
        expect(first.id == second.id and first.partner_id == partner, f"{first.id!r} {second.id!r}")

    @check("retrievePartnerLinks: 200 parsed, the partner's three links")
    def _():
        res = dub.partners.retrieve_links(request={"partner_id": partner})
        expect(len(res) == 3, f"{len(res)} links")
        expect(res[0].id == state["link"], "the first link is not the enrolment's own")

    @check("retrievePartnerAnalytics: count, timeseries and top_links parsed, from events recorded via the admin API")
    def _():
        admin(base, "POST", "/vendors/dub/actions/record-events",
              {"linkId": state["link"], "clicks": 7, "leads": 2, "sales": 1, "saleAmount": 2500, "earnings": 500})
        count = dub.partners.analytics(request={"partner_id": partner, "group_by": "count"})
        expect((count.clicks, count.leads, count.sales, count.sale_amount, count.earnings) == (7, 2, 1, 2500, 500), f"count {count!r}")
        series = dub.partners.analytics(request={"partner_id": partner, "group_by": "timeseries", "interval": "24h"})
        expect(isinstance(series, list) and len(series) in (24, 25), f"{len(series)} hourly buckets")
        expect(sum(b.clicks for b in series) == 7, "timeseries clicks do not add up to 7")
        top = dub.partners.analytics(request={"tenant_id": f"tenant-{run}", "group_by": "top_links"})
        expect(top[0].id == state["link"] and top[0].clicks == 7, f"top link {top[0]!r}")

    @check("banPartner: 200 parsed; listing shows banned with its reason; banning twice -> errors.BadRequest")
    def _():
        res = dub.partners.ban(request={"partner_id": partner, "reason": "fraud"})
        expect(res.partner_id == partner, f"partnerId {res.partner_id!r}")
        listed = dub.partners.list(request={"email": email})
        expect(len(listed) == 1 and value(listed[0].status) == "banned", f"listed {listed!r}"[:300])
        expect(value(listed[0].banned_reason) == "fraud", f"bannedReason {listed[0].banned_reason!r}")
        expect_raises(errors.BadRequest, lambda: dub.partners.ban(request={"partner_id": partner, "reason": "spam"}), "bad_request")

    @check("deactivatePartner: 200 parsed for a fresh partner; a banned partner -> errors.BadRequest")
    def _():
        other = dub.partners.create(request={"email": f"deact-{run}@understudy.example"})
        res = dub.partners.deactivate(request={"partner_id": other.id})
        expect(res.partner_id == other.id, f"partnerId {res.partner_id!r}")
        links = dub.partners.retrieve_links(request={"partner_id": other.id})
        expect(len(links) == 1, f"links {links!r}")
        expect_raises(errors.BadRequest, lambda: dub.partners.deactivate(request={"partner_id": partner}), "bad_request")

    @check("401 bad token on listPartners -> errors.Unauthorized")
    def _():
        expect_raises(errors.Unauthorized, lambda: bad.partners.list(request={}), "unauthorized")

    @check("403 free-plan workspace on banPartner -> errors.Forbidden")
    def _():
        expect_raises(errors.Forbidden, lambda: free.partners.ban(request={"partner_id": partner, "reason": "spam"}), "forbidden")

    @check("404 unknown partner on banPartner and retrievePartnerLinks -> errors.NotFound")
    def _():
        expect_raises(errors.NotFound, lambda: dub.partners.ban(request={"partner_id": f"pn_nobody{run}", "reason": "spam"}), "not_found")
        expect_raises(errors.NotFound, lambda: dub.partners.retrieve_links(request={"tenant_id": f"nobody-{run}"}), "not_found")

    @check("409 taken link key on createPartnerLink -> errors.Conflict")
    def _():
        expect_raises(errors.Conflict, lambda: dub.partners.create_link(request={"tenant_id": "seed-approved", "key": "ada-approved"}), "conflict")

    @check("422 invalid email on createPartner -> errors.UnprocessableEntity")
    def _():
        expect_raises(errors.UnprocessableEntity, lambda: dub.partners.create(request={"email": "not-an-email"}), "unprocessable_entity")

    @check("429 after a budget of 1 set through the admin API -> errors.RateLimitExceeded")
    def _():
        saved = admin(base, "GET", "/rate-limits").get("dub")
        tiny = dict(saved or {"algorithm": "sliding_window", "window_seconds": 60, "tiers": {}, "reset": "epoch_ms", "retry_after": "same_as_reset"})
        tiny["limit"], tiny["tiers"] = 1, {}
        admin(base, "PUT", "/rate-limits/dub", tiny)
        try:
            dub.partners.list(request={"page_size": 1})
            expect_raises(errors.RateLimitExceeded, lambda: dub.partners.list(request={"page_size": 1}), "rate_limit_exceeded")
        finally:
            admin(base, "PUT", "/rate-limits/dub", saved)

    return summary()


if __name__ == "__main__":
    sys.exit(main())
