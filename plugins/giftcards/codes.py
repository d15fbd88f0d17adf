"""Gift card codes: made at random, read leniently, kept as a digest.

A code is ``length`` characters of Crockford's base 32 (no I, L, O or U, so that a
code read aloud or from paper is typed right), 5 random bits each from the
``secrets`` module: 16 characters are 80 bits, far beyond guessing or enumerating.
It is shown in groups of four (``7KQ4-M2XD-9H0B-TR5W``) and read back in any case,
with or without hyphens and spaces, O as 0 and I or L as 1.

The database keeps the SHA-256 of the normalised code and its last four
characters. A plain digest suffices: a salt or a slow hash protects secrets that
people choose, and 80 random bits cannot be found from their digest by trying.
"""
import hashlib
import re
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
MIN_LENGTH = 16
MAX_LENGTH = 32
GROUP = 4
# what a person may type for a character that is not in the alphabet
READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})
SEPARATORS = re.compile(r"[\s-]+")
VALID = re.compile(f"^[{ALPHABET}]{{{MIN_LENGTH},{MAX_LENGTH}}}$")


def generate(length=MIN_LENGTH):
    """A new random code, normalised (no hyphens)."""
    if not MIN_LENGTH <= length <= MAX_LENGTH:
        raise ValueError(f"a code has {MIN_LENGTH} to {MAX_LENGTH} characters")
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def normalize(text):
    """The code as stored (upper case, no separators), or None if ``text`` cannot be one."""
    if not isinstance(text, str) or len(text) > 2 * MAX_LENGTH:
        return None
    code = SEPARATORS.sub("", text).upper().translate(READ_AS)
    return code if VALID.match(code) else None


def digest(code):
    """The SHA-256 (hex) of a normalised code: what the database finds a card by."""
    return hashlib.sha256(code.encode("ascii")).hexdigest()


def display(code):
    """``7KQ4-M2XD-9H0B-TR5W``: the code in groups of four, as people see it."""
    return "-".join(code[i:i + GROUP] for i in range(0, len(code), GROUP))


def mask(last4):
    """What is shown of a card once it is issued: ``****-****-****-TR5W``."""
    return f"****-****-****-{last4}"
