"""What setup.cfg cannot say: the repository's top-level config/ ships inside the package.

The wheel carries config/ as `mas/_config/` (never as a top-level `config` package in
site-packages), so an installed `mas` finds its shipped defaults beside its own code
(mas.settings.SHIPPED_CONFIG_DIR). `packages = find:` in setup.cfg cannot map a directory to
a package, hence this file; everything else (metadata, dependencies, package data) is in
setup.cfg.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["mas", "mas.*"]), "mas._config"],
    package_dir={"mas._config": "config"},
)
