"""The Map tab in a real headless Chromium: the corpus drawn as points, hover to hear, a lasso or
a box selects clips, and the selection goes to the table or becomes a concept. Screenshots at
800x600 and 1920x1080 go to ``test-artifacts/``."""
from pathlib import Path

import httpx
import pytest

from auralens.models.embeddings.projection import umap_available
from auralens.server.app import create_app

from .helpers import CHROMIUM, SELECTION, drag_on_map, served, wav_bytes
from .sounds import harmonic_tone

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (tests/run.sh installs it)")

# how many pixels of the map's WebGL canvas are not the white background
COLOURED_PIXELS = """() => {
  document.querySelector("#map-plot").scatter.drawNow();  // the canvas keeps a frame only until it is shown
  const gl = document.querySelector("#map-plot canvas.scatter-gl");
  const c = document.createElement("canvas");
  c.width = gl.width; c.height = gl.height;
  const g = c.getContext("2d");
  g.drawImage(gl, 0, 0);
  const d = g.getImageData(0, 0, c.width, c.height).data;
  let n = 0;
  for (let i = 0; i < d.length; i += 4) if (d[i] < 235 || d[i + 1] < 235 || d[i + 2] < 235) n++;
  return n;
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with served(create_app(device="cpu", data_dir=tmp_path_factory.mktemp("data"))) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    # hovering is no user gesture: sounds may start without one here, as after a click on the page
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM),
                              args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required"])
        yield b
        b.close()


@pytest.fixture
def open_map(browser, server):
    """Open ``#/map`` (with ``query``) in a page of ``size``; the map drawn. Fails on page errors."""
    pages = []

    def open_(query: str = "", size=(1280, 900)):
        context = browser.new_context(viewport={"width": size[0], "height": size[1]}, base_url=server,
                                      bypass_csp=True)  # page.evaluate uses eval, which the page's CSP forbids
        page = context.new_page()
        page.problems = []
        page.on("pageerror", lambda e: page.problems.append(str(e)))
        page.set_default_timeout(60_000)
        page.goto(f"/#/map{query}")
        page.wait_for_selector("#map-plot[data-drawn]")
        pages.append((context, page))
        return page

    yield open_
    for context, page in pages:
        assert not page.problems, f"the page raised: {page.problems}"
        context.close()


def shoot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


@pytest.mark.parametrize("size", [(800, 600), (1920, 1080)])
def test_the_map_draws_every_corpus_clip_with_a_legend_of_its_classes(open_map, size):
    page = open_map("?source=corpus&space=timbre&method=pca", size)
    assert page.get_attribute("#map-plot", "data-drawn") == "192"
    assert page.locator("#map-legend li").count() == 16 and "flute (12)" in page.inner_text("#map-legend")
    assert page.evaluate(COLOURED_PIXELS) > 192 * 10  # the points are on the canvas
    assert "192 clips of the corpus" in page.inner_text("#map-status")
    shoot(page, f"map-corpus-{size[0]}x{size[1]}.png")


def test_a_lasso_selects_the_clips_inside_it_and_show_in_the_table_takes_them_there(open_map):
    page = open_map("?source=corpus&space=timbre&method=pca")
    page.click("#map-mode-lasso")
    drag_on_map(page, [(0.2, 0.15), (0.55, 0.1), (0.6, 0.6), (0.3, 0.9), (0.15, 0.5), (0.2, 0.15)])
    page.wait_for_selector("#map-count:has-text('selected')")
    chosen = page.evaluate(SELECTION)
    n = len(chosen["ids"])
    assert 0 < n < 192 and page.inner_text("#map-count") == f"{n} clip{'s' if n > 1 else ''} selected"
    assert chosen["source"] == "corpus" and "lasso" in chosen["label"]
    shoot(page, "map-lasso-1280x900.png")
    page.click("#map-show-table")
    page.wait_for_function("location.hash.startsWith('#/collections')")
    assert page.evaluate("location.hash") == "#/collections?source=corpus&selected=1"
    assert page.evaluate(SELECTION)["ids"] == chosen["ids"]  # the table finds them where the map left them


def test_a_box_around_the_whole_map_selects_every_clip_and_makes_a_concept_of_them(open_map, server):
    page = open_map("?source=corpus&space=pitch&method=pca", (1920, 1080))
    page.click("#map-mode-box")
    drag_on_map(page, [(0.005, 0.005), (0.995, 0.995)])
    page.wait_for_selector("#map-count:has-text('192 clips selected')")
    page.fill("#map-concept-name", "everything on the map")
    page.click("#map-make-concept")
    page.wait_for_selector(".message.info")
    shoot(page, "map-box-concept-1920x1080.png")
    made = [c for c in httpx.get(f"{server}/api/concepts").json() if c["name"] == "everything on the map"]
    assert len(made) == 1 and made[0]["n_clips"] == 192


def test_hovering_a_point_names_the_clip_and_plays_it(open_map):
    page = open_map("?source=corpus&space=timbre&method=pca", (800, 600))
    page.locator("#map-plot").scroll_into_view_if_needed()
    box = page.locator("#map-plot").bounding_box()
    sx, sy = page.evaluate("document.querySelector('#map-plot').scatter.screenOf(0)")  # the first clip's point
    px, py = box["x"] + sx, box["y"] + sy
    with page.expect_request(lambda r: "/audio.wav" in r.url) as sound:
        page.mouse.move(px - 20, py - 20)
        page.mouse.move(px, py, steps=4)
    page.wait_for_selector("#map-tooltip:not([hidden])")
    first = page.evaluate("fetch('/api/map?source=corpus&space=timbre&method=pca').then((r) => r.json()).then((m) => m.ids[0])")
    assert first in page.inner_text("#map-tooltip") and "heard as" in page.inner_text("#map-tooltip")
    assert f"/api/clips/{first}/audio.wav" in sound.value.url


def test_the_map_draws_under_the_pages_content_security_policy(browser, server):
    page = browser.new_page(viewport={"width": 1280, "height": 900})  # no CSP bypass here
    page.add_init_script("""document.addEventListener("securitypolicyviolation",
        (e) => (window.violations = window.violations || []).push(`${e.violatedDirective} ${e.blockedURI}`));""")
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{server}/#/map?source=corpus&space=learned&method=pca")
    page.wait_for_selector("#map-plot[data-drawn]", timeout=60_000)
    assert page.evaluate("window.violations || []") == [] and errors == []
    page.close()


def test_listen_plays_the_selected_clips_one_after_another(open_map):
    page = open_map("?source=corpus&space=timbre&method=pca", (1280, 900))
    page.click("#map-mode-box")
    drag_on_map(page, [(0.3, 0.3), (0.7, 0.7)])
    page.wait_for_selector("#map-count:has-text('selected')")
    ids = page.evaluate(SELECTION)["ids"]
    with page.expect_request(lambda r: f"/api/clips/{ids[0]}/audio.wav" in r.url):
        page.click("#map-listen")
    page.wait_for_selector(f"#map-listening:has-text('Playing 1 of {len(ids)}')")
    if len(ids) > 1:  # when the first has played, the second follows
        with page.expect_request(lambda r: f"/api/clips/{ids[1]}/audio.wav" in r.url, timeout=30_000):
            pass
    page.click("#map-listen")  # now "Stop"
    assert page.inner_text("#map-listen") == "Listen" and page.inner_text("#map-listening") == ""


@pytest.mark.skipif(not umap_available(), reason="needs umap-learn")
def test_choosing_umap_fits_it_with_a_progress_bar_then_draws_it_and_the_address_says_so(open_map):
    page = open_map("?source=corpus&space=learned&method=pca", (1280, 900))
    page.select_option("#map-method", "umap")
    page.wait_for_selector("#map-progress progress")  # fitting, as a job
    page.wait_for_function("document.querySelector('#map-status').textContent.includes('by UMAP')", timeout=120_000)
    page.wait_for_selector("#map-plot[data-drawn]")
    assert page.get_attribute("#map-plot", "data-drawn") == "192"
    assert "UMAP 1" in page.inner_text(".map-area") and page.locator("#map-progress progress").count() == 0
    assert page.evaluate("location.hash") == "#/map?source=corpus&space=learned&method=umap&colour=class"
    shoot(page, "map-umap-1280x900.png")


def test_uploads_laid_on_the_corpus_map_are_drawn_among_the_faint_corpus(open_map, server):
    for i, f0 in enumerate([130.8, 196.0, 261.6]):
        r = httpx.post(f"{server}/api/clips", files={"file": (f"note-{i}.wav", wav_bytes(harmonic_tone(f0, 1.0)))},
                       headers={"Origin": server})
        assert r.status_code in (200, 201), r.text
    page = open_map("?source=uploads&space=timbre&method=pca&on=corpus", (1280, 900))
    assert page.get_attribute("#map-plot", "data-drawn") == "3"
    assert "placed on the map of the corpus" in page.inner_text("#map-status")
    assert page.is_visible("#map-on") and page.input_value("#map-on") == "corpus"
    assert page.evaluate(COLOURED_PIXELS) > 192 * 10  # the corpus behind them
    shoot(page, "map-uploads-on-corpus-1280x900.png")
