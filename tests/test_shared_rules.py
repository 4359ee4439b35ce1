"""Each rule that guards a value is one definition: the spec and the guardrails agree."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from components import spec_identifiers
from components.guardrails.env_secrets import check_env_secrets
from components.spec import DeploymentSpec
from components.spec_identifiers import IdentifierRule
from components.stack_config import literal_credentials
from tests.test_policies import container, deployment, subject

NAMES = [
    "HF_TOKEN_PATH",
    "MAX_TOKENS",
    "TOKENIZERS_PARALLELISM",
    "HF_AUTH",
    "GITHUB_PAT",
    "DB_PASSWORD",
    "OPENAI_API_KEY",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "SSL_KEY_FILE",
    "VLLM_LOGGING_LEVEL",
    "MY_CREDENTIALS",
    "PWD",
]
CREDENTIAL_VALUES = ["hf_" + "x1" * 20, "postgres://u:pw@db/app", "sk-" + "ab" * 12]


def _spec_refuses(name: str, value: str) -> bool:
    try:
        DeploymentSpec.model_validate(
            {"name": "chat", "model": {"source": "hf://a/b"}, "env": {name: value}}
        )
    except ValidationError:
        return True
    return False


def _guardrail_flags(name: str, value: str) -> bool:
    env = [{"name": name, "value": value}]
    return bool(check_env_secrets(subject(deployment(containers=[container(env=env)]))))


@pytest.mark.parametrize("name", NAMES)
def test_the_spec_and_the_guardrail_agree_on_credential_names(name: str) -> None:
    assert _spec_refuses(name, "plain") == _guardrail_flags(name, "plain"), name


@pytest.mark.parametrize("value", CREDENTIAL_VALUES)
def test_the_spec_and_the_guardrail_agree_on_credential_values(value: str) -> None:
    raw = {"deployments": [{"name": "chat", "env": {"SETTINGS": value}}]}
    [issue] = literal_credentials(raw)
    assert issue.path == "deployments[0].env.SETTINGS"
    assert _guardrail_flags("SETTINGS", value)
    assert not _guardrail_flags("SETTINGS", "https://example.com/x")


RULES = [
    (name, rule)
    for name, rule in vars(spec_identifiers).items()
    if isinstance(rule, IdentifierRule)
]


@pytest.mark.parametrize(("name", "rule"), RULES, ids=[name for name, _ in RULES])
def test_no_rule_lets_a_trailing_newline_or_look_alike_through(
    name: str, rule: IdentifierRule
) -> None:
    sample = {
        "BIND_ADDRESS": "127.0.0.1",
        "CLOCK_TIME": "08:00",
        "SURGE_PERCENT": "25%",
        "UNAVAILABLE_PERCENT": "25%",
        "PROMETHEUS_URL": "http://prometheus:9090",
        "OPENAI_BASE_URL": "http://llm:8000/v1",
        "ROUTE_TEMPLATE": "/a",
        "HEALTH_PATH": "/a",
        "ENV_NAME": "A",
        "GPU_TYPE": "L4",
        "SERVED_NAME": "a",
    }.get(name, "a")
    assert rule.matches(sample), sample
    assert not rule.matches(sample + "\n")
    assert not rule.matches(sample + "\x00")
    assert not rule.matches("\u0430" + sample[1:] if sample[0] == "a" else sample + "\u0430")
