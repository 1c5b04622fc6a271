"""The project installs as one package, ``auralens``, whatever else is installed beside it."""
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = ("models", "server", "frontend")


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_every_package_folder_is_installed_under_the_auralens_namespace():
    found = {"auralens." + ".".join(p.parent.relative_to(ROOT).parts)
             for folder in FOLDERS for p in (ROOT / folder).rglob("__init__.py")}
    assert set(_pyproject()["tool"]["setuptools"]["packages"]) == found


def test_outside_the_checkout_auralens_imports_and_the_bare_folder_names_do_not(tmp_path):
    run = lambda code: subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                                      timeout=120)
    assert run("import auralens.models, auralens.server, auralens.frontend").returncode == 0
    for bare in FOLDERS:
        assert "No module named" in run(f"import {bare}").stderr


def test_the_wheel_holds_only_the_auralens_package_and_its_metadata(tmp_path):
    source = tmp_path / "source"  # a copy, so that the build leaves nothing in the checkout
    source.mkdir()
    for name in ("pyproject.toml", "README.md", *FOLDERS):
        copy = shutil.copytree if (ROOT / name).is_dir() else shutil.copy
        copy(ROOT / name, source / name, **({"ignore": shutil.ignore_patterns("__pycache__")}
                                             if (ROOT / name).is_dir() else {}))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--disable-pip-version-check",
                    "-w", str(tmp_path), str(source)], check=True, capture_output=True, timeout=600)
    names = zipfile.ZipFile(next(tmp_path.glob("auralens-*.whl"))).namelist()
    assert {n.split("/")[0] for n in names} == {"auralens", f"auralens-{_pyproject()['project']['version']}.dist-info"}
    assert "auralens/models/bundles/orchestra16/bundle.json" in names
    assert "auralens/frontend/index.html" in names
