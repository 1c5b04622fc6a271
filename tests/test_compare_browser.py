"""In headless Chromium: the aspects sliders of the Neighbours tab, and two models side by side
on a clip and on a source. Screenshots at 800x600 and 1920x1080 go to ``test-artifacts/``."""
from pathlib import Path

import httpx
import pytest

from auralens.server.app import create_app

from .helpers import CHROMIUM, chromium, served, wav_bytes
from .sounds import harmonic_tone, timbre_tone

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
SIZES = [(800, 600), (1920, 1080)]
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (tests/run.sh installs it)")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The app on the default bundle on a free port, with three uploads of made-up notes."""
    with served(create_app(device="cpu", data_dir=tmp_path_factory.mktemp("data"))) as url:
        for i, sound in enumerate([timbre_tone(196.0, "bright", 1.2), timbre_tone(98.0, "dark", 1.2),
                                   harmonic_tone(146.8, 1.5)]):
            r = httpx.post(f"{url}/api/clips", files={"file": (f"note-{i}.wav", wav_bytes(sound), "audio/wav")})
            assert r.status_code == 201, r.text
        yield url


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=server, bypass_csp=True)
    page = context.new_page()
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.set_default_timeout(60_000)
    yield page
    context.close()
    assert not problems, f"the page raised: {problems}"


def shoot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(400)  # plotly redraws after a resize
        page.screenshot(path=str(ARTIFACTS / f"{name}-{width}x{height}.png"), full_page=True)


def listed(page):
    return page.eval_on_selector_all("#neighbour-list li", "items => items.map((li) => li.dataset.clip)")


def test_the_aspects_sliders_change_the_neighbour_list(page):
    page.goto("/#/neighbours?clip=c-oboe-003&mode=aspects&weights=timbre:1")
    page.wait_for_selector("#neighbour-list[data-weights] li")
    assert page.input_value("#aspect-timbre") == "100" and page.input_value("#aspect-pitch") == "0"
    by_timbre = listed(page)
    assert page.locator("#neighbour-list li:first-child .aspect meter").count() == 1 + len(page.locator("#aspect-sliders input").all())
    page.fill("#aspect-timbre", "0")
    page.fill("#aspect-pitch", "100")
    page.wait_for_function("document.querySelector('#neighbour-list').dataset.weights.includes('pitch:1')")
    by_pitch = listed(page)
    assert by_pitch != by_timbre and len(by_pitch) == 10
    own = httpx.get(f"{page.url.split('#')[0]}api/clips/c-oboe-003/neighbours", params={"space": "pitch", "k": 10}).json()
    assert by_pitch == [h["clip_id"] for h in own]
    assert "weights=" in page.url and "pitch%3A1" in page.url  # the address keeps the blend
    blended = page.inner_text("#neighbour-list li:first-child .aspect.blended .aspect-value")
    assert 0 <= float(blended) <= 1
    page.fill("#aspect-tags", "50")
    page.wait_for_function("document.querySelector('#neighbour-list').dataset.weights.includes('tags:0.5')")
    shoot(page, "aspects")


def test_the_analyse_tab_opens_the_side_by_side_view_of_both_models(page):
    page.goto("/#/analyse?clip=c-flute-002")
    page.click("#analyse-offered")
    page.wait_for_selector("#to-compare")
    assert page.inner_text("#to-compare") == "Compare with latent"
    page.click("#to-compare")
    page.wait_for_selector("#side-a .main-svg")
    page.wait_for_selector("#side-b .main-svg")
    assert page.get_attribute("#side-a", "data-model") == "prototypes" and page.get_attribute("#side-b", "data-model") == "latent"
    assert "re-creates" in page.inner_text("#side-a .explanation")
    assert "closest" in page.inner_text("#side-b .explanation")
    assert page.locator("#side-a .explanation audio").count() == 2 and page.locator("#side-b .explanation audio").count() >= 1
    sentence = page.inner_text("#compare-sentence")
    assert sentence.startswith("Both models hear") or sentence.startswith("They disagree")
    assert page.is_hidden("#panel-analyse")
    shoot(page, "compare-clip")


def test_a_source_comparison_lists_the_disagreements_and_each_opens_side_by_side(page):
    page.goto("/#/compare?source=uploads&a=prototypes&b=clusters")
    page.wait_for_selector("#compare-confusion")
    assert "of 3 clips" in page.inner_text("#compare-sentence")
    cells = page.eval_on_selector_all("#compare-confusion td", "tds => tds.reduce((n, td) => n + Number(td.textContent || 0), 0)")
    assert cells == 3
    rows = page.locator("#disagreements li")
    assert rows.count() >= 1  # the two models part ways on these made-up notes
    assert page.is_hidden("#more-disagreements")  # all of them are listed
    clip = rows.first.get_attribute("data-clip")
    shoot(page, "compare-source")
    rows.first.locator("a").click()
    page.wait_for_selector("#side-b .main-svg")
    assert f"clip={clip}" in page.url and page.inner_text("#compare-sentence").startswith("They disagree")


def test_clips_picked_in_another_tab_can_be_compared(page):
    page.goto("/#/neighbours")
    page.wait_for_selector("#neighbour-list li")
    page.evaluate("""() => import("/js/selection.js").then((m) =>
        m.setSelection("corpus", ["c-harp-001", "c-viola-002", "c-trumpet-005"], "three picked"))""")
    page.evaluate("location.hash = '#/compare?source=selection&a=prototypes&b=latent'")
    page.wait_for_selector("#compare-confusion")
    assert "of 3 clips" in page.inner_text("#compare-sentence")
    assert "the clips you picked (3: three picked)" in page.inner_text("#compare-source")
