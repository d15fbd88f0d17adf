"""Products loaded for their JSON: the options read as plain rows give the same JSON as
the relationships, and a change in the same session is never answered from old rows."""
import sqlalchemy as sa

from plugins.catalog import loading, services
from plugins.catalog.models import Product
from plugins.catalog.representation import product_data
from plugins.catalog.schemas import VariantBody


def _loaded(dbsession, product_id):
    return loading.load_products(dbsession, sa.select(Product).where(Product.id == product_id))[0]


def test_rows_and_relationships_give_the_same_json(dbsession, make_product):
    product = make_product("Layered", images=[{"url": "https://cdn.example.com/a.jpg"},
                                              {"url": "https://cdn.example.com/b.jpg",
                                               "alt": "Back"}], variants=[
        {"price": "12.00", "options": {"Size": "L", "Colour": "Red"}},
        {"price": "10.00", "options": {"Size": "S", "Colour": "Blue"}},
        {"price": "11.00", "options": {"Size": "M", "Colour": "Red"}},
    ])
    dbsession.expire_all()
    from_rows = product_data(_loaded(dbsession, product.id))
    assert product.id in dbsession.info[loading.PARTS]
    dbsession.info.pop(loading.PARTS)
    from_relationships = product_data(dbsession.get(Product, product.id))
    assert from_rows == from_relationships
    assert from_rows["options"] == [{"name": "Size", "values": ["L", "S", "M"]},
                                    {"name": "Colour", "values": ["Red", "Blue"]}]
    assert [v["options"] for v in from_rows["variants"]] == [
        {"Size": "L", "Colour": "Red"}, {"Size": "S", "Colour": "Blue"},
        {"Size": "M", "Colour": "Red"}]
    assert from_rows["images"] == [{"url": "https://cdn.example.com/a.jpg", "alt": ""},
                                   {"url": "https://cdn.example.com/b.jpg", "alt": "Back"}]


def test_a_product_without_options_or_variants(dbsession, make_product):
    bare = make_product("Bare", variants=[])
    dbsession.expire_all()
    data = product_data(_loaded(dbsession, bare.id))
    assert (data["options"], data["variants"], data["price"]) == ([], [], None)


def test_a_change_in_the_same_session_is_read_again(dbsession, make_product):
    product = make_product("Changing", variants=[{"price": "5.00", "options": {"Size": "S"}}])
    dbsession.expire_all()
    loaded = _loaded(dbsession, product.id)
    assert product_data(loaded)["options"] == [{"name": "Size", "values": ["S"]}]
    services.add_variant(dbsession, loaded, VariantBody().load(
        {"sku": f"CHG-{product.id}-XL", "price": "6.00", "options": {"Size": "XL"}}), "EUR")
    dbsession.flush()
    assert loading.PARTS not in dbsession.info  # the flush forgot them
    data = product_data(loaded)
    assert data["options"] == [{"name": "Size", "values": ["S", "XL"]}]
    assert [v["options"] for v in data["variants"]] == [{"Size": "S"}, {"Size": "XL"}]
