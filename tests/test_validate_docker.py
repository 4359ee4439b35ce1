"""`modelstack validate` on docker stacks: the gateway's nginx config through `nginx -t`, or a
plain statement that it was not checked (issue 19, first hour item 3)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from components.cli import EXIT_BAD_INPUT, EXIT_INVALID, EXIT_OK, main
from components.offline import nginx_check
from components.offline.nginx_check import GatewayConfig, check_config, find_nginx, relocate
from components.offline.render_model import Render
from tests.support.nginx_process import nginx_available

GATEWAY_FILE = "checks/gateway-config.yaml"
needs_nginx = pytest.mark.skipif(
    not nginx_available() and not os.environ.get("CI"), reason="nginx is not installed"
)


@pytest.fixture(scope="module")
def dev_render(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The committed dev stack rendered once, as `modelstack render --out` writes it."""
    out = tmp_path_factory.mktemp("render") / "dev"
    assert main(["render", "--stack", "dev", "--out", str(out)]) == EXIT_OK
    return out


def _copy_with_config(source: Path, target: Path, edit: str, replacement: str) -> Path:
    """A copy of the render whose gateway config has `edit` replaced once."""
    for path in source.rglob("*"):
        if path.is_file():
            copy = target / path.relative_to(source)
            copy.parent.mkdir(parents=True, exist_ok=True)
            copy.write_bytes(path.read_bytes())
    document = yaml.safe_load((target / GATEWAY_FILE).read_text())
    config = document["inputs"]["config"]
    assert edit in config
    document["inputs"]["config"] = config.replace(edit, replacement, 1)
    (target / GATEWAY_FILE).write_text(yaml.safe_dump(document, sort_keys=False))
    return target


def _without_nginx(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(nginx_check, "NGINX_FALLBACKS", ())


@needs_nginx
def test_the_dev_stack_gateway_config_passes_nginx_t(
    dev_render: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", "--render-dir", str(dev_render), "--stack", "dev"]) == EXIT_OK
    out = capsys.readouterr().out
    assert f"{GATEWAY_FILE}: gateway config passed nginx -t (nginx " in out
    assert "1 gateway config(s) valid (nginx -t); no Kubernetes objects" in out
    # What the issue found: a docker stack "valid" with nothing checked.
    assert "0 objects valid" not in out


@needs_nginx
def test_a_config_nginx_refuses_is_exit_1_with_the_config_line(
    dev_render: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = _copy_with_config(
        dev_render, tmp_path / "dev", "proxy_buffering off;", "proxy_bufering off;"
    )
    line = yaml.safe_load((broken / GATEWAY_FILE).read_text())["inputs"]["config"]
    expected_line = line.splitlines().index(
        next(text for text in line.splitlines() if "proxy_bufering" in text)
    )
    assert main(["validate", "--render-dir", str(broken), "--stack", "dev"]) == EXIT_INVALID
    out = capsys.readouterr().out
    assert (
        f'{GATEWAY_FILE}: nginx -t: [emerg] unknown directive "proxy_bufering" in config line'
        f" {expected_line + 1}" in out
    )
    assert "gateway config refused by nginx -t" in out
    # Temporary paths stay out of the message.
    assert "modelstack-nginx-" not in out


@needs_nginx
def test_json_output_reports_the_nginx_result(
    dev_render: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = _copy_with_config(
        dev_render, tmp_path / "dev", "keepalive 32;", "keepalive thirty-two;"
    )
    code = main(["validate", "--render-dir", str(broken), "--stack", "dev", "--output", "json"])
    report = json.loads(capsys.readouterr().out)
    assert code == EXIT_INVALID
    assert report["valid"] is False
    [gateway] = report["gatewayConfigs"]
    assert gateway["file"] == GATEWAY_FILE
    assert gateway["checked"] is True and gateway["valid"] is False
    assert any("keepalive" in error for error in gateway["errors"])


def test_without_nginx_it_says_plainly_the_config_was_not_checked(
    dev_render: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _without_nginx(monkeypatch, tmp_path)
    assert main(["validate", "--render-dir", str(dev_render), "--stack", "dev"]) == EXIT_OK
    out = capsys.readouterr().out
    assert f"note: {GATEWAY_FILE}: gateway config NOT checked: nginx is not installed" in out
    assert "apt-get install -y nginx-light" in out
    assert "gateway config NOT checked (see the note above)" in out
    assert "valid" not in out.replace("nginx-light", "")  # nothing claims validity


def test_without_nginx_json_says_not_checked_and_why(
    dev_render: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _without_nginx(monkeypatch, tmp_path)
    args = ["validate", "--render-dir", str(dev_render), "--stack", "dev", "--output", "json"]
    assert main(args) == EXIT_OK
    [gateway] = json.loads(capsys.readouterr().out)["gatewayConfigs"]
    assert gateway["checked"] is False and gateway["valid"] is None
    assert gateway["reason"].startswith("nginx is not installed")


def test_a_named_nginx_that_does_not_exist_is_bad_input(
    dev_render: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nginx"
    args = ["validate", "--render-dir", str(dev_render), "--stack", "dev", "--nginx", str(missing)]
    assert main(args) == EXIT_BAD_INPUT
    assert f"--nginx {missing}: not an executable file" in capsys.readouterr().err


def test_kubernetes_renders_have_no_gateway_config_and_never_look_for_nginx(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from components.commands import validate

    def looked(*_args: object) -> None:
        raise AssertionError("nginx looked for on a stack without a gateway config")

    monkeypatch.setattr(validate, "find_nginx", looked)
    render = Render(
        objects=[{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "x"}}],
        resources=[],
        outputs={},
        leaks=[],
        # Another dynamic resource with a `config` input is not the gateway's.
        other_files={"checks/x-endpoint-check.yaml": {"inputs": {"config": "http {}"}}},
    )
    assert validate._check_gateways(render, None) == []


def test_relocate_moves_every_file_nginx_t_writes_and_keeps_the_lines(tmp_path: Path) -> None:
    text = (
        "pid /tmp/nginx.pid;\n"
        "error_log /dev/stderr warn;\n"
        "http {\n"
        "    access_log /dev/stdout;\n"
        "    access_log off;\n"
        "    proxy_temp_path /tmp/proxy 1 2;\n"
        "    location /tmp/route/ { return 200; }\n"
        "}\n"
    )
    moved = relocate(text, tmp_path)
    assert moved.splitlines() == [
        f"pid {tmp_path}/pid;",
        f"error_log {tmp_path}/error_log warn;",
        "http {",
        f"    access_log {tmp_path}/access_log;",
        "    access_log off;",
        f"    proxy_temp_path {tmp_path}/proxy_temp_path 1 2;",
        "    location /tmp/route/ { return 200; }",
        "}",
    ]


def test_a_config_that_reads_other_files_is_refused_without_running_nginx(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def ran(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("nginx ran on a config that includes files")

    monkeypatch.setattr(nginx_check, "_run", ran)
    nginx = nginx_check.Nginx("/usr/sbin/nginx", (1, 22, 1))
    result = check_config(GatewayConfig(GATEWAY_FILE, "events {}\ninclude /etc/shadow;\n"), nginx)
    assert result.checked and result.valid is False
    assert result.errors == ["'include' reads other files: a rendered gateway config never does"]


@needs_nginx
@pytest.mark.skipif(os.geteuid() != 0, reason="only root hands nginx -t to nobody")
def test_as_root_nginx_t_runs_as_nobody_and_writes_nothing_outside(tmp_path: Path) -> None:
    # A quoted path escapes the relocation; nobody may still not write into root's directory.
    target = tmp_path / "owned-by-root"
    target.mkdir(mode=0o700)
    config = f'error_log "{target}/written.log";\nevents {{}}\nhttp {{}}\n'
    result = check_config(GatewayConfig(GATEWAY_FILE, config), find_nginx())
    assert result.checked and result.valid is False
    assert any("Permission denied" in error for error in result.errors), result.errors
    assert not (target / "written.log").exists()
