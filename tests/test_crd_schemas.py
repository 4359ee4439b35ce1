"""CRD schema extraction and discovery, checked against the shared schema directory."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from components.offline import crd_schemas
from components.offline.crd_schemas import (
    ENV_VAR,
    HOW_TO_GET_SCHEMAS,
    UPSTREAM_CRDS,
    extract_schemas,
    find_crd_schema_dir,
    write_schemas,
)

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def crd_dir() -> Path:
    found = find_crd_schema_dir()
    if found is None:
        pytest.skip(HOW_TO_GET_SCHEMAS)
    return found


def shared_schemas(crd_dir: Path) -> dict[str, dict]:
    return {
        path.relative_to(crd_dir).as_posix(): json.loads(path.read_text(encoding="utf-8"))
        for path in crd_dir.glob("*/*.json")
    }


def test_extraction_equals_the_shared_json_files(crd_dir: Path) -> None:
    originals = sorted((crd_dir / "original").glob("*.yaml"))
    assert len(originals) == 10
    extracted: dict[str, dict] = {}
    for original in originals:
        schemas = extract_schemas(original.read_text(encoding="utf-8"))
        assert len(schemas) == 1, original.name  # one served storage version per CRD
        extracted.update(schemas)
    assert extracted == shared_schemas(crd_dir)


def test_written_files_are_byte_identical_to_the_shared_ones(crd_dir: Path, tmp_path: Path) -> None:
    for original in (crd_dir / "original").glob("*.yaml"):
        write_schemas(extract_schemas(original.read_text(encoding="utf-8")), tmp_path)
    for name in shared_schemas(crd_dir):
        assert (tmp_path / name).read_bytes() == (crd_dir / name).read_bytes(), name


CRD_YAML = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: not-a-crd}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  names: {kind: Widget, plural: widgets}
  versions:
    - name: v1beta1
      served: true
      storage: false
      schema: {openAPIV3Schema: {type: object, description: old}}
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties: {spec: {type: object}}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gadgets.example.com}
spec:
  group: example.com
  names: {kind: Gadget, plural: gadgets}
  versions:
    - name: v1
      served: false
      storage: true
      schema: {openAPIV3Schema: {type: object}}
"""


def test_extraction_keeps_only_served_storage_versions() -> None:
    assert extract_schemas(CRD_YAML) == {
        "example.com/widget_v1.json": {"type": "object", "properties": {"spec": {"type": "object"}}}
    }


def test_explicit_dir_wins_and_must_exist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "from-env"))
    assert find_crd_schema_dir(tmp_path) == tmp_path
    missing = tmp_path / "missing"
    with pytest.raises(FileNotFoundError, match="missing"):
        find_crd_schema_dir(missing)


def test_env_var_is_used_and_must_exist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    assert find_crd_schema_dir() == tmp_path
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "missing"))
    with pytest.raises(FileNotFoundError, match=ENV_VAR):
        find_crd_schema_dir()


def test_default_is_the_shared_dir_next_to_the_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    shared = REPO_ROOT.parent / "shared" / "schemas" / "crds"
    assert find_crd_schema_dir() == (shared if shared.is_dir() else None)


def sources_table(crd_dir: Path) -> list[list[str]]:
    """Rows of the first table in SOURCES.md (schema file, kind, repository, tag, ...)."""
    rows = []
    for line in (crd_dir / "SOURCES.md").read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 7 and cells[0].endswith(".json`"):
            rows.append(cells)
    return rows


def test_upstream_urls_are_pinned_as_sources_md_says(crd_dir: Path) -> None:
    expected = set()
    for _, _, repository, tag, _, path, _ in sources_table(crd_dir):
        owner_repo = repository.removeprefix("github.com/")
        version = tag.split()[0]  # "v1.6.1 (standard channel)"
        expected.add(f"https://raw.githubusercontent.com/{owner_repo}/{version}/{path.strip('`')}")
    assert len(expected) == 10
    assert {url for url, _ in UPSTREAM_CRDS} == expected
    for url, description in UPSTREAM_CRDS:
        tag = url.split("/")[5]  # https://raw.githubusercontent.com/<owner>/<repo>/<tag>/...
        assert tag in description, (url, description)


def test_main_writes_what_it_downloads(
    crd_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """main() without network: each URL is served from the upstream copy in original/."""
    requested = []

    def fake_urlopen(url: str, timeout: float) -> Any:
        requested.append(url)
        return io.BytesIO((crd_dir / "original" / url.rsplit("/", 1)[1]).read_bytes())

    monkeypatch.setattr(crd_schemas.urllib.request, "urlopen", fake_urlopen)
    crd_schemas.main(["--out", str(tmp_path)])

    assert requested == [url for url, _ in UPSTREAM_CRDS]
    written = {path.relative_to(tmp_path).as_posix() for path in tmp_path.glob("*/*.json")}
    assert written == set(shared_schemas(crd_dir))
