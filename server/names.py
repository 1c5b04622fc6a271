"""Names people give things (concepts): cleaned before they are checked, and compared by what
they read as, so that look-alikes cannot stand beside each other.

>>> clean_name("  muted\\u200b  brass ")
'muted brass'
>>> name_key("Br\\u0430ss") == name_key("brass")   # a Cyrillic 'а'
True
"""
from __future__ import annotations

import unicodedata

# letters of other scripts drawn like Latin ones (Unicode's confusables, the common part),
# after case folding: Cyrillic, then Greek
LOOK_ALIKES = str.maketrans({
    "а": "a", "в": "b", "е": "e", "ё": "e", "һ": "h", "і": "i", "ї": "i", "ј": "j", "к": "k", "м": "m",
    "н": "h", "о": "o", "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s", "ԁ": "d", "ԛ": "q",
    "ԝ": "w", "ɡ": "g",
    "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t",
    "υ": "u", "χ": "x", "ω": "w",
})


def clean_name(text: str) -> str:
    """``text`` in Unicode's compatibility form (NFKC), without invisible characters (format and
    control characters such as zero-width spaces), runs of white space made one space, trimmed."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cf", "Cc") or ch.isspace())
    return " ".join(text.split())


def name_key(text: str) -> str:
    """What a name reads as: :func:`clean_name`, case folded, look-alike letters of other scripts
    read as the Latin letters they resemble. Two names with the same key are the same name."""
    return clean_name(text).casefold().translate(LOOK_ALIKES)
