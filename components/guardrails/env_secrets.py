"""no-literal-secret-env: a literal env value sits in plain text in the Deployment, in etcd,
in `kubectl get -o yaml` and in Pulumi state."""

from __future__ import annotations

import re

from components.guardrails.definitions import ResourceGuardrail
from components.guardrails.pods import containers, pod_spec
from components.guardrails.subject import Subject, stack_deployment
from components.guardrails.wire import items, mapping

# Name segments that mark a credential. Whole segments, so TOKENIZERS_PARALLELISM and
# MAX_TOKENS (everyday engine settings) are not taken for secrets.
SECRET_WORDS = ("TOKEN", "SECRET", "PASSWORD", "PASSWD", "KEY", "APIKEY", "CREDENTIALS")
# A name ending in one of these points at where the secret is, not at the secret itself
# (HF_TOKEN_PATH=/var/run/secrets/hf/token).
REFERENCE_SUFFIXES = ("FILE", "PATH", "DIR")
_SEGMENT = re.compile(r"[A-Z0-9]+")


def looks_secret(name: str) -> bool:
    segments = _SEGMENT.findall(name.upper())
    if not segments or segments[-1] in REFERENCE_SUFFIXES:
        return False
    return any(
        segment in SECRET_WORDS or segment.endswith(("TOKEN", "APIKEY", "PASSWORD"))
        for segment in segments
    )


def check_env_secrets(subject: Subject) -> list[str]:
    spec = pod_spec(subject)
    if spec is None:
        return []
    messages = []
    for container in containers(spec):
        for variable in items(container.body.get("env")):
            variable = mapping(variable)
            name = str(variable.get("name") or "")
            value = variable.get("value")
            # valueFrom (secretKeyRef and friends) carries no value: that is the fix.
            if value in (None, "") or not looks_secret(name):
                continue
            messages.append(
                f"{container.label} sets {name} to a literal value: remove it from `env:` on"
                f" {stack_deployment(subject)}; keep the Hugging Face token in Pulumi secrets"
                " (`pulumi config set --secret hfToken ...`) and other credentials in a"
                " Kubernetes Secret the pod reads with secretKeyRef"
            )
    return messages


NO_LITERAL_SECRET_ENV = ResourceGuardrail(
    name="no-literal-secret-env",
    description=(
        "No container sets an environment variable whose name marks a credential (TOKEN,"
        " SECRET, PASSWORD, API_KEY, KEY, ...) to a literal value; valueFrom.secretKeyRef is"
        " the way in."
    ),
    remediation=(
        "Remove the variable from `env:`; use `pulumi config set --secret hfToken` for the"
        " Hugging Face token and a Kubernetes Secret (secretKeyRef) for others."
    ),
    check=check_env_secrets,
)
