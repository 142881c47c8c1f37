"""Every error mlsysim raises on bad input: each says what was wrong and what is accepted."""
from __future__ import annotations

from collections.abc import Callable, Iterable


class MlsysimError(Exception):
    """Base class of all mlsysim errors."""


class CatalogError(MlsysimError, ValueError):
    """A catalog file (or a spec built in Python) is malformed.

    Carries the file, the entry, the field and what was expected, so one line tells a contributor the fix.
    """

    def __init__(self, message: str, *, file: str | None = None, entry: str | None = None,
                 field: str | None = None, expected: str | None = None):
        self.message, self.file, self.entry, self.field, self.expected = message, file, entry, field, expected
        where = []
        if file:
            where.append(f"file {file}")
        if entry:
            where.append(f"entry {entry!r}")
        if field:
            where.append(f"field {field!r}")
        text = (", ".join(where) + ": " if where else "") + message
        if expected:
            text += f" (expected {expected})"
        super().__init__(text)


class UnknownEntryError(MlsysimError, LookupError, AttributeError):
    """A registry name that does not exist; the message lists the closest names.

    It is an AttributeError too, so ``hasattr(Hardware, "X")`` and ``getattr(..., default)`` behave.
    """

    def __init__(self, registry: str, name: str, candidates: Iterable[str] | Callable[[], Iterable[str]]):
        self.registry, self.requested = registry, name
        self._candidates = candidates
        self._message: str | None = None
        super().__init__(registry, name)

    def __str__(self) -> str:
        # Built on first read: the close-match search is O(entries), and hasattr() misses never read it.
        if self._message is None:
            import difflib  # only a message read needs it (an import of ~2 ms)

            raw = self._candidates() if callable(self._candidates) else self._candidates
            pool = sorted(set(raw))
            lowered = {c.lower(): c for c in pool}
            close = [lowered[c] for c in difflib.get_close_matches(self.requested.lower(), list(lowered), n=5,
                                                                    cutoff=0.5)]
            hint = (f"closest: {', '.join(close)}" if close
                    else f"known: {', '.join(pool[:12])}{' ...' if len(pool) > 12 else ''}")
            self._message = f"{self.registry} has no entry {self.requested!r}; {hint}"
        return self._message


class InvalidInputError(MlsysimError, ValueError):
    """An argument has the right type but an unusable value (batch size 0, efficiency 1.5, ...)."""


class SaturationError(InvalidInputError):
    """An open-loop arrival rate past what the serving replica can sustain (its queue grows without bound)."""


class InvalidTypeError(MlsysimError, TypeError):
    """An argument has the wrong type."""


class UnsupportedPrecisionError(InvalidInputError):
    """A precision name mlsysim does not know, or one the hardware cannot run."""


class UnsupportedModelError(MlsysimError, TypeError):
    """A model kind the chosen solver cannot evaluate."""


class InfeasibleError(MlsysimError, RuntimeError):
    """The workload does not fit (raised only when ``raise_errors=True``)."""
