"""The layer order of ``model`` (pyproject.toml, ``[tool.importlinter]``) holds: no module imports upwards.

Runs the import-linter contract in-process; on failure pytest shows the offending import chain.
"""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_no_module_imports_a_higher_layer():
    from importlinter.cli import lint_imports

    here = os.getcwd()
    os.chdir(ROOT)  # the contract and the package are found from the project root
    try:
        status = lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True, no_logo=True)
    finally:
        os.chdir(here)
    assert status == 0, "a module imports from a layer above its own; see the broken contract above"
