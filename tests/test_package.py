"""The wheel installs anywhere: built from this checkout, installed into a fresh venv, run
from a directory outside the checkout.

The venv sees the test environment's packages (`--system-site-packages`) and the wheel goes
in with `--no-deps`, so no registry is asked for anything; the subprocesses get no
PYTHONPATH, so the `mas` they run is the wheel's, never this checkout (the test checks).
The wheel is built from a copy of the checkout: setuptools builds in the source tree, and a
`build/` left there from an earlier build can carry deleted modules into the next wheel.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import pytest

from mas.workflows import WORKFLOW

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
# What a build leaves in a checkout, and what is not the project's source.
NOT_SOURCE = shutil.ignore_patterns(".git", "build", "dist", "*.egg-info", "__pycache__", "*.pyc", "instance",
                                    "test-artifacts", ".hypothesis", ".pytest_cache", ".ruff_cache", "out", ".venv")


def _run(command: list, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, **kwargs)
    assert result.returncode == 0, f"{command} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    return result


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _source_files(root: Path) -> set[str]:
    """Every file under `root` but caches and hidden files (an editor's swap file, say)."""
    files = (p.relative_to(root) for p in root.rglob("*") if p.is_file())
    return {f.as_posix() for f in files
            if "__pycache__" not in f.parts and f.suffix != ".pyc" and not any(part.startswith(".") for part in f.parts)}


def _outside_env(tmp: Path) -> dict:
    """The environment of a user's shell: no PYTHONPATH, no MAS_ settings but an instance dir."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("MAS_", "PYTHON")) and key != "VIRTUAL_ENV"}
    env.update(MAS_INSTANCE_DIR=str(tmp / "instance"), PYTHONDONTWRITEBYTECODE="1")
    return env


def _venv(path: Path, *install: str) -> Path:
    """A venv that sees the test environment's packages; `install` goes in with pip, no deps, no index.
    No pip of its own: the test environment's pip, run by the venv's python, installs into the venv."""
    _run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(path)])
    python = path / "bin" / "python"
    _run([str(python), "-m", "pip", "install", "--no-deps", "--no-index", "--no-build-isolation", "-q", *install])
    return python


def _where_mas(python: Path, cwd: Path, env: dict) -> tuple[Path, Path]:
    """The `mas` package that `python` imports, and the shipped config it reads."""
    out = _run([str(python), "-c", "import mas, mas.settings; print(mas.__file__); print(mas.settings.SHIPPED_CONFIG_DIR)"],
               cwd=cwd, env=env).stdout.split()
    return Path(out[0]).resolve().parent, Path(out[1]).resolve()


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A venv with the wheel of this checkout in it, and an environment outside the checkout."""
    tmp = tmp_path_factory.mktemp("package")
    source = tmp / "source"
    shutil.copytree(REPO, source, ignore=NOT_SOURCE)
    dist = tmp / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q",
          "-w", str(dist), str(source)])
    [wheel] = dist.glob("mas-*.whl")
    venv = tmp / "venv"
    python = _venv(venv, "--force-reinstall", str(wheel))  # even where the environment has mas 0.1.0 (editable)
    elsewhere = tmp / "elsewhere"
    elsewhere.mkdir()
    return {"wheel": wheel, "source": source, "venv": venv, "python": python, "cwd": elsewhere,
            "env": _outside_env(tmp)}


def test_the_wheel_holds_the_package_and_the_shipped_config(installed):
    with zipfile.ZipFile(installed["wheel"]) as whl:
        names = set(whl.namelist())
    source = installed["source"]
    package = {f"mas/{name}" for name in _source_files(source / "mas")}
    config = {f"mas/_config/{name}" for name in _source_files(source / "config")}
    assert "mas/_config/mas.toml" in config and "mas/migrations/env.py" in package
    assert package - names == set(), "files of mas/ missing from the wheel"
    assert config - names == set(), "files of config/ missing from the wheel"
    top = {name.split("/")[0] for name in names}
    assert {t for t in top if not t.endswith(".dist-info")} == {"mas"}, top  # no top-level config/ in site-packages


def test_the_venv_runs_the_wheel_not_the_checkout(installed):
    package, shipped = _where_mas(installed["python"], installed["cwd"], installed["env"])
    assert package.is_relative_to(installed["venv"].resolve()) and not package.is_relative_to(REPO), package
    assert shipped == package / "_config" and (shipped / "mas.toml").is_file()


def test_an_editable_install_reads_the_checkouts_own_config(tmp_path):
    """`pip install -e .`: the code and the config are the checkout's own."""
    source = tmp_path / "source"
    shutil.copytree(REPO, source, ignore=NOT_SOURCE)
    python = _venv(tmp_path / "venv", "-e", str(source))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = _outside_env(tmp_path)
    package, shipped = _where_mas(python, elsewhere, env)
    assert (package, shipped) == (source.resolve() / "mas", source.resolve() / "config")
    result = _run([str(tmp_path / "venv" / "bin" / "mas"), "workflow"], cwd=elsewhere, env=env)
    assert result.stdout.startswith("stateDiagram-v2")


def test_mas_workflow_from_outside_the_checkout(installed):
    result = _run([str(installed["venv"] / "bin" / "mas"), "workflow"], cwd=installed["cwd"], env=installed["env"])
    assert result.stdout.startswith("stateDiagram-v2")
    for transition in WORKFLOW.transitions:
        assert transition.label in result.stdout


def test_mas_demo_from_outside_the_checkout_answers(installed, tmp_path):
    port = _free_port()
    log_path = tmp_path / "demo.log"
    with log_path.open("wb") as log:
        demo = subprocess.Popen([str(installed["venv"] / "bin" / "mas"), "demo", "--port", str(port)],
                                cwd=installed["cwd"], env=installed["env"], stdout=log, stderr=subprocess.STDOUT)
        try:
            status, page = None, ""
            direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never through a proxy
            deadline = time.monotonic() + 180  # demo data are built through the services first
            while status is None and time.monotonic() < deadline and demo.poll() is None:
                try:
                    with direct.open(f"http://127.0.0.1:{port}/login", timeout=5) as response:
                        status, page = response.status, response.read().decode()
                except (urllib.error.URLError, ConnectionError):
                    time.sleep(0.5)
        finally:
            demo.terminate()
            try:
                demo.wait(timeout=20)
            except subprocess.TimeoutExpired:
                demo.kill()
                demo.wait(timeout=20)
    output = log_path.read_text(errors="replace")
    assert status == 200, f"mas demo gave no answer on port {port}:\n{output}"
    assert "Inloggen" in page and "mas-demo-2026" in page, page[:2000]
    assert "Demodata aangemaakt." in output
    assert (Path(installed["env"]["MAS_INSTANCE_DIR"]) / "mas.sqlite3").is_file()
