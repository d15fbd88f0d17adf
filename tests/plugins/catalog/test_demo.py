"""Demo data: a believable catalog, the same every time, loaded once."""
import sqlalchemy as sa

from plugins.catalog import demo
from plugins.catalog.models import Category, Product, Variant

from .conftest import API


def test_demo_catalog(dbsession, testapp):
    assert demo.load(dbsession) == len(demo.products())
    assert demo.load(dbsession) == 0  # safe to run twice

    count = lambda model: dbsession.scalar(sa.select(sa.func.count()).select_from(model))  # noqa
    assert 180 <= count(Product) <= 220
    assert count(Variant) > 2 * count(Product)
    roots = dbsession.scalars(sa.select(Category.slug).where(Category.parent_id.is_(None))).all()
    assert {"clothing", "shoes", "accessories", "home", "tech"} <= set(roots)

    shoes = testapp.get(f"{API}/categories/shoes/products", params={"facets": "true"}).json
    assert shoes["total"] > 20
    assert {c["slug"] for c in shoes["facets"]["categories"]} == {"sneakers", "boots", "sandals"}
    product = testapp.get(f"{API}/products/{shoes['items'][0]['id']}").json
    assert product["images"][0]["url"].startswith("https://")
    assert product["options"][0]["name"] == "Size" and product["variants"]
    in_stock = testapp.get(f"{API}/products", params={"in_stock": "true"}).json["total"]
    assert 0 < in_stock < testapp.get(f"{API}/products").json["total"]


def test_demo_is_deterministic():
    assert demo.products() == demo.products()
    skus = [v["sku"] for _, p in demo.products() for v in p["variants"]]
    assert len(skus) == len(set(skus))


def test_init_demo_from_the_command_line(make_database, tmp_path, capsys):
    import textwrap

    from core.cli import main as emporium

    url = make_database()
    ini = tmp_path / "demo.ini"
    ini.write_text(textwrap.dedent(f"""\
        [app:main]
        use = egg:emporium
        sqlalchemy.url = {url}
        emporium.jwt_secret = {"k" * 40}
        emporium.plugins.refresh_interval = 0
    """))
    assert emporium(["-c", str(ini), "init", "--demo"]) == 0
    assert emporium(["-c", str(ini), "init", "--demo"]) == 0
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            assert connection.scalar(sa.select(sa.func.count()).select_from(Product)) == len(
                demo.products())
    finally:
        engine.dispose()
