"""Loader Jobs: fill the cache volume with a model before any engine pod starts."""

from __future__ import annotations

from dataclasses import dataclass

from components import identity
from components.catalog.engines.ollama import Ollama
from components.planning.helper_images import LOADERS
from components.planning.model_location import ModelLocation
from components.templating import render_text

# Small images with the one tool each source needs (helper_images.py); ollama pulls with
# the engine's own image: the pull and the server agree on the store's layout.
OLLAMA_LOADER_IMAGE = Ollama.images["cpu"]
# huggingface_hub ships the `hf` CLI (there is no huggingface-cli any more).
HUB_VERSION = "2.4.0"


@dataclass(frozen=True)
class LoaderPlan:
    job_name: str
    image: str
    script: str
    claim_name: str
    directory: str
    # The Secret holding HF_TOKEN, for gated Hugging Face repositories.
    hf_token_secret: str | None
    # oci:// images carry the weights themselves: the Job runs the model image.
    source: str
    # The token's key in a Secret the stack references (None: the Secret modelstack makes).
    hf_token_key: str | None = None


def plan_loader(
    deployment: str,
    location: ModelLocation,
    claim_name: str,
    hf_token_secret: str | None,
    served_name: str | None = None,
    hf_token_key: str | None = None,
    by_digest: bool = False,
) -> LoaderPlan:
    image = _image(location, by_digest)
    script = render_text(
        f"loaders/{location.scheme}.j2",
        repo=location.reference,
        file=location.file,
        revision=location.revision,
        url=_url(location),
        model=location.reference,
        directory=location.directory,
        marker=location.marker,
        hub_version=HUB_VERSION,
        served=served_name,
    ).strip()
    secret = hf_token_secret if location.scheme == "hf" else None
    # Any change to what the Job does gives it a new name: a Job's template is immutable.
    job_name = identity.loader_job(
        deployment, {"image": image, "script": script, "claim": claim_name}
    )
    return LoaderPlan(
        job_name=job_name,
        image=image,
        script=script,
        claim_name=claim_name,
        directory=location.directory,
        hf_token_secret=secret,
        source=location.source,
        hf_token_key=hf_token_key if secret else None,
    )


def _image(location: ModelLocation, by_digest: bool) -> str:
    if location.scheme == "oci":
        return location.reference
    if location.scheme == "ollama":
        return OLLAMA_LOADER_IMAGE
    return LOADERS[location.scheme].pinned(by_digest)


def _url(location: ModelLocation) -> str:
    base = f"{location.scheme}://{location.reference}"
    return f"{base}/{location.file}" if location.file else base
