"""An export's figures and tables, drawn without a plotting library: valid PNG and SVG, the
page's axes (notes C1..C8, a stated dB range) and curves with the notes played."""
import csv
import io
import struct
import zlib
from xml.etree import ElementTree

import numpy as np

from auralens.server.export_tables import curves_csv
from auralens.server.figures import curves_svg, note_name, png_bytes, ranking_svg, spectrogram_svg

SPEC = {"times_s": [0.0, 0.5, 1.0], "freqs_hz": list(np.geomspace(30, 11000, 64)),
        "values_db": (np.linspace(-60, 0, 64)[:, None] + np.zeros(3)).tolist()}
CURVES = {"times_s": [0.0, 0.5, 1.0], "gain_db": [0.0, 3.0, 6.0], "shift_semitones": [0.0, 2.0, -1.0],
          "lowcut_hz": [50.0, 60.0, 70.0], "highcut_hz": [5000.0, 4000.0, 3000.0]}


def texts(svg: str) -> list[str]:
    return [t.text for t in ElementTree.fromstring(svg).iter("{http://www.w3.org/2000/svg}text")]


def test_a_png_holds_the_image_row_by_row():
    image = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    data = png_bytes(image)
    width, height = struct.unpack(">II", data[16:24])
    idat = data.index(b"IDAT")
    (length,) = struct.unpack(">I", data[idat - 4:idat])
    raw = zlib.decompress(data[idat + 4:idat + 4 + length])
    assert (width, height) == (3, 2) and raw == b"\x00" + image[0].tobytes() + b"\x00" + image[1].tobytes()


def test_a_spectrogram_figure_marks_the_notes_and_states_its_db_range():
    labels = texts(spectrogram_svg(SPEC, "your clip"))
    assert {"C1", "C4", "C8"} & set(labels) and "0 dB" in labels and "-80 dB" in labels
    assert "note (A4 = 440 Hz)" in labels and "time (s)" in labels


def test_the_note_marks_follow_the_pitch_of_a4():
    assert "note (A4 = 415 Hz)" in texts(spectrogram_svg(SPEC, "baroque", a4=415))


def test_curves_with_a_reference_pitch_read_as_the_notes_played():
    labels = texts(curves_svg(CURVES, "cello", reference_midi=57.0))
    assert "note played" in labels and "B3" in labels and "pitch shift (semitones)" not in labels
    assert "pitch shift (semitones)" in texts(curves_svg(CURVES, "cello"))


def test_curves_as_csv_have_a_column_per_curve_and_the_note_played_with_a_reference():
    rows = list(csv.DictReader(io.StringIO(curves_csv({**CURVES, "low_edge_db": None}, reference_midi=57.0))))
    assert list(rows[0]) == ["time_s", "gain_db", "shift_semitones", "note_played", "lowcut_hz", "highcut_hz"]
    assert [r["note_played"] for r in rows] == ["A3", "B3", "G♯3"]
    assert "note_played" not in curves_csv(CURVES)


def test_a_ranking_figure_lists_the_classes_best_first_with_their_scores():
    labels = texts(ranking_svg([{"label": "french_horn", "score": 0.9}, {"label": "cello", "score": 0.1}]))
    assert labels[1:] == ["french horn", "90.0 %", "cello", "10.0 %"]


def test_note_names_say_cents_off_the_nearest_note():
    assert (note_name(69), note_name(69.3), note_name(68.8)) == ("A4", "A4 +30 cents", "A4 −20 cents")
