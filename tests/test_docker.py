"""The container recipe: it installs what the README installs, copies every package the
distribution ships, and its health check tells a live server from a dead one. These checks read
the Dockerfile and need no engine; tests/test_container.py builds the image and runs it."""
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

from auralens.server.app import create_app

from .helpers import free_port, served

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = (ROOT / "docker" / "Dockerfile").read_text()


def instruction(name: str) -> list[str]:
    joined = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    return [line[len(name):].strip() for line in joined.splitlines() if line.startswith(name + " ")]


def test_the_image_runs_the_readmes_install_and_serve_commands():
    readme = (ROOT / "README.md").read_text()
    assert "pip install . && auralens serve" in readme
    assert any(re.search(r"pip install .* \.( |$)", run) for run in instruction("RUN"))
    command = json.loads(instruction("CMD")[-1])
    assert command[:2] == ["auralens", "serve"] and "--data-dir" in command


def test_the_image_copies_every_package_the_distribution_ships():
    packages = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"].values())
    copied = {c.split()[0] for c in instruction("COPY")} | {w for c in instruction("COPY") for w in c.split()[:-1]}
    assert packages <= copied and "pyproject.toml" in copied


def test_the_image_runs_as_a_non_root_user_with_data_on_a_volume():
    assert instruction("USER") and instruction("USER")[-1] not in ("root", "0")
    assert "/data" in instruction("VOLUME")[-1]


def test_the_health_check_passes_on_a_live_server_and_fails_without_one(tmp_path):
    check = json.loads(instruction("HEALTHCHECK")[-1].split("CMD", 1)[1])
    assert check[:2] == ["python", "-c"]
    port = free_port()
    probe = check[2].replace(":8000/", f":{port}/")
    run = lambda: subprocess.run([sys.executable, "-c", probe], capture_output=True, timeout=30).returncode
    assert run() != 0  # nothing listens yet
    with served(create_app(device="cpu", data_dir=tmp_path), port):
        assert run() == 0
