"""The container image, built here and run: it becomes healthy, answers an analysis over HTTP,
keeps it across a restart on its data volume, and serves as a non-root user; compose.yaml starts
the same image. Needs a Docker engine (tests/run.sh installs Debian's docker.io and starts one
when it runs as root); skipped, saying so, where none answers."""
import json
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import NamedTuple

import httpx
import numpy as np
import pytest

from .helpers import free_port, upload, wait_until, wav_bytes
from .sounds import harmonic_tone

ROOT = Path(__file__).resolve().parent.parent
IMAGE = "auralens:latest"  # the tag docker/compose.yaml runs
ARTIFACTS = ROOT / "test-artifacts"


def _engine_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=20).returncode == 0
    except subprocess.TimeoutExpired:
        return False


pytestmark = pytest.mark.skipif(not _engine_answers(), reason="no Docker engine answers here (tests/run.sh "
                                                               "installs docker.io and starts it when run as root)")


def docker(*args: str, timeout: float = 120, check: bool = True) -> str:
    """``docker ARGS...``'s standard output, stripped; a failure raises with its standard error."""
    done = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)
    if check and done.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout.strip()


def health(name: str) -> str:
    """The container's state, or its health once it runs: starting, healthy, unhealthy."""
    state = json.loads(docker("inspect", "-f", "{{json .State}}", name))
    if not state["Running"]:
        logs = subprocess.run(["docker", "logs", "--tail", "20", name], capture_output=True, text=True, timeout=30)
        raise AssertionError(f"the container stopped: {logs.stdout}{logs.stderr}")
    return state.get("Health", {}).get("Status", "running")


class Container(NamedTuple):
    name: str
    url: str


@pytest.fixture(scope="module")
def image() -> str:
    """The image built by docker/build-local.sh; what the script says of it (the base image,
    build times, size) is written to test-artifacts/container-image.txt."""
    build = subprocess.run(["bash", str(ROOT / "docker" / "build-local.sh"), IMAGE], capture_output=True, text=True,
                           timeout=1800)
    assert build.returncode == 0, build.stderr[-3000:]
    ARTIFACTS.mkdir(exist_ok=True)
    said = [line for line in build.stderr.splitlines() if line.startswith("build-local:")]
    (ARTIFACTS / "container-image.txt").write_text("\n".join(said) + "\n")
    return IMAGE


@pytest.fixture(scope="module")
def container(image):
    """The image running with a data volume, its port published on loopback, once healthy."""
    name = f"auralens-test-{uuid.uuid4().hex[:8]}"
    port = free_port()
    docker("run", "-d", "--name", name, "-p", f"127.0.0.1:{port}:8000", "-v", f"{name}-data:/data", image)
    try:
        wait_until(lambda: health(name) == "healthy", 240, "the container's health check to pass", interval=1)
        yield Container(name, f"http://127.0.0.1:{port}")
    finally:
        docker("rm", "-f", name, check=False)
        docker("volume", "rm", "-f", f"{name}-data", check=False)


@pytest.fixture(scope="module")
def analysis(container) -> dict:
    """An analysis of an uploaded 2 s tone, made over HTTP."""
    with httpx.Client(base_url=container.url, timeout=120) as client:
        uploaded = upload(client, wav_bytes(harmonic_tone(220.0, 2.0)), "tone.wav")
        assert uploaded.status_code == 201, uploaded.text
        made = client.post("/api/analyses", json={"clip_id": uploaded.json()["id"]})
    assert made.status_code == 201, made.text
    return made.json()


def test_the_container_answers_an_analysis_of_an_uploaded_clip(container, analysis):
    classes = httpx.get(f"{container.url}/api/bundle", timeout=30).json()["classes"]
    assert analysis["prediction"][0]["label"] in classes
    assert np.isclose(sum(p["score"] for p in analysis["prediction"]), 1.0, atol=1e-3)


def test_an_analysis_is_still_there_after_the_container_restarts(container, analysis):
    docker("restart", container.name, timeout=180)
    wait_until(lambda: _answers(f"{container.url}/api/health"), 180, "the restarted container to answer", interval=1)
    again = httpx.get(f"{container.url}/api/analyses/{analysis['id']}", timeout=30)
    assert again.status_code == 200 and again.json()["prediction"] == analysis["prediction"]


def test_the_server_in_the_container_runs_as_a_user_other_than_root(container):
    status = docker("exec", container.name, "cat", "/proc/1/status")
    uid = next(line.split()[1] for line in status.splitlines() if line.startswith("Uid:"))
    cmdline = docker("exec", container.name, "cat", "/proc/1/cmdline")
    assert uid != "0" and "serve" in cmdline
    assert docker("exec", container.name, "id", "-un") == "auralens"


def _compose() -> list[str] | None:
    for command in (["docker", "compose"], ["docker-compose"]):
        if shutil.which(command[0]) and subprocess.run([*command, "version"], capture_output=True,
                                                       timeout=20).returncode == 0:
            return command
    return None


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


COMPOSE = _compose()


@pytest.mark.skipif(COMPOSE is None, reason="neither docker compose nor docker-compose is installed")
def test_compose_starts_the_image_healthy_on_loopback_port_8000(image):
    if _answers("http://127.0.0.1:8000/api/health"):
        pytest.skip("something else answers on 127.0.0.1:8000, where compose.yaml publishes the app")
    compose = [*COMPOSE, "-f", str(ROOT / "docker" / "compose.yaml"), "-p", f"auralens-test-{uuid.uuid4().hex[:8]}"]
    run = lambda *args, timeout=180: subprocess.run([*compose, *args], capture_output=True, text=True, timeout=timeout)
    started = run("up", "-d", "--no-build", "auralens")
    try:
        assert started.returncode == 0, started.stderr
        name = run("ps", "-q", "auralens").stdout.strip()
        wait_until(lambda: health(name) == "healthy", 240, "the compose service's health check to pass", interval=1)
        assert httpx.get("http://127.0.0.1:8000/api/health", timeout=10).json()["status"] == "ok"
    finally:
        run("down", "-v", timeout=300)
