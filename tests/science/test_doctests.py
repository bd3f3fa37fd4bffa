"""The Examples in the science docstrings run and print what they say (numpydoc doctests)."""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil
from types import ModuleType

import numpy as np
import pytest

import hstlc.science

MODULES = sorted(m.name for m in pkgutil.iter_modules(hstlc.science.__path__))


@pytest.mark.parametrize("name", MODULES)
def test_examples_run(name: str) -> None:
    module = importlib.import_module(f"hstlc.science.{name}")
    result = doctest.testmod(module, globs={"np": np, **vars(module)},
                             optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"hstlc.science.{name} has no Examples"
    assert result.failed == 0


def _public(module: ModuleType) -> list[str]:
    """The functions and classes a module defines and exports."""
    names = getattr(module, "__all__", None) or [n for n in vars(module) if not n.startswith("_")]
    objects = {n: getattr(module, n) for n in names}
    return [n for n, o in objects.items()
            if (inspect.isfunction(o) or inspect.isclass(o)) and o.__module__ == module.__name__]


@pytest.mark.parametrize("name", MODULES)
def test_public_names_document_their_parameters_with_an_example(name: str) -> None:
    module = importlib.import_module(f"hstlc.science.{name}")
    missing = [n for n in _public(module)
               if "Parameters\n----------" not in (inspect.getdoc(getattr(module, n)) or "")
               or ">>>" not in (inspect.getdoc(getattr(module, n)) or "")]
    assert not missing, f"hstlc.science.{name}: no numpydoc Parameters or Examples for {', '.join(missing)}"
