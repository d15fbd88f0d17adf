"""Demo data for ``emporium init --demo``: a category tree and about 200 products.

Deterministic (a seeded random generator), so every demo shop is the same and a
second run adds nothing: categories and products are looked up by slug first.
"""
import random

import sqlalchemy as sa

from core.plugins.registry import read_snapshot

from . import CatalogSettings, services
from .models import Category, Product
from .schemas import ProductBody

SEED = 20261121
PER_CATEGORY = 12

BRANDS = ["Northwind", "Fjällmark", "Urban Loom", "Tidewater", "Atlas & Co", "Kestrel",
          "Maple Street", "Brightside"]
COLOURS = {"Black": "BLK", "White": "WHT", "Navy": "NAV", "Olive": "OLV", "Red": "RED",
           "Grey": "GRY", "Sand": "SND", "Teal": "TEA"}
CLOTHING_SIZES = ["XS", "S", "M", "L", "XL"]
SHOE_SIZES = ["38", "39", "40", "41", "42", "43", "44", "45"]
ADJECTIVES = ["Classic", "Everyday", "Heritage", "Lightweight", "Organic", "Relaxed",
              "Essential", "Coastal", "Alpine", "Vintage", "Urban", "Premium", "Soft", "Weekend"]

# (slug, name, children: (slug, name, code, nouns, price range in cents, option kinds))
TREE = [
    ("clothing", "Clothing", [
        ("t-shirts", "T-shirts", "TSH", ["Crew Tee", "V-neck Tee", "Pocket Tee", "Long-sleeve Tee"],
         (1500, 3500), ("size", "colour")),
        ("hoodies", "Hoodies", "HOO", ["Hoodie", "Zip Hoodie", "Pullover"], (4500, 8900),
         ("size", "colour")),
        ("jeans", "Jeans", "JNS", ["Slim Jeans", "Straight Jeans", "Relaxed Jeans"], (5900, 11900),
         ("size",)),
        ("dresses", "Dresses", "DRS", ["Wrap Dress", "Shirt Dress", "Midi Dress"], (4900, 12900),
         ("size", "colour")),
    ]),
    ("shoes", "Shoes", [
        ("sneakers", "Sneakers", "SNK", ["Runner", "Court Sneaker", "Canvas Low"], (5900, 14900),
         ("shoe", "colour")),
        ("boots", "Boots", "BTS", ["Chelsea Boot", "Hiking Boot", "Lace-up Boot"], (8900, 21900),
         ("shoe",)),
        ("sandals", "Sandals", "SND", ["Slide", "Strap Sandal"], (2900, 6900), ("shoe",)),
    ]),
    ("accessories", "Accessories", [
        ("bags", "Bags", "BAG", ["Tote", "Backpack", "Weekender", "Crossbody Bag"], (2500, 15900),
         ("colour",)),
        ("hats", "Hats", "HAT", ["Beanie", "Cap", "Bucket Hat"], (1500, 3900), ("colour",)),
        ("socks", "Socks", "SCK", ["Crew Socks", "Wool Socks", "Ankle Socks"], (800, 2200),
         ("socks",)),
    ]),
    ("home", "Home & Living", [
        ("mugs", "Mugs", "MUG", ["Stoneware Mug", "Enamel Mug", "Travel Mug"], (1200, 2900),
         ("colour",)),
        ("candles", "Candles", "CND", ["Soy Candle", "Pillar Candle"], (1400, 3900), ()),
        ("posters", "Posters", "PST", ["Map Print", "Botanical Print", "Mountain Poster"],
         (1900, 5900), ("poster",)),
        ("cushions", "Cushions", "CSH", ["Linen Cushion", "Knit Cushion"], (2400, 4900),
         ("colour",)),
    ]),
    ("tech", "Tech", [
        ("headphones", "Headphones", "HPH", ["Wireless Headphones", "Earbuds", "Studio Headphones"],
         (3900, 24900), ("colour",)),
        ("chargers", "Chargers", "CHG", ["USB-C Charger", "Wireless Charger", "Power Bank"],
         (1900, 6900), ()),
        ("phone-cases", "Phone cases", "PHC", ["Silicone Case", "Leather Case", "Clear Case"],
         (1500, 4500), ("colour",)),
    ]),
]


def _option_values(kind, rng):
    if kind == "size":
        start = rng.randint(0, 1)
        return "Size", CLOTHING_SIZES[start:start + rng.randint(3, 4)]
    if kind == "shoe":
        start = rng.randint(0, 2)
        return "Size", SHOE_SIZES[start:start + rng.randint(4, 6)]
    if kind == "socks":
        return "Size", ["35-38", "39-42", "43-46"]
    if kind == "poster":
        return "Size", ["A3", "A2", "50x70 cm"]
    return "Colour", rng.sample(list(COLOURS), rng.randint(1, 3))


def _combinations(options):
    combos = [{}]
    for name, values in options:
        combos = [{**combo, name: value} for combo in combos for value in values]
    return combos


def _sku_part(name, value):
    return COLOURS.get(value) if name == "Colour" else \
        "".join(ch for ch in value.upper() if ch.isalnum())


def products(currency="EUR"):
    """The demo products as create_product bodies, with their category slug."""
    rng = random.Random(SEED)
    result = []
    for _, _, children in TREE:
        for slug, title, code, nouns, (low, high), kinds in children:
            for index in range(PER_CATEGORY):
                brand = rng.choice(BRANDS)
                name = f"{rng.choice(ADJECTIVES)} {nouns[index % len(nouns)]}"
                product_slug = services.slugify(f"{brand} {name} {code} {index + 1}")
                options = [_option_values(kind, rng) for kind in kinds]
                base = rng.randrange(low, high, 100) - 1  # prices end in .99
                on_sale = rng.random() < 0.2
                variants = []
                for number, combo in enumerate(_combinations(options)):
                    parts = [code, f"{index + 1:03d}"] + [_sku_part(n, v) for n, v in combo.items()]
                    stock = 0 if rng.random() < 0.12 else rng.randint(1, 60)
                    price = base + (500 if combo.get("Size") in ("XL", "45", "A2") else 0)
                    variants.append({
                        "sku": "-".join(parts),
                        "price": f"{price // 100}.{price % 100:02d}",
                        "compare_at_price": (f"{(price * 5 // 4) // 100}."
                                             f"{(price * 5 // 4) % 100:02d}" if on_sale else None),
                        "weight_grams": rng.randint(80, 1500),
                        "options": combo,
                        "stock": stock,
                        "position": number,
                    })
                result.append((slug, {
                    "name": name,
                    "slug": product_slug,
                    "brand": brand,
                    "description": (
                        f"The {name.lower()} by {brand}: made to last, easy to care for and "
                        f"part of our {title.lower()} range. "
                        + rng.choice(["Designed in Europe.", "Responsibly sourced materials.",
                                      "A customer favourite.", "New this season."])),
                    "is_active": rng.random() > 0.03,
                    "images": [{"url": f"https://picsum.photos/seed/{product_slug}-{n}/800/800",
                                "alt": f"{name} by {brand}, view {n}"} for n in (1, 2)],
                    "variants": variants,
                }))
    return result


def load(dbsession):
    """Add the demo categories and products that are not there yet; returns how many."""
    stored = read_snapshot(dbsession).stored_settings.get("catalog", {})
    currency = CatalogSettings().load(stored)["default_currency"]
    categories = {c.slug: c for c in dbsession.scalars(sa.select(Category))}
    for position, (slug, name, children) in enumerate(TREE):
        parent = categories.get(slug) or services.create_category(
            dbsession, {"name": name, "slug": slug, "position": position})
        categories[slug] = parent
        for child_position, (child_slug, child_name, *_rest) in enumerate(children):
            if child_slug not in categories:
                categories[child_slug] = services.create_category(dbsession, {
                    "name": child_name, "slug": child_slug, "parent_id": parent.id,
                    "position": child_position})
    items = products(currency)
    existing = set(dbsession.scalars(sa.select(Product.slug).where(
        Product.slug.in_([data["slug"] for _, data in items]))))
    created = 0
    for category_slug, data in items:
        if data["slug"] in existing:
            continue
        body = ProductBody().load({**data, "category_id": categories[category_slug].id})
        services.create_product(dbsession, body, currency)
        created += 1
    return created
