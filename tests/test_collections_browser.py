"""The Collections tab in a real headless Chromium: a ZIP of 40 recordings in 4 folders made
into a collection, analysed with a progress bar, its table sorted and filtered, a lasso on its
map whose clips the table then shows, those clips made into a concept, and prototype usage
accounting for every clip.

Screenshots at 800x600 and 1920x1080 are saved under ``test-artifacts/``.
"""
from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from auralens.server.app import create_app

from .helpers import CHROMIUM, SELECTION, chromium, drag_on_map, served
from .sounds import timbre_archive

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (tests/run.sh installs it)")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with served(create_app(device="cpu", data_dir=tmp_path_factory.mktemp("data"))) as url:
        yield url


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("zip") / "recordings.zip"
    path.write_bytes(timbre_archive(per_folder=10))
    return path


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


def new_page(browser, server, width=1280, height=900):
    # bypass_csp: wait_for_function evaluates with eval, which the page's policy forbids
    context = browser.new_context(viewport={"width": width, "height": height}, base_url=server, bypass_csp=True,
                                  accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(90_000)
    problems = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    return context, page, problems


# where the map draws each of its points, in pixels from the plot's left edge
POINTS_X = """() => { const s = document.querySelector('#map-plot').scatter;
  return Array.from({ length: Number(document.querySelector('#map-plot').dataset.drawn) }, (_, i) => s.screenOf(i)[0]); }"""


def column(page, key: str) -> list[str]:
    return page.locator(f"#clip-table tbody td.col-{key}").all_inner_texts()


def test_a_zip_of_40_clips_becomes_a_collection_whose_lassoed_clips_become_a_concept_and_whose_usage_counts_40(
        browser, server, archive):
    context, page, problems = new_page(browser, server)
    page.goto("/#/collections")
    page.wait_for_selector("#collection-list li")
    page.click("#collection-new summary")
    page.fill("#collection-name", "Four timbres")
    page.set_input_files("#collection-zip", str(archive))
    page.click("#collection-create-button")
    # the job finishes with its progress bar full
    page.wait_for_selector("#collection-create .progress[data-done=true]")
    assert page.eval_on_selector("#collection-create progress", "p => p.value") == 1
    page.wait_for_function("document.querySelector('#table-count')?.textContent.includes('of 40')")
    assert "collection%3A" in page.url or "collection:" in page.url
    assert "Four timbres" in page.inner_text("#collection-list")

    # sorted by confidence, most sure first
    page.click("#clip-table th button[data-sort=confidence]")
    page.wait_for_function("location.hash.includes('sort=confidence')")
    page.wait_for_function("document.querySelector('#clip-table th[aria-sort=descending] button')?.dataset.sort === 'confidence'")
    sure = [float(t.rstrip(" %")) for t in column(page, "confidence")]
    assert len(sure) == 40 and sure == sorted(sure, reverse=True)

    # filtered by a predicted class: every row shows it
    classes = [o for o in page.eval_on_selector_all("#filter-prediction option", "os => os.map(o => o.value)") if o]
    assert classes
    page.select_option("#filter-prediction", classes[0])
    page.wait_for_function(f"location.hash.includes('prediction={classes[0]}')")
    page.wait_for_function("document.querySelector('#table-count')?.textContent.includes('(of 40 clips)')")
    assert set(column(page, "prediction")) == {classes[0].replace("_", " ")}
    page.select_option("#filter-prediction", "")
    page.wait_for_function("document.querySelector('#table-count')?.textContent.includes('of 40')")

    # a lasso on the collection's map selects clips; "Show in the table" shows just those
    page.click("#collection-list li a[href^='#/map']")
    page.wait_for_selector("#map-plot[data-drawn='40']")
    # the lasso: the map's left part, up to a line with 25 of the 40 points on its left
    width = page.locator("#map-plot").bounding_box()["width"]
    xs = sorted(x / width for x in page.evaluate(POINTS_X))
    assert len(xs) == 40 and xs[24] < xs[25]
    cut = (xs[24] + xs[25]) / 2
    page.click("#map-mode-lasso")
    drag_on_map(page, [(0.003, 0.003), (cut, 0.003), (cut, 0.997), (0.003, 0.997), (0.003, 0.003)])
    page.wait_for_selector("#map-count:has-text('selected')")
    lassoed = page.evaluate(SELECTION)
    n = len(lassoed["ids"])
    assert n == 25 and lassoed["source"].startswith("collection:")
    page.click("#map-show-table")
    page.wait_for_function("location.hash.includes('selected=1')")
    page.wait_for_function(f"document.querySelector('#table-count')?.textContent.includes('of {n} (of 40 clips)')")
    rows = page.eval_on_selector_all("#clip-table tbody tr", "rs => rs.map(r => r.dataset.clip)")
    assert set(rows) == set(lassoed["ids"][:50])  # the first page of the lassoed clips
    assert page.inner_text("#selection-count").startswith(f"{n} ticked")

    # the lassoed clips made into a concept
    page.fill("#selection-concept-name", "lassoed on the map")
    page.click("#table-make-concept")
    page.wait_for_selector("#table-selection[data-concept]")
    concept_id = page.get_attribute("#table-selection", "data-concept")
    concept = httpx.get(f"{server}/api/concepts/{concept_id}").json()
    assert concept["n_clips"] == n

    # prototype usage over the whole collection: the counts of the prototypes sum to the 40 clips
    page.click("#collection-list li a[href^='#/collections']")
    page.wait_for_function("!location.hash.includes('selected=1')")
    page.wait_for_selector("#usage-list li")
    counts = page.eval_on_selector_all("#usage-list li", "ls => ls.map(l => Number(l.dataset.count))")
    assert sum(counts) == 40
    first = page.get_attribute("#usage-list li", "data-prototype")
    page.click("#usage-list li button.usage-open")
    page.wait_for_function(f"location.hash.includes('prototype={first}')")
    page.wait_for_function(f"document.querySelector('#table-count')?.textContent.includes('of {counts[0]} ')")

    ARTIFACTS.mkdir(exist_ok=True)
    for w, h in ((800, 600), (1920, 1080)):
        page.set_viewport_size({"width": w, "height": h})
        page.screenshot(path=str(ARTIFACTS / f"collections-{w}x{h}.png"), full_page=True)
    context.close()
    assert not problems, problems


def test_a_row_of_the_corpus_table_plays_and_opens_its_analysis(browser, server):
    context, page, problems = new_page(browser, server)
    page.goto("/#/collections?source=corpus&sort=error&order=asc")
    page.wait_for_selector("#clip-table tbody tr")
    assert "of 192" in page.inner_text("#table-count")
    first = page.locator("#clip-table tbody tr").first
    clip_id = first.get_attribute("data-clip")
    first.locator("button.play").click()
    page.wait_for_function("document.querySelector('#clip-table tbody tr audio')?.readyState >= 1")
    first.locator("button.open").click()
    page.wait_for_function("location.hash.startsWith('#/analyses/')")
    page.wait_for_selector("#panel-analyse:not([hidden]) #cross-class .card")
    analysis = httpx.get(f"{server}/api/analyses/{page.url.split('/analyses/')[1]}").json()
    assert analysis["clip_id"] == clip_id
    context.close()
    assert not problems, problems


def test_a_chosen_folder_sends_its_files_with_their_folders_as_labels(browser, server, tmp_path):
    import io
    import zipfile

    zipfile.ZipFile(io.BytesIO(timbre_archive(per_folder=1, top="takes"))).extractall(tmp_path)
    context, page, problems = new_page(browser, server)
    page.goto("/#/collections")
    page.wait_for_selector("#collection-list li")
    page.click("#collection-new summary")
    page.fill("#collection-name", "A folder of takes")
    page.set_input_files("#collection-folder", str(tmp_path / "takes"))
    page.click("#collection-create-button")
    page.wait_for_selector("#collection-create .progress[data-done=true]")
    page.wait_for_function("document.querySelector('#table-count')?.textContent.includes('of 4')")
    assert sorted(t.strip() for t in column(page, "label")) == ["bright", "dark", "hollow", "pure"]
    context.close()
    assert not problems, problems
