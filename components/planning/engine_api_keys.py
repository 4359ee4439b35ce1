"""Engine API keys: a Pulumi secret per deployment, delivered to the engine from a Secret.

`pulumi config set --secret --path 'engineApiKeys.<deployment>' <key>`. The key reaches
the engine as an environment variable read from a Kubernetes Secret (valueFrom), never
as a command-line argument (visible in the pod spec and in every process listing) and
never as a literal in the stack file. Which variable each engine reads
(shared/ENGINES.md section 2):
- vLLM: VLLM_API_KEY (guards /v1, /v2 and /inference; /health and /metrics stay open).
- llama.cpp: LLAMA_API_KEY (the env form of --api-key; /health and /v1/models stay open).
- TGI: API_KEY (every launcher flag reads its upper-case env name).
SGLang takes its key only as `--api-key` on the command line, and Ollama has no API-key
option: both are refused rather than given a key in argv or silently left open.
"""

from __future__ import annotations

from components.errors import ConfigIssue, key_path

API_KEY_ENV = {"vllm": "VLLM_API_KEY", "llamacpp": "LLAMA_API_KEY", "tgi": "API_KEY"}
WITHOUT_API_KEY_ENV = {
    "sglang": "SGLang reads its API key only from the command line (--api-key), where every "
    "process listing shows it",
    "ollama": "Ollama has no API-key option",
}
# The key inside the Secret modelstack creates.
SECRET_KEY = "api-key"
STACK_KEY = "engineApiKeys"


def api_key_problem(engine: str) -> str | None:
    """Why `engine` cannot take a key from the environment, or None."""
    if engine in API_KEY_ENV:
        return None
    reason = WITHOUT_API_KEY_ENV.get(engine, f"{engine} takes no API key")
    return f"{reason}: put an authenticating gateway in front instead"


def unknown_deployments(names: list[str], deployments: list[str]) -> list[ConfigIssue]:
    """Keys for deployments the stack does not have (a typo would leave one unguarded)."""
    return [
        ConfigIssue(
            key_path(STACK_KEY, name),
            f"no deployment named '{name}' (deployments: {', '.join(deployments) or 'none'})",
        )
        for name in names
        if name not in deployments
    ]
