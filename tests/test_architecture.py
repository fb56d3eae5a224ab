"""The layout's rules: data flows one way, pure rules stay pure, tests stand on their own."""

import ast
from pathlib import Path
import subprocess
import sys

import pytest

ROOT = Path(__file__).resolve().parents[1]
INTEGRATION = ROOT / "custom_components" / "sonos_troubleshooter"
PACKAGE = "custom_components.sonos_troubleshooter"
# Transport, parsing, model, rules and catalog: no Home Assistant import may creep in.
HEALTH = INTEGRATION / "sonos_health"
# The repository's Python packages, checked for circles as one graph.
PACKAGES = (INTEGRATION, ROOT / "sonos_emulator", ROOT / "tools", ROOT / "tests")
HEALTH_TESTS = ROOT / "tests" / "sonos_health"
TEST_MODULES = {path.stem for path in (ROOT / "tests").rglob("test_*.py")}
HOME_ASSISTANT = ("homeassistant", "pytest_homeassistant_custom_component")


def type_only_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """Return the imports under `if TYPE_CHECKING:`, which only mypy follows."""
    return [
        node
        for block in ast.walk(tree)
        if isinstance(block, ast.If)
        and isinstance(block.test, ast.Name)
        and block.test.id == "TYPE_CHECKING"
        for statement in block.body
        for node in ast.walk(statement)
        if isinstance(node, (ast.Import, ast.ImportFrom))
    ]


def imported_modules(path: Path, package: str, *, at_runtime: bool = False) -> set[str]:
    """Return the absolute names of the modules a file imports (relative imports resolved).

    `at_runtime` leaves out the imports under `if TYPE_CHECKING:`.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = {id(node) for node in type_only_imports(tree)} if at_runtime else set()
    names: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            # `from . import cloud_client` names a module, not a symbol.
            names.update(f"{base}.{alias.name}" for alias in node.names)
            names.add(base)
    return names


def module_name(path: Path) -> str:
    """Return the dotted name Python imports a repository file by."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def repository_graph() -> dict[str, set[str]]:
    """Map each module of the repository's packages to the repository modules it imports.

    A package counts as imported when a name is taken from it, not when it only hands out its
    sub-modules (`from . import core_sonos`). Type-only imports count too, except in the
    integration, where the one allowed is checked on its own (see below).
    """
    paths = {
        module_name(path): path
        for root in PACKAGES
        for path in root.rglob("*.py")
        if (path.parent / "__init__.py").exists()
    }
    graph = {}
    for name, path in paths.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        imported = imported_modules(path, package, at_runtime=path.is_relative_to(INTEGRATION))
        graph[name] = {
            other
            for other in paths
            if other != name
            and other in imported
            and (
                paths[other].name != "__init__.py"
                or any(
                    found.rpartition(".")[0] == other and found not in paths for found in imported
                )
                or not any(found.rpartition(".")[0] == other for found in imported)
            )
        }
    return graph


def test_no_module_imports_one_that_imports_it_back() -> None:
    """No circle of any length, in the integration, the emulator, the programs or the tests.

    In the integration: transport -> model -> rules -> coordinator -> entities.
    """
    graph = repository_graph()
    state: dict[str, str] = {}
    circles: list[list[str]] = []

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for other in sorted(graph[module]):
            if state.get(other) == "open":
                circles.append([*path[path.index(other) :], other])
            elif other not in state:
                visit(other, [*path, other])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert circles == []


def test_graph_sees_the_imports() -> None:
    """The check above must not pass by seeing nothing."""
    graph = repository_graph()
    integration = {
        name.removeprefix(f"{PACKAGE}."): {other.removeprefix(f"{PACKAGE}.") for other in found}
        for name, found in graph.items()
        if name.startswith(PACKAGE)
    }
    assert "coordinator" in integration["runtime_data"]
    assert "sonos_health.household" in integration["store"]
    assert "sonos_health.player_client" in integration["sonos_health.household"]
    assert "sonos_health.cloud_client" in integration["coordinator"]  # `from .sonos_health import`
    assert "sonos_health" not in integration["coordinator"]  # it only hands out a module
    assert "runtime_data" not in integration["coordinator"]  # named for mypy only
    assert "sonos_emulator.server" in graph["sonos_emulator.household"]
    assert "sonos_emulator" in graph["sonos_emulator.process"]  # `from . import Emulator`
    assert "sonos_emulator.model" in graph["tests.sonos_health.test_real_documents"]
    assert "tests.helpers" in graph["tests.test_coordinator"]
    assert f"{PACKAGE}.sonos_health.household_map" in graph["tools.bench"]
    assert {name.partition(".")[0] for name in graph} == {
        "custom_components",
        "sonos_emulator",
        "tests",
        "tools",
    }


def test_type_only_imports_name_only_the_typed_entry() -> None:
    """Only the typed config entry may be named against the layers, for mypy (`if TYPE_CHECKING:`).

    The entry's runtime data holds the coordinator and the power control built on it, while the
    coordinator, and the watcher and topology events it builds, take that entry: a circle of
    types across modules (HA core's peblar and tplink keep theirs within coordinator.py). No
    import may close it at run time, and nothing else may go up the layers that way.
    """
    found = {
        path.relative_to(INTEGRATION).with_suffix("").as_posix(): [
            (node.level, node.module, [alias.name for alias in node.names])
            if isinstance(node, ast.ImportFrom)
            else (0, None, [alias.name for alias in node.names])
            for node in type_only_imports(ast.parse(path.read_text(encoding="utf-8")))
        ]
        for path in INTEGRATION.rglob("*.py")
    }
    allowed = [(1, "runtime_data", ["SonosTroubleshooterConfigEntry"])]
    assert {
        module: imports for module, imports in found.items() if imports not in ([], allowed)
    } == {}
    assert found["coordinator"] == allowed  # the check above must see them


@pytest.mark.parametrize("path", sorted(HEALTH.glob("*.py")), ids=lambda path: path.stem)
def test_sonos_health_imports_neither_home_assistant_nor_the_glue(path: Path) -> None:
    imported = imported_modules(path, f"{PACKAGE}.sonos_health")
    assert not {name for name in imported if name.startswith(HOME_ASSISTANT)}
    assert not {
        name
        for name in imported
        if name.startswith(PACKAGE) and not name.startswith(f"{PACKAGE}.sonos_health")
    }


@pytest.mark.parametrize("path", sorted(HEALTH_TESTS.glob("*.py")), ids=lambda path: path.stem)
def test_sonos_health_tests_import_neither_home_assistant_nor_the_glue(path: Path) -> None:
    """They test the library alone: its modules, the emulator, and nothing of the other tests."""
    imported = imported_modules(path, "tests.sonos_health")
    assert not {name for name in imported if name.startswith(HOME_ASSISTANT)}
    assert not {
        name
        for name in imported
        if (name.startswith(PACKAGE) and not name.startswith(f"{PACKAGE}.sonos_health"))
        or (name.startswith("tests") and not name.startswith("tests.sonos_health"))
    }


def home_assistant_loaded_by(modules: list[str]) -> list[str]:
    """Import the modules in a fresh interpreter; return the Home Assistant modules loaded."""
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        f"print(sorted(name for name in sys.modules if name.startswith({HOME_ASSISTANT!r})))\n"
    )
    loaded = subprocess.run(  # noqa: S603  (our own interpreter, fixed arguments)
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return ast.literal_eval(loaded.stdout)


def test_sonos_health_and_its_tests_load_no_home_assistant() -> None:
    """What they import, and all it imports in turn, holds no Home Assistant module.

    As the library's tests run alone: tests/sonos_health/conftest.py keeps the integration's
    `__init__.py`, Home Assistant's entry point, from running.
    """
    conftest = "tests.sonos_health.conftest"
    library = [f"{PACKAGE}.sonos_health.{path.stem}" for path in sorted(HEALTH.glob("*.py"))]
    tests = [f"tests.sonos_health.{path.stem}" for path in sorted(HEALTH_TESTS.glob("test_*.py"))]
    assert home_assistant_loaded_by([conftest, *library, *tests]) == []
    # The check must not pass by seeing nothing: the integration's entry point loads HA.
    assert "homeassistant" in home_assistant_loaded_by([PACKAGE])


def test_no_test_module_imports_another() -> None:
    """Shared helpers live in helper modules and conftest, as in Home Assistant core."""
    offenders = {
        path.relative_to(ROOT).as_posix(): sorted(
            name
            for name in imported_modules(path, ".".join(path.relative_to(ROOT).parent.parts))
            if name.split(".")[0] in ("tests", *TEST_MODULES)
            and any(part.startswith("test_") for part in name.split("."))
        )
        for path in (ROOT / "tests").rglob("test_*.py")
    }
    assert {name: found for name, found in offenders.items() if found} == {}


def test_tools_and_emulator_do_not_import_tests() -> None:
    """The emulator and the programs are used by tests, never the other way round."""
    for folder in ("sonos_emulator", "tools"):
        for path in (ROOT / folder).glob("*.py"):
            imported = imported_modules(path, folder)
            assert not {name for name in imported if name.split(".")[0] == "tests"}, path
