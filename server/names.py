"""Names people give things (concepts, accounts): cleaned into one canonical form, and compared by
what they look like, so that two names a reader cannot tell apart are the same name.

>>> clean_name("  high\\u200b  register ")
'high register'
>>> name_key("vibr\\u0430to") == name_key("Vibrato")   # a Cyrillic 'а' in the first
True
"""
from __future__ import annotations

import re
import unicodedata

# Characters that show nothing but are not spaces: format characters (zero-width space and
# joiners, bidirectional controls, the byte-order mark, soft hyphen...) and the other default
# ignorables (variation selectors, fillers, the combining grapheme joiner).
_IGNORABLE = set(range(0xFE00, 0xFE10)) | set(range(0x180B, 0x1810)) | {
    0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x3164, 0xFFA0} | set(range(0xE0100, 0xE01F0))

# Letters of other scripts that look like Latin ones (after NFKC), as in Unicode's confusables:
# capitals first (Cyrillic Т looks like T, its small т does not), then small letters.
_LOOK_ALIKE_CAPITALS = str.maketrans({
    "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C", "Т": "T",
    "Х": "X", "У": "Y", "Ѕ": "S", "І": "I", "Ј": "J", "Ԛ": "Q", "Ԝ": "W", "Ү": "Y", "Ӏ": "I",
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N", "Ο": "O",
    "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
})
_LOOK_ALIKE_SMALL = str.maketrans({
    "а": "a", "с": "c", "ԁ": "d", "е": "e", "һ": "h", "і": "i", "ј": "j", "ӏ": "l", "о": "o", "р": "p",
    "ԛ": "q", "ѕ": "s", "у": "y", "х": "x", "ԝ": "w", "ү": "y", "ɡ": "g", "ı": "i", "ɩ": "i",
    "α": "a", "ο": "o", "ρ": "p", "ν": "v", "ι": "i", "κ": "k", "υ": "u", "χ": "x", "ϲ": "c", "ϳ": "j",
    "օ": "o", "ս": "u", "ց": "g", "հ": "h", "ո": "n", "_": " ",
})


def _visible(ch: str) -> bool:
    return unicodedata.category(ch) not in ("Cf", "Cc", "Cs", "Co", "Cn") and ord(ch) not in _IGNORABLE


def clean_name(raw: str) -> str:
    """``raw`` in its canonical form: NFKC (full-width and styled letters become plain ones),
    invisible characters removed, every run of white space one space, trimmed. May be empty."""
    text = "".join(ch if _visible(ch) else (" " if ch in "\t\n\r\v\f" else "") for ch in
                   unicodedata.normalize("NFKC", raw))
    return re.sub(r"\s+", " ", text).strip()


def name_key(name: str) -> str:
    """What a cleaned name looks like, for comparing names: look-alike letters of other scripts
    mapped to Latin, case folded, underscores read as spaces. Two names with the same key are
    the same name to a reader."""
    return re.sub(r"\s+", " ", clean_name(name).translate(_LOOK_ALIKE_CAPITALS).casefold()
                  .translate(_LOOK_ALIKE_SMALL)).strip()
