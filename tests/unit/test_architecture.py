"""The package's layering, checked from source: the engine stays pure (it runs anywhere, no AWS or web
framework), the store knows nothing of HTTP, and the local stack never leaks into deployed code. Also the
error hierarchy: every error the package raises has an HTTP status."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE_DIR = Path(__file__).resolve().parents[2] / "layers" / "core" / "python" / "flowless"


@dataclass(frozen=True)
class Import:
    module: str        # the importing module, e.g. "flowless.engine.run"
    imported: str      # e.g. "flowless.errors" or "fastapi.responses"
    top_level: bool    # executed on import (not inside a function body)


def _module_name(path: Path) -> str:
    parts = ["flowless", *path.relative_to(PACKAGE_DIR).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path) for path in PACKAGE_DIR.rglob("*.py")}


def _imports_of(path: Path) -> list[Import]:
    """Every import statement in a module, read from its AST so nothing is executed."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[Import] = []

    def visit(node: ast.AST, top_level: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                found.extend(Import(module, alias.name, top_level) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:  # relative: climb from the module's package
                    anchor = package.split(".")[: len(package.split(".")) - (child.level - 1)]
                    base = ".".join(anchor + ([base] if base else []))
                found.append(Import(module, base, top_level))
                # `from flowless import http` imports the module flowless.http, not just the package.
                found.extend(Import(module, f"{base}.{a.name}", top_level) for a in child.names
                             if f"{base}.{a.name}" in MODULES)
            # Class bodies run on import; function bodies only when called.
            deferred = isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            visit(child, top_level and not deferred)

    visit(ast.parse(path.read_text(), filename=str(path)), True)
    return found


ALL_IMPORTS = [imp for path in sorted(PACKAGE_DIR.rglob("*.py")) for imp in _imports_of(path)]


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(f"{p}.") for p in prefixes)


def _violations(layer: str, forbidden: tuple[str, ...], *, top_level_only: tuple[str, ...] = ()) -> list[str]:
    """'module -> imported' for each import from `layer` into `forbidden`, or into `top_level_only`
    at module level."""
    return sorted({
        f"{imp.module} -> {imp.imported}"
        for imp in ALL_IMPORTS
        if _within(imp.module, (layer,))
        and (_within(imp.imported, forbidden) or (imp.top_level and _within(imp.imported, top_level_only)))
    })


def test_package_modules_are_found() -> None:
    # Guards against a wrong PACKAGE_DIR making every rule below pass vacuously.
    modules = {i.module for i in ALL_IMPORTS}
    assert {"flowless.store.flows", "flowless.http.app", "flowless.local.gateway"} <= modules


def test_engine_is_pure() -> None:
    forbidden = ("flowless.http", "flowless.store", "flowless.wire", "flowless.langflow", "flowless.local",
                 "fastapi", "starlette", "mangum", "boto3", "botocore")
    assert _violations("flowless.engine", forbidden) == []


def test_components_depend_only_on_engine() -> None:
    # A provider may import boto3 lazily inside a function, so only module-level imports of it count.
    forbidden = ("flowless.http", "flowless.store", "flowless.wire", "flowless.langflow", "fastapi")
    assert _violations("flowless.components", forbidden, top_level_only=("boto3", "botocore")) == []


def test_store_knows_nothing_of_http() -> None:
    assert _violations("flowless.store", ("flowless.http", "flowless.langflow", "fastapi")) == []


def test_only_the_cli_uses_the_local_stack() -> None:
    # flowless.local (moto, a local gateway) is for development; deployed code must not reach it.
    offenders = sorted({
        f"{imp.module} -> {imp.imported}"
        for imp in ALL_IMPORTS
        if _within(imp.imported, ("flowless.local",))
        and not _within(imp.module, ("flowless.local", "flowless.cli"))
    })
    assert offenders == []


# ---- errors ----------------------------------------------------------------------------------------

# Classes whose status may be a server error; every other error is the caller's fault, hence 4xx.
# Failures of something other than the caller: a provider or remote service (502).
SERVER_SIDE_ERRORS = {"flowless.errors.FlowlessError", "flowless.errors.UpstreamError"}


def _all_error_classes() -> list[type]:
    # Error classes may live anywhere in the package (the engine defines some), so load every module
    # except the local development stack, which is not deployed.
    for info in pkgutil.walk_packages([str(PACKAGE_DIR)], prefix="flowless."):
        if not _within(info.name, ("flowless.local", "flowless.cli")):
            importlib.import_module(info.name)
    from flowless.errors import FlowlessError

    found: list[type] = []
    pending: list[type] = [FlowlessError]
    while pending:
        cls = pending.pop()
        if cls not in found:
            found.append(cls)
            pending.extend(cls.__subclasses__())
    return found


@pytest.mark.parametrize("cls", _all_error_classes(), ids=lambda c: f"{c.__module__}.{c.__qualname__}")
def test_every_error_has_a_status(cls: type) -> None:
    from flowless.http.errors import STATUS_BY_ERROR

    # The same nearest-class-on-the-MRO lookup the HTTP layer does.
    status = next((STATUS_BY_ERROR[c] for c in cls.__mro__ if c in STATUS_BY_ERROR), None)
    assert status is not None, f"{cls.__qualname__} has no entry on its MRO in STATUS_BY_ERROR"
    if f"{cls.__module__}.{cls.__qualname__}" not in SERVER_SIDE_ERRORS:
        assert 400 <= status < 500, f"{cls.__qualname__} maps to {status}, expected a 4xx"


def test_errors_all_lists_every_public_class() -> None:
    from flowless import errors

    public = {name for name, value in vars(errors).items()
              if isinstance(value, type) and value.__module__ == errors.__name__ and not name.startswith("_")}
    assert sorted(public - set(errors.__all__)) == [], "classes missing from flowless.errors.__all__"
    assert sorted(set(errors.__all__) - public) == [], "names in flowless.errors.__all__ not defined there"
