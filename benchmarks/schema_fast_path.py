"""The yes/no fast path of schema validation, three ways, on the objects of one large render.

Run from the repository root: ``.venv/bin/python benchmarks/schema_fast_path.py``
(``--deployments N``, default 100: the stack of benchmarks/render.py, rendered first; or
``--render-dir DIR`` for a render `modelstack render` wrote). Per way it builds one check per
kind (apiVersion, kind) and times it over every object, best of ``--repeat`` passes:

    hand-written   components/offline/schema_fast_check.py, the check compiled by hand from
                   each schema; removed after this benchmark chose fastjsonschema, so it is
                   skipped now (its figures: docs/performance.md)
    fastjsonschema fastjsonschema.compile, formats off (schema_validation uses no format
                   checker either), the Kubernetes definitions served to its $ref resolver
    jsonschema     a cached Draft202012Validator per kind, `is_valid`, with the built registry

It prints the build time of all checks, ms per object and the ratio to the first way run.
Then it mutates the objects (a wrong type, an unknown field, a missing field; ``--mutations``
per object) and counts the verdicts that differ from jsonschema's iter_errors, the
reference: a check that calls an invalid object valid would hide a violation.
"""

from __future__ import annotations

import argparse
import copy
import importlib.util
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from components.offline.crd_schemas import find_crd_schema_dir  # noqa: E402
from components.offline.render_dir import load_render_dir  # noqa: E402
from components.offline.schema_validation import SchemaValidator  # noqa: E402

Check = Callable[[Any], bool]
Build = Callable[[dict[str, Any], Any], Check]


def _hand_written(schema: dict[str, Any], registry: Any) -> Check:
    from components.offline.schema_fast_check import compile_fast_check

    check = compile_fast_check(schema, registry)
    if check is None:
        raise RuntimeError("the hand-written check refused this schema")
    return check


def _fastjsonschema(schema: dict[str, Any], registry: Any) -> Check:
    from components.offline.schema_fast_path import FastChecks

    compiler = _COMPILERS.setdefault(id(registry), FastChecks(registry))
    check = compiler.compile(schema)
    if check is None:
        raise RuntimeError("fastjsonschema refused this schema")
    return check


def _jsonschema(schema: dict[str, Any], registry: Any) -> Check:
    return Draft202012Validator(schema, registry=registry).is_valid


_COMPILERS: dict[int, Any] = {}  # one per registry, as SchemaValidator keeps one
WAYS: dict[str, tuple[str, Build]] = {
    "hand-written": ("components.offline.schema_fast_check", _hand_written),
    "fastjsonschema": ("components.offline.schema_fast_path", _fastjsonschema),
    "jsonschema": ("jsonschema", _jsonschema),
}


def rendered_objects(deployments: int, render_dir: Path | None) -> list[dict[str, Any]]:
    if render_dir is not None:
        return load_render_dir(render_dir).objects
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from render import stack_document  # benchmarks/render.py

    from components.offline.render import render_stack
    from components.offline.stack_file import read_stack_file

    with tempfile.TemporaryDirectory() as temp:
        stack = Path(temp) / f"Pulumi.bench{deployments}.yaml"
        stack.write_text(yaml.safe_dump(stack_document(deployments), sort_keys=False))
        return render_stack(read_stack_file(stack, None)).objects


def _best_seconds(repeat: int, pairs: list[tuple[Check, dict[str, Any]]]) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for check, obj in pairs:
            check(obj)
        best = min(best, time.perf_counter() - start)
    return best


def _mutations(obj: dict[str, Any], count: int, rng: random.Random) -> Iterator[dict[str, Any]]:
    """Copies of obj, each with one field given a wrong type, an unknown key or removed."""
    places = list(_places(obj))
    for _ in range(count):
        path, value = rng.choice(places)
        mutated = copy.deepcopy(obj)
        parent = mutated
        for key in path[:-1]:
            parent = parent[key]
        last = path[-1]
        how = rng.randrange(3)
        if how == 0:
            parent[last] = _wrong_type(value)
        elif how == 1 and isinstance(value, dict):
            parent[last] = {**value, "unknwonField": 1}
        elif isinstance(parent, dict):
            del parent[last]
        else:
            parent[last] = None
        yield mutated


def _places(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for key, value in items:
        yield (*path, key), value
        if isinstance(value, dict | list) and value:
            yield from _places(value, (*path, key))


def _wrong_type(value: Any) -> Any:
    if isinstance(value, bool):
        return "true"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return 7
    if isinstance(value, list):
        return {"item": value}
    return [value]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deployments", type=int, default=100)
    parser.add_argument("--render-dir", type=Path)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--mutations", type=int, default=20, help="per object mutated")
    parser.add_argument("--per-kind", type=int, default=3, help="objects mutated per kind")
    args = parser.parse_args(argv)

    objects = rendered_objects(args.deployments, args.render_dir)
    validator = SchemaValidator("1.33", find_crd_schema_dir())
    kinds = {(obj["apiVersion"], obj["kind"]) for obj in objects}
    registry = validator.registry
    schemas = {kind: validator.schema_of(*kind) for kind in sorted(kinds)}
    checked = [obj for obj in objects if schemas[(obj["apiVersion"], obj["kind"])] is not None]
    print(f"{len(objects)} objects, {len(checked)} with a schema, {len(kinds)} kinds")

    ways = {name: build for name, (module, build) in WAYS.items() if _importable(module)}
    checks: dict[str, dict[tuple[str, str], Check]] = {}
    print(f"\n| way | build all checks, ms | ms/object | ratio to {next(iter(ways))} |")
    print("|---|---:|---:|---:|")
    baseline = None
    for name, build in ways.items():
        start = time.perf_counter()
        checks[name] = {kind: build(schema, registry) for kind, schema in schemas.items() if schema}
        built = time.perf_counter() - start
        per_kind = checks[name]
        pairs = [(per_kind[(obj["apiVersion"], obj["kind"])], obj) for obj in checked]
        assert all(check(obj) for check, obj in pairs), f"{name}: a rendered object is invalid"
        seconds = _best_seconds(args.repeat, pairs)
        per_object = 1000 * seconds / len(pairs)
        baseline = baseline or per_object
        print(f"| {name} | {1000 * built:.0f} | {per_object:.4f} | {per_object / baseline:.2f} |")

    reference = {
        kind: Draft202012Validator(schema, registry=registry)
        for kind, schema in schemas.items()
        if schema
    }
    rng = random.Random(17)
    # A few objects of each kind reach every schema; mutating all 10,000 would take long.
    sample: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for obj in checked:
        sample.setdefault((obj["apiVersion"], obj["kind"]), []).append(obj)
    originals = [obj for objs in sample.values() for obj in objs[: args.per_kind]]
    disagreements = {name: [0, 0] for name in checks}  # [called valid wrongly, called invalid]
    tried = 0
    for obj in originals:
        kind = (obj["apiVersion"], obj["kind"])
        for mutated in _mutations(obj, args.mutations, rng):
            tried += 1
            valid = next(reference[kind].iter_errors(mutated), None) is None
            for name, per_kind in checks.items():
                verdict = per_kind[kind](mutated)
                if verdict != valid:
                    disagreements[name][0 if verdict else 1] += 1
    print(f"\n{tried} mutated objects ({len(originals)} originals): verdicts unlike jsonschema's")
    print("| way | called valid, is invalid | called invalid, is valid |")
    print("|---|---:|---:|")
    for name, (wrong_valid, wrong_invalid) in disagreements.items():
        print(f"| {name} | {wrong_valid} | {wrong_invalid} |")
    return 0


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


if __name__ == "__main__":
    raise SystemExit(main())
