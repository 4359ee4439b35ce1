"""ModelDeployment on Docker: cache volume, loader containers, one container per replica.

The same plan as on Kubernetes. The gateway (gateway.py) puts nginx in front.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_docker as docker

from components import identity
from components.checks.adapter_loader import AdapterLoader
from components.docker import containers
from components.docker.loader import ModelLoader
from components.outputs import deployment_summary
from components.plan import DeploymentPlan
from components.planning.loaders import LoaderPlan
from components.planning.model_location import CACHE_MOUNT
from components.planning.timeouts import in_minutes

TYPE = "modelstack:docker:ModelDeployment"


class DockerModelDeployment(pulumi.ComponentResource):
    # host:port of every engine container, per workload (what the gateway balances over).
    addresses: dict[str, list[str]]
    container_ids: list[pulumi.Output[str]]

    def __init__(
        self,
        plan: DeploymentPlan,
        network: docker.Network,
        hf_token: pulumi.Input[str] | None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(TYPE, plan.name, None, opts)
        self._plan = plan
        self._part = plan.on_docker
        self._namespace = plan.namespace
        self._images: dict[str, docker.RemoteImage] = {}
        volume = self._cache_volume()
        ready = {loader.job_name: self._loader(loader, volume, hf_token) for loader in plan.loaders}
        self.addresses = {slot.workload_name: [] for slot in plan.slots}
        self.container_ids = []
        engines = []
        for spec in containers.engine_containers(self._namespace, plan):
            container = self._engine(spec, volume, network, ready)
            self.addresses[spec.slot.workload_name].append(spec.address)
            self.container_ids.append(container.id)
            engines.append(container)
        if plan.runtime_adapters is not None and engines:
            self._load_adapters(engines, ready)
        # What the Kubernetes component registers too, besides the gateway's addresses.
        self.register_outputs({**deployment_summary(plan), "addresses": self.addresses})

    def _child(self, **options: object) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, **options)  # type: ignore[arg-type]

    def _image(self, reference: str) -> docker.RemoteImage:
        # keep_locally: several deployments share engine images; none deletes them.
        if reference not in self._images:
            index = len(self._images)
            self._images[reference] = docker.RemoteImage(
                f"{self._plan.name}-image-{index}",
                name=reference,
                keep_locally=True,
                opts=self._child(),
            )
        return self._images[reference]

    def _volume_name(self) -> str:
        assert self._plan.cache is not None
        return identity.cache_volume(self._namespace, self._plan.cache.claim_name)

    def _cache_volume(self) -> docker.Volume | None:
        cache = self._plan.cache
        if cache is None:
            return None
        cache_labels = containers.labels(self._plan, None, identity.MODEL_CACHE)
        # Weights take long to fetch again: the volume stays when the deployment goes away.
        return docker.Volume(
            cache.claim_name,
            name=self._volume_name(),
            labels=[
                docker.VolumeLabelArgs(label=key, value=value)
                for key, value in sorted(cache_labels.items())
            ],
            opts=self._child(retain_on_delete=True, protect=cache.protect),
        )

    def _loader(
        self,
        loader: LoaderPlan,
        volume: docker.Volume | None,
        hf_token: pulumi.Input[str] | None,
    ) -> pulumi.Output[str]:
        """Run the loader to completion; the Output resolves once the cache is complete."""
        secret_env = None
        if loader.hf_token_secret and hf_token is not None:
            secret_env = pulumi.Output.secret(hf_token).apply(lambda token: {"HF_TOKEN": token})
        mounts: list[dict[str, Any]] = []
        if volume is not None and self._plan.cache is not None:
            mounts.append(
                {"source": self._volume_name(), "target": CACHE_MOUNT, "read_only": False}
            )
        container = ModelLoader(
            loader.job_name,
            container_name=identity.loader_container(self._namespace, loader.job_name),
            image=self._image(loader.image).image_id,
            script=loader.script,
            envs=["HOME=/tmp"],
            secret_env=secret_env,
            mounts=mounts,
            labels=containers.labels(self._plan, None, identity.MODEL_LOADER),
            timeout_seconds=self._plan.timeouts.loader_seconds,
            opts=self._child(
                depends_on=[volume] if volume is not None else [],
                custom_timeouts=pulumi.CustomTimeouts(
                    create=in_minutes(self._part.loader_wait_seconds)
                ),
            ),
        )
        return container.id.apply(lambda _: identity.CACHE_COMPLETE)

    def _load_adapters(
        self, engines: list[docker.Container], ready: dict[str, pulumi.Output[str]]
    ) -> None:
        """Into every engine container, once they are healthy and the downloads complete."""
        runtime = self._plan.runtime_adapters
        assert runtime is not None
        jobs = [ready[a.loader_job] for a in self._plan.adapters if a.loader_job]
        AdapterLoader(
            f"{self._plan.name}-adapters",
            deployment=self._plan.name,
            containers=[container.name for container in engines],
            sync_config={
                **runtime.sync_config(),
                # Resolves once every adapter's loader is done: a load never reads half a file.
                "cache": pulumi.Output.all(*jobs).apply(_cache_state) if jobs else "",
            },
            opts=self._child(depends_on=list(engines)),
        )

    def _engine(
        self,
        spec: containers.EngineContainer,
        volume: docker.Volume | None,
        network: docker.Network,
        ready: dict[str, pulumi.Output[str]],
    ) -> docker.Container:
        slot = spec.slot
        settings = containers.engine_settings(self._plan, slot)
        label_values: dict[str, pulumi.Input[str]] = dict(
            containers.labels(self._plan, slot, identity.ENGINE_COMPONENT)
        )
        # Adapters loaded at run time are awaited by their loader resource, not the engine.
        adapter_jobs = () if self._plan.runtime_adapters else self._plan.adapters
        jobs = [job for job in (slot.loader_job, *(a.loader_job for a in adapter_jobs)) if job]
        if jobs:
            # Waits for the loaders and fails with their error: an engine never starts on a
            # half-filled cache.
            label_values[identity.CACHE_STATE] = pulumi.Output.all(*(ready[j] for j in jobs)).apply(
                _cache_state
            )
        mounts = [_cache_mount(volume, read_only=slot.engine.model_read_only)] if volume else []
        mounts += [
            docker.ContainerMountArgs(
                type="volume", source=claim, target=f"{CACHE_MOUNT}/pvc/{claim}", read_only=True
            )
            for claim in self._plan.external_claims
        ]
        return docker.Container(
            spec.logical_name,
            name=spec.container_name,
            image=self._image(slot.engine.image).image_id,
            labels=_labels(label_values),
            mounts=mounts,
            networks_advanced=[
                docker.ContainerNetworksAdvancedArgs(
                    name=network.name, aliases=[spec.container_name]
                )
            ],
            restart="unless-stopped",
            wait=True,
            wait_timeout=self._plan.timeouts.startup_seconds,
            destroy_grace_seconds=self._part.stop_grace_seconds,
            stop_timeout=self._part.stop_grace_seconds,
            **{key: value for key, value in settings.items() if key != "image"},
            opts=self._child(
                custom_timeouts=pulumi.CustomTimeouts(
                    create=in_minutes(self._plan.timeouts.rollout_seconds)
                )
            ),
        )


def _cache_state(loader_states: list[str]) -> str:
    """What an engine container's label says about its cache: complete once every loader is."""
    complete = all(state == identity.CACHE_COMPLETE for state in loader_states)
    return identity.CACHE_COMPLETE if complete else identity.CACHE_PARTIAL


def _cache_mount(volume: docker.Volume, read_only: bool) -> docker.ContainerMountArgs:
    return docker.ContainerMountArgs(
        type="volume", source=volume.name, target=CACHE_MOUNT, read_only=read_only
    )


def _labels(values: dict[str, pulumi.Input[str]]) -> list[docker.ContainerLabelArgs]:
    return [
        docker.ContainerLabelArgs(label=key, value=value) for key, value in sorted(values.items())
    ]
