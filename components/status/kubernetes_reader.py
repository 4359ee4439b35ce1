"""Read a stack's objects from its Kubernetes cluster with the official client.

Only reading happens here; kubernetes_facts.py decides what the objects mean. Objects are
converted to the API's own camelCase dicts, so derivation sees what fixtures (and `kubectl
get -o json`) show. Every call has a timeout: a status command must never hang a pipeline.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import urllib3
import yaml
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException

from components.identity import PART_OF, PART_OF_KEY, flagger_primary
from components.kubernetes.manifests.leader_worker_set import API_VERSION as LWS_API_VERSION
from components.nested_values import dig
from components.status.kubernetes_canary_facts import CANARY_RESOURCE
from components.status.kubernetes_facts import (
    ClusterSnapshot,
    LogRequest,
    derive_stack,
    logs_wanted,
)
from components.status.kubernetes_pool_facts import POOL_RESOURCE
from components.status.model import (
    ReaderSetupError,
    StackExpectation,
    StackReport,
    StatusUnavailable,
)

SELECTOR = f"{PART_OF_KEY}={PART_OF}"
GATEWAY_API_GROUP = "gateway.networking.k8s.io"
GATEWAY_API_VERSION = "v1"
LOG_TAIL_LINES = 80
REQUEST_TIMEOUT_SECONDS = 15.0
# A crash loop across many replicas fails the same way: a few logs tell the cause.
MAX_LOGS_PER_READ = 12


def now() -> datetime:
    """The reader's clock (tests pin it to their fixtures' moment)."""
    return datetime.now(UTC)


class KubeconfigError(ReaderSetupError):
    """The kubeconfig cannot give the stack's context: missing file, unknown context.

    `reason` and `details` (paths, contexts) are for `status --json`.
    """

    def __init__(self, message: str, reason: str, **details: Any) -> None:
        super().__init__(message)
        self.reason = reason
        self.details = details


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
        files = kubeconfig_files(kubeconfig)
        # Checked here first: the library says "Invalid kube-config file" for all of these.
        check_context(files, context)
        try:
            self._api = config.new_client_from_config(
                config_file=os.pathsep.join(str(path) for path in files.existing),
                context=context,
                persist_config=False,
            )
        except (ConfigException, OSError) as error:
            where = f"context '{context}'" if context else "the current context"
            raise KubeconfigError(
                f"cannot use {where} of the kubeconfig {files.described}: {error}",
                "KubeconfigInvalid",
                kubeconfig=[str(path) for path in files.paths],
            ) from None
        self._core = client.CoreV1Api(self._api)
        self._apps = client.AppsV1Api(self._api)
        self._batch = client.BatchV1Api(self._api)
        self._custom = client.CustomObjectsApi(self._api)

    def read(self, expectation: StackExpectation) -> StackReport:
        primaries = [d.canary.primary for d in expectation.deployments if d.canary is not None]
        return derive_stack(expectation, self.snapshot(primaries))

    def snapshot(self, primaries: Iterable[str] = ()) -> ClusterSnapshot:
        """Everything status reads, at one moment; `primaries`: the Flagger primaries the
        stack expects, read besides those its Canaries name."""
        deployments = self._list(self._apps.list_namespaced_deployment, label_selector=SELECTOR)
        canaries = self._custom_objects(*CANARY_RESOURCE)
        named = [flagger_primary(str(dig(c, "spec", "targetRef", "name"))) for c in canaries]
        objects = ClusterSnapshot(
            deployments=[*deployments, *self._primaries([*primaries, *named], deployments)],
            pods=self._list(self._core.list_namespaced_pod, label_selector=SELECTOR),
            jobs=self._list(self._batch.list_namespaced_job, label_selector=SELECTOR),
            # Events carry no labels; derivation matches them to objects by name.
            events=self._list(self._core.list_namespaced_event),
            services=self._list(self._core.list_namespaced_service, label_selector=SELECTOR),
            claims=self._list(
                self._core.list_namespaced_persistent_volume_claim, label_selector=SELECTOR
            ),
            routes=self._custom_objects(GATEWAY_API_GROUP, GATEWAY_API_VERSION, "httproutes"),
            leader_worker_sets=self._custom_objects(
                *LWS_API_VERSION.split("/"), "leaderworkersets"
            ),
            canaries=canaries,
            inference_pools=self._custom_objects(*POOL_RESOURCE),
        )
        requests = logs_wanted(objects)[:MAX_LOGS_PER_READ]
        logs = {request.key: log for request in requests if (log := self._log(request))}
        return replace(objects, logs=logs, read_at=now())

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

    def _custom_objects(self, group: str, version: str, plural: str) -> list[dict[str, Any]]:
        """HTTPRoutes and InferencePools (with what their Gateways say of them),
        LeaderWorkerSets, Flagger Canaries. A cluster without their CRD (404), or a role that
        may not read them (403), has none to tell."""
        try:
            listed = self._custom.list_namespaced_custom_object(
                group,
                version,
                self.namespace,
                plural,
                label_selector=SELECTOR,
                _request_timeout=self._timeout,
            )
        except ApiException as error:
            if error.status in (403, 404):
                return []
            raise StatusUnavailable(_api_error(error, self.namespace)) from None
        except urllib3.exceptions.HTTPError as error:
            raise StatusUnavailable(f"cannot reach the cluster: {error}") from None
        return list(listed.get("items") or [])

    def _primaries(self, names: list[str], listed: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Flagger's `<target>-primary` Deployments, read by name: Flagger (v1.44,
        pkg/canary/deployment_controller.go) gives one only the labels its
        -include-label-prefix allows (none by default) besides `app.kubernetes.io/name`, so
        the stack's selector misses it; its pods keep the target's template labels."""
        have = {str(dig(item, "metadata", "name")) for item in listed}
        found = []
        for name in dict.fromkeys(names):
            if name in have:
                continue
            primary = self._read(self._apps.read_namespaced_deployment, name)
            if primary is not None:
                found.append(primary)
        return found

    def _read(self, call: Callable[..., Any], name: str) -> dict[str, Any] | None:
        """One object by name; None where it does not exist (yet)."""
        try:
            result = call(name, self.namespace, _request_timeout=self._timeout)
        except ApiException as error:
            if error.status == 404:
                return None
            raise StatusUnavailable(_api_error(error, self.namespace)) from None
        except urllib3.exceptions.HTTPError as error:
            raise StatusUnavailable(f"cannot reach the cluster: {error}") from None
        return self._api.sanitize_for_serialization(result)

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


@dataclass(frozen=True)
class KubeconfigFiles:
    """The kubeconfig files kubectl would read, and where their names came from."""

    paths: list[Path]
    # "--kubeconfig", "$KUBECONFIG" or "the default"
    source: str

    @property
    def existing(self) -> list[Path]:
        return [path for path in self.paths if path.is_file()]

    @property
    def described(self) -> str:
        names = ", ".join(str(path) for path in self.paths)
        return f"{names} ({self.source})"


def kubeconfig_files(kubeconfig: Path | None) -> KubeconfigFiles:
    """--kubeconfig, else every file in $KUBECONFIG (kubectl merges them), else ~/.kube/config."""
    if kubeconfig is not None:
        return KubeconfigFiles([kubeconfig.expanduser()], "--kubeconfig")
    listed = [part for part in os.environ.get("KUBECONFIG", "").split(os.pathsep) if part]
    if listed:
        return KubeconfigFiles([Path(part).expanduser() for part in listed], "$KUBECONFIG")
    return KubeconfigFiles([Path("~/.kube/config").expanduser()], "the default")


def check_context(files: KubeconfigFiles, context: str | None) -> None:
    """KubeconfigError when no file exists, one is unreadable, or the context (the stack
    file's kubernetes.context, else the current context) is not among the contexts."""
    paths = [str(path) for path in files.paths]
    if not files.existing:
        directories = [str(path) for path in files.paths if path.is_dir()]
        if len(files.paths) == 1:
            what = "is a directory, not a file" if directories else "does not exist"
            missing = f"kubeconfig file {files.described} {what}"
        else:
            missing = f"kubeconfig files {files.described}: none of them exists"
        raise KubeconfigError(
            f"{missing}: pass --kubeconfig PATH, set KUBECONFIG, or write ~/.kube/config"
            " (kubectl config)",
            "KubeconfigNotFound",
            kubeconfig=paths,
            source=files.source,
        )
    contexts, current = _contexts(files)
    listed = ", ".join(contexts) if contexts else "none"
    details = {"kubeconfig": paths, "contexts": contexts, "currentContext": current}
    if context is not None and context not in contexts:
        raise KubeconfigError(
            f"context '{context}' (the stack file's kubernetes.context) is not in the kubeconfig"
            f" {files.described}; its contexts: {listed}",
            "UnknownContext",
            context=context,
            **details,
        )
    if context is None and current is None:
        raise KubeconfigError(
            f"the kubeconfig {files.described} sets no current context and the stack file"
            f" names none (kubernetes.context); its contexts: {listed}",
            "NoContext",
            **details,
        )
    if context is None and current not in contexts:
        raise KubeconfigError(
            f"the current context '{current}' of the kubeconfig {files.described} is not"
            f" among its contexts: {listed}",
            "UnknownContext",
            context=current,
            **details,
        )


def _contexts(files: KubeconfigFiles) -> tuple[list[str], str | None]:
    """Context names of every file, and the current context (the first file's that sets one,
    as kubectl merges)."""
    contexts: list[str] = []
    current: str | None = None
    for path in files.existing:
        try:
            document = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
            raise KubeconfigError(
                f"kubeconfig file {path} is not readable as YAML: {error}",
                "KubeconfigInvalid",
                kubeconfig=[str(path)],
            ) from None
        if not isinstance(document, dict):
            raise KubeconfigError(
                f"kubeconfig file {path} is {'empty' if document is None else 'not a mapping'}:"
                " not a kubeconfig",
                "KubeconfigInvalid",
                kubeconfig=[str(path)],
            )
        for entry in document.get("contexts") or []:
            name = entry.get("name") if isinstance(entry, dict) else None
            if isinstance(name, str) and name not in contexts:
                contexts.append(name)
        if current is None and isinstance(document.get("current-context"), str):
            current = document["current-context"] or None
    return contexts, current


def _api_error(error: ApiException, namespace: str) -> str:
    if error.status in (401, 403):
        return (
            f"the cluster refused to list objects in namespace {namespace} "
            f"({error.status} {error.reason}): check the kubeconfig's credentials and RBAC"
        )
    return f"the cluster answered {error.status} {error.reason} for namespace {namespace}"
