"""Tests that would collide on one shared fake: every one of them creates the same partner, the
same customer, the same user, with the same email, name and username. Each runs in its own
world (conftest.py), so under `pytest -n 4` they pass in any order, on any worker."""

import pytest
from dub import Dub
from dub.models import errors

DUB_TOKEN = "dub_understudy_test"
ENHANCE = {"Authorization": "Bearer enhance_understudy_test"}
MASTER_ORG = "00000000-0000-4000-8000-000000000001"
ADA = {"name": "Ada Lovelace", "email": "ada@example.com", "username": "ada"}


def dub(world):
    return Dub(token=DUB_TOKEN, server_url=world.vendor_url("dub"))


def create_ada(client):
    return client.partners.create(request=ADA)


@pytest.mark.parametrize("attempt", range(8))
def test_the_same_partner_and_link_key_are_new_in_every_world(world, attempt):
    client = dub(world)
    partner = create_ada(client)
    assert partner.email == ADA["email"] and partner.links[0].key == "ada"
    # Today's Dub updates a partner created again with the same email...
    assert create_ada(client).id == partner.id
    # ...and refuses a link key that is taken: on one shared fake, the second test to get
    # here would fail.
    client.partners.create_link(request={"partner_id": partner.id, "key": "ada-promo"})
    with pytest.raises(errors.Conflict):
        client.partners.create_link(request={"partner_id": partner.id, "key": "ada-promo"})


@pytest.mark.parametrize("attempt", range(8))
def test_a_partner_list_shows_only_this_worlds_partners(world, attempt):
    client = dub(world)
    before = len(world.state("dub")["partners"])
    create_ada(client)
    assert len(world.state("dub")["partners"]) == before + 1


@pytest.mark.parametrize("attempt", range(8))
def test_the_same_customer_name_in_every_world(world, attempt):
    url = f"{world.vendor_url('enhance')}/orgs/{MASTER_ORG}/customers"
    status, body = world.call("POST", url, {"name": "Harbour Bakery"}, ENHANCE)
    assert status == 201, body
    # Enhance refuses a second customer of the same name under one parent.
    status, body = world.call("POST", url, {"name": "Harbour Bakery"}, ENHANCE)
    assert status == 409, body


@pytest.mark.parametrize("attempt", range(4))
def test_a_reset_touches_this_world_alone(world, attempt):
    client = dub(world)
    first = create_ada(client)
    client.partners.create_link(request={"partner_id": first.id, "key": "ada-promo"})
    status, _ = world.call("POST", f"{world.admin}/reset")
    assert status == 204
    # Back to the seed here: Ada and her link key are free again.
    again = create_ada(client)
    client.partners.create_link(request={"partner_id": again.id, "key": "ada-promo"})


@pytest.mark.parametrize("attempt", range(4))
def test_faults_and_the_clock_belong_to_this_world(world, attempt):
    rule = [{"vendor": "dub", "operation": "createPartner", "status": 500, "times": 1}]
    status, _ = world.call("PUT", f"{world.admin}/faults", rule)
    assert status == 204
    with pytest.raises(errors.InternalServerError):
        create_ada(dub(world))
    # The rule fired once; the next create is the real thing.
    assert create_ada(dub(world)).email == ADA["email"]
    status, clock = world.call("POST", f"{world.admin}/clock/advance", {"seconds": 86400})
    assert status == 200 and clock["offset_ms"] == 86_400_000
