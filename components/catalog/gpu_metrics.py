"""The Prometheus series GPU exporters publish per GPU vendor, and the labels that tie a GPU's
series to the pod using it.

- NVIDIA DCGM exporter (https://docs.nvidia.com/datacenter/dcgm/latest/reference/
  dcgm-exporter-metrics.html): DCGM_FI_DEV_GPU_UTIL (percent of time busy),
  DCGM_FI_DEV_FB_USED / DCGM_FI_DEV_FB_FREE (framebuffer MiB). With Kubernetes pod mapping
  (DCGM_EXPORTER_KUBERNETES=true, the Helm chart's and GPU Operator's default) each series of
  an allocated GPU carries `pod`, `namespace` and `container`.
- AMD device metrics exporter (https://github.com/ROCm/device-metrics-exporter/blob/main/docs/
  configuration/metricslist.md): GPU_GFX_ACTIVITY (percent), GPU_USED_VRAM / GPU_FREE_VRAM
  (MB), exported lower-case (gpu_gfx_activity ...); `pod`, `namespace` and `container` are
  mandatory labels on Kubernetes (its exporterconfig.proto).

Scraped without honorLabels, Prometheus renames the exporter's `pod`/`namespace` to
`exported_pod`/`exported_namespace` (the exporter pod's own take their place): queries
select both spellings.
"""

from __future__ import annotations

from dataclasses import dataclass

from components.catalog.engines import Hardware

RENAMED_PREFIX = "exported_"


@dataclass(frozen=True)
class GpuMetrics:
    exporter: str
    # Gauge, percent 0 to 100.
    utilization: str
    # Gauges of device memory in `memory_unit`.
    memory_used: str
    memory_free: str
    # Grafana's unit for the memory gauges.
    memory_unit: str
    # The labels naming the pod and namespace the GPU is allocated to.
    pod_label: str = "pod"
    namespace_label: str = "namespace"


GPU_METRICS: dict[Hardware, GpuMetrics] = {
    "nvidia": GpuMetrics(
        exporter="NVIDIA DCGM exporter",
        utilization="DCGM_FI_DEV_GPU_UTIL",
        memory_used="DCGM_FI_DEV_FB_USED",
        memory_free="DCGM_FI_DEV_FB_FREE",
        memory_unit="mbytes",
    ),
    "amd": GpuMetrics(
        exporter="AMD device metrics exporter",
        utilization="gpu_gfx_activity",
        memory_used="gpu_used_vram",
        memory_free="gpu_free_vram",
        memory_unit="decmbytes",
    ),
}
