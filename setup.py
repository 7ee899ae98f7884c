"""Package discovery lives here because pyproject.toml's `packages.find` cannot add a package whose
folder is outside `sorakit/`: the widgets' ES modules and CSS have one home, the repository's
`widgets/`, and wheels carry that folder as `sorakit/_widgets/` (its files: pyproject.toml's
package-data). Everything else about the package is in pyproject.toml.
"""
from setuptools import find_namespace_packages, setup

setup(
    # namespace packages too: sorakit/weights/ holds data only, no __init__.py
    packages=find_namespace_packages(include=["sorakit", "sorakit.*"]) + ["sorakit._widgets"],
    package_dir={"sorakit._widgets": "widgets"},
)
