"""Reading a search of the corpus as a musician writes it: instrument names and the concept
library's words stand for the tags they mean.

The tags space knows tag words only (``brass``, ``ff``, ``short``...). Before a query reaches it,
:func:`read_query` rewrites

* an instrument name (a class of the bundle: ``cello``, ``french horn``, ``horns``, ``sax``) as
  its instrument family's tag, and keeps only that instrument's clips;
* a concept's word (``staccato``, ``fortissimo``, ``high register``, ``legato``) as its tag;

and says how it read each word, for the page to show ("staccato = short").

Example::

    >>> q = read_query("staccato cello", ["cello", "flute"], {"cello": "strings", "flute": "woodwinds"})
    >>> q.words, q.classes, q.read_as
    ('short strings', ['cello'], ['staccato = short', 'cello = strings (cello clips only)'])
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

# the concept library's words (the built-in concepts and their musical relatives) -> tag words
CONCEPT_WORDS = {
    "staccato": "short", "detached": "short", "legato": "long", "sostenuto": "long", "tenuto": "long",
    "fortissimo": "ff", "pianissimo": "pp", "high register": "high", "high_register": "high",
    "low register": "low", "vibrato": "vibrato", "reverberant": "reverberant", "senza vibrato": "straight",
}
# further names of the default bundle's instruments
INSTRUMENT_ALIASES = {
    "horn": "french_horn", "horns": "french_horn", "sax": "alto_sax", "saxophone": "alto_sax",
    "tuba": "bass_tuba", "double bass": "contrabass", "bass": "contrabass", "double_bass": "contrabass",
}


@dataclass
class ReadQuery:
    """A query rewritten for the tags space: ``words`` (tag words and any others, in order),
    ``classes`` (instruments the hits must be, empty: any) and ``read_as`` (one phrase per
    rewritten word, e.g. ``"fortissimo = ff"``)."""

    words: str
    classes: list[str] = field(default_factory=list)
    read_as: list[str] = field(default_factory=list)


def _names(classes: list[str]) -> dict[str, str]:
    """Every way of writing a class -> the class: ``french_horn``, ``french horn``, ``french-horn``,
    plurals, and the aliases of :data:`INSTRUMENT_ALIASES` whose class the bundle has."""
    names = {}
    for c in classes:
        spoken = c.replace("_", " ").lower()
        for form in {c.lower(), spoken, spoken.replace(" ", "-")}:
            names[form] = c
            names[form + "s"] = c
    for alias, c in INSTRUMENT_ALIASES.items():
        if c in classes:
            names.setdefault(alias, c)
    return names


def read_query(query: str, classes: list[str], families: dict[str, str]) -> ReadQuery:
    """Rewrite ``query`` (see the module's docstring). ``families``: class -> its family tag word
    (a class without one narrows the hits without adding a word). Longer phrases win over the
    words in them ("bass tuba" over "bass")."""
    names = _names(classes)
    phrases = sorted({**{k: ("class", v) for k, v in names.items()},
                      **{k: ("concept", v) for k, v in CONCEPT_WORDS.items()}}.items(),
                     key=lambda kv: -len(kv[0]))
    tokens = [t for t in re.split(r"[\s,;+/]+", query.strip().lower()) if t]
    out, wanted, read_as, i = [], [], [], 0
    while i < len(tokens):
        for phrase, (kind, meaning) in phrases:
            n = phrase.count(" ") + 1
            if " ".join(tokens[i:i + n]) != phrase:
                continue
            if kind == "concept":
                out.append(meaning)
                if meaning != phrase:
                    read_as.append(f"{phrase} = {meaning}")
            else:
                wanted.append(meaning)
                family = families.get(meaning)
                if family:
                    out.append(family)
                spoken = meaning.replace("_", " ")
                read_as.append(f"{phrase} = {family + ' ' if family else ''}({spoken} clips only)")
            i += n
            break
        else:
            out.append(tokens[i])
            i += 1
    return ReadQuery(" ".join(out), list(dict.fromkeys(wanted)), read_as)


def families_of(clips) -> dict[str, str]:
    """Class -> the family tag most of its clips carry, from clips with ``label`` and ``tags``."""
    counts: dict[str, dict[str, int]] = {}
    for clip in clips:
        family = (clip.tags or {}).get("family")
        if clip.label and family:
            counts.setdefault(clip.label, {}).setdefault(family, 0)
            counts[clip.label][family] += 1
    return {label: max(c, key=c.get) for label, c in counts.items()}
