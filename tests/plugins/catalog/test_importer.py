"""Bulk import: CSV and JSON, created/updated/rejected report, all-or-nothing, CLI."""
import json
import textwrap

import pytest
import sqlalchemy as sa

from core.cli import main as emporium
from plugins.catalog import importer, inventory, services
from plugins.catalog.models import Product, StockMovement, Variant

from .conftest import API

CSV = textwrap.dedent("""\
    slug,name,brand,category,description,images,sku,price,compare_at_price,stock,option.Size,option.Colour
    imp-tee,Import Tee,Acme,imp-shirts,Soft,https://cdn.example.com/a.jpg | https://cdn.example.com/b.jpg,IMP-TEE-S,19.90,,5,S,Red
    imp-tee,,,,,,IMP-TEE-M,19.90,24.90,0,M,Red
    imp-mug,Import Mug,Potter,,,,IMP-MUG,8.50,,12,,
""")


@pytest.fixture
def shirts(make_category):
    return make_category("Shirts", slug="imp-shirts")


def run(dbsession, content, fmt="csv", partial=False):
    return importer.import_file(dbsession, content.encode(), fmt, "EUR", partial=partial)


def product(dbsession, slug):
    return services.find_product(dbsession, slug, include_inactive=True)


def test_csv_creates_products_with_variants(dbsession, shirts):
    report = run(dbsession, CSV)
    assert report["counts"] == {"created": 2, "updated": 0, "rejected": 0}
    assert [(e["slug"], e["rows"]) for e in report["created"]] == [
        ("imp-tee", [2, 3]), ("imp-mug", [4])]
    tee = product(dbsession, "imp-tee")
    assert (tee.name, tee.brand, tee.category_id, tee.description) == (
        "Import Tee", "Acme", shirts.id, "Soft")
    assert [i.url for i in tee.images] == ["https://cdn.example.com/a.jpg",
                                           "https://cdn.example.com/b.jpg"]
    assert [(v.sku, v.price, v.compare_at_price, v.stock.on_hand) for v in tee.variants] == [
        ("IMP-TEE-S", 1990, None, 5), ("IMP-TEE-M", 1990, 2490, 0)]
    assert [o.name for o in tee.options] == ["Size", "Colour"]
    mug = product(dbsession, "imp-mug")
    assert mug.options == [] and mug.variants[0].stock.on_hand == 12
    assert mug.price_min == 850 and "imp" in mug.search_text


def test_importing_again_updates(dbsession, shirts):
    run(dbsession, CSV)
    tee = product(dbsession, "imp-tee")
    inventory.reserve(dbsession, tee.variants[0].id, 2)
    again = textwrap.dedent("""\
        slug,name,sku,price,stock,option.Size,option.Colour
        imp-tee,Import Tee v2,IMP-TEE-S,17.00,9,S,Red
        imp-tee,,IMP-TEE-L,21.00,3,L,Red
    """)
    report = run(dbsession, again)
    assert report["counts"] == {"created": 0, "updated": 1, "rejected": 0}
    dbsession.expire_all()
    tee = product(dbsession, "imp-tee")
    assert tee.name == "Import Tee v2" and tee.brand == "Acme"  # empty cells change nothing
    assert [(v.sku, v.price, v.stock.on_hand, v.stock.reserved) for v in tee.variants] == [
        ("IMP-TEE-S", 1700, 9, 2), ("IMP-TEE-M", 1990, 0, 0), ("IMP-TEE-L", 2100, 3, 0)]
    assert tee.price_min == 1700
    kinds = dbsession.scalars(sa.select(StockMovement.kind).where(
        StockMovement.sku == "IMP-TEE-S").order_by(StockMovement.id)).all()
    assert kinds == ["initial", "reserve", "import"]


BAD_CSV = textwrap.dedent("""\
    slug,name,sku,price,stock,option.Size
    good-one,Good One,GOOD-1,5.00,1,
    bad-price,Bad Price,BAD-1,5.001,1,
    bad-variant,Bad Variant,BADV-1,5.00,1,S
    bad-variant,,BADV-2,five,1,M
    no-name,,NONAME-1,5.00,1,
    dup-sku,Dup Sku,GOOD-1,5.00,1,
    ,,ORPHAN,1.00,,
    bad-cat,Bad Cat,BADCAT,1,,
""").replace("bad-cat,Bad Cat,BADCAT,1,,", "bad-cat,Bad Cat,BADCAT,1,x,")


def test_bad_rows_reject_everything_by_default(dbsession):
    with pytest.raises(importer.ImportRejected) as caught:
        run(dbsession, BAD_CSV)
    report = caught.value.report
    assert report["applied"] is False
    rejected = {e["row"]: e["reason"] for e in report["rejected"]}
    assert set(rejected) == {3, 5, 6, 7, 8, 9}
    assert "decimal places" in rejected[3]
    assert rejected[5].startswith("variants.1.price")  # the row of the bad variant
    assert "needs a name" in rejected[6]
    assert "also used by row 2" in rejected[7]
    assert "slug" in rejected[8]
    assert "variants.0.stock" in rejected[9]
    assert caught.value.status == 422


def test_partial_keeps_the_good_products(dbsession):
    report = run(dbsession, BAD_CSV, partial=True)
    assert report["applied"] is True
    assert report["counts"] == {"created": 1, "updated": 0, "rejected": 6}
    assert product(dbsession, "good-one") is not None
    # a rejected product leaves nothing behind, not even its valid first variant
    assert product(dbsession, "bad-variant") is None
    assert dbsession.scalar(sa.select(Variant.id).where(Variant.sku == "BADV-1")) is None


def test_a_sku_of_another_product_is_rejected(dbsession, make_product):
    existing = make_product("Existing", variants=[{"price": "1", "options": {"Size": "S"}}])
    sku = existing.variants[0].sku
    data = json.dumps([{"slug": "thief", "name": "Thief",
                        "variants": [{"sku": sku, "price": "1"}]}])
    with pytest.raises(importer.ImportRejected) as caught:
        run(dbsession, data, "json")
    assert "already used" in caught.value.report["rejected"][0]["reason"]
    update = json.dumps([{"slug": existing.slug, "variants": [
                            {"sku": "NEW-SKU", "price": "2", "options": {"Size": "M"}}]},
                         {"slug": "other", "name": "Other",
                          "variants": [{"sku": "OTHER-1", "price": "1"}]}])
    run(dbsession, update, "json")
    steal = json.dumps([{"slug": "other", "variants": [{"sku": "NEW-SKU", "price": "1"}]}])
    with pytest.raises(importer.ImportRejected) as caught:
        run(dbsession, steal, "json")
    assert f"belongs to the product {existing.slug!r}" in caught.value.report["rejected"][0][
        "reason"]


def test_json_format(dbsession, shirts):
    data = {"products": [
        {"slug": "json-shirt", "name": "JSON Shirt", "category": "imp-shirts", "is_active": False,
         "images": ["https://cdn.example.com/j.jpg", {"url": "https://cdn.example.com/k.jpg",
                                                      "alt": "Back"}],
         "variants": [{"sku": "JS-1", "price": "30", "options": {"Size": "M"}, "stock": 2}]},
        "not an object",
        {"slug": "json-bad", "name": "Bad", "variants": [{"sku": "JB", "price": 1.5}]},
        {"slug": "json-nocat", "name": "No cat", "category": "nope"},
    ]}
    report = run(dbsession, json.dumps(data), "json", partial=True)
    assert report["counts"] == {"created": 1, "updated": 0, "rejected": 3}
    assert [e["row"] for e in report["rejected"]] == [2, 3, 4]
    shirt = product(dbsession, "json-shirt")
    assert shirt.is_active is False and shirt.category_id == shirts.id
    assert [(i.url, i.alt) for i in shirt.images] == [("https://cdn.example.com/j.jpg", ""),
                                                      ("https://cdn.example.com/k.jpg", "Back")]


@pytest.mark.parametrize("content, fmt", [
    ("slug,name,colour\nx,X,red\n", "csv"),
    ("sku,price\nA,1\n", "csv"),
    ("{not json", "json"),
    ('{"items": []}', "json"),
    ("", "xml"),
])
def test_unreadable_files_are_refused_whole(dbsession, content, fmt):
    with pytest.raises(Exception) as caught:
        run(dbsession, content, fmt)
    assert caught.value.status == 400


def test_not_utf8(dbsession):
    with pytest.raises(Exception) as caught:
        importer.import_file(dbsession, b"slug,name\n\xff\xfe,x\n", "csv", "EUR")
    assert caught.value.status == 400


def test_import_over_http(testapp, staff, shirts, dbsession):
    url = f"{API}/catalog/import"
    r = testapp.post(url, CSV.encode(), headers={**staff.headers, "Content-Type": "text/csv"})
    assert r.json["counts"] == {"created": 2, "updated": 0, "rejected": 0}
    assert testapp.get(f"{API}/products/imp-tee").json["variants"][0]["stock_available"] == 5

    r = testapp.post(url, BAD_CSV.encode(), headers={**staff.headers, "Content-Type": "text/csv"},
                     status=422)
    assert r.json["error"]["code"] == "import_rejected"
    assert r.json["error"]["report"]["counts"]["rejected"] == 6
    testapp.get(f"{API}/products/good-one", status=404)  # all or nothing

    r = testapp.post(url + "?partial=true&format=csv", BAD_CSV.encode(), headers=staff.headers)
    assert r.json["counts"]["created"] == 1
    r = testapp.post(url, b"[]", headers={**staff.headers, "Content-Type": "application/json"})
    assert r.json["counts"] == {"created": 0, "updated": 0, "rejected": 0}
    testapp.post(url, b"x", headers={**staff.headers, "Content-Type": "text/plain"}, status=400)
    testapp.post(url + "?format=xml", b"x", headers=staff.headers, status=400)


def test_cli_import(make_database, tmp_path, capsys):
    ini = tmp_path / "shop.ini"
    ini.write_text(textwrap.dedent(f"""\
        [app:main]
        use = egg:emporium
        sqlalchemy.url = {make_database()}
        emporium.jwt_secret = {"k" * 40}
        emporium.plugins.refresh_interval = 0
    """))
    assert emporium(["-c", str(ini), "init"]) == 0
    good = tmp_path / "products.csv"
    good.write_text(CSV.replace("imp-shirts", ""))
    capsys.readouterr()
    assert emporium(["-c", str(ini), "--json", "catalog", "import", str(good)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["counts"] == {"created": 2, "updated": 0, "rejected": 0}

    bad = tmp_path / "bad.csv"
    bad.write_text(BAD_CSV)
    assert emporium(["-c", str(ini), "catalog", "import", str(bad)]) == 1
    out, err = capsys.readouterr()
    assert "row 3: variants.0.price" in out and "Nothing was imported." in out
    assert err.startswith("emporium: error: 6 products rejected")
    assert emporium(["-c", str(ini), "catalog", "import", str(bad), "--partial"]) == 0
    assert "Created 1, updated 0, rejected 6" in capsys.readouterr().out

    other = tmp_path / "products.txt"
    other.write_text("x")
    assert emporium(["-c", str(ini), "catalog", "import", str(other)]) == 1
    assert "--format" in capsys.readouterr().err
    assert emporium(["-c", str(ini), "catalog", "import", str(tmp_path / "missing.csv")]) == 1
    assert "cannot read" in capsys.readouterr().err

    engine = sa.create_engine(ini.read_text().split("sqlalchemy.url = ")[1].split()[0])
    try:
        with engine.connect() as connection:
            slugs = set(connection.scalars(sa.select(Product.slug)))
    finally:
        engine.dispose()
    assert slugs == {"imp-tee", "imp-mug", "good-one"}
