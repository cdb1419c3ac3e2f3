"""The layout of both packages: no module over 400 lines, and no import, module-level or inside a
function, that runs from a lower layer to a higher one.

`LAYERS` is the order, bottom first. A module belongs to the longest entry that is its name or a
package above it (`unlearn.training.attack` -> `unlearn.training`); a package's root entry
(`unlearn`, `relearn_interp`) holds only the package's `__init__`, so every new module must be
placed here on purpose. A module may import its own layer and any lower one.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("unlearn", "relearn_interp")
MAX_LINES = 400

LAYERS: tuple[tuple[str, ...], ...] = (
    # unlearn: foundation modules
    ("unlearn", "unlearn.errors", "unlearn.presets"),
    ("unlearn.outputs",),
    ("unlearn.io",),
    ("unlearn.devices",),
    ("unlearn.precision",),
    # data and tokens
    ("unlearn.data",),
    ("unlearn.prompting",),
    # models: the card (and its chain), the presets' builders, loading
    ("unlearn.models.card",),
    ("unlearn.models.tiny", "unlearn.models.gguf"),
    ("unlearn.models",),
    ("unlearn.embeddings",),
    # recall, shared by training and eval
    ("unlearn.recall.matching",),
    ("unlearn.recall.mentions", "unlearn.recall.generation"),
    ("unlearn.recall",),
    # methods, ReLearn data, training
    ("unlearn.methods",),
    ("unlearn.augment",),
    ("unlearn.training.config",),
    ("unlearn.training.data", "unlearn.training.lora"),
    ("unlearn.training.loop",),
    ("unlearn.training.checkpoint", "unlearn.training.stop_rule"),
    ("unlearn.training.finetune", "unlearn.training.run"),
    ("unlearn.training",),  # attack: the one relearning attack, above the fine-tune it runs
    # evaluation
    ("unlearn.eval.metrics",),
    ("unlearn.eval.backends",),
    ("unlearn.eval.scoring", "unlearn.eval.results_file"),
    ("unlearn.eval.context", "unlearn.eval.compare"),
    ("unlearn.eval.robustness",),
    ("unlearn.eval",),
    # the CLI
    ("unlearn.commands",),
    ("unlearn.cli",),
    # relearn_interp, above all of unlearn
    (
        "relearn_interp",
        "relearn_interp.layout",
        "relearn_interp.statistics",
        "relearn_interp.load",
        "relearn_interp.labels",
    ),
    ("relearn_interp.prompts",),
    (
        "relearn_interp.lens",
        "relearn_interp.shift",
        "relearn_interp.circuits",
        "relearn_interp.erasure",
        "relearn_interp.metric_intervals",
        "relearn_interp.command_args",
    ),
    ("relearn_interp.claims",),
    ("relearn_interp.plots",),
    ("relearn_interp.report",),
    ("relearn_interp.main",),
    ("relearn_interp.commands",),
    ("relearn_interp.cli",),
)
LAYER_OF: dict[str, int] = {entry: index for index, layer in enumerate(LAYERS) for entry in layer}


def module_files(package: str) -> dict[str, Path]:
    """Dotted module name -> file, for every module of `package` (a package is its __init__)."""
    modules = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


ALL_MODULES: dict[str, Path] = {
    name: path for package in PACKAGES for name, path in module_files(package).items()
}


def layer_entry(module: str) -> str | None:
    """The longest LAYERS entry that is `module` or a package above it (a root only for itself)."""
    candidates = [
        entry
        for entry in LAYER_OF
        if module == entry or (module.startswith(entry + ".") and entry not in PACKAGES)
    ]
    return max(candidates, key=len, default=None)


def imported_modules(module: str, path: Path) -> set[str]:
    """Every module of the two packages that `module` imports, wherever the import statement is
    (module level, inside a function, under TYPE_CHECKING); `from pkg import sub` counts `pkg.sub`
    when `sub` is a module."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {name for name in found if name in ALL_MODULES}


@pytest.mark.parametrize("package", PACKAGES)
def test_no_module_runs_over_400_lines(package):
    long = {
        name: lines
        for name, path in module_files(package).items()
        if (lines := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert not long, f"modules over {MAX_LINES} lines (split them): {long}"


@pytest.mark.parametrize("package", PACKAGES)
def test_every_module_has_a_layer(package):
    unplaced = [name for name in module_files(package) if layer_entry(name) is None]
    assert not unplaced, f"place these modules in tests/test_layout.py LAYERS: {unplaced}"


@pytest.mark.parametrize("package", PACKAGES)
def test_no_import_runs_from_a_lower_layer_to_a_higher_one(package):
    upward = []
    for module, path in module_files(package).items():
        entry = layer_entry(module)
        if entry is None:
            continue
        for target in sorted(imported_modules(module, path)):
            target_entry = layer_entry(target)
            if target_entry is not None and LAYER_OF[target_entry] > LAYER_OF[entry]:
                upward.append(f"{module} ({entry}) imports {target} ({target_entry})")
    assert not upward, "imports running up the layers:\n" + "\n".join(upward)


def test_unlearn_never_imports_relearn_interp():
    offenders = [
        f"{module} imports {target}"
        for module, path in module_files("unlearn").items()
        for target in imported_modules(module, path)
        if target.split(".")[0] == "relearn_interp"
    ]
    assert not offenders, offenders
