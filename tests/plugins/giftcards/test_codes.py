"""Codes: random, long enough, read leniently, stored as a digest."""
import hashlib
import re

import pytest

from plugins.giftcards import codes


def test_a_code_is_16_random_characters_of_crockford_base32():
    made = {codes.generate() for _ in range(2000)}
    assert len(made) == 2000
    for code in made:
        assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{16}", code)
    # every character of the alphabet turns up, in about equal numbers
    counts = {char: sum(code.count(char) for code in made) for char in codes.ALPHABET}
    assert min(counts.values()) > 0.7 * 2000 * 16 / 32
    assert len(codes.generate(32)) == 32
    with pytest.raises(ValueError):
        codes.generate(15)


def test_a_code_is_read_in_any_case_with_or_without_separators():
    code = "7KQ4M2XD9H0BTR5W"
    for typed in ("7KQ4-M2XD-9H0B-TR5W", "7kq4 m2xd 9h0b tr5w", " 7KQ4M2XD9H0BTR5W ",
                  "7KQ4-M2XD-9HOB-TR5W"):  # O typed for 0
        assert codes.normalize(typed) == code
    assert codes.normalize("1111-IIII-LLLL-llll") == "1" * 16
    for bad in ("", "7KQ4-M2XD-9H0B", "7KQ4-M2XD-9H0B-TR5U", "7KQ4M2XD9H0BTR5W!", "x" * 100,
                None, 12345678901234567, "７KQ4M2XD9H0BTR5W"):
        assert codes.normalize(bad) is None


def test_the_digest_the_display_and_the_mask():
    code = "7KQ4M2XD9H0BTR5W"
    assert codes.digest(code) == hashlib.sha256(code.encode()).hexdigest()
    assert codes.display(code) == "7KQ4-M2XD-9H0B-TR5W"
    assert codes.mask("TR5W") == "****-****-****-TR5W"
