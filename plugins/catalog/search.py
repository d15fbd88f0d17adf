"""Keyword search over name, brand, description and SKUs.

Both the stored ``Product.search_text`` and the query are cut into the same
lower-case words of letters and digits, because PostgreSQL's parser reads
"TEE-00017" as the word "tee" and the number "-00017", while a shopper types
"tee 00017" or the SKU itself. Every query word must match the start of a word
(prefix search, so "shi" finds "shirt").

PostgreSQL: ``search_vector`` (the trigger-parsed ``search_text``), GIN-indexed.
SQLite: LIKE on ``search_text`` (a scan, fine for the embedded default).
"""
import re

import sqlalchemy as sa

from .models import SEARCH_CONFIG, Product

WORD = re.compile(r"[^\W_]+")
MAX_WORDS = 10


def words(text):
    return WORD.findall((text or "").lower())


def search_text(product, skus=()):
    """The text kept in ``Product.search_text`` for ``product`` and its SKUs."""
    parts = [product.name, product.brand or "", product.description or "", *skus]
    return " ".join(words(" ".join(parts)))


def query_words(q):
    return words(q)[:MAX_WORDS]


def _escape_like(word):
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _tsquery(terms):
    # the words hold letters and digits only, so quoting them is all the escaping needed
    return sa.func.to_tsquery(sa.literal_column(f"'{SEARCH_CONFIG}'"),
                              " & ".join(f"'{term}':*" for term in terms))


def condition(dialect_name, terms):
    """The WHERE clause that keeps products matching every word of ``terms``."""
    if dialect_name == "postgresql":
        return Product.search_vector.op("@@")(_tsquery(terms))
    # the stored words are separated by single spaces: matching " term" in
    # " " + text finds a word that starts with the term, as on PostgreSQL
    padded = sa.literal(" ") + Product.search_text
    return sa.and_(*(padded.like(f"% {_escape_like(term)}%", escape="\\") for term in terms))


def rank(dialect_name, terms):
    """An ORDER BY expression for relevance, or None where the database has none."""
    if dialect_name == "postgresql":
        return sa.func.ts_rank(Product.search_vector, _tsquery(terms)).desc()
    return None
