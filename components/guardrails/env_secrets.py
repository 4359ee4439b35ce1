"""no-literal-secret-env: a literal env value sits in plain text in the Deployment, in etcd,
in `kubectl get -o yaml` and in Pulumi state."""

from __future__ import annotations

from components.guardrails.definitions import ResourceGuardrail
from components.guardrails.pods import workload_containers
from components.guardrails.subject import Subject, stack_deployment
from components.guardrails.wire import items, mapping
from components.spec_credentials import credential_in, looks_secret


def check_env_secrets(subject: Subject) -> list[str]:
    messages = []
    for container in workload_containers(subject):
        for variable in items(container.body.get("env")):
            variable = mapping(variable)
            name = str(variable.get("name") or "")
            value = variable.get("value")
            # valueFrom (secretKeyRef and friends) carries no value: that is the fix.
            if not isinstance(value, str) or not value:
                continue
            shaped = credential_in(value)
            if not looks_secret(name) and shaped is None:
                continue
            what = f"to {shaped}" if shaped else "to a literal value"
            messages.append(
                f"{container.label} sets {name} {what}: remove it from `env:` on"
                f" {stack_deployment(subject)}; keep the Hugging Face token in Pulumi secrets"
                " (`pulumi config set --secret hfToken ...`) and other credentials in a"
                " Kubernetes Secret the pod reads with secretKeyRef"
            )
    # A LeaderWorkerSet's leaders and workers run the same containers: say it once.
    return list(dict.fromkeys(messages))


NO_LITERAL_SECRET_ENV = ResourceGuardrail(
    name="no-literal-secret-env",
    description=(
        "No container sets an environment variable whose name marks a credential (TOKEN,"
        " SECRET, PASSWORD, API_KEY, KEY, AUTH, PAT, ...) or whose value has a credential's shape"
        " (hf_..., ghp_..., sk-..., AKIA..., a URL with a password) to a literal value;"
        " valueFrom.secretKeyRef is the way in."
    ),
    remediation=(
        "Remove the variable from `env:`; use `pulumi config set --secret hfToken` for the"
        " Hugging Face token and a Kubernetes Secret (secretKeyRef) for others."
    ),
    check=check_env_secrets,
)
