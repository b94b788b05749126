#!/usr/bin/env python3
"""Drive Dub's own Python SDK (dub==0.18.0) against a running Understudy fake.

Usage:  .venv/bin/python scripts/dub_sdk_test.py http://127.0.0.1:4141
        (set up the venv with scripts/python-env; the Dub API is under <base>/dub)

Plain script, no pytest: prints one line per check and exits non-zero if any fails.
Every run uses fresh emails, usernames and URLs (uuid), so it passes against a fake that
already holds state from earlier runs.
"""

from __future__ import annotations

import re
import sys

from dub import Dub
from dub.models import errors

import sdk_checks
from sdk_checks import expect, record, summary

TOKEN = "dub_understudy_test"
FREE_TOKEN = "dub_understudy_free"  # free-plan workspace: plan gate answers 403
PROGRAM_ID = "prog_understudy"
FREE_PROGRAM_ID = "prog_understudy_free"
DOMAIN = "understudy.link"
PROGRAM_URL = "https://understudy.example"



def check(name: str):
    """Decorator: the check runs when called, recorded and printed PASS/FAIL with the reason."""

    def wrap(fn):
        return lambda *args, **kwargs: record(name, fn, *args, **kwargs)

    return wrap


def expect_raises(error_cls, call, code: str):
    """Call must raise the SDK's typed error `error_cls` whose envelope code is `code`."""
    return sdk_checks.expect_raises(errors, error_cls, call, code)


def main() -> int:
    started = sdk_checks.start(sys.argv, "0.18.0", Dub, TOKEN, FREE_TOKEN)
    if started is None:
        return 2
    _base, run_id, dub, bad, free = started

    username = f"sdk{run_id}"
    email = f"sdk-{run_id}@understudy.example"
    state: dict[str, object] = {}

    @check("createPartner: 201 parsed by the SDK (approved, link key = username, domain understudy.link)")
    def create_partner():
        res = dub.partners.create(
            request={
                "program_id": PROGRAM_ID,
                "name": f"SDK Partner {run_id}",
                "email": email,
                "username": username,
                "link_props": {"external_id": f"ext-{run_id}"},
            }
        )
        expect(res is not None, "SDK returned None (response not matched as 201 application/json)")
        expect(res.id.startswith("pn_"), f"partner id {res.id!r} does not start with pn_")
        expect(res.name == f"SDK Partner {run_id}", f"name {res.name!r}")
        expect(res.email == email, f"email {res.email!r}")
        status = getattr(res.status, "value", res.status)
        expect(status == "approved", f"status {status!r}")
        expect(res.country == "US", f"country {res.country!r}")
        expect(res.commission_amount is None, f"commissionAmount {res.commission_amount!r}")
        expect(res.links is not None and len(res.links) == 1, f"links {res.links!r}")
        link = res.links[0]
        expect(link.key == username, f"link key {link.key!r} != username {username!r}")
        expect(link.domain == DOMAIN, f"link domain {link.domain!r}")
        expect(link.url == PROGRAM_URL, f"link url {link.url!r}")
        expect(link.short_link == f"https://{DOMAIN}/{username}", f"shortLink {link.short_link!r}")
        expect(link.id.startswith("link_"), f"link id {link.id!r}")
        state["partner_id"] = res.id
        return res

    create_partner()
    partner_id = state.get("partner_id")

    @check("createPartnerLink: 201 for the partner, random 7-char key when key omitted")
    def create_link():
        expect(partner_id is not None, "no partner from the previous check")
        url = f"{PROGRAM_URL}/sdk/{run_id}/create"
        res = dub.partners.create_link(
            request={"program_id": PROGRAM_ID, "partner_id": partner_id, "url": url}
        )
        expect(res is not None, "SDK returned None")
        expect(res.partner_id == partner_id, f"partnerId {res.partner_id!r}")
        expect(res.program_id == PROGRAM_ID, f"programId {res.program_id!r}")
        expect(res.url == url, f"url {res.url!r}")
        expect(res.domain == DOMAIN, f"domain {res.domain!r}")
        expect(re.fullmatch(r"[A-Za-z0-9]{7}", res.key or "") is not None, f"key {res.key!r} is not 7 alphanumerics")
        expect(res.key != username, "random key equals the username")
        expect(res.short_link == f"https://{DOMAIN}/{res.key}", f"shortLink {res.short_link!r}")
        expect(res.track_conversion is True, f"trackConversion {res.track_conversion!r}")
        return res

    create_link()

    upsert_url = f"{PROGRAM_URL}/sdk/{run_id}/upsert"

    @check("upsertPartnerLink: same URL twice -> same link id")
    def upsert_twice():
        expect(partner_id is not None, "no partner from the previous check")
        req = {"program_id": PROGRAM_ID, "partner_id": partner_id, "url": upsert_url}
        first = dub.partners.upsert_link(request=req)
        second = dub.partners.upsert_link(request=req)
        expect(first is not None and second is not None, "SDK returned None")
        expect(first.id == second.id, f"ids differ: {first.id!r} vs {second.id!r}")
        expect(first.url == upsert_url and second.url == upsert_url, "url not kept")
        expect(first.key == second.key, f"keys differ: {first.key!r} vs {second.key!r}")
        expect(first.partner_id == partner_id, f"partnerId {first.partner_id!r}")
        state["upsert_id"] = first.id
        return first

    upsert_twice()

    @check("upsertPartnerLink: changed linkProps -> same id, changed field")
    def upsert_changed():
        expect("upsert_id" in state, "no link from the previous check")
        title = f"Title {run_id}"
        res = dub.partners.upsert_link(
            request={
                "program_id": PROGRAM_ID,
                "partner_id": partner_id,
                "url": upsert_url,
                "link_props": {"title": title, "utm_source": "sdk-test"},
            }
        )
        expect(res is not None, "SDK returned None")
        expect(res.id == state["upsert_id"], f"id changed: {res.id!r} vs {state['upsert_id']!r}")
        expect(res.title == title, f"title {res.title!r} != {title!r}")
        expect(res.utm_source == "sdk-test", f"utm_source {res.utm_source!r}")
        return res

    upsert_changed()

    @check("401 bad token -> errors.Unauthorized")
    def unauthorized():
        expect_raises(
            errors.Unauthorized,
            lambda: bad.partners.create(
                request={
                    "program_id": PROGRAM_ID,
                    "name": "Nobody",
                    "email": f"nobody-{run_id}@understudy.example",
                    "username": f"nobody{run_id}",
                }
            ),
            "unauthorized",
        )

    unauthorized()

    @check("404 unknown partnerId -> errors.NotFound")
    def not_found():
        expect_raises(
            errors.NotFound,
            lambda: dub.partners.create_link(
                request={
                    "program_id": PROGRAM_ID,
                    "partner_id": f"pn_doesnotexist{run_id}",
                    "url": f"{PROGRAM_URL}/sdk/{run_id}/missing",
                }
            ),
            "not_found",
        )

    not_found()

    @check("409 duplicate username -> errors.Conflict")
    def conflict():
        expect_raises(
            errors.Conflict,
            lambda: dub.partners.create(
                request={
                    "program_id": PROGRAM_ID,
                    "name": "Second Partner",
                    "email": f"sdk-dup-{run_id}@understudy.example",
                    "username": username,  # key already taken by the first partner's link
                }
            ),
            "conflict",
        )

    conflict()

    @check("422 invalid email -> errors.UnprocessableEntity")
    def unprocessable():
        expect_raises(
            errors.UnprocessableEntity,
            lambda: dub.partners.create(
                request={
                    "program_id": PROGRAM_ID,
                    "name": "Bad Email",
                    "email": "not-an-email",
                    "username": f"bademail{run_id}",
                }
            ),
            "unprocessable_entity",
        )

    unprocessable()

    @check("403 free-plan workspace on createPartner -> errors.Forbidden")
    def forbidden_partner():
        expect_raises(
            errors.Forbidden,
            lambda: free.partners.create(
                request={
                    "program_id": FREE_PROGRAM_ID,
                    "name": "Free Partner",
                    "email": f"free-{run_id}@understudy.example",
                    "username": f"free{run_id}",
                }
            ),
            "forbidden",
        )

    forbidden_partner()

    @check("403 free-plan workspace on createPartnerLink -> errors.Forbidden")
    def forbidden_link():
        expect_raises(
            errors.Forbidden,
            lambda: free.partners.create_link(
                request={
                    "program_id": FREE_PROGRAM_ID,
                    "partner_id": f"pn_any{run_id}",
                    "url": f"https://free.understudy.example/{run_id}",
                }
            ),
            "forbidden",
        )

    forbidden_link()

    return summary()


if __name__ == "__main__":
    sys.exit(main())
