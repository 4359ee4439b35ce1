"""Read a stack's objects from its Kubernetes cluster with the official client.

Only reading happens here; derive.py decides what the objects mean. Objects are converted
to the API's own camelCase dicts, so derivation sees what fixtures (and `kubectl get -o
json`) show. Every call has a timeout: a status command must never hang a pipeline.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import urllib3
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException

from components.kubernetes.manifests.labels import PART_OF
from components.status.derive import ClusterSnapshot, LogRequest, derive_stack, logs_wanted
from components.status.model import (
    ReaderSetupError,
    StackExpectation,
    StackReport,
    StatusUnavailable,
)

SELECTOR = f"app.kubernetes.io/part-of={PART_OF}"
LOG_TAIL_LINES = 80
REQUEST_TIMEOUT_SECONDS = 15.0
# A crash loop across many replicas fails the same way: a few logs tell the cause.
MAX_LOGS_PER_READ = 12


class KubernetesStatusReader:
    """One cluster and namespace; `read` may be called repeatedly (for --watch)."""

    def __init__(
        self,
        namespace: str,
        context: str | None = None,
        kubeconfig: Path | None = None,
        request_timeout: float = REQUEST_TIMEOUT_SECONDS,
    ) -> None:
        self.namespace = namespace
        self._timeout = request_timeout
        # The library reads $KUBECONFIG once at import; read it now, like kubectl does.
        config_file = str(kubeconfig) if kubeconfig else os.environ.get("KUBECONFIG")
        try:
            self._api = config.new_client_from_config(
                config_file=config_file, context=context, persist_config=False
            )
        except (ConfigException, OSError) as error:
            where = f"context '{context}'" if context else "the current context"
            raise ReaderSetupError(f"cannot use {where} of the kubeconfig: {error}") from None
        self._core = client.CoreV1Api(self._api)
        self._apps = client.AppsV1Api(self._api)
        self._batch = client.BatchV1Api(self._api)

    def read(self, expectation: StackExpectation) -> StackReport:
        return derive_stack(expectation, self.snapshot())

    def snapshot(self) -> ClusterSnapshot:
        objects = ClusterSnapshot(
            deployments=self._list(self._apps.list_namespaced_deployment, label_selector=SELECTOR),
            pods=self._list(self._core.list_namespaced_pod, label_selector=SELECTOR),
            jobs=self._list(self._batch.list_namespaced_job, label_selector=SELECTOR),
            # Events carry no labels; derivation matches them to objects by name.
            events=self._list(self._core.list_namespaced_event),
            services=self._list(self._core.list_namespaced_service, label_selector=SELECTOR),
            claims=self._list(
                self._core.list_namespaced_persistent_volume_claim, label_selector=SELECTOR
            ),
        )
        requests = logs_wanted(objects)[:MAX_LOGS_PER_READ]
        logs = {request.key: log for request in requests if (log := self._log(request))}
        return replace(objects, logs=logs)

    def close(self) -> None:
        self._api.close()

    def _list(self, call: Callable[..., Any], **selector: str) -> list[dict[str, Any]]:
        try:
            result = call(self.namespace, _request_timeout=self._timeout, **selector)
        except ApiException as error:
            raise StatusUnavailable(_api_error(error, self.namespace)) from None
        except urllib3.exceptions.HTTPError as error:
            raise StatusUnavailable(f"cannot reach the cluster: {error}") from None
        return [self._api.sanitize_for_serialization(item) for item in result.items]

    def _log(self, request: LogRequest) -> str:
        try:
            return str(
                self._core.read_namespaced_pod_log(
                    request.pod,
                    self.namespace,
                    container=request.container,
                    previous=request.previous,
                    tail_lines=LOG_TAIL_LINES,
                    _request_timeout=self._timeout,
                )
            )
        except (ApiException, urllib3.exceptions.HTTPError):
            # Logs are evidence, not essential: gone (pod replaced, node down) means none.
            return ""


def _api_error(error: ApiException, namespace: str) -> str:
    if error.status in (401, 403):
        return (
            f"the cluster refused to list objects in namespace {namespace} "
            f"({error.status} {error.reason}): check the kubeconfig's credentials and RBAC"
        )
    return f"the cluster answered {error.status} {error.reason} for namespace {namespace}"
