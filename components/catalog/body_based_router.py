"""The Gateway API Inference Extension's body-based router (BBR), as declared data.

Source: github.com/kubernetes-sigs/gateway-api-inference-extension at tag v1.5.0, read there:
- config/charts/body-based-routing/values.yaml: image registry.k8s.io/
  gateway-api-inference-extension/bbr:v1.5.0, ext-proc port 9004, health port 9005, the
  plugins (body-field-to-header `model` -> X-Gateway-Model-Name);
- config/charts/body-based-routing/templates/bbr.yaml: `--streaming`, `--plugin
  <type>:<name>:<json>`, the Service (appProtocol HTTP2); the chart "should only be deployed
  once per Gateway" and attaches to the Gateway (GKE, Istio: FULL_DUPLEX_STREAMED bodies);
- pkg/bbr/server/options.go: defaults (secure serving on, metrics on 9090);
- cmd/bbr/runner/runner.go: with `--plugin` given, only those plugins run (no ConfigMap
  watch, so no RBAC); cmd/bbr/runner/health.go answers SERVING for any service name;
- pkg/bbr/handlers/request.go: header mutations clear Envoy's route cache, so the route is
  chosen again with the header.
At v1.6.0 BBR moved to llm-d/llm-d-inference-payload-processor. Pinned by tag, like the
endpoint picker (components/catalog/endpoint_picker.py).
"""

from __future__ import annotations

import json

RELEASE = "v1.5.0"
IMAGE = f"registry.k8s.io/gateway-api-inference-extension/bbr:{RELEASE}"
MODEL_HEADER = "X-Gateway-Model-Name"
EXT_PROC_PORT = 9004
HEALTH_PORT = 9005
METRICS_PORT = 9090
_PLUGIN = {"fieldName": "model", "headerName": MODEL_HEADER}
ARGS = (
    # Envoy sends the body as it arrives (FullDuplexStreamed); the router reads it whole.
    "--streaming",
    # Plain gRPC inside the cluster: Envoy Gateway cannot verify the router's own certificate.
    "--secure-serving=false",
    "--tracing=false",
    "--enable-pprof=false",
    "--plugin",
    f"body-field-to-header:model-extractor:{json.dumps(_PLUGIN, separators=(',', ':'))}",
)
RESOURCES = {
    "requests": {"cpu": "100m", "memory": "128Mi"},
    "limits": {"cpu": "1", "memory": "512Mi"},
}
