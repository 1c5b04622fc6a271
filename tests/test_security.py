"""Other web pages cannot use the server: host names it does not answer to are refused (DNS
rebinding), state-changing requests another site's page sends are refused (cross-site request
forgery), and every response carries the security headers and the Content-Security-Policy."""
import re

import pytest

from auralens.server.security import content_security_policy, hosts_for, inline_script_hashes, is_loopback

from .helpers import upload, wav_bytes
from .sounds import harmonic_tone

CLIP = wav_bytes(harmonic_tone(220.0, 1.0))


def n_uploads(client) -> int:
    return client.get("/api/clips", params={"origin": "upload"}).json()["total"]


def test_a_rebinding_host_name_is_refused_with_a_sentence(client):
    r = client.get("/api/clips", headers={"Host": "rebound.attacker.example:8000"})
    assert r.status_code == 400
    assert "rebound.attacker.example" in r.json()["detail"] and "--allowed-host" in r.json()["detail"]


def test_a_rebinding_host_name_cannot_delete(client):
    made = client.post("/api/concepts", json={"name": "kept", "clip_ids": [
        c["id"] for c in client.get("/api/clips", params={"origin": "corpus", "limit": 20}).json()["clips"]]}).json()
    assert client.delete(f"/api/concepts/{made['id']}", headers={"Host": "rebound.example"}).status_code == 400
    assert client.get(f"/api/concepts/{made['id']}").status_code == 200


@pytest.mark.parametrize("host", ["localhost:8000", "127.0.0.1:8000", "[::1]:8000", "LOCALHOST"])
def test_the_loopback_host_names_are_answered(client, host):
    assert client.get("/api/health", headers={"Host": host}).status_code == 200


def test_a_cross_site_upload_is_refused_and_nothing_is_stored(client):
    before = n_uploads(client)
    r = client.post("/api/clips", files={"file": ("planted.wav", CLIP)},
                    headers={"Origin": "http://attacker.example", "Sec-Fetch-Site": "cross-site"})
    assert r.status_code == 403 and "another web site" in r.json()["detail"]
    assert n_uploads(client) == before


def test_an_upload_from_another_port_of_the_same_host_is_refused(client):
    before = n_uploads(client)
    r = client.post("/api/clips", files={"file": ("planted.wav", CLIP)},
                    headers={"Origin": "http://localhost:9999", "Sec-Fetch-Site": "same-site"})
    assert r.status_code == 403 and n_uploads(client) == before


def test_another_origin_is_refused_without_fetch_metadata(client):
    r = client.post("/api/clips", files={"file": ("planted.wav", CLIP)}, headers={"Origin": "http://localhost:9999"})
    assert r.status_code == 403


def test_a_page_without_an_origin_is_refused(client):
    r = client.post("/api/clips", files={"file": ("planted.wav", CLIP)}, headers={"Origin": "null"})
    assert r.status_code == 403 and "sandboxed" in r.json()["detail"]


def test_the_browsers_word_decides_behind_a_proxy_that_renames_the_host(client):
    r = client.post("/api/clips", files={"file": ("mine.wav", CLIP)},
                    headers={"Origin": "https://lab.example.org", "Sec-Fetch-Site": "same-origin"})
    assert r.status_code == 201


def test_an_upload_from_the_page_itself_is_accepted(client):
    r = client.post("/api/clips", files={"file": ("mine.wav", wav_bytes(harmonic_tone(233.0, 1.0)))},
                    headers={"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"})
    assert r.status_code == 201


def test_an_upload_without_a_browser_is_accepted(client):
    assert upload(client, wav_bytes(harmonic_tone(247.0, 1.0))).status_code == 201


def test_a_link_from_another_site_may_read(client):
    assert client.get("/api/health", headers={"Sec-Fetch-Site": "cross-site"}).status_code == 200


@pytest.mark.parametrize("path", ["/", "/api/health", "/api/clips/u-none", "/js/app.js"])
def test_every_response_carries_the_security_headers(client, path):
    headers = client.get(path).headers
    csp = headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert headers["x-content-type-options"] == "nosniff" and headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "same-origin" and headers["cross-origin-opener-policy"] == "same-origin"
    assert headers["cross-origin-resource-policy"] == "same-origin"


def test_a_refusal_carries_the_security_headers_too(client):
    assert "content-security-policy" in client.get("/", headers={"Host": "elsewhere.example"}).headers


def test_the_api_docs_allow_their_own_inline_script_and_no_other(client):
    page = client.get("/docs")
    hashes = inline_script_hashes(page.text)
    assert len(hashes) == 1
    assert page.headers["content-security-policy"] == content_security_policy(hashes)
    assert "unsafe-inline" not in re.search(r"script-src[^;]*", page.headers["content-security-policy"]).group(0)


def test_a_server_on_every_interface_answers_to_this_machines_name_and_the_names_given():
    import socket

    hosts = hosts_for("0.0.0.0", ("localhost",), ("lab.example.org",))
    assert hosts == ("localhost", socket.gethostname().lower(), "lab.example.org")
    assert hosts_for("::1", ("localhost",)) == ("localhost", "[::1]")


@pytest.mark.parametrize("bind, loopback", [("127.0.0.1", True), ("localhost", True), ("::1", True),
                                            ("127.0.0.2", True), ("0.0.0.0", False), ("192.168.1.5", False),
                                            ("lab.example.org", False)])
def test_loopback_addresses_are_told_from_others(bind, loopback):
    assert is_loopback(bind) is loopback
