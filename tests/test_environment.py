"""pyproject.toml and environment.yml list the same packages; the torch pair imports and runs."""

from __future__ import annotations

import re
import tomllib

import yaml

from .conftest import ROOT


def _names(reqs):
    return {re.split(r"[<>=!~;\[ ]", r.strip(), maxsplit=1)[0].lower().replace("_", "-") for r in reqs}


def test_environment_matches_pyproject():
    py = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    want = _names(py["dependencies"]) | _names(py["optional-dependencies"]["dev"])
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    deps = env["dependencies"]
    assert any(str(d).startswith("python=3.11") for d in deps if isinstance(d, str))
    pip = next(d["pip"] for d in deps if isinstance(d, dict) and "pip" in d)
    assert any(p.startswith("-e .") for p in pip), "the pip section installs the package in editable mode"
    have = _names([p for p in pip if not p.startswith("-e")]) | _names([d for d in deps if isinstance(d, str) and not d.startswith(("python", "pip"))])
    assert want == have, f"only in pyproject: {sorted(want - have)}; only in environment.yml: {sorted(have - want)}"


def test_torch_pair_imports_and_runs():
    import torch
    import torchvision  # noqa: F401  (zennit imports it)
    import zennit.composites  # noqa: F401

    x = torch.randn(2, 3, requires_grad=True)
    (x**2).sum().backward()
    assert torch.allclose(x.grad, 2 * x)
