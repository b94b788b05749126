"""Dub's own SDK and Enhance over plain HTTP, through the container's mapped port, a world per
test. The tests reuse the same partner, link key and customer name on purpose."""

import pytest
from dub import Dub
from dub.models import errors

ENHANCE = {"Authorization": "Bearer enhance_understudy_test"}
MASTER_ORG = "00000000-0000-4000-8000-000000000001"
ADA = {"name": "Ada Lovelace", "email": "ada@example.com", "username": "ada"}


@pytest.mark.parametrize("attempt", range(3))
def test_dub_sdk_in_its_own_world(world, attempt):
    dub = Dub(token="dub_understudy_test", server_url=world.vendor_url("dub"))
    partner = dub.partners.create(request=ADA)
    dub.partners.create_link(request={"partner_id": partner.id, "key": "ada-promo"})
    with pytest.raises(errors.Conflict):
        dub.partners.create_link(request={"partner_id": partner.id, "key": "ada-promo"})
    status, state = world.admin("GET", "/vendors/dub/state")
    assert status == 200 and partner.id in state["partners"]


@pytest.mark.parametrize("attempt", range(3))
def test_enhance_in_its_own_world(world, attempt):
    url = f"{world.vendor_url('enhance')}/orgs/{MASTER_ORG}/customers"
    status, body = world.understudy.call("POST", url, {"name": "Harbour Bakery"}, ENHANCE)
    assert status == 201, body
    status, body = world.understudy.call("POST", url, {"name": "Harbour Bakery"}, ENHANCE)
    assert status == 409, body


def test_the_admin_api_needs_the_token_from_the_host(understudy, world):
    status, body = understudy.call("GET", f"{understudy.url}/__understudy/worlds")
    assert status == 403 and body["error"]["code"] == "not_loopback"
    status, clock = world.admin("POST", "/clock/advance", {"seconds": 60})
    assert status == 200 and clock["offset_ms"] == 60_000
