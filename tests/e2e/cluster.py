"""A real Kubernetes control plane on loopback, with KWOK standing in for kubelets.

etcd, kube-apiserver, kube-controller-manager and kube-scheduler are the upstream binaries
built by `make e2e-tools` (tools/build.sh); KWOK keeps the Node objects it manages Ready and
moves their pods through their lifecycle (Running and Ready; Job pods Succeeded), since no
container runs here. Everything lives in one temporary directory, listens on 127.0.0.1 only,
and is stopped by `stop()` (also when start-up fails half way).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.fake_engine import free_port

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_TOOLS = ROOT / "build" / "e2e-tools" / "bin"
CONTROL_PLANE_BINARIES = (
    "etcd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kwok",
)
STAGES = Path(__file__).with_name("kwok-stages.yaml")
ADMIN_TOKEN_USER = "modelstack-e2e-admin"
# Nodes KWOK manages carry this annotation; KWOK leaves every other node alone.
KWOK_NODE_ANNOTATION = ("kwok.x-k8s.io/node", "fake")


def tools_dir() -> Path:
    return Path(os.environ.get("MODELSTACK_E2E_TOOLS", DEFAULT_TOOLS))


def missing_tools(directory: Path | None = None) -> list[str]:
    directory = directory or tools_dir()
    wanted = (*CONTROL_PLANE_BINARIES, "pulumi", "pulumi-language-python")
    return [name for name in wanted if not os.access(directory / name, os.X_OK)]


class ControlPlaneError(RuntimeError):
    """A control-plane process failed to start; the message carries its log's tail."""


@dataclass
class LocalCluster:
    """One control plane. `kubeconfig` names every context in `contexts` (the stacks' own)."""

    contexts: tuple[str, ...] = ()
    tools: Path = field(default_factory=tools_dir)
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="modelstack-k8s-")))
    _processes: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)

    @property
    def kubeconfig(self) -> Path:
        return self.workdir / "kubeconfig"

    @property
    def server(self) -> str:
        return f"https://127.0.0.1:{self._apiserver_port}"

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> LocalCluster:
        try:
            self._write_credentials()
            self._start_etcd()
            self._start_apiserver()
            self._write_kubeconfig()
            self._start(
                "kube-controller-manager",
                "--kubeconfig",
                str(self.kubeconfig),
                "--leader-elect=false",
                "--bind-address=127.0.0.1",
                f"--secure-port={free_port()}",
                f"--service-account-private-key-file={self.workdir / 'sa.key'}",
                f"--root-ca-file={self._serving_ca}",
                "--use-service-account-credentials=false",
                # KWOK renews the nodes' leases; on a loaded 2-core machine a renewal can come
                # late, and a node marked NotReady has its pods marked not Ready with no kubelet
                # to report them Ready again. A generous grace keeps that from happening.
                "--node-monitor-grace-period=15m",
                "--concurrent-deployment-syncs=10",
                "--concurrent-job-syncs=10",
            )
            self._start(
                "kube-scheduler",
                "--kubeconfig",
                str(self.kubeconfig),
                "--leader-elect=false",
                "--bind-address=127.0.0.1",
                f"--secure-port={free_port()}",
            )
            self._start(
                "kwok",
                "--kubeconfig",
                str(self.kubeconfig),
                "--manage-all-nodes=false",
                "--manage-nodes-with-annotation-selector="
                f"{KWOK_NODE_ANNOTATION[0]}={KWOK_NODE_ANNOTATION[1]}",
                "--node-ip=127.0.0.1",
                "--node-port=0",
                "--server-address=127.0.0.1:0",
                "--cidr=10.244.0.0/16",
                f"--config={STAGES}",
            )
            self._wait_for_default_service_account()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for _, process in reversed(self._processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for _, process in reversed(self._processes):
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._processes.clear()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> LocalCluster:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def log_tail(self, name: str, lines: int = 30) -> str:
        path = self.workdir / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    # -- API access --------------------------------------------------------------------------
    def request(self, method: str, path: str, body: Any = None, content_type: str = "") -> Any:
        """One API call as the cluster admin; JSON in, JSON out."""
        data = None if body is None else json.dumps(body).encode()
        headers = {"Authorization": f"Bearer {self._admin_token}", "Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = content_type or "application/json"
        request = urllib.request.Request(self.server + path, data, headers, method=method)
        with urllib.request.urlopen(request, context=self._tls, timeout=30) as response:
            payload = response.read()
        return json.loads(payload) if payload else None

    def get(self, path: str) -> Any:
        return self.request("GET", path)

    def exists(self, path: str) -> bool:
        try:
            self.get(path)
        except urllib.error.HTTPError as error:
            if error.code == 404:
                return False
            raise
        return True

    def apply(self, document: dict[str, Any]) -> None:
        """Server-side apply of one object (field manager `modelstack-e2e`)."""
        self.request(
            "PATCH",
            f"{_collection_path(document)}/{document['metadata']['name']}"
            "?fieldManager=modelstack-e2e&force=true",
            document,
            "application/apply-patch+yaml",
        )

    def wait_for(self, what: str, check: Any, timeout: float = 120, interval: float = 0.5) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            result = check()
            if result:
                return result
            if time.monotonic() > deadline:
                raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
            time.sleep(interval)

    # -- start-up steps ----------------------------------------------------------------------
    def _write_credentials(self) -> None:
        self._admin_token = base64.urlsafe_b64encode(os.urandom(24)).decode().rstrip("=")
        (self.workdir / "tokens.csv").write_text(
            f"{self._admin_token},{ADMIN_TOKEN_USER},{ADMIN_TOKEN_USER},system:masters\n"
        )
        subprocess.run(
            ["openssl", "genrsa", "-out", str(self.workdir / "sa.key"), "2048"],
            check=True,
            capture_output=True,
        )
        subprocess.run(
            [
                "openssl",
                "rsa",
                "-in",
                str(self.workdir / "sa.key"),
                "-pubout",
                "-out",
                str(self.workdir / "sa.pub"),
            ],
            check=True,
            capture_output=True,
        )

    def _start_etcd(self) -> None:
        client, peer = free_port(), free_port()
        self._etcd_url = f"http://127.0.0.1:{client}"
        self._start(
            "etcd",
            "--name=e2e",
            f"--data-dir={self.workdir / 'etcd'}",
            f"--listen-client-urls={self._etcd_url}",
            f"--advertise-client-urls={self._etcd_url}",
            f"--listen-peer-urls=http://127.0.0.1:{peer}",
            f"--initial-advertise-peer-urls=http://127.0.0.1:{peer}",
            f"--initial-cluster=e2e=http://127.0.0.1:{peer}",
            "--listen-metrics-urls=",
            # Test data: durability across power loss buys nothing and costs seconds per apply.
            "--unsafe-no-fsync",
            "--quota-backend-bytes=1073741824",
        )
        self.wait_for("etcd", lambda: _http_ok(f"{self._etcd_url}/health"), timeout=60)

    def _start_apiserver(self) -> None:
        self._apiserver_port = free_port()
        certs = self.workdir / "certs"
        self._start(
            "kube-apiserver",
            f"--etcd-servers={self._etcd_url}",
            "--bind-address=127.0.0.1",
            "--advertise-address=127.0.0.1",
            f"--secure-port={self._apiserver_port}",
            f"--cert-dir={certs}",
            f"--token-auth-file={self.workdir / 'tokens.csv'}",
            "--authorization-mode=Node,RBAC",
            f"--service-account-key-file={self.workdir / 'sa.pub'}",
            f"--service-account-signing-key-file={self.workdir / 'sa.key'}",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            "--api-audiences=https://kubernetes.default.svc.cluster.local",
            "--service-cluster-ip-range=10.96.0.0/16",
            "--allow-privileged=true",
            "--profiling=false",
            "--enable-priority-and-fairness=false",
            "--endpoint-reconciler-type=none",
        )
        self._serving_ca = certs / "apiserver.crt"
        self.wait_for(
            "kube-apiserver serving certificate", lambda: self._serving_ca.exists(), timeout=60
        )
        self._tls = ssl.create_default_context(cafile=str(self._serving_ca))
        self.wait_for("kube-apiserver /readyz", self._ready, timeout=120)

    def _ready(self) -> bool:
        self._check_processes()
        try:
            request = urllib.request.Request(
                f"{self.server}/readyz", headers={"Authorization": f"Bearer {self._admin_token}"}
            )
            with urllib.request.urlopen(request, context=self._tls, timeout=5) as response:
                return response.status == 200
        except (urllib.error.URLError, ConnectionError, TimeoutError, ssl.SSLError):
            return False

    def _write_kubeconfig(self) -> None:
        """One cluster and user; a context per name the stacks use, plus `e2e` (the current)."""
        names = ("e2e", *(c for c in self.contexts if c != "e2e"))
        document = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": "e2e",
                    "cluster": {
                        "server": self.server,
                        "certificate-authority": str(self._serving_ca),
                    },
                }
            ],
            "users": [{"name": "e2e-admin", "user": {"token": self._admin_token}}],
            "contexts": [
                {"name": name, "context": {"cluster": "e2e", "user": "e2e-admin"}} for name in names
            ],
            "current-context": "e2e",
        }
        self.kubeconfig.write_text(json.dumps(document, indent=2))

    def _wait_for_default_service_account(self) -> None:
        """Pods are admitted once the controller manager has made `default` accounts."""
        self.wait_for(
            "the default service account",
            lambda: (
                self._check_processes()
                or self.exists("/api/v1/namespaces/default/serviceaccounts/default")
            ),
            timeout=120,
        )

    def _start(self, name: str, *args: str) -> None:
        log = (self.workdir / f"{name}.log").open("wb")
        process = subprocess.Popen(
            [str(self.tools / name), *args],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=self.workdir,
            start_new_session=True,
        )
        self._processes.append((name, process))

    def _check_processes(self) -> None:
        for name, process in self._processes:
            if process.poll() is not None:
                raise ControlPlaneError(
                    f"{name} exited with {process.returncode}:\n{self.log_tail(name)}"
                )


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def _collection_path(document: dict[str, Any]) -> str:
    """The REST collection of a built-in or CRD object (cluster-scoped kinds listed here)."""
    api_version = document["apiVersion"]
    base = f"/api/{api_version}" if "/" not in api_version else f"/apis/{api_version}"
    plural = _PLURALS.get(document["kind"], document["kind"].lower() + "s")
    namespace = document["metadata"].get("namespace")
    if namespace and document["kind"] not in _CLUSTER_SCOPED:
        return f"{base}/namespaces/{namespace}/{plural}"
    return f"{base}/{plural}"


_PLURALS = {
    "CustomResourceDefinition": "customresourcedefinitions",
    "StorageClass": "storageclasses",
}
_CLUSTER_SCOPED = {
    "CustomResourceDefinition",
    "Namespace",
    "Node",
    "StorageClass",
    "PersistentVolume",
    "PriorityClass",
    "RuntimeClass",
}
