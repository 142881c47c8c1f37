"""Where a number came from: every catalog entry carries one."""
from __future__ import annotations

import attrs

from .fields import one_of

PROVENANCE_KINDS = ("datasheet", "paper", "measured", "estimate")


@attrs.frozen(kw_only=True)
class Provenance:
    source: str
    checked: str
    kind: str = one_of(*PROVENANCE_KINDS)
    notes: str = ""
