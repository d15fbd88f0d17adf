"""The catalog's tables: categories, products, options, variants, stock and its ledger.

Prices are integer minor units with the currency beside them (``core.money``).
Product columns kept for speed, never set by hand: ``price_min`` and ``price_max``
(the lowest and highest variant price: the price sort reads the first from an
index, and the price filter decides most products from both without looking at
their variants) and ``search_text``
(the words of name, brand, description and SKUs), both kept by ``services``;
on PostgreSQL a trigger keeps ``search_vector`` (the parsed ``search_text``,
GIN-indexed and ranked without parsing the text again for every match).
"""
import datetime as dt

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column, relationship

import core.security  # noqa: F401  (defines core_user, which the ledger refers to)
from core.db import Base, UTCDateTime, utcnow
from core.money import Money

# Public lists show active products that can be bought (have a variant); the sort
# indexes are partial on exactly this predicate, so they stay small and the
# planner can use them for every public list.
LISTED_SQL = "is_active AND price_min IS NOT NULL"
# The public lists' sort indexes (sort name, column) and the filter columns they carry.
LIST_SORT_COLUMNS = (("price", "price_min"), ("name", "name"), ("newest", "created_at"))
LIST_FILTER_COLUMNS = ["category_id", "price_max", "brand"]
# The text search configuration: language-neutral, no stemming, since a shop's
# products are in any language and SKUs must match as typed.
SEARCH_CONFIG = "simple"
SEARCH_TRIGGER = (
    "CREATE TRIGGER catalog_product_search_vector BEFORE INSERT OR UPDATE OF search_text "
    "ON catalog_product FOR EACH ROW EXECUTE FUNCTION "
    f"tsvector_update_trigger(search_vector, 'pg_catalog.{SEARCH_CONFIG}', search_text)"
)


class Category(Base):
    __tablename__ = "catalog_category"

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("catalog_category.id"),
                                                  index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    slug: Mapped[str] = mapped_column(sa.String(200), unique=True)
    description: Mapped[str] = mapped_column(sa.Text, default="")
    position: Mapped[int] = mapped_column(sa.Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Product(Base):
    __tablename__ = "catalog_product"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(300))
    slug: Mapped[str] = mapped_column(sa.String(300), unique=True)
    description: Mapped[str] = mapped_column(sa.Text, default="")
    brand: Mapped[str | None] = mapped_column(sa.String(200), index=True)
    category_id: Mapped[int | None] = mapped_column(sa.ForeignKey("catalog_category.id"),
                                                    index=True)
    is_active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    price_min: Mapped[int | None] = mapped_column(sa.BigInteger)
    price_max: Mapped[int | None] = mapped_column(sa.BigInteger)
    search_text: Mapped[str] = mapped_column(sa.Text, default="")
    # PostgreSQL only (a trigger fills it; NULL on SQLite); never loaded by the ORM
    search_vector: Mapped[str | None] = mapped_column(
        TSVECTOR().with_variant(sa.Text(), "sqlite"), deferred=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    category: Mapped[Category | None] = relationship()
    images: Mapped[list["ProductImage"]] = relationship(
        back_populates="product", cascade="all, delete-orphan", passive_deletes=True,
        order_by="(ProductImage.position, ProductImage.id)")
    options: Mapped[list["Option"]] = relationship(
        back_populates="product", cascade="all, delete-orphan", passive_deletes=True,
        order_by="(Option.position, Option.id)")
    variants: Mapped[list["Variant"]] = relationship(
        back_populates="product", cascade="all, delete-orphan", passive_deletes=True,
        order_by="(Variant.position, Variant.id)")

    __table_args__ = (
        # The sorts carry the columns of the common filters (INCLUDE, PostgreSQL) so
        # that a page's ids come from the index alone, without a heap row per
        # product that the filter then rejects (services.page_query).
        *(sa.Index(f"ix_catalog_product_listed_{sort}", column, "id",
                   postgresql_include=LIST_FILTER_COLUMNS,
                   postgresql_where=sa.text(LISTED_SQL), sqlite_where=sa.text(LISTED_SQL))
          for sort, column in LIST_SORT_COLUMNS),
        # the count of a category's page, and its page where the category is small
        sa.Index("ix_catalog_product_listed_category", "category_id", "price_min",
                 "price_max", "id", postgresql_include=["created_at", "brand"],
                 postgresql_where=sa.text(LISTED_SQL), sqlite_where=sa.text(LISTED_SQL)),
        # GIN on PostgreSQL; on SQLite, which searches with LIKE instead (search.py),
        # an index of NULLs, kept so that both databases have the same schema
        sa.Index("ix_catalog_product_search", "search_vector", postgresql_using="gin"),
    )


sa.event.listen(Product.__table__, "after_create",
                sa.DDL(SEARCH_TRIGGER).execute_if(dialect="postgresql"))


class ProductImage(Base):
    __tablename__ = "catalog_product_image"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(
        sa.ForeignKey("catalog_product.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(sa.String(2000))
    alt: Mapped[str] = mapped_column(sa.String(300), default="")
    position: Mapped[int] = mapped_column(sa.Integer, default=0)

    product: Mapped[Product] = relationship(back_populates="images")

    __table_args__ = (sa.Index("ix_catalog_product_image_product", "product_id", "position"),)


class Option(Base):
    """A dimension in which a product's variants differ, such as Size or Colour."""

    __tablename__ = "catalog_option"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(
        sa.ForeignKey("catalog_product.id", ondelete="CASCADE"))
    # indexed for the option filters, which look options up by name
    name: Mapped[str] = mapped_column(sa.String(100), index=True)
    position: Mapped[int] = mapped_column(sa.Integer, default=0)

    product: Mapped[Product] = relationship(back_populates="options")
    values: Mapped[list["OptionValue"]] = relationship(
        back_populates="option", cascade="all, delete-orphan", passive_deletes=True,
        order_by="(OptionValue.position, OptionValue.id)")

    __table_args__ = (sa.UniqueConstraint("product_id", "name"),)


class OptionValue(Base):
    __tablename__ = "catalog_option_value"

    id: Mapped[int] = mapped_column(primary_key=True)
    option_id: Mapped[int] = mapped_column(
        sa.ForeignKey("catalog_option.id", ondelete="CASCADE"))
    value: Mapped[str] = mapped_column(sa.String(100))
    position: Mapped[int] = mapped_column(sa.Integer, default=0)

    option: Mapped[Option] = relationship(back_populates="values")

    __table_args__ = (sa.UniqueConstraint("option_id", "value"),)


class VariantOption(Base):
    """Which value of each of its product's options a variant has (one per option)."""

    __tablename__ = "catalog_variant_option"

    variant_id: Mapped[int] = mapped_column(
        sa.ForeignKey("catalog_variant.id", ondelete="CASCADE"), primary_key=True)
    value_id: Mapped[int] = mapped_column(
        sa.ForeignKey("catalog_option_value.id", ondelete="CASCADE"), primary_key=True,
        index=True)

    value: Mapped[OptionValue] = relationship()


class Variant(Base):
    """What a customer buys: one combination of option values, with a SKU and a price."""

    __tablename__ = "catalog_variant"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(
        sa.ForeignKey("catalog_product.id", ondelete="CASCADE"))
    sku: Mapped[str] = mapped_column(sa.String(64), unique=True)
    price: Mapped[int] = mapped_column(sa.BigInteger)
    compare_at_price: Mapped[int | None] = mapped_column(sa.BigInteger)
    currency: Mapped[str] = mapped_column(sa.String(3))
    weight_grams: Mapped[int | None] = mapped_column(sa.Integer)
    position: Mapped[int] = mapped_column(sa.Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    product: Mapped[Product] = relationship(back_populates="variants")
    stock: Mapped["Stock"] = relationship(
        back_populates="variant", cascade="all, delete-orphan", passive_deletes=True)
    option_links: Mapped[list[VariantOption]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True)

    __table_args__ = (
        # the price range filter: per product (EXISTS) and by price first
        sa.Index("ix_catalog_variant_product_price", "product_id", "price"),
        sa.Index("ix_catalog_variant_price", "price", "product_id"),
        sa.CheckConstraint("price >= 0", name="price_not_negative"),
        sa.CheckConstraint("compare_at_price >= 0", name="compare_at_price_not_negative"),
        sa.CheckConstraint("weight_grams >= 0", name="weight_not_negative"),
    )

    @property
    def price_money(self):
        return Money(self.price, self.currency)

    @property
    def compare_at_money(self):
        return None if self.compare_at_price is None else Money(self.compare_at_price,
                                                                self.currency)


class Stock(Base):
    """Stock of one variant. Changed only by the conditional UPDATEs of inventory.py.

    ``on_hand``: units in the warehouse; ``reserved``: units promised to placed
    orders that have not shipped. The CHECKs make overselling impossible even
    for code that bypasses the inventory service.
    """

    __tablename__ = "catalog_stock"

    variant_id: Mapped[int] = mapped_column(
        sa.ForeignKey("catalog_variant.id", ondelete="CASCADE"), primary_key=True)
    on_hand: Mapped[int] = mapped_column(sa.Integer, default=0)
    reserved: Mapped[int] = mapped_column(sa.Integer, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    variant: Mapped[Variant] = relationship(back_populates="stock")

    __table_args__ = (
        sa.CheckConstraint("on_hand >= 0", name="on_hand_not_negative"),
        sa.CheckConstraint("reserved >= 0", name="reserved_not_negative"),
        sa.CheckConstraint("reserved <= on_hand", name="reserved_within_on_hand"),
    )

    @property
    def available(self):
        return max(0, self.on_hand - self.reserved)


class StockMovement(Base):
    """The append-only ledger: one row per change of a variant's stock."""

    __tablename__ = "catalog_stock_movement"

    id: Mapped[int] = mapped_column(primary_key=True)
    # SET NULL: the history outlives a deleted variant; ``sku`` says whose it was
    variant_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("catalog_variant.id", ondelete="SET NULL"))
    sku: Mapped[str] = mapped_column(sa.String(64))
    kind: Mapped[str] = mapped_column(sa.String(16))
    on_hand_change: Mapped[int] = mapped_column(sa.Integer, default=0)
    reserved_change: Mapped[int] = mapped_column(sa.Integer, default=0)
    on_hand_after: Mapped[int] = mapped_column(sa.Integer)
    reserved_after: Mapped[int] = mapped_column(sa.Integer)
    reason: Mapped[str] = mapped_column(sa.String(300), default="")
    reference: Mapped[str | None] = mapped_column(sa.String(200), index=True)
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("core_user.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        sa.Index("ix_catalog_stock_movement_variant", "variant_id", "id"),
        sa.CheckConstraint(
            "kind IN ('initial', 'adjustment', 'import', 'reserve', 'release', 'commit', "
            "'restock')", name="kind"),
    )


class StockAlert(Base):
    """A variant the staff were told is low on stock (the periodic job ``catalog.
    low_stock_alert``).

    The row stays while the variant stays low, so staff hear of it once; once it is
    restocked above the threshold the row goes, and a later drop is told again.
    The primary key lets two runs of the job at once claim each variant once.
    """

    __tablename__ = "catalog_stock_alert"

    variant_id: Mapped[int] = mapped_column(
        sa.ForeignKey("catalog_variant.id", ondelete="CASCADE"), primary_key=True)
    available: Mapped[int] = mapped_column(sa.Integer)  # units available when told
    alerted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
