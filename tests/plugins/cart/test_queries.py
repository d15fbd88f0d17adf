"""Reading a cart costs the same number of statements for 1 item or 40."""
import pytest


@pytest.fixture
def variants(make_product):
    return [make_product(f"Item {n}", variants=[{"price": "2.00", "stock": 5,
                                                  "options": {"Size": "S"}}],
                         images=[{"url": f"https://cdn.example.com/{n}.jpg"}]).variants[0]
            for n in range(40)]


@pytest.mark.parametrize("who", ["guest", "customer"])
def test_statements_do_not_grow_with_the_items(who, guest, shopper, customer, variants,
                                               count_statements, cart_settings):
    def read_with(count):
        client = guest if who == "guest" else shopper(customer)
        for variant in variants[:count]:
            client.add(variant.id)
        with count_statements() as seen:
            response = client.get()
        assert response.json["line_count"] == count
        return len(seen)

    one = read_with(1)
    forty = read_with(40)
    assert one == forty
    assert forty <= 8


def test_an_add_costs_a_fixed_number_of_statements(guest, variants, count_statements):
    guest.add(variants[0].id)
    with count_statements() as few:
        guest.add(variants[1].id)
    for variant in variants[2:30]:
        guest.add(variant.id)
    with count_statements() as many:
        guest.add(variants[30].id)
    assert len(few) == len(many)
