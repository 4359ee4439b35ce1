"""Monitoring: ServiceMonitor over every engine pod, a Grafana dashboard per deployment with
each engine's own series, and per-engine metrics through the docker gateway."""

from __future__ import annotations

import json
import os
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from components.docker.gateway_config import GatewayRoute, UpstreamServer
from tests.conftest import deployments_of, find_object, render_document, stack_document
from tests.support.fake_engine import FakeEngine
from tests.support.gateway import running_gateway
from tests.support.hostile import check_promql
from tests.support.nginx_process import nginx_available


def _prod_monitored() -> dict[str, Any]:
    document = stack_document("prod")
    document["config"]["modelstack:kubernetes"]["monitoring"] = {
        "enabled": True,
        "serviceMonitorLabels": {"release": "kube-prometheus-stack"},
    }
    return document


def test_service_monitor_scrapes_every_engine_pod(tmp_path: Path, schema_validator) -> None:
    render = render_document(tmp_path, _prod_monitored())
    service = find_object(render, "Service", "llama-chat-metrics")
    assert service["spec"]["clusterIP"] == "None"
    selector = service["spec"]["selector"]
    for slot in ("blue", "green"):  # the idle slot is scraped too
        pod_labels = find_object(render, "Deployment", f"llama-chat-{slot}")["spec"]["template"][
            "metadata"
        ]["labels"]
        assert selector.items() <= pod_labels.items()
    monitor = find_object(render, "ServiceMonitor", "llama-chat")
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert (
        monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    )
    assert monitor["spec"]["endpoints"] == [{"port": "http", "path": "/metrics", "interval": "15s"}]
    assert schema_validator.validate_all(render.objects) == []


def _dashboard(render: Any, name: str) -> dict[str, Any]:
    config_map = find_object(render, "ConfigMap", f"{name}-dashboard")
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    return json.loads(config_map["data"][f"{name}.json"])


def test_dashboards_chart_rate_latency_errors_and_tokens_per_engine(tmp_path: Path) -> None:
    render = render_document(tmp_path, _prod_monitored())
    vllm = _dashboard(render, "llama-chat")
    panels = {panel["title"]: panel for panel in vllm["panels"]}
    scope = 'namespace="ml-prod", job="llama-chat-metrics"'
    assert panels["Requests per second"]["targets"][0]["expr"] == (
        f"sum(rate(vllm:request_success_total{{{scope}}}[5m]))"
    )
    latency = [t["legendFormat"] for t in panels["Latency (end to end)"]["targets"]]
    assert latency == ["p50", "p95", "p99"]
    assert (
        "vllm:e2e_request_latency_seconds_bucket"
        in panels["Latency (end to end)"]["targets"][2]["expr"]
    )
    assert (
        f'http_requests_total{{status="5xx", {scope}}}'
        in panels["Error rate"]["targets"][0]["expr"]
    )
    assert (
        "vllm:generation_tokens_total"
        in panels["Tokens per second (generated)"]["targets"][0]["expr"]
    )
    assert len(vllm["uid"]) <= 40
    # llama.cpp has no latency histogram: the panel says so rather than staying empty.
    llamacpp = {p["title"]: p for p in _dashboard(render, "summarizer-cpu")["panels"]}
    assert llamacpp["Latency (end to end)"]["type"] == "text"
    assert "llamacpp does not export" in llamacpp["Latency (end to end)"]["options"]["content"]


def test_dashboards_chart_kv_cache_first_token_inter_token_and_gpus(tmp_path: Path) -> None:
    render = render_document(tmp_path, _prod_monitored())
    panels = {panel["title"]: panel for panel in _dashboard(render, "llama-chat")["panels"]}
    scope = 'namespace="ml-prod", job="llama-chat-metrics"'
    exprs = {
        title: [t["expr"] for t in panel.get("targets", [])] for title, panel in panels.items()
    }
    assert exprs["KV-cache use"] == [
        f"avg(vllm:kv_cache_usage_perc{{{scope}}})",
        f"max(vllm:kv_cache_usage_perc{{{scope}}})",
    ]
    assert exprs["Time to first token (p95)"] == [
        "histogram_quantile(0.95, sum by (le) (rate("
        f"vllm:time_to_first_token_seconds_bucket{{{scope}}}[5m])))"
    ]
    assert "vllm:inter_token_latency_seconds_bucket" in exprs["Inter-token latency (p95)"][0]
    # GPU series come from the DCGM exporter: selected by both slots' pods, either spelling.
    pods = '"(llama-chat-blue|llama-chat-green)-[a-z0-9]+-[a-z0-9]+"'
    for expr in exprs["GPU utilization"] + exprs["GPU memory"]:
        assert f'namespace="ml-prod",pod=~{pods}' in expr
        assert f'exported_namespace="ml-prod",exported_pod=~{pods}' in expr
    assert [t["legendFormat"] for t in panels["GPU memory"]["targets"]] == ["used", "free"]
    assert "DCGM_FI_DEV_FB_USED" in exprs["GPU memory"][0]
    assert panels["GPU memory"]["fieldConfig"]["defaults"]["unit"] == "mbytes"
    for expr in (e for es in exprs.values() for e in es):
        check_promql(expr)
    # Panel ids stay unique and the grid has no overlaps.
    assert len({p["id"] for p in panels.values()}) == len(panels)
    assert len({(p["gridPos"]["x"], p["gridPos"]["y"]) for p in panels.values()}) == len(panels)


def test_panels_nothing_feeds_say_why(tmp_path: Path) -> None:
    render = render_document(tmp_path, _prod_monitored())
    llamacpp = {p["title"]: p for p in _dashboard(render, "summarizer-cpu")["panels"]}
    for title in ("KV-cache use", "Time to first token (p95)", "Inter-token latency (p95)"):
        assert llamacpp[title]["type"] == "text"
        assert "llamacpp does not export" in llamacpp[title]["options"]["content"]
    for title in ("GPU utilization", "GPU memory"):
        assert (
            llamacpp[title]["options"]["content"] == "This deployment runs on CPU: no GPU series."
        )


def test_no_monitoring_objects_unless_enabled(tmp_path: Path) -> None:
    document = stack_document("prod")
    document["config"]["modelstack:kubernetes"]["monitoring"] = {"enabled": False}
    render = render_document(tmp_path, document)
    assert not [o for o in render.objects if o["kind"] in ("ServiceMonitor", "ConfigMap")]


def test_ollama_gets_no_service_monitor(tmp_path: Path) -> None:
    document = _prod_monitored()
    chat = deployments_of(document)[2]
    chat["model"] = {"source": "ollama://llama3.2:1b"}
    chat["engine"] = "ollama"
    chat.pop("profile", None)
    render = render_document(tmp_path, document)
    assert not [
        o
        for o in render.objects
        if o["kind"] == "ServiceMonitor" and o["metadata"]["name"] == "summarizer-cpu"
    ]


@pytest.mark.skipif(
    not nginx_available() and not os.environ.get("CI"), reason="nginx is not installed"
)
def test_docker_gateway_exposes_each_engines_metrics(tmp_path: Path) -> None:
    engines = [FakeEngine(f"engine-{i}").start() for i in range(2)]
    route = GatewayRoute(
        "chat",
        "/chat",
        60,
        None,
        tuple(UpstreamServer(e.address) for e in engines),
        3,
        10,
        metrics_path="/v1/models",  # the fake engine's stand-in for /metrics
    )
    try:
        with running_gateway(tmp_path / "nginx", route) as port:
            for index, engine in enumerate(engines):
                url = f"http://127.0.0.1:{port}/-/metrics/chat/{index}"
                with urllib.request.urlopen(url, timeout=5) as reply:
                    assert reply.headers["X-Engine"] == engine.name
    finally:
        for engine in engines:
            engine.stop()


def test_amd_deployments_chart_the_amd_exporters_series(tmp_path: Path) -> None:
    document = _prod_monitored()
    deployments_of(document)[0]["gpu"] = {"type": "MI300X", "count": 1}
    document["config"]["modelstack:kubernetes"]["cloud"] = "generic"
    render = render_document(tmp_path, document)
    panels = {p["title"]: p for p in _dashboard(render, "llama-chat")["panels"]}
    utilization = [t["expr"] for t in panels["GPU utilization"]["targets"]]
    memory = [t["expr"] for t in panels["GPU memory"]["targets"]]
    assert all("gpu_gfx_activity{" in expr for expr in utilization)
    assert "gpu_used_vram{" in memory[0] and "gpu_free_vram{" in memory[1]
    assert not any("DCGM" in expr for expr in utilization + memory)
    assert panels["GPU memory"]["fieldConfig"]["defaults"]["unit"] == "decmbytes"
