"""End to end in a real headless Chromium: the journeys a musicologist makes in the page.

The app runs in a thread on a free port; Chromium is Debian's (``/usr/bin/chromium``, which the
README's test command installs). Screenshots of each step are saved under ``test-artifacts/``.
"""
import contextlib
import io
import json
import re
import sqlite3
import zipfile
from pathlib import Path

import httpx
import numpy as np
import pytest

from auralens.models.bundle import load_bundle
from auralens.server.app import create_app

from .helpers import served, wav_bytes
from .sounds import harmonic_tone

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (tests/run.sh installs it)")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    """The data folder of the module's server (uploads, analyses)."""
    return tmp_path_factory.mktemp("data")


@pytest.fixture(scope="module")
def server(data_dir):
    """The app on the default bundle, served on a free local port; yields its base URL."""
    with served(create_app(device="cpu", data_dir=data_dir)) as url:
        yield url


def count_analyses(data_dir, clip_id: str | None = None) -> int:
    """How many analyses the server has stored (of clip ``clip_id`` only, when given)."""
    with contextlib.closing(sqlite3.connect(data_dir / "auralens.sqlite3")) as db:
        if clip_id is None:
            return db.execute("SELECT COUNT(*) FROM analyses").fetchone()[0]
        return db.execute("SELECT COUNT(*) FROM analyses WHERE clip_id = ?", (clip_id,)).fetchone()[0]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=[
            "--no-sandbox", "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            "--autoplay-policy=no-user-gesture-required"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser, server, request):
    # bypass_csp: Playwright's wait_for_function evaluates its predicate with eval, which the
    # page's Content-Security-Policy forbids (test_cross_site_browser.py checks every tab under it)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=server,
                                  permissions=["microphone"], bypass_csp=True)
    page = context.new_page()
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.set_default_timeout(60_000)
    yield page
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()
    assert not problems, f"the page raised: {problems}"


@pytest.fixture(scope="module")
def clip_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("clips") / "low-note.wav"
    path.write_bytes(wav_bytes(harmonic_tone(130.8, 2.0)))
    return path


def audio_loads(page, selector: str) -> float:
    """Make the audio element at ``selector`` load its source; returns its duration (s)."""
    src = page.eval_on_selector(selector, "a => a.src").split("#")[0]
    with page.expect_response(lambda r: r.url == src) as response:
        duration = page.eval_on_selector(selector, """a => new Promise((resolve, reject) => {
            a.onloadedmetadata = () => resolve(a.duration);
            a.onerror = () => reject(new Error("the audio did not load"));
            a.preload = "auto"; a.load();
        })""")
    assert response.value.status in (200, 206)  # Chromium asks for byte ranges
    return duration


def upload(page, path) -> None:
    page.goto("/#/analyse")
    page.wait_for_selector("#corpus-list li")
    page.set_input_files("#file-input", str(path))
    page.wait_for_selector("#cross-class .card")


def test_the_model_tab_shows_a_card_per_prototype_with_a_sound_that_plays(page):
    page.goto("/")
    page.wait_for_selector("#prototype-grid .card")
    assert page.locator("#prototype-grid .card").count() == 16
    assert "flute" in page.locator("#prototype-grid").inner_text()
    assert audio_loads(page, "#prototype-grid .card audio") == pytest.approx(1.5, abs=0.05)
    assert "orchestra16" in page.inner_text("#bundle-info")


def test_the_confusion_matrix_opens_as_a_chart(page):
    page.goto("/")
    page.click("text=Which classes it confuses")
    page.wait_for_selector("#confusion .main-svg")
    assert "heard as" in page.inner_text("#confusion")


def test_switching_model_shows_that_models_prototypes(page):
    page.goto("/")
    page.wait_for_selector("#prototype-grid .card")
    before = page.inner_text("#prototype-grid")
    page.select_option("#model-select", "clusters")
    page.wait_for_selector("#panel-model .about:has-text('without labels')")
    page.wait_for_function("t => document.getElementById('prototype-grid').innerText !== t", arg=before)
    assert "25.5 %" in page.inner_text("#panel-model .figures")  # the clusters model's recorded accuracy


def test_an_uploaded_clip_gets_a_prediction_stages_curves_and_the_cross_class_grid(page, clip_file):
    upload(page, clip_file)
    assert page.inner_text("#verdict").startswith("The model hears")
    page.wait_for_selector("#prediction-chart .main-svg")
    page.wait_for_function("document.querySelectorAll('#stages .stage .js-plotly-plot').length == 4")
    assert [page.get_attribute(f, "data-stage") for f in ["#stages .stage >> nth=0", "#stages .stage >> nth=3"]] == ["raw", "filters"]
    page.wait_for_selector("#curves .main-svg")
    assert "shift (semitones)" in page.inner_text("#curves")
    assert page.locator("#cross-class .card").count() == 16
    errors = [float(re.search(r"error (\d\.\d+)", t)[1]) for t in page.locator("#cross-class .card p").all_inner_texts()]
    assert errors == sorted(errors)  # ordered by how well each prototype re-creates the clip
    assert audio_loads(page, "#cross-class .card audio") == pytest.approx(2.0, abs=0.05)
    assert audio_loads(page, "#stages .stage[data-stage='raw'] audio") == pytest.approx(2.0, abs=0.05)


def test_ab_switches_between_the_original_and_a_reconstruction(page, clip_file):
    upload(page, clip_file)
    card = page.locator("#cross-class .card").nth(2)
    card.locator("button.ab").click()
    page.wait_for_function("!document.querySelectorAll('#cross-class .card')[2].querySelector('audio').paused")
    card.locator("button.ab").click()
    page.wait_for_function("!document.getElementById('original-audio').paused")
    assert page.eval_on_selector_all("#cross-class .card audio", "as => as.every(a => a.paused)")


def test_a_permalink_reopens_the_same_analysis_after_a_reload_and_elsewhere(page, browser, server, clip_file):
    upload(page, clip_file)
    url, verdict = page.url, page.inner_text("#verdict")
    assert "#/analyses/a-" in url and page.input_value("#permalink") == url
    page.reload()
    page.wait_for_selector("#cross-class .card")
    assert page.url == url and page.inner_text("#verdict") == verdict
    other = browser.new_context(base_url=server).new_page()
    other.goto(url)
    other.wait_for_selector("#cross-class .card", timeout=60_000)
    assert other.inner_text("#verdict") == verdict
    other.context.close()


def test_a_file_that_is_not_audio_gets_a_message_a_person_understands(page, tmp_path):
    notes = tmp_path / "notes.wav"
    notes.write_text("these are my notes, not a recording")
    page.goto("/#/analyse")
    page.wait_for_selector("#corpus-list li")
    page.set_input_files("#file-input", str(notes))
    message = page.wait_for_selector(".message[role=alert]").inner_text()
    assert "audio" in message.lower() and "500" not in message


def test_a_corpus_clip_picked_by_class_is_analysed(page):
    page.goto("/#/analyse")
    page.wait_for_selector("#corpus-list li")
    page.select_option("#corpus-class", "trumpet")
    page.wait_for_function("[...document.querySelectorAll('#corpus-list li')].every(li => li.innerText.startsWith('trumpet'))")
    page.locator("#corpus-list li button").first.click()
    page.wait_for_selector("#cross-class .card")
    assert "trumpet" in page.inner_text("#verdict")


def test_what_if_sliders_re_render_the_sound_and_the_decision(page):
    page.goto("/")
    page.wait_for_selector("#prototype-grid .card")
    page.locator("#prototype-grid .card button", has_text="What if").nth(7).click()
    page.wait_for_selector("#what-if .verdict:has-text('hears this sound')")
    page.eval_on_selector("#wi-shift", "s => { s.value = -12; s.dispatchEvent(new Event('input')); }")
    page.wait_for_function("document.querySelector('#what-if audio').src.includes('shift_semitones=-12')")
    assert page.inner_text("label[for=wi-shift] + input + output") == "-12.0 semitones"
    assert audio_loads(page, "#what-if audio") == pytest.approx(1.5, abs=0.05)
    page.wait_for_selector("#what-if .main-svg")


def test_what_if_says_why_an_untouched_prototype_is_heard_as_another_class(page, server):
    page.goto("/")
    page.wait_for_selector("#prototype-grid .card")
    model = page.input_value("#model-select")
    count = len(httpx.get(f"{server}/api/models/{model}/prototypes").json())
    heard = [httpx.get(f"{server}/api/models/{model}/prototypes/{k}/what-if").json() for k in range(count)]
    other = next(k for k, h in enumerate(heard) if h["prediction"][0]["label"] != h["label"])
    page.locator("#prototype-grid .card button", has_text="What if").nth(other).click()
    page.wait_for_selector("#what-if .verdict:has-text('Untouched, it is not heard as its own class')")
    page.eval_on_selector("#wi-gain", "s => { s.value = 6; s.dispatchEvent(new Event('input')); }")
    page.wait_for_function("document.querySelector('#what-if audio').src.includes('gain_db=6')")
    page.wait_for_function("!document.querySelector('#what-if .verdict').innerText.includes('Untouched')")


def test_export_shows_progress_and_offers_the_zip(page, server, clip_file):
    upload(page, clip_file)
    page.click("#export")
    link = page.wait_for_selector("#export-link", timeout=120_000)
    archive = zipfile.ZipFile(io.BytesIO(httpx.get(server + link.get_attribute("href")).content))
    assert "analysis.json" in archive.namelist()


def test_recording_from_the_microphone_uploads_and_analyses_it(page):
    page.goto("/#/analyse")
    page.wait_for_selector("#corpus-list li")
    page.click("#record")
    page.wait_for_selector("#record.recording")
    page.wait_for_timeout(1500)
    page.click("#record")
    page.wait_for_selector("#cross-class .card")
    assert "recording-" in page.inner_text(".summary h2")


def test_the_tabs_answer_the_keyboard(page):
    page.goto("/")
    page.wait_for_selector("#prototype-grid .card")
    page.focus("#tab-model")
    page.keyboard.press("ArrowRight")
    page.wait_for_selector("#panel-analyse:not([hidden])")
    assert page.get_attribute("#tab-analyse", "aria-selected") == "true" and page.url.endswith("#/analyse")


def test_tcav_of_a_built_in_concept_runs_from_the_page_and_shows_scores_and_verdicts(page):
    page.goto("/#/concepts")
    page.wait_for_selector("#concept-library li")
    assert "built in" in page.inner_text("#concept-library")
    for label in ["accordion", "alto sax", "bass tuba", "bassoon", "clarinet", "contrabass", "french horn", "guitar",
                  "harp", "oboe", "trombone", "trumpet", "viola", "violin"]:
        page.uncheck(f"label.check:has-text('{label}') >> input[id^=tcav-class]")
    page.click("#tcav-run")
    page.wait_for_selector("#tcav-result .tcav-chart .main-svg", timeout=180_000)
    table = page.inner_text("#tcav-result .tcav-table")
    assert "cello" in table and "flute" in table and "random" in page.inner_text("#tcav-result").lower()
    assert page.locator("#tcav-result .tcav-table tbody tr").count() == 2
    assert audio_loads(page, "#tcav-result .clip-list audio") > 0
    assert "#/concepts?tcav=j-" in page.url


def test_a_concept_made_from_twenty_corpus_clips_joins_the_library(page):
    page.goto("/#/concepts")
    page.wait_for_selector("#concept-library li")
    page.click("#concept-maker summary")
    page.select_option("#concept-pick-class", "trumpet")
    page.wait_for_function("document.querySelectorAll('#concept-clips li').length == 12")
    for box in page.locator("#concept-clips input[type=checkbox]").all():
        box.check()
    page.select_option("#concept-pick-class", "trombone")
    page.wait_for_function("[...document.querySelectorAll('#concept-clips li')].every(li => li.innerText.startsWith('trombone'))")
    page.fill("#concept-name", "low brass")
    page.click("#concept-create")
    assert "at least 20" in page.wait_for_selector(".message[role=alert]").inner_text()
    for box in page.locator("#concept-clips input[type=checkbox]").all()[:8]:
        box.check()
    assert page.inner_text("#concept-count") == "20 chosen"
    page.click("#concept-create")
    page.wait_for_selector("#concept-library li:has-text('low brass')")
    assert "20 clips" in page.inner_text("#concept-library li:has-text('low brass')")


def test_discovery_shows_concepts_with_excerpts_to_hear(page):
    page.goto("/#/concepts")
    page.wait_for_selector("#concept-library li")
    page.fill("#disc-rank", "3")
    page.click("#disc-run")
    page.wait_for_selector("#discovery-result .component canvas", timeout=180_000)
    assert page.locator("#discovery-result .component").count() == 3
    assert audio_loads(page, "#discovery-result .component audio") > 0


def test_a_long_clip_gets_a_timeline_and_spectrograms_tell_hz_and_notes_on_hover(page, tmp_path):
    low, high = harmonic_tone(110.0, 3.0), harmonic_tone(880.0, 3.0)
    path = tmp_path / "two-notes.wav"
    path.write_bytes(wav_bytes(np.concatenate([low, high])))
    upload(page, path)
    page.wait_for_selector("#timeline .main-svg")
    assert "best prototype" in page.inner_text("#timeline")
    plot = page.wait_for_selector("#curves .nsewdrag")
    plot.scroll_into_view_if_needed()
    box = plot.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.8)
    hover = page.wait_for_selector(".hovertext").text_content()
    assert re.search(r"\d+(\.\d+)? k?Hz \([A-G]♯?-?\d", hover), hover


def test_an_uploaded_clip_has_neighbours_in_every_space_with_sound(page, clip_file):
    upload(page, clip_file)
    page.click("#to-neighbours")
    page.wait_for_selector("#neighbour-list li")
    spaces = page.eval_on_selector_all(".space-buttons button", "bs => bs.map(b => b.dataset.space)")
    assert {"timbre", "pitch", "learned", "tags"} <= set(spaces)
    for space in spaces:
        page.click(f".space-buttons button[data-space='{space}']")
        page.wait_for_selector(f"#neighbour-list[data-space='{space}'] li")
        assert page.locator("#neighbour-list li").count() == 10
        assert page.inner_text("#space-about")
    assert audio_loads(page, "#neighbour-list li audio") > 0


def test_the_corpus_can_be_searched_by_words_and_unknown_words_are_explained(page):
    page.goto("/#/neighbours")
    page.wait_for_selector("#neighbour-list li")
    page.fill("#tag-search", "brass ff")
    page.press("#tag-search", "Enter")
    page.wait_for_selector("#tag-list li")
    assert "brass" in page.inner_text("#tag-list")
    page.fill("#tag-search", "muted brass")
    page.click("#tag-search-run")
    assert "muted" in page.wait_for_selector("#ignored-words").inner_text()
    page.fill("#tag-search", "muted")
    page.click("#tag-search-run")
    assert "muted" in page.wait_for_selector(".message[role=alert]").inner_text()


def test_the_model_tab_reports_the_quality_of_each_embedding_space(page):
    page.goto("/")
    page.wait_for_selector("#spaces-table")
    table = page.inner_text("#spaces-table")
    assert "timbre" in table and "Davies-Bouldin" in table and "all together" in table


def test_the_latent_model_shows_prototypes_heard_two_ways_and_classifies_a_clip_by_similarity(page, clip_file):
    page.goto("/")
    page.wait_for_selector("#prototype-grid .card")
    page.select_option("#model-select", "latent")
    page.wait_for_selector("#prototype-grid .card .rendering")
    card = page.locator("#prototype-grid .card").first
    assert "Decoded prototype" in card.inner_text() and "Nearest training clip" in card.inner_text()
    assert audio_loads(page, "#prototype-grid .card .rendering audio") > 1.0
    page.goto("/#/analyse")
    page.wait_for_selector("#corpus-list li")
    assert page.input_value("#analyse-model") == "latent"  # the model chosen on the Model tab
    page.set_input_files("#file-input", str(clip_file))
    page.wait_for_selector("#similarity-chart .main-svg")
    assert page.inner_text("#verdict").startswith("The model hears")
    assert page.locator("#cross-class .card").count() == 48


# -- seeking, history, excerpts ---------------------------------------------------------------
@contextlib.contextmanager
def started_at(page, selector: str):
    """Inside the block something starts the audio element at ``selector``; on leaving, waits
    until it plays and yields into ``times`` the currentTime it started at (s)."""
    page.eval_on_selector(selector, """a => { a.startedAt = null;
        a.addEventListener("playing", () => { if (a.startedAt === null) a.startedAt = a.currentTime; }, { once: true }); }""")
    times = []
    yield times
    page.wait_for_function(f"document.querySelector({selector!r}).startedAt !== null", timeout=20_000)
    times.append(page.eval_on_selector(selector, "a => a.startedAt"))


def test_a_seek_lands_where_it_was_sent_and_ab_switches_at_that_moment(page, tmp_path):
    path = tmp_path / "long-note.wav"
    path.write_bytes(wav_bytes(harmonic_tone(196.0, 6.0)))
    upload(page, path)
    seeked = page.eval_on_selector("#original-audio", """a => new Promise((resolve) => {
        const go = () => { a.addEventListener("seeked", () => resolve({ at: a.currentTime,
            seekable: a.seekable.length ? a.seekable.end(0) : 0 }), { once: true }); a.currentTime = 3.5; };
        a.readyState >= 1 ? go() : a.addEventListener("loadedmetadata", go, { once: true });
    })""")
    assert seeked["seekable"] == pytest.approx(6.0, abs=0.05)
    assert seeked["at"] == pytest.approx(3.5, abs=0.01)
    b = "#cross-class .card:nth-child(2) audio"
    with started_at(page, b) as at_b:
        page.click("#cross-class .card:nth-child(2) button.ab")  # nothing playing: B from where A is
    assert at_b[0] == pytest.approx(3.5, abs=0.15)
    page.wait_for_timeout(400)
    with started_at(page, "#original-audio") as at_a:
        page.click("#cross-class .card:nth-child(2) button.ab")  # B playing: A from where B is
    b_stopped = page.eval_on_selector(b, "a => a.currentTime")
    assert at_a[0] > 3.6 and at_a[0] == pytest.approx(b_stopped, abs=0.15)


def test_back_from_an_analysis_started_on_the_model_tab_returns_there_and_writes_nothing(page, data_dir):
    page.goto("/")
    page.wait_for_selector("#prototype-grid .card")
    card = page.locator("#prototype-grid .card").nth(3)
    card.locator("details summary").click()
    before = count_analyses(data_dir)
    card.locator("details button", has_text="Analyse").first.click()
    page.wait_for_selector("#cross-class .card")
    assert count_analyses(data_dir) == before + 1 and "#/analyses/a-" in page.url
    page.go_back()
    page.wait_for_selector("#panel-model:not([hidden]) #prototype-grid .card")
    assert page.url.endswith("/") or page.url.endswith("#/model")
    page.go_forward()
    page.wait_for_selector("#panel-analyse:not([hidden]) #cross-class .card")
    page.go_back()
    page.wait_for_selector("#panel-model:not([hidden])")
    assert count_analyses(data_dir) == before + 1


def test_an_address_that_names_a_clip_offers_it_and_writes_no_analysis(page, server, data_dir):
    clip = httpx.get(f"{server}/api/clips?origin=corpus&limit=1").json()["clips"][0]
    before = count_analyses(data_dir)
    page.goto(f"/#/analyse?clip={clip['id']}")
    page.wait_for_selector("#analyse-offered")
    page.reload()
    page.wait_for_selector("#analyse-offered")
    assert count_analyses(data_dir) == before
    page.click("#analyse-offered")
    page.wait_for_selector("#cross-class .card")
    assert count_analyses(data_dir) == before + 1


def test_a_discovered_concepts_moment_plays_only_that_excerpt(page, server):
    started = httpx.post(f"{server}/api/discoveries", json={"classes": ["flute", "trumpet", "cello"], "rank": 3}).json()
    page.goto(f"/#/concepts?discovery={started['job_id']}")
    button = page.wait_for_selector("#discovery-result .component .excerpt-play", timeout=180_000)
    start, end = (float(x) for x in re.findall(r"\d+\.\d+", button.inner_text()))
    audio = "#discovery-result .component .excerpt-player audio"
    with started_at(page, audio) as at:
        button.click()
    assert at[0] == pytest.approx(start, abs=0.05)
    page.wait_for_function(f"document.querySelector('{audio}').paused", timeout=10_000)
    assert page.eval_on_selector(audio, "a => a.currentTime") == pytest.approx(end, abs=0.08)


def test_the_confusion_matrix_colours_empty_cells_pale_and_the_diagonal_dark(page):
    page.goto("/")
    page.click("text=Which classes it confuses")
    page.wait_for_selector("#confusion .main-svg image")
    # the heatmap is one image over the plot area, a cell per class pair: read back its pixels
    cells = page.eval_on_selector("#confusion .main-svg image", """img => new Promise((resolve) => {
        const picture = new Image();
        picture.onload = () => {
            const canvas = document.createElement("canvas");
            canvas.width = picture.width; canvas.height = picture.height;
            const ctx = canvas.getContext("2d");
            ctx.drawImage(picture, 0, 0);
            const n = document.getElementById("confusion").data[0].z.length;
            const light = (i, j) => {
                const [r, g, b] = ctx.getImageData(Math.floor((j + 0.5) * canvas.width / n),
                                                   Math.floor((i + 0.5) * canvas.height / n), 1, 1).data;
                return 0.2126 * r + 0.7152 * g + 0.0722 * b;
            };
            const z = document.getElementById("confusion").data[0].z;
            const out = [];
            for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out.push({ z: z[i][j], light: light(i, j) });
            resolve(out);
        };
        picture.src = img.getAttribute("href");
    })""")
    empty = [c["light"] for c in cells if c["z"] == 0]
    full = [c["light"] for c in cells if c["z"] > 0.9]
    assert empty and full and min(empty) > 240 and max(full) < 90


# -- uploads --------------------------------------------------------------------------------------
def test_the_same_file_uploaded_twice_is_one_entry_in_the_uploads(page, tmp_path):
    path = tmp_path / "twice.wav"
    path.write_bytes(wav_bytes(harmonic_tone(174.6, 1.5)))
    upload(page, path)
    first = page.url
    upload(page, path)  # the first analysis's cards are still shown: wait until the second one is
    page.wait_for_selector(".message.info:has-text('uploaded before')")
    page.wait_for_function("first => location.href !== first && document.body.dataset.analysis === location.hash.split('/').pop()",
                           arg=first)
    page.click(".chooser summary")
    page.wait_for_selector("#uploads-list li:has-text('twice.wav')")
    assert page.locator("#uploads-list li", has_text="twice.wav").count() == 1 and page.url != first


def test_an_upload_is_renamed_labelled_and_deleted_with_its_analyses_after_a_confirmation(page, tmp_path, data_dir):
    path = tmp_path / "take 7.wav"
    path.write_bytes(wav_bytes(harmonic_tone(233.1, 1.5)))
    upload(page, path)
    clip_id = page.eval_on_selector("#to-neighbours", "a => new URLSearchParams(a.hash.split('?')[1]).get('clip')")
    page.click(".chooser summary")
    item = page.locator(f"#uploads-list li[data-clip='{clip_id}']")
    item.locator("button", has_text="Rename or label").click()
    item.locator("input[aria-label^='New name']").fill("<b>Suite</b> no. 1")
    item.locator("input[aria-label^='Label']").fill("cello")
    item.locator("button", has_text="Save").click()
    page.wait_for_selector(f"#uploads-list li[data-clip='{clip_id}']:has-text('no. 1')")
    assert item.locator(".name").inner_text().startswith("cello · <b>Suite</b> no. 1")  # typed text stays text
    assert item.locator(".name b").count() == 0
    assert count_analyses(data_dir, clip_id) == 1
    item.locator("button", has_text="Delete").click()
    assert "its 1 analysis" in item.locator(".confirm").inner_text()
    item.locator(".confirm button", has_text="Keep it").click()
    assert count_analyses(data_dir, clip_id) == 1
    item.locator("button", has_text="Delete").click()
    item.locator(".confirm button", has_text="Delete").click()
    page.wait_for_selector(f"#uploads-list li[data-clip='{clip_id}']", state="detached")
    assert count_analyses(data_dir, clip_id) == 0 and "#/analyses/" not in page.url


# -- keyboard and legibility ------------------------------------------------------------------------
OVERLAPPING_TEXT = """root => {
    const boxes = [];
    for (const t of root.querySelectorAll(".main-svg text")) {
        const r = t.getBoundingClientRect();
        if (t.textContent.trim() && r.width > 0 && r.height > 0 && !t.closest(".hoverlayer")) boxes.push([t.textContent, r]);
    }
    const out = [];
    for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
        const a = boxes[i][1], b = boxes[j][1];
        if (Math.min(a.right, b.right) - Math.max(a.left, b.left) > 1 && Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 1)
            out.push(`${boxes[i][0]} / ${boxes[j][0]}`);
    }
    return out;
}"""


def test_no_label_of_an_analysis_figure_overlaps_another_at_800_1366_and_1920_px(page, tmp_path):
    path = tmp_path / "two-notes.wav"
    path.write_bytes(wav_bytes(np.concatenate([harmonic_tone(110.0, 3.0), harmonic_tone(880.0, 3.0)])))
    upload(page, path)
    page.wait_for_selector("#timeline .main-svg")
    page.wait_for_function("document.querySelectorAll('#stages .stage .js-plotly-plot').length == 4")
    page.wait_for_selector("#curves .main-svg")
    for width, height in [(800, 600), (1366, 768), (1920, 1080)]:
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(600)  # plotly redraws after a resize
        assert page.eval_on_selector("#analysis", OVERLAPPING_TEXT) == [], width


def test_the_hidden_file_input_is_no_tab_stop(page):
    page.goto("/#/analyse")
    page.wait_for_selector("#corpus-list li")
    page.focus("#drop-zone")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "record"


def test_after_analyse_the_keyboard_focus_is_on_the_new_analysis(page):
    page.goto("/#/analyse")
    page.wait_for_selector("#corpus-list li")
    page.focus("#corpus-list li button")
    page.keyboard.press("Enter")
    page.wait_for_selector("#cross-class .card")
    page.wait_for_function("document.activeElement.matches('.summary h2')")


def test_tab_crosses_the_cross_class_grid_in_a_few_presses_and_arrows_move_between_cards(page, clip_file):
    upload(page, clip_file)
    # the analysis finished: it has put the focus on its heading, and moves it no more
    page.wait_for_function("document.body.dataset.analysis")
    page.focus("#cross-class .card:first-child button.ab")
    presses = 0
    while page.evaluate("document.activeElement.closest('#cross-class') !== null") and presses < 100:
        page.keyboard.press("Tab")
        presses += 1
    assert presses <= 4
    page.focus("#cross-class .card:first-child button.ab")
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.matches('#cross-class .card:nth-child(2) button.ab')")
    page.keyboard.press("End")
    assert page.evaluate("document.activeElement.matches('#cross-class .card:last-child button.ab')")


# -- musical axes ---------------------------------------------------------------------------------
def axis_of(page, selector: str, axis: str = "yaxis") -> dict:
    return page.eval_on_selector(selector, f"d => ({{ type: d.layout.{axis}.type, vals: d.layout.{axis}.tickvals, "
                                           f"text: d.layout.{axis}.ticktext, range: d._fullLayout.{axis}.range }})")


def test_spectrograms_have_a_note_grid_that_follows_the_pitch_of_a4(page, clip_file):
    upload(page, clip_file)
    page.wait_for_selector("#curves .main-svg")
    before = axis_of(page, "#curves")
    assert {"C1", "C4", "C6"} <= set(before["text"]) and "A4 = 440 Hz" in page.inner_text("#curves")
    assert page.eval_on_selector("#curves", "d => d.layout.shapes.length") >= 7  # a line per C
    page.fill("#axis-a4", "415")
    page.press("#axis-a4", "Enter")
    page.wait_for_selector("#curves :text('A4 = 415 Hz')")
    after = axis_of(page, "#curves")
    c4 = lambda a: a["vals"][a["text"].index("C4")]
    assert c4(after) < c4(before)  # C4 a semitone lower with A4 at 415 Hz
    page.fill("#axis-a4", "440")
    page.press("#axis-a4", "Enter")


def test_the_frequency_scale_can_be_logarithmic_or_linear_in_hz(page, clip_file):
    upload(page, clip_file)
    page.wait_for_function("document.querySelectorAll('#stages .stage .js-plotly-plot').length == 4")
    page.select_option("#axis-scale", "log")
    page.wait_for_function("document.getElementById('curves').layout.yaxis.type === 'log'")
    assert axis_of(page, "#stages .stage .js-plotly-plot")["type"] == "log"
    page.select_option("#axis-scale", "linear")
    page.wait_for_function("document.getElementById('curves').layout.yaxis.type === 'linear'")
    assert axis_of(page, "#curves")["range"][1] == pytest.approx(10771.6, abs=1)  # Hz, the top band
    page.select_option("#axis-scale", "mel")


def test_clicking_a_spectrogram_seeks_its_sound_and_the_playhead_follows(page, clip_file):
    upload(page, clip_file)
    plot = "#stages .stage[data-stage='filters'] .js-plotly-plot"
    page.wait_for_selector(f"{plot} .nsewdrag").scroll_into_view_if_needed()
    box = page.locator(f"{plot} .nsewdrag").bounding_box()
    page.mouse.move(box["x"] + 0.25 * box["width"], box["y"] + 0.5 * box["height"])  # plotly clicks what it hovers
    audio = "#stages .stage[data-stage='filters'] audio"
    with started_at(page, audio) as at:
        page.mouse.click(box["x"] + 0.25 * box["width"], box["y"] + 0.5 * box["height"])
    assert at[0] == pytest.approx(0.5, abs=0.1)  # a quarter into the 2 s clip
    page.wait_for_timeout(300)
    where = page.eval_on_selector(plot, """d => {
        const a = d.closest('.stage').querySelector('audio');
        a.pause();
        const xa = d._fullLayout.xaxis;
        return { line: parseFloat(d.querySelector('.playhead').style.left), expected: xa._offset + xa.l2p(a.currentTime) };
    }""")
    assert where["line"] == pytest.approx(where["expected"], abs=3)


# -- honest headlines, plain words --------------------------------------------------------------
def test_the_model_tab_leads_with_what_it_gets_right_on_recordings_it_has_never_heard(page):
    page.goto("/")
    headline = page.wait_for_selector("#panel-model .figures > :first-child")
    text = headline.inner_text()
    assert headline.get_attribute("id") == "model-headline"
    assert "never heard" in text and "about 4 in 10 (38 %)" in text and "TimGM6mb" in text  # the bundle's figure
    assert "100 %" in text and "Guessing would be right 6 %" in text


def test_an_analysis_says_what_sure_means_and_how_its_errors_compare(page, clip_file):
    upload(page, clip_file)
    meaning = page.inner_text("#confidence-meaning")
    assert "never heard it names the instrument right about 4 in 10" in meaning
    card = page.locator("#cross-class .card p").first.inner_text()
    assert "typical test clip" in card
    assert page.locator("#cross-class .card .term[title^='reconstruction error']").count() == 16


def test_embedding_figures_have_words_chance_and_the_technical_name_in_a_tooltip(page):
    page.goto("/")
    table = page.wait_for_selector("#spaces-table").inner_text()
    assert "chance 6 %" in table and "best space here" in table
    assert page.locator("#spaces-table .term[title^='Davies-Bouldin index']").count() >= 5
    assert page.locator("#panel-model .metrics .term[title^='macro F1']").count() == 1


def test_tcav_shows_one_p_value_the_one_behind_its_verdict(page, server):
    started = httpx.post(f"{server}/api/tcav", json={"concepts": ["builtin-staccato"], "classes": ["flute", "cello"],
                                                      "layers": ["encoder.down.2"], "runs": 10}).json()
    page.goto(f"/#/concepts?tcav={started['job_id']}")
    page.wait_for_selector("#tcav-result .tcav-table tbody tr", timeout=180_000)
    for row in page.locator("#tcav-result .tcav-table tbody tr").all():
        evidence = row.locator("td.evidence").inner_text()
        assert re.fullmatch(r"(significant|no evidence) \((p = (< 0\.001|[01]\.\d{3})|the two measures disagree in direction)\)", evidence)
        assert not (evidence.startswith("no evidence") and "< 0.001" in evidence)
        assert not row.locator("details").get_attribute("open")  # the other test's figures behind a disclosure
    assert "Can this depth tell the concept from random clips?" in page.inner_text("#tcav-result")


@pytest.fixture(scope="module")
def plain_analysis(server, clip_file) -> str:
    """The id of one analysis of ``clip_file`` by the spectral model, shared by the tests that
    change how it is served (its reconstructions are then rendered once)."""
    clip = httpx.post(f"{server}/api/clips", files={"file": ("low-note.wav", clip_file.read_bytes())}).json()
    return httpx.post(f"{server}/api/analyses", json={"clip_id": clip["id"], "model": "prototypes"}).json()["id"]


def analysis_as_served(page, analysis_id: str, trust=None, reference_midi=None, without_trust=False) -> str:
    """Make the page receive analysis ``analysis_id`` as a model measuring trust and anchoring
    its prototypes at a reference pitch would serve it: ``trust`` and, per prototype,
    ``reference_midi`` added to the API's answer (whatever the server's schema says today);
    ``without_trust``: as a model with no trust score fitted serves it. Returns the id."""

    def served(route):
        body = route.fetch().json()
        if without_trust:
            body.pop("trust", None)
        if reference_midi is not None:
            body["prototypes"] = [{**p, "reference_midi": reference_midi} for p in body["prototypes"]]
        if trust is not None:
            body["trust"] = trust
        route.fulfill(json=body)

    page.route(f"**/api/analyses/{analysis_id}", served)
    return analysis_id


def test_an_analysis_of_a_clip_unlike_anything_the_model_knows_says_so_first(page, plain_analysis):
    message = "This does not sound like any instrument the model knows; treat the ranking with care."
    analysis = analysis_as_served(page, plain_analysis, trust={"verdict": "unlike", "message": message, "score": 0.02})
    page.goto(f"/#/analyses/{analysis}")
    first = page.wait_for_selector(".summary h2 + *")
    assert first.get_attribute("id") == "trust" and first.get_attribute("role") == "alert"
    assert first.inner_text() == f"Take care: {message}"
    assert "unlike what it knows" in page.inner_text("#verdict")
    trust_box, ranking = page.locator("#trust").bounding_box(), page.locator("#prediction-chart").bounding_box()
    assert trust_box["y"] < ranking["y"]  # before the ranking


def test_an_analysis_the_model_trusts_says_so_quietly_and_one_without_trust_as_before(page, plain_analysis):
    liked = analysis_as_served(page, plain_analysis, trust={"verdict": "like", "message": "Like the clips it learned from."})
    page.goto(f"/#/analyses/{liked}")
    note = page.wait_for_selector("#trust")
    assert note.get_attribute("data-verdict") == "like" and note.inner_text() == "Like the clips it learned from."
    assert "unlike" not in page.inner_text("#verdict")
    analysis_as_served(page, plain_analysis, without_trust=True)  # the route added last answers
    page.reload()
    page.wait_for_selector(f"body[data-analysis='{plain_analysis}'] #cross-class .card")
    assert page.locator("#trust").count() == 0


def test_a_calibrated_model_says_what_its_confidence_means_and_how_far_off_it_is(page, plain_analysis):
    trust = load_bundle().entry("prototypes").metrics["trust"]
    worst = max((trust["calibration"]["sets"][name] for name in trust["checks_flagged"]), key=lambda s: s["ece_after"])
    page.goto(f"/#/analyses/{plain_analysis}")
    meaning = page.wait_for_selector("#confidence-meaning").inner_text()
    assert meaning.startswith("“Sure” is how often the model expects to be right")
    assert f"off by about {round(100 * worst['ece_after'])} percentage points" in meaning


def test_with_a_reference_pitch_the_pitch_curve_reads_as_the_notes_played(page, server, plain_analysis):
    analysis = analysis_as_served(page, plain_analysis, reference_midi=57.0)  # A3
    page.goto(f"/#/analyses/{analysis}")
    page.wait_for_selector("#curves .main-svg")
    trace = page.eval_on_selector("#curves", """d => { const t = d.data.find(t => t.name === 'note played');
        return { y: t.y, names: t.customdata.map(c => c[0]), ticks: d.layout.yaxis3.ticktext }; }""")
    shown = page.input_value("#prototype-select")
    rec = httpx.get(f"{server}/api/analyses/{analysis}/reconstructions/{shown}", params={"stage": "filters"}).json()
    assert trace["y"] == pytest.approx([57.0 + st for st in rec["transforms"]["shift_semitones"]], abs=1e-6)
    assert all(re.fullmatch(r"[A-G]♯?\d( [+−]\d+ cents)?", n) for n in trace["names"])
    assert trace["ticks"] and all(re.fullmatch(r"[A-G]♯?\d", t) for t in trace["ticks"])
    assert "note played (the prototype's A3 + its pitch shift)" in page.inner_text("#curves")
    assert "prototype, A3" in page.inner_text("#cross-class .card h3 >> nth=0")


def test_without_a_reference_pitch_the_pitch_curve_stays_in_semitones(page, plain_analysis):
    analysis = analysis_as_served(page, plain_analysis)
    page.goto(f"/#/analyses/{analysis}")
    page.wait_for_selector("#curves .main-svg")
    names = page.eval_on_selector("#curves", "d => d.data.map(t => t.name)")
    assert "pitch shift" in names and "note played" not in names
    assert "pitch shift (semitones)" in page.inner_text("#curves")


def test_every_tab_at_800x600_and_1920x1080_has_no_overlapping_figure_labels(page, server, clip_file):
    upload(page, clip_file)
    analysis = page.url.split("#")[1]
    tcav = httpx.post(f"{server}/api/tcav", json={"concepts": ["builtin-staccato"], "classes": ["flute", "cello"],
                                                   "layers": ["encoder.down.2"], "runs": 10}).json()["job_id"]
    tabs = [("model", "#/model", "#confusion .main-svg"), ("analyse", f"#{analysis}", "#curves .main-svg"),
            ("neighbours", "#/neighbours", "#neighbour-list li"), ("concepts", f"#/concepts?tcav={tcav}", "#tcav-result .main-svg")]
    ARTIFACTS.mkdir(exist_ok=True)
    for width, height in [(800, 600), (1920, 1080)]:
        page.set_viewport_size({"width": width, "height": height})
        for name, address, ready in tabs:
            page.goto(f"/{address}")
            if name == "model":
                page.wait_for_selector("#prototype-grid .card")
                page.eval_on_selector(".confusion-box", "d => { d.open = true; }")
            page.wait_for_selector(ready, timeout=180_000)
            page.wait_for_timeout(500)
            page.screenshot(path=str(ARTIFACTS / f"walkthrough-{name}-{width}x{height}.png"), full_page=True)
            assert page.eval_on_selector("main", OVERLAPPING_TEXT) == [], (name, width)


def test_concept_tests_offer_named_depths_that_choose_the_layers(page):
    page.goto("/#/concepts")
    page.wait_for_selector("#tcav-depths input")
    labels = page.locator("#tcav-depths label").all_inner_texts()
    assert [t.strip() for t in labels] == ["early - spectral detail", "middle", "late - close to the decision"]
    assert page.is_checked("#tcav-depths input[value='encoder.down.2']")  # the default layer
    assert not page.is_visible("#tcav-layer")  # the technical names behind a disclosure
    page.check("#tcav-depths input[value='encoder.last']")
    page.uncheck("#tcav-depths input[value='encoder.down.2']")
    assert page.eval_on_selector("#tcav-layer", "s => [...s.selectedOptions].map(o => o.value)") == ["encoder.last"]


def test_each_neighbour_shows_its_spectrogram_and_tags_and_switches_with_the_query_at_the_same_moment(page):
    page.goto("/#/neighbours")
    page.wait_for_selector("#neighbour-list li")
    row = "#neighbour-list li:first-child"
    page.wait_for_function(f"document.querySelector('{row} canvas.mini').width !== 300")  # drawn from its spectrogram
    words = page.inner_text("#neighbour-list")
    assert re.search(r"\d\.\d s note", words) and ("vibrato" in words or "reverberant" in words) and "velocity" not in words
    page.eval_on_selector("#query-audio", """a => new Promise((resolve) => {
        const go = () => { a.addEventListener("seeked", resolve, { once: true }); a.currentTime = 0.8; };
        a.readyState >= 1 ? go() : (a.addEventListener("loadedmetadata", go, { once: true }), a.preload = "auto", a.load());
    })""")
    with started_at(page, f"{row} audio") as at:
        page.click(f"{row} button.ab")
    assert at[0] == pytest.approx(0.8, abs=0.1)


# -- concepts from a selection, search by musical words ---------------------------------------------
def test_search_reads_instrument_names_and_concept_words_as_tags(page):
    page.goto("/#/neighbours")
    page.wait_for_selector("#tag-search")
    page.fill("#tag-search", "staccato cello")
    page.press("#tag-search", "Enter")
    page.wait_for_selector("#tag-list li")
    names = page.locator("#tag-list li .name").all_inner_texts()
    assert names and all(n.startswith("cello") for n in names)
    read = page.inner_text("#read-as")
    assert "staccato = short" in read and "cello = strings (cello clips only)" in read


def test_a_concept_is_made_from_clips_found_by_words_heard_and_chosen(page):
    page.goto("/#/concepts")
    page.wait_for_selector("#concept-library li")
    page.click("#concept-maker summary")
    for words, label in [("staccato cello", "cello"), ("flute", "flute")]:
        page.fill("#concept-pick-words", words)
        page.press("#concept-pick-words", "Enter")
        page.wait_for_function(f"""(() => {{ const names = [...document.querySelectorAll('#concept-clips li .name')]
            .map(n => n.innerText); return names.length === 12 && names.every(n => n.startsWith({label!r})); }})()""")
        page.click("#concept-choose-shown")
    assert audio_loads(page, "#concept-clips li audio") > 0  # candidates are heard before they are chosen
    assert "staccato = short" not in page.inner_text("#concept-pick-note")  # the last search: "flute"
    assert page.inner_text("#concept-count") == "24 chosen"
    page.check("#concept-pick-chosen")
    page.wait_for_function("document.querySelectorAll('#concept-clips li[data-clip]').length === 24")
    page.locator("#concept-clips input[type=checkbox]").first.uncheck()
    assert page.inner_text("#concept-create") == "Make a concept from these 23 clips"
    page.fill("#concept-name", "cellos and flutes")
    page.click("#concept-create")
    item = page.wait_for_selector("#concept-library li:has-text('cellos and flutes')")
    assert "23 clips" in item.inner_text()


def test_the_concept_library_plays_its_example_clips(page):
    page.goto("/#/concepts")
    item = "#concept-library li[data-concept='builtin-staccato']"
    page.click(f"{item} .examples summary")
    page.wait_for_function(f"document.querySelectorAll(\"{item} .concept-examples li audio\").length === 30")
    assert "articulation" not in page.inner_text(item) and "short" in page.inner_text(item)
    assert audio_loads(page, f"{item} .concept-examples li audio") == pytest.approx(1.0, abs=0.1)


def test_the_export_holds_what_the_page_shows_as_numbers_and_figures(page, server, clip_file):
    upload(page, clip_file)
    assert "figures" in page.inner_text("#export")
    page.click("#export")
    link = page.wait_for_selector("#export-link", timeout=120_000)
    assert "curves as CSV" in link.inner_text() and "figures as SVG" in link.inner_text()
    names = zipfile.ZipFile(io.BytesIO(httpx.get(server + link.get_attribute("href")).content)).namelist()
    shown = page.inner_text("#prototype-select option:checked")  # the prototype whose steps the page shows
    label = re.match(r"1\. (.+) \(prototype (\d+)\)", shown)
    best = f"01-{label[1].replace(' ', '_')}-p{label[2]}"
    assert f"data/curves/{best}.csv" in names and f"figures/{best}-curves.svg" in names
    assert f"data/spectrograms/{best}-filters.json" in names and "figures/clip-spectrogram.svg" in names
    assert "figures/ranking.svg" in names and "data/prediction.csv" in names


def test_each_depth_says_whether_it_can_tell_the_concept_apart_before_a_test_runs(page):
    page.goto("/#/concepts")
    row = "#depth-separability tr[data-concept='builtin-staccato']"
    page.wait_for_selector(f"{row} td[data-layer='encoder.down.2'] .term[title^='CAV accuracy']")
    heads = page.locator("#depth-separability thead th").all_inner_texts()
    assert heads == ["Concept", "early - spectral detail", "middle", "late - close to the decision"]
    for cell in page.locator(f"{row} td").all_inner_texts():
        assert re.match(r"\d+ % - (clearly|somewhat|hardly better than a coin toss)", cell), cell
    page.check("#tcav-concept-0")  # vibrato, the library's first
    page.wait_for_selector("#depth-separability tr[data-concept='builtin-vibrato'] .term")
    assert page.inner_text("#tcav-result") == ""  # all of it before any test was run


# -- the Model tab's prototypes: axes and reference pitches ------------------------------------------
def thumb_ticks(page, card: str = "#prototype-grid .card >> nth=0") -> list[tuple[str, float]]:
    """The frequency labels beside a prototype's thumbnail: (text, height above its bottom in px)."""
    return page.locator(card).locator(".thumb-ticks .tick").evaluate_all("""ts => ts.map(t => {
        const box = t.parentElement.getBoundingClientRect(), r = t.getBoundingClientRect();
        return [t.textContent, box.bottom - (r.top + r.height / 2)]; })""")


def test_prototype_thumbnails_have_a_note_axis_that_follows_the_scale_and_a4(page):
    page.goto("/")
    page.wait_for_selector("#prototype-grid .card .thumb-ticks .tick")
    before = dict(thumb_ticks(page))
    assert {"C1", "C5", "C7"} <= set(before) and page.locator("#prototype-grid .card >> nth=0").locator(".thumb-grid .line").count() >= 6
    page.fill("#axis-a4", "415")
    page.press("#axis-a4", "Enter")
    page.wait_for_function("document.querySelector('#prototype-grid .thumb-figure').title.includes('415')")
    assert dict(thumb_ticks(page))["C5"] < before["C5"]  # a semitone lower
    page.fill("#axis-a4", "440")
    page.press("#axis-a4", "Enter")
    page.select_option("#axis-scale", "linear")
    page.wait_for_selector("#prototype-grid .thumb-figure[data-scale='linear']")
    assert dict(thumb_ticks(page))["C7"] < before["C7"]  # notes crowd together low on a linear axis
    page.uncheck("#axis-notes")
    page.wait_for_function("!document.querySelector('#prototype-grid .thumb-ticks').innerText.includes('C')")
    assert all(t.endswith("Hz") for t, _ in thumb_ticks(page))
    page.check("#axis-notes")
    page.select_option("#axis-scale", "mel")


def test_a_prototype_with_a_reference_pitch_is_titled_with_its_note(page):
    def with_references(route):
        prototypes = route.fetch().json()
        prototypes[0].update(reference_midi=57.0, reference_note="A3")
        prototypes[1].update(reference_midi=62.0)  # no name given: the page names it
        route.fulfill(json=prototypes)

    page.route("**/api/models/prototypes/prototypes", with_references)
    page.goto("/")
    page.wait_for_selector("#prototype-grid .card")
    titles = page.locator("#prototype-grid .card h3").all_inner_texts()
    assert titles[0].startswith("accordion prototype, A3") and titles[1].startswith("alto sax prototype, D4")
    assert titles[2] == "bass tuba prototype 2"  # none: as before
    page.locator("#prototype-grid .card >> nth=0").locator("button", has_text="What if").click()
    page.eval_on_selector("#wi-shift", "s => { s.value = -12; s.dispatchEvent(new Event('input')); }")
    assert page.inner_text("label[for=wi-shift] + input + output") == "-12.0 semitones (plays A2)"


def test_a_trust_verdict_in_the_servers_present_words_is_shown_first_too(page, server, data_dir, clip_file):
    # the schema of today: {familiar, sentence}, stored as the server keeps analyses
    clip = httpx.post(f"{server}/api/clips", files={"file": ("low-note.wav", clip_file.read_bytes())}).json()
    made = httpx.post(f"{server}/api/analyses", json={"clip_id": clip["id"], "model": "prototypes"}).json()
    body = {k: made[k] for k in ("prediction", "prototypes", "timeline")}
    body["trust"] = {"familiar": False, "sentence": "Unlike anything the model knows."}
    with contextlib.closing(sqlite3.connect(data_dir / "auralens.sqlite3")) as db, db:
        db.execute("INSERT INTO analyses (id, clip_id, model, bundle, created, body) VALUES (?, ?, ?, ?, ?, ?)",
                   ("a-familiarfalse", clip["id"], "prototypes", made["bundle"], made["created"], json.dumps(body)))
    page.goto("/#/analyses/a-familiarfalse")
    first = page.wait_for_selector(".summary h2 + *")
    assert first.get_attribute("data-verdict") == "unlike" and first.inner_text() == "Take care: Unlike anything the model knows."


OVERLAPPING_TICKS = """root => {
    const out = [];
    for (const column of root.querySelectorAll(".thumb-ticks")) {
        const r = [...column.children].map(t => [t.textContent, t.getBoundingClientRect()]);
        for (let i = 1; i < r.length; i++) if (r[i - 1][1].top < r[i][1].bottom - 1 && r[i][1].top < r[i - 1][1].bottom - 1)
            out.push(`${r[i - 1][0]} / ${r[i][0]}`);
    }
    return out;
}"""


def test_the_new_views_at_800x600_and_1920x1080_overlap_no_label(page, plain_analysis):
    analysis = analysis_as_served(page, plain_analysis, reference_midi=57.0,
                          trust={"verdict": "unlike", "message": "Unlike anything the model knows; take the ranking with care."})
    ARTIFACTS.mkdir(exist_ok=True)
    for width, height in [(800, 600), (1920, 1080)]:
        page.set_viewport_size({"width": width, "height": height})
        page.goto("/#/model")
        page.reload()  # every disclosure closed again
        page.wait_for_selector("#prototype-grid .card .thumb-ticks .tick")
        assert page.eval_on_selector("#prototype-grid", OVERLAPPING_TICKS) == [], width
        page.locator("#prototype-grid .card >> nth=0").scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / f"round2-model-{width}x{height}.png"))
        page.goto(f"/#/analyses/{analysis}")
        page.wait_for_selector("#curves .main-svg")
        page.wait_for_timeout(500)
        assert page.eval_on_selector("#analysis", OVERLAPPING_TEXT) == [], width
        page.screenshot(path=str(ARTIFACTS / f"round2-analyse-{width}x{height}.png"), full_page=True)
        page.goto("/#/neighbours")
        page.fill("#tag-search", "fortissimo french horn")
        page.press("#tag-search", "Enter")
        page.wait_for_selector("#tag-list li")
        page.locator("#read-as").scroll_into_view_if_needed()
        page.wait_for_timeout(300)
        page.screenshot(path=str(ARTIFACTS / f"round2-neighbours-search-{width}x{height}.png"))
        page.goto("/#/concepts")
        page.wait_for_selector("#depth-separability .term")
        page.click("#concept-library li[data-concept='builtin-vibrato'] .examples summary")
        page.wait_for_selector("#concept-library li[data-concept='builtin-vibrato'] .concept-examples audio")
        page.click("#concept-maker summary")
        page.fill("#concept-pick-words", "staccato cello")
        page.press("#concept-pick-words", "Enter")
        page.wait_for_selector("#concept-pick-note:has-text('staccato')")
        page.screenshot(path=str(ARTIFACTS / f"round2-concepts-{width}x{height}.png"), full_page=True)
