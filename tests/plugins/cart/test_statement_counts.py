"""The cart costs a fixed number of SQL statements, with every built-in optional plugin
enabled: reading it or adding to it is the same for 1 line or 10. The upper bounds are
what the code costs now; a regression shows there."""
import pytest

OPTIONAL_PLUGINS = ("coupons", "shipping", "loyalty", "giftcards", "payments_stripe")


@pytest.fixture
def every_plugin(install_plugin):
    for name in OPTIONAL_PLUGINS:
        install_plugin(name)


@pytest.fixture
def variants(every_plugin, make_product):
    return [make_product(f"Line {n}", images=[{"url": f"https://cdn.example.com/{n}.jpg"}],
                         variants=[{"price": "3.00", "stock": 50,
                                    "options": {"Size": size}} for size in ("S", "M")]
                         ).variants[0]
            for n in range(12)]


def _client(who, guest, shopper, customer):
    return guest if who == "guest" else shopper(customer)


@pytest.mark.parametrize("who, most", [("guest", 5), ("customer", 5)])
def test_reading_a_cart_costs_the_same_for_1_or_10_lines(who, most, guest, shopper,
                                                         customer, variants,
                                                         count_statements):
    client = _client(who, guest, shopper, customer)
    client.add(variants[0].id)
    with count_statements() as few:
        assert client.get().json["line_count"] == 1
    for variant in variants[1:10]:
        client.add(variant.id, 2)
    with count_statements() as many:
        assert client.get().json["line_count"] == 10
    assert len(few) == len(many), f"1 line:\n{few}\n10 lines:\n{many}"
    assert len(many) <= most, f"\n{many}"


@pytest.mark.parametrize("who, most", [("guest", 11), ("customer", 12)])
def test_adding_costs_the_same_for_1_or_10_lines(who, most, guest, shopper, customer,
                                                 variants, count_statements):
    client = _client(who, guest, shopper, customer)
    client.add(variants[0].id)
    with count_statements() as few:
        assert client.add(variants[1].id).json["line_count"] == 2
    for variant in variants[2:10]:
        client.add(variant.id)
    with count_statements() as many:
        assert client.add(variants[10].id).json["line_count"] == 11
    assert len(few) == len(many), f"2nd line:\n{few}\n11th line:\n{many}"
    assert len(many) <= most, f"\n{many}"
