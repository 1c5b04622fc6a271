"""Another site's page in a real Chromium cannot plant uploads in, or frame, the local server,
and the page itself works under its Content-Security-Policy: ``auralens serve`` on 127.0.0.1
(no accounts), and a second origin on another port serving the attacker's page."""
import base64
import contextlib
import http.server
import threading

import httpx
import pytest

from .helpers import CHROMIUM, chromium, free_port, serve_process, wav_bytes
from .sounds import harmonic_tone

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (tests/run.sh installs it)")

PLANT = """async ([target, b64]) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const form = new FormData();
    form.append("file", new Blob([bytes], { type: "audio/wav" }), "planted.wav");
    // the answer is opaque to the page; another origin even gets a network error, as the
    // server's Cross-Origin-Resource-Policy withholds the answer
    await fetch(target + "/api/clips", { method: "POST", mode: "no-cors", credentials: "include", body: form })
        .catch(() => null);
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with serve_process(tmp_path_factory.mktemp("served") / "data") as url:
        yield url


@contextlib.contextmanager
def attacker_site():
    """Another origin: an empty page on a free port, answering any path."""
    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = b"<!doctype html><title>another site</title><p>nothing to see</p>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Page)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield httpd.server_address[1]
    finally:
        httpd.shutdown()


@pytest.fixture(scope="module")
def attacker():
    with attacker_site() as port:
        yield port


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


def uploads(server) -> int:
    return httpx.get(f"{server}/api/clips", params={"origin": "upload"}).json()["total"]


CLIP = base64.b64encode(wav_bytes(harmonic_tone(220.0, 1.0))).decode()


# localhost:<port> is another site than 127.0.0.1 (cross-site); 127.0.0.1:<port> the same site
# on another port (same-site): both other origins
@pytest.mark.parametrize("attacker_host", ["localhost", "127.0.0.1"])
def test_a_no_cors_upload_from_another_origin_is_refused_and_nothing_is_stored(browser, server, attacker,
                                                                               attacker_host):
    page = browser.new_page()
    before = uploads(server)
    sent = []
    page.on("request", lambda r: sent.append(r.method) if r.url.endswith("/api/clips") else None)
    page.goto(f"http://{attacker_host}:{attacker}/")
    page.evaluate(PLANT, [server, CLIP])
    assert sent == ["POST"]  # the browser sent it
    assert uploads(server) == before
    page.close()


def test_the_same_upload_from_the_servers_own_page_is_stored(browser, server):
    page = browser.new_page()
    before = uploads(server)
    page.goto(f"{server}/api/health")
    page.evaluate(PLANT, [server, CLIP])
    assert uploads(server) == before + 1
    page.close()


def test_another_site_cannot_frame_the_page(browser, server, attacker):
    page = browser.new_page()
    page.goto(f"http://localhost:{attacker}/")
    page.evaluate("""src => new Promise((resolve) => {
        const frame = document.createElement("iframe");
        frame.onload = resolve; frame.src = src; document.body.append(frame);
    })""", f"{server}/")
    framed = [f for f in page.frames if f != page.main_frame]
    assert framed and not framed[0].url.startswith(server)  # Chromium shows its error page instead
    page.close()


WATCH_CSP = """document.addEventListener("securitypolicyviolation",
    (e) => (window.violations = window.violations || []).push(`${e.violatedDirective} ${e.blockedURI}`));"""


def test_every_tab_works_under_the_content_security_policy(browser, server, tmp_path):
    clip = tmp_path / "tone.wav"
    clip.write_bytes(wav_bytes(harmonic_tone(330.0, 1.5)))
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(120_000)
    page.add_init_script(WATCH_CSP)
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{server}/")
    page.wait_for_selector("#prototype-grid .card")
    page.click("text=Which classes it confuses")
    page.wait_for_selector("#confusion .main-svg")
    page.goto(f"{server}/#/analyse")
    page.wait_for_selector("#corpus-list li")
    page.set_input_files("#file-input", str(clip))
    page.wait_for_selector("#curves .main-svg")
    page.goto(f"{server}/#/neighbours")
    page.wait_for_selector("#neighbour-clip option", state="attached")
    page.goto(f"{server}/#/concepts")
    page.wait_for_selector("#tcav-run")
    page.click("#tcav-run")
    page.wait_for_selector("#tcav-result .main-svg")
    violations = page.evaluate("window.violations || []")  # the tabs share one document
    page.goto(f"{server}/docs")
    page.wait_for_selector(".opblock")
    violations += page.evaluate("window.violations || []")
    assert violations == [] and errors == []
    page.close()
