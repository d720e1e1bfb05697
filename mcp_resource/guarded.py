"""What the guardrail steps (protocol/pipeline.py) read of whatever a request reaches: a tool, a
resource, a prompt, or the completion of one of them's arguments."""

from __future__ import annotations

from typing import Protocol


class Guarded(Protocol):
    @property
    def audit_name(self) -> str:
        """The name its audit rows, metrics and per-target rate-limit window carry: a tool's name,
        `resources/read <uri or template>`, `prompts/get <name>`, `completion/complete <ref>`. Only a
        tool's has no space, so no two kinds share one."""

    @property
    def scope(self) -> str: ...

    @property
    def requires_client_capabilities(self) -> tuple[str, ...]: ...

    @property
    def read_only(self) -> bool:
        """Whether it changes nothing: the looser default rate limit applies (shared/policy.py)."""

    @property
    def rate_limit_per_minute(self) -> int | None:
        """Its own limit per caller, tighter than the deployment's default; None: the default."""

    @property
    def sensitive(self) -> frozenset[str]:
        """The argument names its audit rows redact."""

    @property
    def streams(self) -> bool:
        """Whether it answers on an SSE stream even without a progress token."""
