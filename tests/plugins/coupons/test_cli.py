"""``emporium coupons generate`` and ``emporium coupons export``."""
import csv
import io
import json
import textwrap

from core.cli import main as emporium


def test_generate_and_export_from_the_command_line(make_database, tmp_path, capsys):
    ini = tmp_path / "shop.ini"
    ini.write_text(textwrap.dedent(f"""\
        [app:main]
        use = egg:emporium
        sqlalchemy.url = {make_database()}
        emporium.jwt_secret = {"k" * 40}
        emporium.plugins.refresh_interval = 0
    """))
    assert emporium(["-c", str(ini), "init"]) == 0
    assert emporium(["-c", str(ini), "coupons", "generate", "1", "--count", "3"]) == 1
    assert "coupons plugin is not enabled" in capsys.readouterr().err
    assert emporium(["-c", str(ini), "plugins", "install", "coupons"]) == 0
    assert emporium(["-c", str(ini), "coupons", "generate", "1", "--count", "3"]) == 1
    assert "there is no coupon 1" in capsys.readouterr().err

    from core.cli import Context

    from plugins.coupons import services
    ctx = Context(str(ini))
    with ctx.session() as (dbsession, manager):
        coupon = services.create_coupon(dbsession, {"kind": "free_shipping", "name": "",
                                                    "applies_to": "all", "combinable": False,
                                                    "is_active": True}, "EUR")
        coupon_id = coupon.id
    ctx.registry["db_engine"].dispose()

    out = tmp_path / "codes.csv"
    args = ["-c", str(ini), "coupons", "generate", str(coupon_id), "--count", "25",
            "--prefix", "vip", "--length", "10", "--output", str(out)]
    assert emporium(args) == 0
    assert "25 codes generated" in capsys.readouterr().out
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert len(rows) == 25 and all(r["code"].startswith("VIP-") and len(r["code"]) == 14
                                   for r in rows)
    assert {r["usage_limit"] for r in rows} == {"1"}

    assert emporium(["-c", str(ini), "--json", "coupons", "generate", str(coupon_id),
                     "--count", "2"]) == 0
    generated = json.loads(capsys.readouterr().out)
    assert generated["count"] == 2 and len(generated["codes"][0]) == 8

    assert emporium(["-c", str(ini), "coupons", "export", str(coupon_id)]) == 0
    assert len(list(csv.DictReader(io.StringIO(capsys.readouterr().out)))) == 27
    assert emporium(["-c", str(ini), "coupons", "export", str(coupon_id), "--batch",
                     generated["batch"]]) == 0
    exported = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["code"] for r in exported] == generated["codes"]

    assert emporium(["-c", str(ini), "coupons", "generate", str(coupon_id), "--count",
                     "0"]) == 1
    assert "count" in capsys.readouterr().err
