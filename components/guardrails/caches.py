"""model-cache-retained and model-cache-protected: weights take hours to download again, so
a cache outlives its deployment and, in prod, survives a stray `pulumi destroy`."""

from __future__ import annotations

from components.guardrails.definitions import OptionNotVisible, ResourceGuardrail
from components.guardrails.subject import Subject, stack_deployment
from components.identity import COMPONENT, MODEL_CACHE

RETAIN_NOT_VISIBLE = (
    "pulumi-policy 1.21 does not pass retainOnDelete to policy packs; `modelstack validate`"
    " checks it on the offline render"
)


def is_model_cache(subject: Subject) -> bool:
    return (
        subject.is_kubernetes("PersistentVolumeClaim", "core")
        and subject.labels.get(COMPONENT) == MODEL_CACHE
    )


def check_cache_retained(subject: Subject) -> list[str]:
    if not is_model_cache(subject):
        return []
    retained = subject.options.retain_on_delete
    if retained is None:
        raise OptionNotVisible(RETAIN_NOT_VISIBLE)
    if retained:
        return []
    return [
        f"is not retainOnDelete, so removing {stack_deployment(subject)}"
        " from the stack file deletes the downloaded weights: modelstack sets it on every"
        " cache it renders; if this one lacks it, the program was changed, not the stack file"
    ]


def check_cache_protected(subject: Subject) -> list[str]:
    if not is_model_cache(subject) or subject.options.protect:
        return []
    return [
        f"is not protected, so `pulumi destroy` deletes the weights of"
        f" {stack_deployment(subject)}: set `modelstack:environment: prod`, which protects"
        " caches"
    ]


MODEL_CACHE_RETAINED = ResourceGuardrail(
    name="model-cache-retained",
    description=(
        f"PersistentVolumeClaims labelled {COMPONENT}={MODEL_CACHE} carry the"
        " retainOnDelete resource option (checked offline only: " + RETAIN_NOT_VISIBLE + ")."
    ),
    remediation="Keep retainOnDelete on model caches (modelstack sets it; do not remove it).",
    check=check_cache_retained,
)

MODEL_CACHE_PROTECTED = ResourceGuardrail(
    name="model-cache-protected",
    description=(
        f"PersistentVolumeClaims labelled {COMPONENT}={MODEL_CACHE} carry the protect"
        " resource option."
    ),
    remediation="Use `modelstack:environment: prod`, which protects model caches.",
    check=check_cache_protected,
)
