"""Hostile and careless stack files: refused with exit 2 at their key path, or rendered inert.

Each refused case runs `modelstack render` on a committed stack with one hostile value
and asserts exit 2, the value's key path in the report, no traceback and nothing written.
Each accepted case asserts that what the value reaches stays valid and inert: shell
scripts parse (`sh -n`) and run against stubs without running the value, nginx accepts
the gateway config (`nginx -t`), the autoscaling queries parse as PromQL.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from components.cli import main
from components.kubernetes.manifests.pod import WAIT_SCRIPT
from components.offline.runtime import ProgramRun, run_program
from components.offline.stack_file import read_stack_file
from tests.conftest import ROOT, write_stack
from tests.support.hostile import (
    SH,
    check_nginx,
    check_promql,
    check_shell,
    document_with,
    dump,
    gateway_configs,
    promql_queries,
    rendered_documents,
    run_render,
    shell_scripts,
)

D = "deployments[0]"
HF_TOKEN = "hf_" + "a1B2c3D4e5" * 4
GH_TOKEN = "ghp_" + "Z9y8X7w6V5" * 4

# (id, committed stack, values at key paths, key path the report must name)
REFUSED: list[tuple[str, str, dict[str, Any], str]] = [
    # Shell syntax in sources: the wait container once ran these (issue 15 item 1).
    (
        "source-double-quote",
        "staging",
        {f"{D}.model.source": 's3://bucket/m"; touch /tmp/x; echo "'},
        f"{D}.model.source",
    ),
    ("source-command-substitution", "staging", {f"{D}.model.source": "hf://org/$(id)"}, None),
    ("source-backticks", "staging", {f"{D}.model.source": "gs://bucket/`id`"}, None),
    ("source-single-quote", "staging", {f"{D}.model.source": "s3://bucket/a';id;'"}, None),
    ("source-semicolon", "staging", {f"{D}.model.source": "gs://bucket/a;reboot"}, None),
    ("source-newline", "staging", {f"{D}.model.source": "s3://bucket/m\ntouch x"}, None),
    ("source-space", "staging", {f"{D}.model.source": "s3://bucket/my model"}, None),
    ("source-glob", "staging", {f"{D}.model.source": "gs://bucket/*"}, None),
    # Path traversal out of the cache.
    ("traversal-s3", "staging", {f"{D}.model.source": "s3://b/../../etc"}, None),
    ("traversal-hf", "staging", {f"{D}.model.source": "hf://../../opt/x"}, None),
    ("traversal-pvc", "staging", {f"{D}.model.source": "pvc://../models"}, None),
    ("traversal-dot", "staging", {f"{D}.model.source": "s3://bucket/./m"}, None),
    ("traversal-empty-part", "staging", {f"{D}.model.source": "s3://bucket//m"}, None),
    ("revision-dotdot", "staging", {f"{D}.model.revision": ".."}, f"{D}.model.revision"),
    ("revision-traversal", "staging", {f"{D}.model.revision": "a/../../b"}, None),
    ("revision-lookalike", "staging", {f"{D}.model.revision": "ma\u0456n"}, None),
    ("revision-fullwidth", "staging", {f"{D}.model.revision": "v\uff11"}, None),
    ("revision-trailing-newline", "staging", {f"{D}.model.revision": "main\n"}, None),
    # oci:// references become the loader's image.
    (
        "oci-space-flag",
        "staging",
        {f"{D}.model.source": "oci://registry.io/m:v1 --privileged"},
        f"{D}.model.source",
    ),
    ("oci-leading-dash", "staging", {f"{D}.model.source": "oci://-rm"}, None),
    ("oci-uppercase", "staging", {f"{D}.model.source": "oci://Registry/Model"}, None),
    # Credentials inside a source URL.
    (
        "source-credentials",
        "staging",
        {f"{D}.model.source": "s3://AKIAIOSFODNN7EXAMPLE:secret@bucket/m"},
        f"{D}.model.source",
    ),
    # NUL, newlines, quotes and look-alikes in names (a `$` anchor let "\n" through).
    ("served-name-nul", "staging", {f"{D}.model.servedName": "chat\x00x"}, None),
    ("served-name-newline", "staging", {f"{D}.model.servedName": "chat\n"}, None),
    ("served-name-quote", "staging", {f"{D}.model.servedName": 'a"b'}, None),
    ("served-name-lookalike", "staging", {f"{D}.model.servedName": "ch\u0430t"}, None),
    ("name-trailing-newline", "staging", {f"{D}.name": "chat\n"}, f"{D}.name"),
    ("namespace-trailing-newline", "staging", {"kubernetes.namespace": "ml\n"}, None),
    ("tag-trailing-newline", "staging", {f"{D}.tags.team": "support\n"}, f"{D}.tags.team"),
    ("storage-class-newline", "staging", {f"{D}.cache.storageClass": "fast\n"}, None),
    ("runtime-class-newline", "staging", {f"{D}.placement.runtimeClass": "nvidia\n"}, None),
    (
        "pull-secret-newline",
        "staging",
        {f"{D}.imagePullSecrets": ["regcred\n"]},
        f"{D}.imagePullSecrets[0]",
    ),
    ("image-newline", "staging", {f"{D}.image": "vllm/vllm-openai:v1\n"}, f"{D}.image"),
    ("image-flag", "staging", {f"{D}.image": "vllm/vllm-openai:v1 --privileged"}, f"{D}.image"),
    ("context-newline", "staging", {"kubernetes.context": "prod\n"}, None),
    ("gpu-type-newline", "staging", {f"{D}.gpu.type": "L4\n"}, f"{D}.gpu.type"),
    (
        "toleration-key-newline",
        "staging",
        {f"{D}.placement.tolerations": [{"key": "gpu\n", "operator": "Exists"}]},
        f"{D}.placement.tolerations[0].key",
    ),
    (
        "node-selector-value-newline",
        "staging",
        {f"{D}.placement.nodeSelector": {"pool": "a\n"}},
        f"{D}.placement.nodeSelector.pool",
    ),
    (
        "registry-secret-newline",
        "staging",
        {"registries": [{"name": "r", "existingSecret": "regcred\n"}]},
        "registries[0].existingSecret",
    ),
    ("description-nul", "staging", {f"{D}.description": "a\x00b"}, f"{D}.description"),
    ("description-newline", "staging", {f"{D}.description": "a\nb"}, f"{D}.description"),
    ("engine-arg-newline", "staging", {f"{D}.engineArgs": ["--x\nrm"]}, f"{D}.engineArgs[0]"),
    ("env-value-nul", "staging", {f"{D}.env": {"A": "x\x00y"}}, f"{D}.env.A"),
    ("quantity-newline", "staging", {f"{D}.resources.memory": "28Gi\n"}, None),
    ("quantity-space", "staging", {f"{D}.cache.size": " 40Gi"}, None),
    (
        "cron-newline",
        "staging",
        {
            f"{D}.autoscaling.schedule": [
                {"timezone": "UTC", "start": "0 9 * * 1-5\n", "end": "0 17 * * 1-5"}
            ]
        },
        f"{D}.autoscaling.schedule[0].start",
    ),
    # Plan-owned engine flags in other spellings (issue 15 item 2).
    (
        "vllm-underscore",
        "staging",
        {f"{D}.engineArgs": ["--served_model_name", "x"]},
        f"{D}.engineArgs[0]",
    ),
    ("vllm-prefix-port", "staging", {f"{D}.engineArgs": ["--por", "9000"]}, f"{D}.engineArgs[0]"),
    ("vllm-prefix-host", "staging", {f"{D}.engineArgs": ["--hos=0.0.0.0"]}, f"{D}.engineArgs[0]"),
    (
        "vllm-tp-underscore",
        "staging",
        {f"{D}.engineArgs": ["--tensor_parallel_size", "8"]},
        f"{D}.engineArgs[0]",
    ),
    ("vllm-pp", "staging", {f"{D}.engineArgs": ["-pp", "2"]}, f"{D}.engineArgs[0]"),
    ("vllm-tp-attached", "staging", {f"{D}.engineArgs": ["-tp8"]}, f"{D}.engineArgs[0]"),
    ("vllm-q-attached", "staging", {f"{D}.engineArgs": ["-qawq"]}, f"{D}.engineArgs[0]"),
    (
        "sglang-tp",
        "staging",
        {f"{D}.engine": "sglang", f"{D}.engineArgs": ["--tp", "2"]},
        f"{D}.engineArgs[0]",
    ),
    (
        "sglang-model-prefix",
        "staging",
        {f"{D}.engine": "sglang", f"{D}.engineArgs": ["--model-pat", "/x"]},
        f"{D}.engineArgs[0]",
    ),
    (
        "llamacpp-hf",
        "prod",
        {"deployments[2].engineArgs": ["-hf", "other/model"]},
        "deployments[2].engineArgs[0]",
    ),
    (
        "llamacpp-model-url",
        "prod",
        {"deployments[2].engineArgs": ["--model-url=https://x/y.gguf"]},
        "deployments[2].engineArgs[0]",
    ),
    # Engine-owned and plan-owned env.
    (
        "vllm-usage-stats",
        "staging",
        {f"{D}.env.VLLM_NO_USAGE_STATS": "0"},
        f"{D}.env.VLLM_NO_USAGE_STATS",
    ),
    ("env-home", "staging", {f"{D}.env.HOME": "/root"}, f"{D}.env.HOME"),
    (
        "llamacpp-env-model",
        "prod",
        {"deployments[2].env": {"LLAMA_ARG_MODEL": "/x.gguf"}},
        "deployments[2].env.LLAMA_ARG_MODEL",
    ),
    (
        "tgi-env-num-shard",
        "staging",
        {f"{D}.engine": "tgi", f"{D}.env.NUM_SHARD": "8"},
        f"{D}.env.NUM_SHARD",
    ),
    (
        "ollama-env-host",
        "dev",
        {
            f"{D}.engine": "ollama",
            f"{D}.model": {"source": "ollama://qwen2.5:0.5b"},
            f"{D}.env.OLLAMA_HOST": "0.0.0.0:1",
        },
        f"{D}.env.OLLAMA_HOST",
    ),
    # Literal credentials (issue 15 item 3).
    ("api-key-flag", "staging", {f"{D}.engineArgs": ["--api-key", "x"]}, f"{D}.engineArgs[0]"),
    (
        "token-in-args",
        "staging",
        {f"{D}.engineArgs": ["--chat-template", "sk-" + "abcdefghij" * 3]},
        f"{D}.engineArgs[1]",
    ),
    ("hf-token-other-name", "staging", {f"{D}.env.HF_AUTH": HF_TOKEN}, f"{D}.env.HF_AUTH"),
    ("github-token", "staging", {f"{D}.env.GITHUB_PAT": GH_TOKEN}, f"{D}.env.GITHUB_PAT"),
    (
        "url-password",
        "staging",
        {f"{D}.env.DATABASE_URL": "postgres://user:pass@db/app"},
        f"{D}.env.DATABASE_URL",
    ),
    (
        "token-under-plain-name",
        "staging",
        {f"{D}.env.SETTINGS": f"x {HF_TOKEN} y"},
        f"{D}.env.SETTINGS",
    ),
    (
        "prometheus-password",
        "staging",
        {"kubernetes.prometheus": "http://admin:pw@prom:9090"},
        "kubernetes.prometheus",
    ),
    (
        "secure-inside-deployments",
        "staging",
        {f"{D}.env.EXTRA": {"secure": "v1:abc"}},
        f"{D}.env.EXTRA",
    ),
    (
        "secure-inside-kubernetes",
        "staging",
        {"kubernetes.context": {"secure": "v1:abc"}},
        "kubernetes.context",
    ),
    # Accepted once, then broken at apply (issue 15 items 5, 6).
    (
        "affinity-not-an-object",
        "staging",
        {f"{D}.placement.affinity": {"nodeAffinity": "x"}},
        f"{D}.placement.affinity",
    ),
    (
        "affinity-unknown-field",
        "staging",
        {f"{D}.placement.affinity": {"nodeAffinity": {"required": 1}}},
        f"{D}.placement.affinity",
    ),
    (
        "adapter-traversal",
        "staging",
        {f"{D}.adapters": [{"name": "a", "source": "hf://../x"}]},
        f"{D}.adapters[0].source",
    ),
    (
        "adapter-shell",
        "staging",
        {f"{D}.adapters": [{"name": "a", "source": 's3://b/a";id;"'}]},
        f"{D}.adapters[0].source",
    ),
    (
        "health-path-newline",
        "dev",
        {f"{D}.loadBalancer.healthCheck.path": "/h\n"},
        f"{D}.loadBalancer.healthCheck.path",
    ),
    ("route-host-newline", "dev", {f"{D}.route.hosts": ["a.example.com\n"]}, f"{D}.route.hosts[0]"),
    ("route-reserved", "dev", {f"{D}.route.path": "/-/health"}, f"{D}.route.path"),
    ("bind-address-newline", "dev", {"docker.bindAddress": "127.0.0.1\n"}, None),
    ("docker-namespace-newline", "dev", {"docker.namespace": "dev\n"}, None),
]


def _expected_path(changes: dict[str, Any], path: str | None) -> str:
    return path if path is not None else next(iter(changes))


@pytest.mark.parametrize(
    ("base", "changes", "path"),
    [pytest.param(base, changes, path, id=case) for case, base, changes, path in REFUSED],
)
def test_hostile_value_is_refused_at_its_key_path(
    tmp_path: Path, base: str, changes: dict[str, Any], path: str | None
) -> None:
    outcome = run_render(tmp_path, dump(document_with(base, changes)))
    where = _expected_path(changes, path).replace("config.", "")
    assert outcome.code == 2, outcome.stderr
    assert f"modelstack:{where}:" in outcome.stderr, outcome.stderr
    assert "Traceback" not in outcome.stderr
    assert "Nothing was applied." in outcome.stderr
    assert not outcome.out.exists()


def test_colliding_routes_are_refused_case_insensitively(tmp_path: Path) -> None:
    document = document_with("dev", {})
    deployments = document["config"]["modelstack:deployments"]
    twin = {**deployments[0], "name": "qwen-twin", "route": {"path": "/QWEN-tiny"}}
    deployments.append(twin)
    outcome = run_render(tmp_path, dump(document))
    assert outcome.code == 2
    assert "modelstack:deployments[1].route.path: '/qwen-tiny' is already the route of" in (
        outcome.stderr
    )


def test_a_key_typo_hides_no_other_error(tmp_path: Path) -> None:
    changes = {f"{D}.gpu": {"type": "L4", "count": 3}, f"{D}.reeplicas": 2}
    outcome = run_render(tmp_path, dump(document_with("staging", changes)))
    assert outcome.code == 2
    assert f"modelstack:{D}.reeplicas: unknown key 'reeplicas'" in outcome.stderr
    assert f"modelstack:{D}.gpu.count: " in outcome.stderr
    assert "[deployment llama-chat]" in outcome.stderr


# (id, text or bytes of the stack file, what the message must say)
BAD_FILES: list[tuple[str, str | bytes, str]] = [
    ("empty", "", "is empty"),
    ("no-config-root", "modelstack:environment: dev\n", "no `config:` key"),
    ("config-a-list", "config:\n  - a\n", "`config:` must be a mapping"),
    ("binary", b"\x00\x01\x02config:", "binary file"),
    ("not-utf8", b"config:\n  modelstack:environment: d\xe9v\n", "is not UTF-8"),
    ("tab-indent", "config:\n\tmodelstack:target: docker\n", "a tab character"),
    (
        "wrong-indentation",
        "config:\n  modelstack:deployments:\n    - name: a\n     model: x\n",
        "line 4",
    ),
    (
        "duplicate-top-key",
        "config:\n  modelstack:environment: dev\n  modelstack:target: docker\n"
        "  modelstack:environment: prod\n",
        "line 4: key 'modelstack:environment' repeats the key at line 2",
    ),
    (
        "duplicate-nested-key",
        "config:\n  modelstack:environment: dev\n  modelstack:target: docker\n"
        "  modelstack:docker: {port: 1, port: 2}\n",
        "repeats the key at line 4",
    ),
    (
        "alias-bomb",
        "config:\n  modelstack:x:\n"
        + "".join(
            f"    {n}: &{n} [{','.join([f'*{p}'] * 9) if p else ','.join(['lol'] * 9)}]\n"
            for p, n in zip(["", *"abcdefgh"], "abcdefghi", strict=True)
        ),
        "aliases expand the document",
    ),
    ("deep-nesting", "config:\n  modelstack:x: " + "[" * 200 + "]" * 200 + "\n", "nests"),
    ("python-tag", "config:\n  modelstack:x: !!python/object:os.system {}\n", "not valid YAML"),
    ("key-without-namespace", "config:\n  environment: dev\n", "needs a namespace"),
    (
        "list-where-a-map-belongs",
        "config:\n  modelstack:environment: dev\n  modelstack:target: docker\n"
        "  modelstack:docker:\n    - namespace: x\n",
        "modelstack:docker: must be a mapping (`key: value` lines), not a list",
    ),
    (
        "binary-scalar",
        "config:\n  modelstack:environment: !!binary aGVsbG8=\n  modelstack:target: docker\n",
        "modelstack:environment: must be one of dev, staging, prod",
    ),
    (
        "date-scalar",
        "config:\n  modelstack:environment: 2024-01-01\n  modelstack:target: docker\n",
        "modelstack:environment: must be one of",
    ),
]


@pytest.mark.parametrize(
    ("text", "fragment"), [pytest.param(text, f, id=case) for case, text, f in BAD_FILES]
)
def test_bad_stack_file_is_refused_with_a_message(
    tmp_path: Path, text: str | bytes, fragment: str
) -> None:
    outcome = run_render(tmp_path, text)
    assert outcome.code == 2, outcome.stderr
    assert fragment in outcome.stderr, outcome.stderr
    assert "Pulumi.hostile.yaml" in outcome.stderr
    assert "Traceback" not in outcome.stderr
    assert not outcome.out.exists()


def test_a_directory_as_stack_file_is_refused(tmp_path: Path) -> None:
    code = main(["validate", "--stack-file", str(tmp_path)])
    assert code == 2


def _model(source: str) -> dict[str, str]:
    return {"source": source, "parameters": "8B"}


# Unusual but legitimate values: rendered, and inert wherever they land.
ACCEPTED: list[tuple[str, str, dict[str, Any]]] = [
    (
        "shell-text-in-description",
        "staging",
        {f"{D}.description": "say \"hi\" $(touch PWNED) `id` ; rm -rf / 'x'"},
    ),
    ("shell-text-in-env-value", "staging", {f"{D}.env.GREETING": '$(HF_TOKEN) ; `id` "q"'}),
    (
        "shell-text-in-engine-args",
        "staging",
        {f"{D}.engineArgs": ["--chat-template", "{{ messages }} $(id) 'a' \"b\""]},
    ),
    (
        "s3-source-with-punctuation",
        "staging",
        {f"{D}.model": _model("s3://bucket-1/m/a=b+c,d@e~f")},
    ),
    ("gs-source-with-punctuation", "staging", {f"{D}.model": _model("gs://bucket_1/m/a=b,c")}),
    ("revision-with-slash-and-plus", "staging", {f"{D}.model.revision": "refs/pr/1+x"}),
    ("served-name-with-punctuation", "staging", {f"{D}.model.servedName": "org/m:v1@x+y"}),
    (
        "every-autoscaling-metric",
        "staging",
        {
            f"{D}.autoscaling": {
                "min": 1,
                "max": 3,
                "metrics": [
                    {"type": t, "target": 5}
                    for t in ("concurrency", "queue", "throughput", "latency", "gpu")
                ],
            }
        },
    ),
    ("docker-route-odd-path", "dev", {f"{D}.route.path": "/{labels.team}/a.b~c-d_e"}),
    ("docker-route-hosts", "dev", {f"{D}.route.hosts": ["*.example.com", "a-b.example.org"]}),
]


@pytest.mark.parametrize(
    ("base", "changes"),
    [pytest.param(base, changes, id=case) for case, base, changes in ACCEPTED],
)
def test_accepted_value_renders_valid_and_inert(
    tmp_path: Path, base: str, changes: dict[str, Any]
) -> None:
    outcome = run_render(tmp_path, dump(document_with(base, changes)))
    assert outcome.code == 0, outcome.stderr
    if base == "dev":
        assert gateway_configs(outcome.out), "the docker render has a gateway config to test"
    assert_inert(outcome.out, tmp_path)


def test_the_inertness_checks_can_fail(tmp_path: Path) -> None:
    with pytest.raises(AssertionError):
        check_nginx("events {} http { server { location /a/ {} location /a/ {} } }", tmp_path)
    with pytest.raises(ValueError):
        check_promql('sum(x{namespace="a\nb"})')
    with pytest.raises(AssertionError):
        check_shell(["sh", "-c", 'until [ -f "a"; done'])


def assert_inert(out: Path, scratch: Path) -> None:
    """Scripts parse, queries parse, nginx accepts the config; `$` is escaped for Kubernetes."""
    documents = rendered_documents(out)
    for command in shell_scripts(documents):
        check_shell(command)
    for query in promql_queries(documents):
        check_promql(query)
    for config in gateway_configs(out):
        check_nginx(config, scratch)
    for document in documents:
        for container in _pod_containers(document):
            for text in [*(container.get("args") or []), *_env_values(container)]:
                # Kubernetes expands $(VAR): every `$` of ours is doubled, so none is left single.
                assert "$" not in text.replace("$$", ""), text


def _pod_containers(document: dict[str, Any]) -> list[dict[str, Any]]:
    pod = ((document.get("spec") or {}).get("template") or {}).get("spec") or {}
    return [*(pod.get("containers") or []), *(pod.get("initContainers") or [])]


def _env_values(container: dict[str, Any]) -> list[str]:
    return [v["value"] for v in container.get("env") or [] if isinstance(v.get("value"), str)]


def test_loader_script_passes_an_accepted_source_as_one_argument(tmp_path: Path) -> None:
    """The s3 loader, run against stubs of aws and touch: the URL arrives whole, nothing runs."""
    source = "s3://bucket-1/m/a=b+c,d@e~f"
    outcome = run_render(tmp_path, dump(document_with("staging", {f"{D}.model": _model(source)})))
    assert outcome.code == 0, outcome.stderr
    [loader] = [c for c in shell_scripts(rendered_documents(outcome.out)) if "aws" in c[2]]
    stubs = tmp_path / "bin"
    stubs.mkdir()
    log = tmp_path / "argv.log"
    for tool in ("aws", "touch", "mkdir"):
        stub = stubs / tool
        stub.write_text(
            f'#!/bin/sh\nprintf "{tool}" >> "$LOG"\nprintf " <%s>" "$@" >> "$LOG"\necho >> "$LOG"\n'
        )
        stub.chmod(0o755)
    env = {**os.environ, "PATH": f"{stubs}:{os.environ['PATH']}", "LOG": str(log)}
    ran = subprocess.run(
        [SH, "-c", loader[2]], env=env, capture_output=True, text=True, cwd=tmp_path
    )
    assert ran.returncode == 0, ran.stderr
    lines = log.read_text().splitlines()
    assert lines[0] == f"aws <s3> <sync> <{source}> </model-cache/s3/bucket-1/m/a=b+c,d@e~f>"
    assert lines[1].startswith("touch </model-cache/s3/bucket-1/m/a=b+c,d@e~f/.modelstack-complete")


def test_the_wait_script_is_the_constant_one(tmp_path: Path) -> None:
    outcome = run_render(tmp_path, dump(document_with("staging", {})))
    commands = [c for c in shell_scripts(rendered_documents(outcome.out)) if c[2] == WAIT_SCRIPT]
    assert commands and all(c[3] == "wait-for-model" for c in commands)


def test_a_typo_in_the_kubernetes_settings_hides_no_memory_fit_error(tmp_path: Path) -> None:
    changes = {"kubernetes.contxt": "prod", f"{D}.model.parameters": "70B"}
    outcome = run_render(tmp_path, dump(document_with("staging", changes)))
    assert outcome.code == 2
    assert "modelstack:kubernetes.contxt: unknown key 'contxt'; did you mean 'context'?" in (
        outcome.stderr
    )
    assert f"modelstack:{D}.model.parameters: 70B parameters at bf16 need about" in outcome.stderr


def test_a_bad_affinity_registers_nothing(tmp_path: Path) -> None:
    """It once crashed the target after the Namespace, Secret, claim and Job were registered."""
    document = document_with("staging", {f"{D}.placement.affinity": {"nodeAffinity": "x"}})
    config = read_stack_file(write_stack(tmp_path, document, "affinity"))
    record = ProgramRun()
    with pytest.raises(Exception, match="not a Kubernetes affinity"):
        run_program(
            ROOT / "__main__.py",
            "modelstack",
            config.stack_name,
            config.values,
            list(config.secret_keys),
            environment={"MODELSTACK_STACK_FILE": str(config.stack_file)},
            record=record,
        )
    assert record.resources == []
