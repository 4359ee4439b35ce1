"""The mock runtime recorder and the render's redaction, on small programs of their own."""

from __future__ import annotations

from pathlib import Path

import pytest

from components.offline.render import REDACTED, build_render
from components.offline.runtime import run_program
from components.pulumi_internals import stack_trace_capture

PROGRAM = """
import pulumi
import pulumi_kubernetes as k8s

config = pulumi.Config("demo")
token = config.require_secret("token")
secret = k8s.core.v1.Secret(
    "creds", metadata={"name": "creds"}, string_data={"token": token},
    opts=pulumi.ResourceOptions(protect=True),
)
k8s.core.v1.ConfigMap(
    "settings", metadata={"name": "settings"}, data={"replicas": "2", "leak": LEAK},
    opts=pulumi.ResourceOptions(depends_on=[secret], retain_on_delete=True,
                                custom_timeouts=pulumi.CustomTimeouts(create="5m")),
)
pulumi.export("answer", 42)
pulumi.export("token", token)
"""


def _program(tmp_path: Path, leak: str = '"fine"', extra: str = "") -> Path:
    path = tmp_path / "__main__.py"
    path.write_text(PROGRAM.replace("LEAK", leak) + extra)
    return path


def _run(program: Path, token: str = "placeholder-token"):
    return run_program(program, "demo", "test", {"demo:token": token}, ["demo:token"])


def test_recorder_keeps_options_dependencies_and_outputs(tmp_path: Path) -> None:
    run = _run(_program(tmp_path))
    by_name = {r.name: r for r in run.resources}
    assert by_name["creds"].protect is True
    settings = by_name["settings"]
    assert settings.retain_on_delete is True
    assert settings.custom_timeouts == {"create": "5m"}
    assert by_name["creds"].urn in settings.dependencies
    assert settings.inputs["data"] == {"replicas": "2", "leak": "fine"}
    assert run.outputs["answer"] == 42


def test_secrets_are_redacted_and_keep_their_shape(tmp_path: Path) -> None:
    render = build_render(_run(_program(tmp_path)), ("placeholder-token",))
    secret = next(o for o in render.objects if o["kind"] == "Secret")
    assert secret["stringData"] == {"token": REDACTED}
    assert render.outputs["token"] == REDACTED
    assert render.leaks == []


def test_a_secret_that_escaped_its_wrapping_is_redacted_and_reported(tmp_path: Path) -> None:
    # Reading the secret's plain value into an input loses the secret marking: a bug the
    # render must neither print nor hide.
    program = _program(tmp_path, leak='__import__("os").environ.get("LEAKED", "")')
    import os

    os.environ["LEAKED"] = "placeholder-token-in-clear"
    try:
        render = build_render(_run(program), ("placeholder-token",))
    finally:
        del os.environ["LEAKED"]
    config_map = next(o for o in render.objects if o["kind"] == "ConfigMap")
    assert config_map["data"]["leak"] == REDACTED
    assert render.leaks == ["kubernetes:core/v1:ConfigMap::settings"]


def test_duplicate_resource_names_fail_as_the_engine_would(tmp_path: Path) -> None:
    extra = '\nk8s.core.v1.ConfigMap("settings", metadata={"name": "other"})\n'
    with pytest.raises(Exception, match="duplicate resource URN"):
        _run(_program(tmp_path, extra=extra))


def test_runs_do_not_leak_into_each_other(tmp_path: Path) -> None:
    first = _run(_program(tmp_path))
    second = _run(_program(tmp_path))
    assert [r.urn for r in first.resources] == [r.urn for r in second.resources]
    assert len(second.resources) == 2


def test_a_resource_outputs_are_its_inputs_secrets_included(tmp_path: Path) -> None:
    # The recorder answers most registrations by echoing the request's wire inputs: what a
    # program reads back must be what it sent, and a secret must stay a secret.
    extra = (
        '\npulumi.export("secret_data", secret.string_data)\n'
        'pulumi.export("secret_name", secret.metadata.name)\n'
        'pulumi.export("secret_id", secret.id)\n'
    )
    render = build_render(_run(_program(tmp_path, extra=extra)), ("placeholder-token",))
    assert render.outputs["secret_name"] == "creds"
    assert render.outputs["secret_id"] == "creds-id"
    # The token came back secret: redacted, never in clear.
    assert render.outputs["secret_data"] == {"token": REDACTED}


def test_resource_references_in_inputs_take_the_decoding_path(tmp_path: Path) -> None:
    # A component passed as an input is a resource reference on the wire: recorded as what
    # it decodes to (its URN: the component's type has no resource module to construct it
    # from), not as the wire's signature map, and the program still reads its inputs back.
    extra = (
        "\nclass Box(pulumi.ComponentResource):\n"
        "    def __init__(self, name):\n"
        '        super().__init__("demo:index:Box", name)\n'
        "        self.register_outputs({})\n"
        'box = Box("box")\n'
        'holder = k8s.apiextensions.CustomResource("holder", api_version="demo.example.com/v1",\n'
        '    kind="Holder", metadata={"name": "holder"}, spec={"box": box})\n'
        'pulumi.export("holder_kind", holder.kind)\n'
    )
    run = _run(_program(tmp_path, extra=extra))
    holder = next(r for r in run.resources if r.name == "holder")
    box = next(r for r in run.resources if r.name == "box")
    assert holder.inputs["spec"]["box"] == box.urn
    assert run.outputs["holder_kind"] == "Holder"


def test_stack_traces_are_not_captured_during_a_run_and_restored_after(tmp_path: Path) -> None:
    captured = stack_trace_capture()
    extra = (
        '\npulumi.export("frames", '
        "len(__import__('pulumi.runtime.resource').runtime.resource._get_stack_trace().frames))\n"
    )
    run = _run(_program(tmp_path, extra=extra))
    assert run.outputs["frames"] == 0
    assert stack_trace_capture() is captured


def test_a_resource_looked_up_by_urn_reads_the_state_it_registered(tmp_path: Path) -> None:
    # Registrations keep their inputs on the wire; a lookup (`getResource`, how the SDK
    # rehydrates a resource from its URN) decodes them then. The lookup waits for the URN,
    # that is for the registration's answer.
    extra = (
        "\nlooked = k8s.core.v1.ConfigMap('looked', metadata={'name': 'looked'},\n"
        "    data={'answer': '42'})\n"
        "found = looked.urn.apply(lambda urn: k8s.core.v1.ConfigMap(\n"
        "    'found', opts=pulumi.ResourceOptions(urn=urn)).data)\n"
        'pulumi.export("found_data", found)\n'
    )
    run = _run(_program(tmp_path, extra=extra))
    assert run.outputs["found_data"] == {"answer": "42"}


def test_recorded_inputs_decode_from_the_wire_on_each_use(tmp_path: Path) -> None:
    run = _run(_program(tmp_path))
    settings = next(r for r in run.resources if r.name == "settings")
    assert settings.decoded_inputs is None
    first = settings.inputs
    first["data"]["replicas"] = "changed"
    assert settings.inputs["data"]["replicas"] == "2"  # a fresh decoding, not a shared dict
