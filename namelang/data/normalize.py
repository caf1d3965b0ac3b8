"""Name normalisation, shared by `prepare`, training and prediction so that all three agree."""

from __future__ import annotations

import re
import string
import unicodedata

# The tutorial's alphabet for unicodeToAscii.
ASCII_LETTERS = string.ascii_letters + " .,;'"
_SPACES = re.compile(r"\s+")


def unicode_to_ascii(text: str) -> str:
    """The tutorial's unicodeToAscii: drop accents, then every character outside its alphabet."""
    return "".join(
        c
        for c in unicodedata.normalize("NFD", text)
        if unicodedata.category(c) != "Mn" and c in ASCII_LETTERS
    )


def normalize_name(text: str, ascii_only: bool = False, transliterate: bool = True) -> str:
    """NFC, strip, collapse inner whitespace; Cyrillic and Greek in Latin (`transliterate`, see
    data/scripts.py); with `ascii_only`, the tutorial's unicodeToAscii too."""
    if text.isascii():  # most names: NFC and transliteration leave ASCII as it is
        text = " ".join(text.split())  # the same whitespace as _SPACES for ASCII (a test checks)
        return _SPACES.sub(" ", unicode_to_ascii(text)).strip() if ascii_only else text
    text = _SPACES.sub(" ", unicodedata.normalize("NFC", text)).strip()
    if transliterate:
        from namelang.data.scripts import transliterate as to_latin

        text = to_latin(text)
    if ascii_only:
        text = _SPACES.sub(" ", unicode_to_ascii(text)).strip()
    return text
