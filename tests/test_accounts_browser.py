"""Accounts end to end in a real Chromium against ``auralens serve --accounts on``: signing in
and out, two users whose uploads are their own, and a concept one shares that the other can see
and test but not delete. Screenshots under ``test-artifacts/``."""
from pathlib import Path

import pytest

from auralens.server.accounts import add_user
from auralens.server.storage import Storage

from .helpers import CHROMIUM, chromium, serve_process, wav_bytes
from .sounds import harmonic_tone

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (tests/run.sh installs it)")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
PASSWORDS = {"alice": "correct horse battery", "bob": "staple of the bassoon"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data = tmp_path_factory.mktemp("served") / "data"
    storage = Storage(data)
    for name, password in PASSWORDS.items():
        add_user(storage, name, password)
    storage.close()
    with serve_process(data, "--accounts", "on") as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


@pytest.fixture(scope="module")
def clip_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("clips") / "alices-note.wav"
    path.write_bytes(wav_bytes(harmonic_tone(261.6, 1.5)))
    return path


def new_page(browser, server, size=(1280, 900)):
    page = browser.new_context(base_url=server, viewport={"width": size[0], "height": size[1]}).new_page()
    page.set_default_timeout(60_000)
    return page


def sign_in(page, name: str, password: str | None = None) -> None:
    page.goto("/")
    page.wait_for_url("**/login")
    page.fill("#login-name", name)
    page.fill("#login-password", password or PASSWORDS[name])
    page.click("#login-submit")


def signed_in(browser, server, name: str):
    page = new_page(browser, server)
    sign_in(page, name)
    page.wait_for_selector("#account")
    return page


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"accounts-{name}.png"), full_page=True)


@pytest.mark.parametrize("size", [(800, 600), (1920, 1080)])
def test_a_stranger_is_sent_to_sign_in_and_told_when_the_password_is_wrong(browser, server, size):
    page = new_page(browser, server, size)
    sign_in(page, "alice", "not her password")
    page.wait_for_selector("#login-error:not([hidden])")
    assert page.inner_text("#login-error") == "Wrong user name or password."
    assert page.url.endswith("/login") and page.input_value("#login-password") == ""
    shot(page, f"sign-in-{size[0]}x{size[1]}")
    page.context.close()


def test_signing_in_opens_the_explorer_with_the_users_name(browser, server):
    page = signed_in(browser, server, "alice")
    page.wait_for_selector("#prototype-grid .card")
    assert page.text_content("#account").startswith("Signed in as alice")
    shot(page, "signed-in")
    page.context.close()


def test_each_user_sees_only_their_own_uploads_and_analyses(browser, server, clip_file):
    alice = signed_in(browser, server, "alice")
    alice.goto("/#/analyse")
    alice.wait_for_selector("#corpus-list li")
    alice.set_input_files("#file-input", str(clip_file))
    alice.wait_for_selector("#cross-class .card")
    permalink = alice.url
    alice.goto("/#/model")
    alice.goto("/#/analyse")
    alice.wait_for_selector("#uploads-list li:has-text('alices-note.wav')", state="attached")

    bob = signed_in(browser, server, "bob")
    bob.goto("/#/analyse")
    bob.wait_for_selector("#uploads-list li", state="attached")
    assert bob.text_content("#uploads-list") == "Nothing uploaded yet."
    bob.goto(permalink.replace(alice.url.split("/#")[0], server))
    bob.wait_for_selector(".message.error")
    assert "There is no analysis" in bob.inner_text("#messages")
    shot(bob, "another-users-permalink")
    alice.context.close()
    bob.context.close()


def test_a_shared_concept_is_seen_and_tested_by_another_user_but_not_deleted(browser, server):
    alice = signed_in(browser, server, "alice")
    corpus = alice.request.get("/api/clips?origin=corpus&limit=20").json()["clips"]
    made = alice.request.post("/api/concepts", data={"name": "alices sounds", "shared": True,
                                                     "clip_ids": [c["id"] for c in corpus]})
    assert made.status == 201
    concept = made.json()["id"]

    bob = signed_in(browser, server, "bob")
    bob.goto("/#/concepts")
    item = bob.locator(f"#concept-library li[data-concept='{concept}']")
    item.wait_for()
    assert "shared by alice" in item.inner_text() and item.locator("button").count() == 0
    bob.uncheck("#panel-concepts input[value='builtin-staccato']")  # checked to start with
    bob.check(f"#panel-concepts input[value='{concept}']")
    bob.click("#tcav-run")
    bob.wait_for_selector("#tcav-result .main-svg", timeout=180_000)
    assert "alices sounds" in bob.inner_text("#tcav-result")
    shot(bob, "shared-concept-tested")
    status = bob.evaluate("id => fetch(`/api/concepts/${id}`, {method: 'DELETE'}).then((r) => r.status)", concept)
    assert status == 403
    assert alice.request.get(f"/api/concepts/{concept}").status == 200
    alice.context.close()
    bob.context.close()


def test_signing_out_leads_back_to_the_sign_in_page_for_good(browser, server):
    page = signed_in(browser, server, "bob")
    page.click("#sign-out")
    page.wait_for_url("**/login")
    page.goto("/#/concepts")
    page.wait_for_url(lambda url: url.endswith("/login#/concepts"))  # where to go back to after signing in
    assert page.request.get("/api/clips").status == 401
    page.context.close()
