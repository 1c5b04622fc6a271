"""How a search of the corpus is read: instrument names and concept words as the tags they mean."""
from auralens.server.search_terms import read_query

CLASSES = ["bass_tuba", "cello", "contrabass", "french_horn"]
FAMILIES = {"bass_tuba": "brass", "cello": "strings", "contrabass": "strings", "french_horn": "brass"}


def test_concept_words_become_their_tags():
    read = read_query("staccato fortissimo high register", CLASSES, FAMILIES)
    assert read.words == "short ff high" and read.classes == []
    assert read.read_as == ["staccato = short", "fortissimo = ff", "high register = high"]


def test_an_instrument_name_becomes_its_family_and_narrows_the_hits():
    read = read_query("Cello, low", CLASSES, FAMILIES)
    assert read.words == "strings low" and read.classes == ["cello"]


def test_a_longer_name_wins_over_a_word_inside_it():
    assert read_query("bass tuba", CLASSES, FAMILIES).classes == ["bass_tuba"]
    assert read_query("bass", CLASSES, FAMILIES).classes == ["contrabass"]


def test_words_it_does_not_know_pass_through_for_the_tags_space_to_judge():
    read = read_query("muted horns", CLASSES, FAMILIES)
    assert read.words == "muted brass" and read.classes == ["french_horn"]
