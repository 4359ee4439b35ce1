"""The real program under Pulumi's mock runtime, for each stack file: resources and wiring."""

from __future__ import annotations

from pathlib import Path

import pulumi
import pytest

from components.offline.render import REDACTED, Render, render_stack
from components.offline.runtime import ProgramRun, run_program
from components.offline.stack_file import read_stack_file
from tests.conftest import (
    KUBERNETES_STACKS,
    ROOT,
    deployments_of,
    find_object,
    find_resource,
    render_document,
    stack_document,
    with_changes,
    write_stack,
)

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
JOB = "kubernetes:batch/v1:Job"
PVC = "kubernetes:core/v1:PersistentVolumeClaim"
SECRET = "kubernetes:core/v1:Secret"
COMPONENT = "modelstack:kubernetes:ModelDeployment"


def _container(deployment: dict) -> dict:
    return deployment["spec"]["template"]["spec"]["containers"][0]


def _model_arg(deployment: dict) -> str:
    args = _container(deployment)["args"]
    flag = next(a for a in args if a in ("--model", "-m", "--model-id", "--model-path"))
    return args[args.index(flag) + 1]


@pytest.mark.parametrize("stack", KUBERNETES_STACKS)
def test_every_rendered_object_passes_strict_schema_validation(
    stack: str, stack_renders: dict[str, Render], schema_validator
) -> None:
    render = stack_renders[stack]
    assert render.objects
    assert schema_validator.validate_all(render.objects) == []


@pytest.mark.parametrize("stack", KUBERNETES_STACKS)
def test_children_belong_to_their_deployment_component(
    stack: str, stack_renders: dict[str, Render]
) -> None:
    render = stack_renders[stack]
    components = {r["name"] for r in render.resources if r["type"] == COMPONENT}
    assert components == {d["name"] for d in deployments_of(stack_document(stack))}
    for resource in render.resources:
        if resource["type"].startswith("kubernetes:") and resource["type"] != (
            "kubernetes:core/v1:Namespace"
        ):
            parent = resource["parent"].split("::")[1]
            assert resource["parent"].startswith(COMPONENT)
            assert resource["name"].startswith(parent)
            assert resource["provider"] == "pulumi:providers:kubernetes::kubernetes"


def test_prod_blue_green_wiring(stack_renders: dict[str, Render]) -> None:
    render = stack_renders["prod"]
    stable = find_object(render, "Service", "llama-chat")
    assert stable["spec"]["selector"] == {
        "modelstack.io/deployment": "llama-chat",
        "modelstack.io/slot": "blue",
    }
    for slot in ("blue", "green"):
        deployment = find_object(render, "Deployment", f"llama-chat-{slot}")
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert labels["modelstack.io/slot"] == slot
        assert deployment["spec"]["selector"]["matchLabels"]["modelstack.io/slot"] == slot
        assert (
            find_object(render, "Service", f"llama-chat-{slot}")["spec"]["selector"]
            == (deployment["spec"]["selector"]["matchLabels"])
        )
        assert deployment["spec"]["replicas"] == 2
    blue = find_object(render, "Deployment", "llama-chat-blue")
    green = find_object(render, "Deployment", "llama-chat-green")
    assert _container(blue)["image"] == "vllm/vllm-openai:v0.30.0"
    assert _container(green)["image"] == "vllm/vllm-openai:v0.31.0"
    assert _model_arg(blue).endswith("/0e9e39f249a16976918f6564b8830bc894c89659")
    assert _model_arg(green).endswith("/main")
    assert render.outputs["deployments"]["llama-chat"]["servingSlot"] == "blue"
    assert render.outputs["deployments"]["llama-chat"]["endpoint"] == (
        "http://llama-chat.ml-prod.svc.cluster.local/v1"
    )


def test_prod_gpu_limits_and_node_placement_follow_the_cloud(
    stack_renders: dict[str, Render],
) -> None:
    render = stack_renders["prod"]
    pod = find_object(render, "Deployment", "llama-70b")["spec"]["template"]["spec"]
    assert pod["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == "2"
    assert pod["nodeSelector"] == {"karpenter.k8s.aws/instance-gpu-name": "h100"}
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in (
        pod["tolerations"]
    )
    args = pod["containers"][0]["args"]
    assert args[args.index("--tensor-parallel-size") + 1] == "2"
    assert args[args.index("--quantization") + 1] == "fp8"
    cpu_pod = find_object(render, "Deployment", "summarizer-cpu")["spec"]["template"]["spec"]
    assert "nvidia.com/gpu" not in cpu_pod["containers"][0]["resources"]["limits"]
    assert "nodeSelector" not in cpu_pod and "tolerations" not in cpu_pod


def test_staging_places_on_gke_l4_nodes(stack_renders: dict[str, Render]) -> None:
    render = stack_renders["staging"]
    pod = find_object(render, "Deployment", "llama-chat")["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"cloud.google.com/gke-accelerator": "nvidia-l4"}
    assert pod["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == "1"
    # Rolling on GPUs never surges: a surge pod would wait forever for a free GPU.
    strategy = find_object(render, "Deployment", "llama-chat")["spec"]["strategy"]
    assert strategy["rollingUpdate"] == {"maxSurge": 0, "maxUnavailable": 1}
    services = sorted(o["metadata"]["name"] for o in render.objects if o["kind"] == "Service")
    # Rolling: the stable Service, and the headless one Prometheus scrapes through.
    assert services == ["llama-chat", "llama-chat-metrics"]
    kinds = sorted(o["kind"] for o in render.objects)
    assert "PodDisruptionBudget" in kinds


@pytest.mark.parametrize("stack", KUBERNETES_STACKS)
def test_engines_start_only_after_the_job_that_fills_their_cache(
    stack: str, stack_renders: dict[str, Render]
) -> None:
    render = stack_renders[stack]
    jobs = {o["metadata"]["name"]: o for o in render.objects if o["kind"] == "Job"}
    deployments = [o for o in render.objects if o["kind"] == "Deployment"]
    assert deployments
    for deployment in deployments:
        name = deployment["metadata"]["name"]
        depends_on = find_resource(render, DEPLOYMENT, name)["dependsOn"]
        job_ids = [d for d in depends_on if d.startswith(JOB)]
        assert len(job_ids) == 1, f"{name} depends on {depends_on}"
        job = jobs[job_ids[0].split("::")[1]]
        script = job["spec"]["template"]["spec"]["containers"][0]["command"][2]
        model_dir = _model_arg(deployment)
        if model_dir.endswith(".gguf"):
            model_dir = model_dir.rsplit("/", 1)[0]
        assert f"--local-dir {model_dir}" in script
        # The pod itself also waits for the loader's completion marker.
        init = deployment["spec"]["template"]["spec"]["initContainers"][0]
        assert f"{model_dir}/.modelstack-complete" in init["command"][4:]


def test_cache_is_retained_everywhere_and_protected_in_prod(
    stack_renders: dict[str, Render],
) -> None:
    for stack, protected in (("staging", False), ("prod", True)):
        claims = [r for r in stack_renders[stack].resources if r["type"] == PVC]
        assert claims
        for claim in claims:
            assert claim["retainOnDelete"] is True, claim["id"]
            assert claim["protect"] is protected, claim["id"]


def test_staging_creates_its_namespace_before_anything_in_it(
    stack_renders: dict[str, Render],
) -> None:
    render = stack_renders["staging"]
    namespace = find_object(render, "Namespace", "ml-staging")
    assert namespace["metadata"]["labels"]["app.kubernetes.io/part-of"] == "modelstack"
    deployment = find_resource(render, DEPLOYMENT, "llama-chat")
    assert "kubernetes:core/v1:Namespace::ml-staging" in deployment["dependsOn"]


def test_dev_environment_has_no_disruption_budget(tmp_path: Path) -> None:
    def to_dev(document: dict) -> None:
        document["config"]["modelstack:environment"] = "dev"

    render = render_document(tmp_path, with_changes(stack_document("staging"), to_dev))
    assert not [o for o in render.objects if o["kind"] == "PodDisruptionBudget"]
    claim = find_resource(render, PVC, "llama-chat-cache")
    assert claim["protect"] is False and claim["retainOnDelete"] is True


def test_prod_disruption_budgets_cover_every_slot(stack_renders: dict[str, Render]) -> None:
    render = stack_renders["prod"]
    budgets = {
        o["metadata"]["name"]: o for o in render.objects if o["kind"] == "PodDisruptionBudget"
    }
    assert set(budgets) == {
        o["metadata"]["name"] for o in render.objects if o["kind"] == "Deployment"
    }
    assert budgets["llama-chat-green"]["spec"]["selector"]["matchLabels"] == {
        "modelstack.io/deployment": "llama-chat",
        "modelstack.io/slot": "green",
    }


def test_hf_token_reaches_the_loader_as_a_secret_reference_and_never_as_text(
    tmp_path: Path,
) -> None:
    document = stack_document("prod")
    document["config"]["modelstack:hfToken"] = {"secure": "v1:ciphertext-only-the-cli-can-read"}
    render = render_document(tmp_path, document)

    secret = find_object(render, "Secret", "llama-chat-hf-token")
    assert secret["stringData"] == {"token": REDACTED}
    assert find_resource(render, SECRET, "llama-chat-hf-token")["protect"] is True
    job = next(
        o
        for o in render.objects
        if o["kind"] == "Job" and o["metadata"]["name"].startswith("llama-chat")
    )
    env = job["spec"]["template"]["spec"]["containers"][0]["env"]
    assert {
        "name": "HF_TOKEN",
        "valueFrom": {"secretKeyRef": {"name": "llama-chat-hf-token", "key": "token"}},
    } in env
    # A gguf deployment from a public repo still gets the token: the source is hf://.
    assert find_object(render, "Secret", "summarizer-cpu-hf-token")
    assert render.leaks == []


def test_hf_token_that_is_not_a_secret_is_refused(tmp_path: Path) -> None:
    document = stack_document("staging")
    document["config"]["modelstack:hfToken"] = "hf_plaintext"
    with pytest.raises(pulumi.RunError, match=r"modelstack:hfToken: must be a secret"):
        render_document(tmp_path, document)


def test_idle_slot_scale_to_zero(tmp_path: Path) -> None:
    def idle_to_zero(document: dict) -> None:
        deployments_of(document)[0]["rollout"]["idle"] = "scale-to-zero"

    render = render_document(tmp_path, with_changes(stack_document("prod"), idle_to_zero))
    assert find_object(render, "Deployment", "llama-chat-blue")["spec"]["replicas"] == 2
    assert find_object(render, "Deployment", "llama-chat-green")["spec"]["replicas"] == 0


def test_bad_stack_file_registers_nothing(tmp_path: Path) -> None:
    document = stack_document("prod")
    deployments_of(document)[1]["gpu"]["type"] = "H1000"
    deployments_of(document)[2]["replicas"] = 1
    path = write_stack(tmp_path, document, "broken")
    config = read_stack_file(path)
    record = ProgramRun()
    with pytest.raises(pulumi.RunError) as failure:
        run_program(
            ROOT / "__main__.py",
            "modelstack",
            config.stack_name,
            config.values,
            list(config.secret_keys),
            environment={"MODELSTACK_STACK_FILE": str(path)},
            record=record,
        )
    message = str(failure.value)
    assert f"{path}: modelstack:deployments[1].gpu.type: unknown GPU type 'H1000'" in message
    # Deployments are named by index and by name.
    assert "did you mean 'H100'?" in message
    assert "MI300X, MI325X) [deployment llama-70b]\n" in message
    assert f"{path}: modelstack:deployments[2].replicas: prod runs at least 2" in message
    assert record.resources == []

    # The same recording sees every resource of a valid stack: the check above can fail.
    valid = read_stack_file(write_stack(tmp_path, stack_document("prod"), "valid"))
    good_record = ProgramRun()
    run_program(
        ROOT / "__main__.py",
        "modelstack",
        valid.stack_name,
        valid.values,
        list(valid.secret_keys),
        record=good_record,
    )
    assert len(good_record.resources) > 20


def test_render_is_deterministic(stack_renders: dict[str, Render]) -> None:
    again = render_stack(read_stack_file(ROOT / "stacks" / "Pulumi.prod.yaml"))
    assert again.object_files() == stack_renders["prod"].object_files()
    assert again.resources == stack_renders["prod"].resources
    assert again.outputs == stack_renders["prod"].outputs
