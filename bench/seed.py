"""The benchmark's shop, written with PostgreSQL's COPY: a category tree, products with
variants, stock and its ledger, and customers.

Every row is what the application would have written for the same product (see
``plugins.catalog.services.create_product``): ``price_min``, ``price_max`` and ``search_text`` are
computed with the catalog's own functions, the catalog's trigger fills
``search_vector`` on COPY as on INSERT, each variant has its stock row and its
"initial" ledger entry, each product its option (Size) and an image. Ids are given
explicitly (1..n, so that the load generator can pick them at random) and the
sequences are moved past them afterwards.

Names, descriptions and brands are made from small word lists, so that a keyword
search finds a few thousand products for a single word and a few hundred for a
material and a noun together (``SEARCH_WORDS``, ``SEARCH_PAIRS``).
"""
import dataclasses
import datetime as dt
import random
import types

import sqlalchemy as sa

from core.db import utcnow
from core.security import User, hash_password
from plugins.catalog import search
from plugins.catalog.models import (Category, Option, OptionValue, Product, ProductImage,
                                    Stock, StockMovement, Variant, VariantOption)

CURRENCY = "EUR"
STOCK_ON_HAND = 100_000  # never runs out, however many orders a run places
PASSWORD = "bench-password-0123"
EMAIL_DOMAIN = "bench.example"

ROOTS = ["Clothing", "Shoes", "Accessories", "Home", "Kitchen", "Garden", "Sports",
         "Outdoor", "Office", "Kids"]
BRANCHES = ["Basics", "Premium", "Classic", "Modern", "Sale", "Eco", "Travel", "Studio",
            "Heritage", "Essentials"]
ADJECTIVES = ["classic", "modern", "vintage", "rugged", "slim", "cozy", "bold", "essential",
              "premium", "everyday", "light", "heavy", "soft", "urban", "alpine", "coastal",
              "nordic", "retro", "sleek", "sturdy"]
MATERIALS = ["linen", "cotton", "wool", "leather", "denim", "silk", "bamboo", "oak", "walnut",
             "steel", "copper", "ceramic", "glass", "canvas", "suede", "cashmere", "hemp",
             "marble", "velvet", "fleece"]
NOUNS = ["shirt", "jacket", "boots", "sneakers", "scarf", "hat", "bag", "wallet", "belt", "lamp",
         "chair", "table", "mug", "vase", "blanket", "pillow", "watch", "backpack", "sweater",
         "trousers", "dress", "skirt", "socks", "gloves", "candle", "bowl", "shelf", "rug",
         "kettle", "notebook"]
COLOURS = ["red", "blue", "green", "black", "white", "grey", "navy", "olive", "sand", "rust"]
BRANDS = [a + b for a in ("Nor", "Vel", "Kas", "Tor", "Lum", "Bri", "Ost", "Mar", "Fen", "Ard")
          for b in ("den", "ara", "ix", "ova", "eth")]
SIZES = ["S", "M", "L", "XL"]
SIZE_STEP = 200  # each size costs 2.00 more than the one before

# what the keyword search endpoint asks for
SEARCH_WORDS = ADJECTIVES + MATERIALS + NOUNS
SEARCH_PAIRS = [f"{m} {n}" for m in MATERIALS for n in NOUNS]


@dataclasses.dataclass(frozen=True)
class Sizes:
    """How big the shop is, and the pools of carts the load generator uses."""

    products: int
    variants_per_product: int
    tree: tuple  # categories: roots, children of each, grandchildren of each
    customers: int  # each with a filled cart: quotes
    buyers: int  # more customers, each order takes one's cart: place order
    guest_carts: int  # add to cart

    @property
    def variants(self):
        return self.products * self.variants_per_product

    def as_dict(self):
        return {**dataclasses.asdict(self), "tree": list(self.tree), "variants": self.variants}


FULL = Sizes(products=100_000, variants_per_product=3, tree=(10, 10, 10), customers=1_000,
             buyers=10_000, guest_carts=5_000)
QUICK = Sizes(products=2_000, variants_per_product=3, tree=(4, 4, 4), customers=50,
              buyers=1_500, guest_carts=300)


def copy_rows(cursor, table, columns, rows):
    """COPY ``rows`` (tuples in the order of ``columns``) into ``table``; the row count."""
    missing = [name for name in columns if name not in table.c]
    if missing:  # the models changed: say so rather than load half a shop
        raise RuntimeError(f"{table.name} has no column {', '.join(missing)}")
    count = 0
    with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def category_tree(tree, now):
    """Rows of catalog_category (id, parent_id, name, slug, position, ...) and the leaf ids."""
    rows, leaves, next_id = [], [], 1

    def add(parent_id, name, position):
        nonlocal next_id
        slug = "-".join(name.lower().split())
        rows.append((next_id, parent_id, name, slug, "", position, now, now))
        next_id += 1
        return next_id - 1

    roots, children, grandchildren = tree
    for r, root in enumerate(ROOTS[:roots]):
        root_id = add(None, root, r)
        for c, branch in enumerate(BRANCHES[:children]):
            child_id = add(root_id, f"{root} {branch}", c)
            for g in range(grandchildren):
                leaves.append(add(child_id, f"{root} {branch} Line {g + 1}", g))
    return rows, leaves


@dataclasses.dataclass
class ProductSpec:
    id: int
    name: str
    brand: str
    description: str
    category_id: int
    base_price: int
    weight: int
    created_at: dt.datetime

    def skus(self, count):
        return [f"BN-{self.id:06d}-{SIZES[k]}" for k in range(count)]


def product_specs(sizes, leaves, rng, now):
    for pid in range(1, sizes.products + 1):
        adjective, material, noun = (rng.choice(ADJECTIVES), rng.choice(MATERIALS),
                                     rng.choice(NOUNS))
        brand = rng.choice(BRANDS)
        name = f"{adjective.title()} {material.title()} {noun.title()}"
        description = (f"A {adjective} {noun} of {material} in {rng.choice(COLOURS)}, "
                       f"made by {brand}.")
        yield ProductSpec(
            id=pid, name=name, brand=brand, description=description,
            category_id=leaves[(pid - 1) % len(leaves)],
            base_price=rng.randrange(500, 30_000), weight=rng.randrange(100, 2_000),
            created_at=now - dt.timedelta(seconds=rng.randrange(365 * 24 * 3600)))


def seed_catalog(cursor, sizes, rng, now):
    per = sizes.variants_per_product
    if not 1 <= per <= len(SIZES):
        raise ValueError(f"variants_per_product must be 1 to {len(SIZES)}")
    categories, leaves = category_tree(sizes.tree, now)
    copy_rows(cursor, Category.__table__, ("id", "parent_id", "name", "slug", "description",
                                           "position", "created_at", "updated_at"), categories)
    specs = list(product_specs(sizes, leaves, rng, now))

    def search_text(spec):
        return search.search_text(types.SimpleNamespace(
            name=spec.name, brand=spec.brand, description=spec.description), spec.skus(per))

    copy_rows(cursor, Product.__table__, (
        "id", "name", "slug", "description", "brand", "category_id", "is_active", "price_min",
        "price_max", "search_text", "created_at", "updated_at"), (
        (s.id, s.name, f"{'-'.join(s.name.lower().split())}-{s.id}", s.description, s.brand,
         s.category_id, True, s.base_price, s.base_price + (per - 1) * SIZE_STEP,
         search_text(s), s.created_at, s.created_at)
        for s in specs))
    copy_rows(cursor, ProductImage.__table__, ("id", "product_id", "url", "alt", "position"), (
        (s.id, s.id, f"https://cdn.example.com/products/{s.id}.jpg", s.name, 0)
        for s in specs))
    copy_rows(cursor, Option.__table__, ("id", "product_id", "name", "position"),
              ((s.id, s.id, "Size", 0) for s in specs))

    def variant_ids(spec):
        return [((spec.id - 1) * per + k + 1, k) for k in range(per)]

    copy_rows(cursor, OptionValue.__table__, ("id", "option_id", "value", "position"), (
        (vid, s.id, SIZES[k], k) for s in specs for vid, k in variant_ids(s)))
    copy_rows(cursor, Variant.__table__, (
        "id", "product_id", "sku", "price", "compare_at_price", "currency", "weight_grams",
        "position", "created_at", "updated_at"), (
        (vid, s.id, s.skus(per)[k], s.base_price + k * SIZE_STEP,
         (s.base_price * 5 // 4) if s.id % 10 == 0 else None, CURRENCY, s.weight, k,
         s.created_at, s.created_at)
        for s in specs for vid, k in variant_ids(s)))
    # a variant's option value has the variant's id (one option per product)
    copy_rows(cursor, VariantOption.__table__, ("variant_id", "value_id"),
              ((vid, vid) for s in specs for vid, _ in variant_ids(s)))
    copy_rows(cursor, Stock.__table__, ("variant_id", "on_hand", "reserved", "updated_at"),
              ((vid, STOCK_ON_HAND, 0, s.created_at) for s in specs
               for vid, _ in variant_ids(s)))
    copy_rows(cursor, StockMovement.__table__, (
        "id", "variant_id", "sku", "kind", "on_hand_change", "reserved_change", "on_hand_after",
        "reserved_after", "reason", "created_at"), (
        (vid, vid, s.skus(per)[k], "initial", STOCK_ON_HAND, 0, STOCK_ON_HAND, 0,
         "initial stock", s.created_at)
        for s in specs for vid, k in variant_ids(s)))
    return {"categories": len(categories), "leaf_categories": len(leaves)}


def customer_email(kind, n):
    return f"{kind}-{n:06d}@{EMAIL_DOMAIN}"


def seed_users(cursor, sizes, now):
    """Customers (quotes) and buyers (orders): one password hash, computed once."""
    password_hash = hash_password(PASSWORD)
    people = [("customer", n) for n in range(1, sizes.customers + 1)] + [
        ("buyer", n) for n in range(1, sizes.buyers + 1)]
    copy_rows(cursor, User.__table__, (
        "id", "email", "name", "password_hash", "roles", "is_active", "created_at",
        "updated_at", "email_verified_at"), (
        (uid, customer_email(kind, n), f"Bench {kind.title()} {n}", password_hash,
         '["customer"]', True, now, now, now)
        for uid, (kind, n) in enumerate(people, start=1)))


SEQUENCED = (Category, Product, ProductImage, Option, OptionValue, Variant, StockMovement, User)


def seed(engine, sizes, rng_seed=2026):
    """Write the whole shop in one transaction; returns facts for the report."""
    rng = random.Random(rng_seed)
    now = utcnow()
    with engine.begin() as connection:
        cursor = connection.connection.driver_connection.cursor()
        facts = seed_catalog(cursor, sizes, rng, now)
        seed_users(cursor, sizes, now)
        for model in SEQUENCED:
            table = model.__table__.name
            connection.execute(sa.text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"))
    return facts


def vacuum_analyze(engine):
    """What autovacuum would have done by now on a shop this size: fresh statistics and
    a visibility map (index-only scans)."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM (ANALYZE)")
