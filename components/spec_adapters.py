"""A deployment's LoRA adapters, and how they reach its engine: flags, or loaded while it runs."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from components.spec_base import FieldError, SpecModel
from components.spec_identifiers import PLAIN_NAME
from components.spec_sources import check_revision, check_source


class AdapterSpec(SpecModel):
    """A LoRA adapter served beside the base model, under its own model name."""

    name: Annotated[str, AfterValidator(PLAIN_NAME.check)]
    source: Annotated[str, AfterValidator(check_source)]
    revision: Annotated[str, AfterValidator(check_revision)] | None = None


class AdapterLoadingSpec(SpecModel):
    """`start`: adapters are engine flags (a change restarts pods). `runtime`: the engine
    loads them through its API while it runs (vLLM, SGLang); adding one restarts nothing."""

    mode: Literal["start", "runtime"] = "start"
    # The largest rank any adapter may have; the engine reserves memory for it.
    max_rank: Literal[1, 8, 16, 32, 64, 128, 256, 320, 512] | None = None
    # Adapters one batch can mix.
    max_per_batch: Annotated[int, Field(ge=1, le=64)] | None = None

    @model_validator(mode="after")
    def _limits_need_runtime(self) -> AdapterLoadingSpec:
        for key, value in (("maxRank", self.max_rank), ("maxPerBatch", self.max_per_batch)):
            if value is not None and self.mode != "runtime":
                raise FieldError(key, "applies to mode: runtime only")
        return self
