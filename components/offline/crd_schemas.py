"""Where the CRD schemas for offline validation come from, and how to fetch them again.

A schema directory holds ``<group>/<kind lowercased>_<version>.json`` files, each the
``openAPIV3Schema`` of the served storage version of an upstream CRD, unchanged.

Run ``python -m components.offline.crd_schemas --out build/crd-schemas`` to rebuild one from
the pinned upstream CRD files (needs network access to raw.githubusercontent.com).
"""

from __future__ import annotations

import argparse
import json
import os
import urllib.request
from pathlib import Path
from typing import Any

import yaml

ENV_VAR = "MODELSTACK_CRD_SCHEMAS"
# Where `make crd-schemas` writes, relative to the repository.
DEFAULT_OUT = Path("build") / "crd-schemas"

# libyaml parses these multi-megabyte files several times faster; same safe constructors.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

HOW_TO_GET_SCHEMAS = (
    "CRD schemas not found: run `make crd-schemas` (it writes build/crd-schemas/, found"
    f" there by itself), or pass a directory of CRD JSON schemas with --crd-schemas or {ENV_VAR}."
)

# Pinned upstream CRD files: the release tags named in shared/schemas/crds/SOURCES.md.
_KEDA = "https://raw.githubusercontent.com/kedacore/keda/v2.20.2/config/crd/bases"
_KEDA_HTTP = "https://raw.githubusercontent.com/kedacore/http-add-on/v0.15.0/config/crd/bases"
_GATEWAY_API = (
    "https://raw.githubusercontent.com/kubernetes-sigs/gateway-api/v1.6.1/config/crd/standard"
)
_ENVOY_GATEWAY = (
    "https://raw.githubusercontent.com/envoyproxy/gateway/v1.9.0"
    "/charts/gateway-helm/charts/crds/crds/generated"
)
_PROMETHEUS_OPERATOR = (
    "https://raw.githubusercontent.com/prometheus-operator/prometheus-operator/v0.93.0"
    "/example/prometheus-operator-crd"
)

UPSTREAM_CRDS: list[tuple[str, str]] = [
    (f"{_KEDA}/keda.sh_scaledobjects.yaml", "KEDA v2.20.2 ScaledObject"),
    (f"{_KEDA}/keda.sh_triggerauthentications.yaml", "KEDA v2.20.2 TriggerAuthentication"),
    (
        f"{_KEDA_HTTP}/http.keda.sh_httpscaledobjects.yaml",
        "KEDA HTTP add-on v0.15.0 HTTPScaledObject",
    ),
    (
        f"{_GATEWAY_API}/gateway.networking.k8s.io_gatewayclasses.yaml",
        "Gateway API v1.6.1 GatewayClass (standard channel)",
    ),
    (
        f"{_GATEWAY_API}/gateway.networking.k8s.io_gateways.yaml",
        "Gateway API v1.6.1 Gateway (standard channel)",
    ),
    (
        f"{_GATEWAY_API}/gateway.networking.k8s.io_httproutes.yaml",
        "Gateway API v1.6.1 HTTPRoute (standard channel)",
    ),
    (
        f"{_ENVOY_GATEWAY}/gateway.envoyproxy.io_backendtrafficpolicies.yaml",
        "Envoy Gateway v1.9.0 BackendTrafficPolicy",
    ),
    (f"{_ENVOY_GATEWAY}/gateway.envoyproxy.io_backends.yaml", "Envoy Gateway v1.9.0 Backend"),
    (
        f"{_PROMETHEUS_OPERATOR}/monitoring.coreos.com_servicemonitors.yaml",
        "prometheus-operator v0.93.0 ServiceMonitor",
    ),
    (
        f"{_PROMETHEUS_OPERATOR}/monitoring.coreos.com_podmonitors.yaml",
        "prometheus-operator v0.93.0 PodMonitor",
    ),
]


def find_crd_schema_dir(explicit: Path | None = None) -> Path | None:
    """Return the CRD schema directory to use, or None when there is none.

    Order: ``explicit``, then ``$MODELSTACK_CRD_SCHEMAS``, then ``build/crd-schemas`` in the
    repository (where ``make crd-schemas`` writes them), then ``../shared/schemas/crds`` next
    to it. A path the user named that does not exist is an error rather than a silent
    fallback, so a typo cannot switch validation to another directory.
    """
    if explicit is not None:
        return _existing_dir(explicit, "--crd-schemas")
    from_env = os.environ.get(ENV_VAR)
    if from_env:
        return _existing_dir(Path(from_env), ENV_VAR)
    root = _repo_root()
    if root is not None:
        for candidate in (root / DEFAULT_OUT, root.parent / "shared" / "schemas" / "crds"):
            # A download that failed half-way leaves an empty directory: not a schema source.
            if candidate.is_dir() and any(candidate.glob("*/*.json")):
                return candidate
    return None


# Kinds modelstack renders (the shared endpoint's) that the shared schema set lacks: skipped
# and reported as skipped unless --crd-schemas names a directory that has them.
KINDS_WITHOUT_SHARED_SCHEMA = frozenset(
    {
        ("gateway.envoyproxy.io/v1alpha1", "EnvoyExtensionPolicy"),
        ("gateway.envoyproxy.io/v1alpha1", "HTTPRouteFilter"),
    }
)

# Schema sets kept beside the shared `crds/` set, each with its own SOURCES.md: InferencePool
# (inference_aware) and LeaderWorkerSet; PrometheusRule (alerts) and Flagger's kinds.
# Searched after the chosen directory, for the kinds it lacks, beside it or next to the
# repository.
COMPANION_SETS = ("crds-inference", "crds-delivery")


def with_companion_sets(directory: Path | None) -> tuple[Path, ...]:
    """The schema directories to search, in order: `directory`, then the companion sets."""
    if directory is None:
        return ()
    root = _repo_root()
    places = [
        directory.parent,
        *([root.parent / "shared" / "schemas"] if root else []),
    ]
    found = [directory]
    for name in COMPANION_SETS:
        for place in places:
            candidate = place / name
            if candidate.is_dir() and candidate not in found:
                found.append(candidate)
    return tuple(found)


def _existing_dir(path: Path, origin: str) -> Path:
    if not path.is_dir():
        raise FileNotFoundError(
            f"CRD schema directory {str(path)!r} (from {origin}) does not exist or is not a"
            f" directory; {HOW_TO_GET_SCHEMAS}"
        )
    return path


def _repo_root() -> Path | None:
    """The nearest directory above this file that holds pyproject.toml."""
    for directory in Path(__file__).resolve().parents:
        if (directory / "pyproject.toml").is_file():
            return directory
    return None


def extract_schemas(crd_yaml_text: str) -> dict[str, dict]:
    """Map ``<group>/<kind lowercased>_<version>.json`` to its ``openAPIV3Schema``.

    Takes every CustomResourceDefinition in a (possibly multi-document) YAML text and
    keeps the versions that are both served and the storage version, as SOURCES.md
    describes; the schema is returned as is.
    """
    schemas: dict[str, dict] = {}
    for document in yaml.load_all(crd_yaml_text, Loader=_SafeLoader):
        if not isinstance(document, dict) or document.get("kind") != "CustomResourceDefinition":
            continue
        spec: dict[str, Any] = document["spec"]
        group, kind = spec["group"], spec["names"]["kind"]
        for version in spec["versions"]:
            if version.get("served") and version.get("storage"):
                name = f"{group}/{kind.lower()}_{version['name']}.json"
                schemas[name] = version["schema"]["openAPIV3Schema"]
    return schemas


def write_schemas(schemas: dict[str, dict], out: Path) -> None:
    """Write schemas the way the shared directory holds them (indent 2, UTF-8, key order)."""
    for name, schema in schemas.items():
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
        path.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Fetch the pinned upstream CRD schemas.")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    for url, description in UPSTREAM_CRDS:
        try:
            with urllib.request.urlopen(url, timeout=60) as response:
                text = response.read().decode("utf-8")
        except OSError as error:  # URLError, HTTPError and timeouts are all OSErrors
            reason = getattr(error, "reason", None) or error
            raise SystemExit(
                f"error: cannot download {description} from {url}: {reason}\n"
                "`make crd-schemas` needs access to raw.githubusercontent.com. Offline, copy a "
                f"schema directory here and pass it with --crd-schemas or {ENV_VAR}; without "
                "one, `modelstack validate` skips custom resources (reported as skipped) and "
                "checks everything else."
            ) from None
        schemas = extract_schemas(text)
        if not schemas:
            raise SystemExit(f"no served storage version in {url}")
        write_schemas(schemas, args.out)
        print(f"{description}: {', '.join(sorted(schemas))}")


if __name__ == "__main__":
    main()
