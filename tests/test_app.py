"""The web app skeleton: health, the page, the API docs."""
import pytest

from auralens.server.app import create_app


def test_health_says_ok_with_version_device_and_bundle(client):
    body = client.get("/api/health").json()
    assert body["status"] == "ok" and body["device"] == "cpu" and body["version"]
    assert body["bundle"] == "orchestra16"


def test_the_page_is_served_at_the_root(client):
    response = client.get("/")
    assert response.status_code == 200 and "auralens" in response.text


def test_the_pages_scripts_are_served_as_javascript(client):
    assert client.get("/js/app.js").headers["content-type"].startswith("text/javascript")


def test_plotly_is_served_from_the_installed_package(client):
    response = client.get("/vendor/plotly.min.js")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/javascript")
    assert len(response.content) > 1_000_000 and b"plotly" in response.content[:2000].lower()


def test_openapi_docs_are_served_without_a_cdn(client):
    page = client.get("/docs")
    assert page.status_code == 200 and "cdn" not in page.text.lower()
    assert client.get("/api/docs-assets/swagger-ui-bundle.js").status_code == 200
    assert "/api/health" in client.get("/openapi.json").json()["paths"]


def test_an_unknown_path_is_a_404_not_a_500(client):
    assert client.get("/api/nothing-here").status_code == 404


def test_asking_for_a_gpu_that_is_not_there_is_a_clear_error():
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(ValueError, match="no CUDA GPU"):
        create_app(device="cuda", data_dir="/nonexistent-never-created")
