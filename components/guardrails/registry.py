"""Every guardrail, in the order reports list them."""

from __future__ import annotations

from components.guardrails.caches import MODEL_CACHE_PROTECTED, MODEL_CACHE_RETAINED
from components.guardrails.container_resources import CONTAINER_RESOURCES
from components.guardrails.debug_access import DEBUG_ACCESS_IN_PROD_GUARDRAIL
from components.guardrails.definitions import Guardrail
from components.guardrails.disruption_budgets import POD_DISRUPTION_BUDGET
from components.guardrails.env_secrets import NO_LITERAL_SECRET_ENV
from components.guardrails.gpu_placement import GPU_PLACEMENT
from components.guardrails.images import PINNED_IMAGE_TAGS
from components.guardrails.probes import ENGINE_PROBES
from components.guardrails.replicas import AT_LEAST_TWO_REPLICAS
from components.guardrails.route_timeouts import STREAMING_ROUTE_TIMEOUTS

GUARDRAILS: tuple[Guardrail, ...] = (
    AT_LEAST_TWO_REPLICAS,
    POD_DISRUPTION_BUDGET,
    PINNED_IMAGE_TAGS,
    CONTAINER_RESOURCES,
    ENGINE_PROBES,
    GPU_PLACEMENT,
    NO_LITERAL_SECRET_ENV,
    MODEL_CACHE_RETAINED,
    MODEL_CACHE_PROTECTED,
    STREAMING_ROUTE_TIMEOUTS,
    DEBUG_ACCESS_IN_PROD_GUARDRAIL,
)
