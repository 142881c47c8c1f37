"""Ragged batches: the lengths of the sequences in a batch, as the two moments the cost of a pass depends on.

A transformer's linear work (projections, FFN, norms) is proportional to the tokens of each sequence, sum L; its
attention core to the query-key pairs, sum L^2 for bidirectional attention (sum L^2 / 2 under a causal mask).
So a batch of n sequences is described, for cost purposes, by n, the mean length E[L] and the mean square
E[L^2]; `max` is what a padding runtime computes every sequence at.
"""
from __future__ import annotations

from collections.abc import Sequence

import attrs

from ..errors import CatalogError, InvalidInputError
from .fields import QuantityAccess, spec
from .provenance import Provenance

# Slack on the moment inequalities (mean^2 <= mean_square <= max x mean): catalog figures are written to 3-4
# significant digits, so a distribution of equal lengths may print mean_square a rounding step below mean^2.
MOMENT_TOLERANCE = 1e-3


def _length(instance, attribute, value) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 1.0 or value == float("inf"):
        raise CatalogError(f"must be a number of tokens >= 1, got {value!r}", field=f"seq_lens.{attribute.name}",
                           expected="a finite mean length (tokens) or mean square length (tokens^2), at least 1")


@spec
class SequenceLengths(QuantityAccess):
    """Lengths of a batch's sequences: mean E[L] (tokens), mean square E[L^2] (tokens^2) and the longest.

    Build from a list with ``SequenceLengths.of([120, 384, 177])`` or from published moments with
    ``SequenceLengths(mean=177, mean_square=36300, max=384)``. Jensen's inequality bounds the moments:
    mean^2 <= mean_square (equality when every sequence has the same length) and, as every L <= max,
    mean_square <= max x mean <= max^2.
    """

    mean: float = attrs.field(validator=_length)
    mean_square: float = attrs.field(validator=_length)
    max: int | None = attrs.field(default=None, validator=attrs.validators.optional(
        attrs.validators.and_(attrs.validators.instance_of(int), attrs.validators.ge(1))))
    provenance: Provenance | None = None

    def __attrs_post_init__(self) -> None:
        if self.mean_square < self.mean ** 2 * (1.0 - MOMENT_TOLERANCE):
            raise CatalogError(f"mean_square {self.mean_square:g} is below mean^2 = {self.mean ** 2:g}",
                               field="seq_lens.mean_square",
                               expected="E[L^2] >= E[L]^2 (Jensen): equal to it when all lengths are equal")
        if self.max is not None:
            if self.mean > self.max:
                raise CatalogError(f"mean {self.mean:g} exceeds max {self.max}", field="seq_lens.mean",
                                   expected="a mean length no longer than the longest sequence")
            if self.mean_square > self.max * self.mean * (1.0 + MOMENT_TOLERANCE):
                raise CatalogError(f"mean_square {self.mean_square:g} exceeds max x mean = {self.max * self.mean:g}",
                                   field="seq_lens.mean_square", expected="E[L^2] <= max x E[L] (every L <= max)")

    @classmethod
    def of(cls, lengths: Sequence[int]) -> SequenceLengths:
        """The moments of a list of lengths (positive ints)."""
        if isinstance(lengths, (str, bytes)) or not isinstance(lengths, Sequence) or not lengths:
            raise InvalidInputError(f"seq_lens must be a non-empty list of positive ints or a SequenceLengths, "
                                    f"got {lengths!r}")
        for n in lengths:
            if isinstance(n, bool) or not isinstance(n, int) or n < 1:
                raise InvalidInputError(f"seq_lens holds {n!r}: every length must be a positive int (tokens)")
        count = float(len(lengths))
        return cls(mean=sum(lengths) / count, mean_square=sum(n * n for n in lengths) / count, max=max(lengths))

    @property
    def uniform(self) -> bool:
        """True when every sequence has the same length (E[L^2] = E[L]^2 and E[L] = max)."""
        return self.max is not None and self.mean == self.max and self.mean_square == float(self.max) ** 2
