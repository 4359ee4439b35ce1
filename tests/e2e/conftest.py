"""Fixtures of the real-engine suite: one control plane per session, a Pulumi project per module.

Every test module here is marked `e2e` (so `make test` leaves them out) and needs the binaries that
`make e2e-tools` builds; without them the suite fails and says so rather than skipping, since
CI runs it to prove the real thing works.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.cluster import CONTROL_PLANE_BINARIES, LocalCluster, missing_tools, tools_dir
from tests.e2e.inventory import apply_all, install_crds, prerequisites, read_plan
from tests.e2e.nodes import node_documents, node_groups
from tests.e2e.pulumi_cli import PulumiProject

HERE = Path(__file__).parent
STACKS = HERE.parents[1] / "stacks"
CLUSTER_STACKS = ("staging", "prod")
# Stacks of the suite's own, for what the committed ones do not use (AMD GPUs).
E2E_STACKS = HERE / "stacks"
HF_TOKEN = "hf_e2eTestTokenNotARealOne0000000000"  # a test value; never leaves the test cluster


@pytest.fixture(scope="session")
def cluster(request: pytest.FixtureRequest) -> Iterator[LocalCluster]:
    missing = missing_tools()
    if missing:
        pytest.fail(f"missing real-engine tools in {tools_dir()}: {missing}; run `make e2e-tools`")
    stack_files = [STACKS / f"Pulumi.{stack}.yaml" for stack in CLUSTER_STACKS]
    plans = [read_plan(path) for path in [*stack_files, *sorted(E2E_STACKS.glob("Pulumi.*.yaml"))]]
    contexts = tuple(sorted({plan.kube_context for plan in plans if plan.kube_context}))
    with LocalCluster(contexts=contexts) as local:
        install_crds(local)
        for node in node_documents(node_groups(plans)):
            local.request("POST", "/api/v1/nodes", node)
        for plan in plans:
            apply_all(local, prerequisites(plan))
        yield local
        if request.session.testsfailed:
            # The control plane's own account of what went wrong, before its folder goes.
            for name in CONTROL_PLANE_BINARIES:
                print(
                    f"\n--- {name} log (last lines) ---\n{local.log_tail(name, 40)}",
                    file=sys.stderr,
                )


@pytest.fixture(scope="session")
def project(cluster: LocalCluster) -> Iterator[PulumiProject]:
    pulumi = PulumiProject(cluster.kubeconfig)
    yield pulumi
    pulumi.cleanup()


@pytest.fixture(scope="session")
def staging(project: PulumiProject) -> dict[str, Any]:
    """The staging stack, initialised with its secret (the tests apply it)."""
    project.add_stack("staging", STACKS / "Pulumi.staging.yaml")
    project.set_secret("staging", "modelstack:hfToken", HF_TOKEN)
    return project.read_stack("staging")
