"""What installing callhooks brings: a small core, the rest behind extras, every imported package declared,
and a pytest plugin that stays cheap for every pytest run where callhooks is installed."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from importlib.metadata import packages_distributions, requires
from pathlib import Path

import pytest

from callhooks.cli import _missing_extra

ROOT = Path(__file__).resolve().parents[2]
REQUIRES = requires("callhooks") or []  # the installed metadata, built from pyproject.toml
CORE = {
    "starlette",
    "uvicorn",
    "pydantic",
    "pydantic-core",
    "itsdangerous",
    "httpx",
    "anyio",
    "h11",
    "typing-extensions",
}
# imported only where a missing package becomes a message naming the extra
OPTIONAL = {"rich": "cli", "yaml": "simulator", "prometheus_client": "metrics"}


def _name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _imported_top_level(paths: list[Path]) -> set[str]:
    names: set[str] = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names.update(alias.name.partition(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.partition(".")[0])
    return names - set(sys.stdlib_module_names) - {"callhooks", "__future__"}


def _extra(name: str) -> set[str]:
    return {_name(r) for r in REQUIRES if re.search(rf"extra == .{name}.", r)}


def test_core_dependencies_are_only_the_small_core() -> None:
    assert {_name(r) for r in REQUIRES if "extra ==" not in r} == CORE
    assert _extra("cli") == {"rich", "uvicorn", "httptools"}
    assert _extra("simulator") == {"pyyaml"}
    assert _extra("metrics") == {"prometheus-client"}
    assert _extra("docs") == {"mkdocs-material", "mkdocstrings"}
    assert any(r.startswith("callhooks[cli,docs,metrics,simulator]") and "test" in r for r in REQUIRES)


def test_every_imported_package_is_declared() -> None:
    distributions = packages_distributions()
    imported = _imported_top_level(sorted((ROOT / "callhooks").rglob("*.py")))
    declared = {_name(r) for r in REQUIRES}
    for module in imported:
        providers = {d.lower().replace("_", "-") for d in distributions.get(module, [module])}
        assert providers & declared, f"{module} is imported but no dependency provides it"
        if module in OPTIONAL:
            assert not providers & CORE


def test_the_pytest_plugin_imports_neither_the_simulator_nor_uvicorn() -> None:
    heavy = "('uvicorn', 'callhooks.simulator')"
    probe = f"import sys, callhooks.testing.plugin; print(sorted(m for m in sys.modules if m.startswith({heavy})))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize(("module", "extra"), sorted(OPTIONAL.items()))
def test_a_missing_optional_package_names_its_extra(module: str, extra: str) -> None:
    message = _missing_extra(ModuleNotFoundError(f"No module named {module!r}", name=module), "demo")
    assert f"pip install 'callhooks[{extra}]'" in message


def test_other_missing_modules_are_not_blamed_on_an_extra() -> None:
    error = ModuleNotFoundError("No module named 'mystery'", name="mystery")
    with pytest.raises(ModuleNotFoundError):
        _missing_extra(error, "demo")


def test_the_readmes_first_command_installs_what_the_demo_needs() -> None:
    readme = (ROOT / "README.md").read_text()
    first = re.search(r"^```bash\n(.+?)\n```", readme.split("## Quick start", 1)[1], flags=re.MULTILINE)
    assert first is not None and "callhooks demo" in first.group(1)
    assert "pip install -q -e '.[cli]'" in first.group(1)  # rich, for the demo's table
