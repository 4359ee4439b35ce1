"""A deployment's (or pool's) GPUs as the stack file says them: type, per pod, and nodes."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, model_validator

from components.spec_base import FieldError, SpecModel
from components.spec_identifiers import GPU_TYPE

# One group spans at most this many nodes: 64 x 8 GPUs is beyond any model served today.
MAX_NODES = 64


class GpuSpec(SpecModel):
    type: Annotated[str, AfterValidator(GPU_TYPE.check)] | None = None
    # GPUs per pod, and so per node: a pod runs on one node.
    count: Annotated[int, Field(ge=0, le=16)] = 1
    # Pods of one serving group, one per node (a LeaderWorkerSet on Kubernetes): a model
    # larger than one node's GPUs.
    nodes: Annotated[int, Field(ge=1, le=MAX_NODES)] = 1

    @model_validator(mode="after")
    def _type_with_count(self) -> GpuSpec:
        if self.count > 0 and self.type is None:
            raise FieldError("type", "required when count > 0 (e.g. type: L4)")
        if self.nodes > 1 and self.count == 0:
            raise FieldError("nodes", "a group over several nodes needs GPUs: set count >= 1")
        return self
