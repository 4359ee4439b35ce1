"""The images modelstack itself chooses (not the stack file): the wait container, the loaders.

prod pins them by digest as well as tag: a tag can be pushed again, a digest cannot. A
digest is only written here with the public record it comes from; none of these was
checked against a registry from this machine (it reaches no container registry), so each
`source` says where the value was read. Where no record was found the digest is None and
prod keeps the tag: run `docker buildx imagetools inspect <image>` and add it here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class HelperImage:
    reference: str  # repository:tag
    # The multi-platform index digest the tag pointed at, or None where no record was found.
    digest: str | None
    source: str

    def pinned(self, by_digest: bool) -> str:
        return f"{self.reference}@{self.digest}" if by_digest and self.digest else self.reference


WAIT = HelperImage(
    "busybox:1.37.0",
    "sha256:9db7b59979c38555a39def84a31fb98b5296952f9e3afd4f6f11f05b07adfab0",
    "github.com/docker-library/repo-info repos/busybox/remote/1.37.0.md at commit "
    "01a7054230d50b3dccaf8d579f161c522be8c9f0 (the index of the official image's tag)",
)
# `kubectl debug --image` and `docker run --pid=container:...` for engines without a shell:
# busybox has sh, ps, top, wget and nslookup, and is the one helper already pinned by digest.
DEBUG = WAIT
_NOT_FOUND = "no public record of this tag's digest was found offline; prod uses the tag"
LOADERS = {
    "hf": HelperImage("python:3.12.8-slim-bookworm", None, _NOT_FOUND),
    "s3": HelperImage("amazon/aws-cli:2.17.0", None, _NOT_FOUND),
    "gs": HelperImage("google/cloud-sdk:489.0.0-slim", None, _NOT_FOUND),
}
