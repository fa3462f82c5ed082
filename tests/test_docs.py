"""The README: set-up in two commands, the Python version the package asks for, and links
to documents inside the repository only."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text(encoding="utf-8")


def _section(title: str) -> str:
    return README.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_a_fresh_machine_needs_two_commands():
    commands = [line.strip() for line in _section("Set-up on a fresh machine").splitlines() if line.startswith("    ")]
    assert commands == ["pip install -e . && mas demo", "pip install -e '.[test]' && pytest"]


def test_the_readme_states_the_python_version_the_package_requires():
    config = configparser.ConfigParser()
    config.read(REPO / "setup.cfg")
    required = config["options"]["python_requires"]  # e.g. ">=3.11"
    assert required.startswith(">=")
    assert f"Python {required[2:]} or newer" in _section("Set-up on a fresh machine")


def test_the_readme_points_only_at_documents_inside_the_repository():
    links = re.findall(r"\]\(([^)]+)\)", README)
    local = [link for link in links if not re.match(r"[a-z]+://", link)]
    assert {"docs/architecture.md", "docs/domain.md"} <= set(local)
    for link in local:
        target = (REPO / link.split("#")[0]).resolve()
        assert target.is_relative_to(REPO) and target.is_file(), link
    assert "../" not in README
