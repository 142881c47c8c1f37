"""What two responsible-engineering requirements cost: differentially private training (DP-SGD) and enough
data for the smallest subgroup to be represented.

Differential privacy. DP-SGD (Abadi et al. 2016, alg. 1) clips each example's gradient and adds Gaussian noise
to the sum. The compute cost is the per-example gradients and their clipping: a throughput penalty that
was measured, not derived (`clipping_overhead`, default DP_SGD_THROUGHPUT_PENALTY). The privacy target
(epsilon, delta) does not change the cost of a step: it sets the noise multiplier sigma. Given the sampling
rate q = batch / dataset and the number of steps T, sigma follows from the moments accountant at leading
order (Abadi et al. 2016, Lemma 3 and Theorem 2): with log-moment T q^2 l (l + 1) / ((1 - q) sigma^2) and the
tail bound delta = min_l exp(log-moment - l epsilon),
  epsilon = a + 2 sqrt(a ln(1/delta)),  a = T q^2 / ((1 - q) sigma^2),
  so sqrt(a) = sqrt(ln(1/delta) + epsilon) - sqrt(ln(1/delta)) and sigma = q sqrt(T / (1 - q)) / sqrt(a).
This is an estimate: it drops the lemma's higher-order terms and treats the moment order l as continuous
(numerical accountants such as RDP give a somewhat smaller sigma).

Not modelled: the accuracy lost to the noise, and the extra training (larger batches, more steps) spent
to win it back, which depends on the model, the data and the recipe (De et al. 2022; Sander et al. 2023), so
the training time reported is the non-private recipe run at DP-SGD's per-step cost.

Subgroup representation. To evaluate (or train for) a subgroup of prevalence p one needs n_min of its
examples; by default enough to estimate its accuracy within +/-5 points at 95 % confidence (Cochran 1977,
n = z^2 p (1 - p) / m^2 at the worst case p = 1/2: 385). A random sample of N examples holds Binomial(N, p)
of them; by the normal approximation (de Moivre-Laplace) it holds at least n_min with probability
`confidence` when N p - z sqrt(N p (1 - p)) >= n_min, a quadratic in sqrt(N).
"""
from __future__ import annotations

import math
from statistics import NormalDist
from typing import Any

import attrs

from ..core.inputs import check_positive_int
from ..errors import InvalidInputError
from ..units import quantity
from ._design import as_figure, as_fraction, is_quantity
from ._result import SolverResult

# Throughput of DP-SGD relative to SGD on the same hardware: Opacus (PyTorch) is 2.6-8x slower, efficient
# clipping (Ghost Clipping) roughly halves that, a JAX implementation ~1.2x (Beltran et al. 2024,
# arXiv:2406.17298, abstract). Measured; 2.6, the low end for the common Opacus path, is the default.
DP_SGD_THROUGHPUT_PENALTY = 2.6
# Subgroup accuracy estimated within +/-5 percentage points at 95 % confidence, worst case p = 1/2
# (Cochran 1977, "Sampling Techniques", eq. 4.2): ceil(1.96^2 x 0.25 / 0.05^2) = 385.
SUBGROUP_MARGIN = 0.05
SUBGROUP_CONFIDENCE = 0.95
WORST_CASE_VARIANCE = 0.25
MIN_SUBGROUP_SAMPLES = math.ceil(NormalDist().inv_cdf(0.5 + SUBGROUP_CONFIDENCE / 2) ** 2 * WORST_CASE_VARIANCE
                                 / SUBGROUP_MARGIN ** 2)
# Abadi et al. 2016, Lemma 3 holds for q < 1 / (16 sigma).
LEMMA3_RATE_BOUND = 16.0


@attrs.frozen(kw_only=True)
class ResponsibleEngineeringResult(SolverResult):
    dp_slowdown_factor: float           # DP-SGD step time / SGD step time (measured penalty)
    effective_training_time: Any        # base time x dp_slowdown_factor
    additional_data_requirement: float  # dataset size / subgroup examples needed (~ 1 / prevalence)
    epsilon: float
    delta: float
    min_subgroup_prevalence: float
    privacy_cost_ratio: float           # = dp_slowdown_factor
    fairness_data_ratio: float          # = additional_data_requirement
    required_samples: int               # dataset size that holds min_subgroup_samples with `confidence`
    min_subgroup_samples: int
    noise_multiplier: float | None      # sigma for (epsilon, delta) at sampling_rate and steps; None without them
    constraint_trace: tuple[str, ...] = ()


class ResponsibleEngineeringModel:
    """DP-SGD's training-time overhead and noise, and the data a minority subgroup needs."""

    def solve(self, base_training_time: Any, epsilon: float = 1.0, delta: float = 1e-5,
              min_subgroup_prevalence: float = 0.01, *, clipping_overhead: float = DP_SGD_THROUGHPUT_PENALTY,
              sampling_rate: float | None = None, steps: int | None = None,
              min_subgroup_samples: int = MIN_SUBGROUP_SAMPLES,
              confidence: float = SUBGROUP_CONFIDENCE) -> ResponsibleEngineeringResult:
        """base_training_time: the non-private run (a time Quantity, or seconds). epsilon, delta: the privacy
        target. min_subgroup_prevalence: share of the smallest subgroup in the data, in (0, 1]. Keyword-only:
        clipping_overhead (DP-SGD / SGD step time, >= 1), sampling_rate and steps (both, for the noise
        multiplier), min_subgroup_samples, confidence (probability the sample holds them)."""
        base = as_figure("base_training_time", base_training_time, "s")
        eps = as_figure("epsilon", epsilon, "")
        dlt = as_fraction("delta", delta)
        if dlt >= 1.0:
            raise InvalidInputError(f"delta must be below 1 (it is a failure probability, well below 1/dataset), "
                                    f"got {delta!r}")
        p = as_fraction("min_subgroup_prevalence", min_subgroup_prevalence)
        overhead = as_figure("clipping_overhead", clipping_overhead, "")
        if overhead < 1.0:
            raise InvalidInputError(f"clipping_overhead is DP-SGD step time / SGD step time, >= 1, got {overhead!r}")
        n_min = check_positive_int("min_subgroup_samples", min_subgroup_samples)
        conf = as_fraction("confidence", confidence)
        if not 0.5 <= conf < 1.0:
            raise InvalidInputError(f"confidence must be in [0.5, 1), got {confidence!r}")
        trace = [f"DP-SGD step costs {overhead:g}x an SGD step (per-example clipping, measured; "
                 "accuracy recovery not modelled)"]
        sigma = None
        if (sampling_rate is None) != (steps is None):
            raise InvalidInputError("pass both sampling_rate and steps for the noise multiplier, or neither")
        if sampling_rate is not None:
            q = as_fraction("sampling_rate", sampling_rate)
            if q >= 1.0:
                raise InvalidInputError(f"sampling_rate is batch / dataset size, below 1, got {sampling_rate!r}")
            t = check_positive_int("steps", steps)
            sigma = _noise_multiplier(eps, dlt, q, t)
            trace.append(f"noise multiplier {sigma:.3g} for ({eps:g}, {dlt:g})-DP over {t} steps at q = {q:g} "
                         "(moments accountant, leading order)")
            if q >= 1.0 / (LEMMA3_RATE_BOUND * sigma):
                trace.append("q >= 1/(16 sigma): outside Abadi et al.'s Lemma 3, sigma is indicative only")
        z = NormalDist().inv_cdf(conf)  # one-sided: P(count >= n_min) >= confidence
        spread = z * math.sqrt(p * (1.0 - p))
        root = (spread + math.sqrt(spread * spread + 4.0 * p * n_min)) / (2.0 * p)  # p x^2 - spread x - n_min = 0
        required = max(n_min, math.ceil(root * root - 1e-9))
        ratio = required / n_min
        trace.append(f"{required} samples hold {n_min} of a {p:g}-prevalence subgroup with probability {conf:g}")
        time = quantity(base * overhead, "s")
        if is_quantity(base_training_time):
            time = time.to(base_training_time.units)
        return ResponsibleEngineeringResult(
            dp_slowdown_factor=overhead, effective_training_time=time, additional_data_requirement=ratio,
            epsilon=eps, delta=dlt, min_subgroup_prevalence=p, privacy_cost_ratio=overhead,
            fairness_data_ratio=ratio, required_samples=required, min_subgroup_samples=n_min,
            noise_multiplier=sigma, constraint_trace=tuple(trace))


def _noise_multiplier(epsilon: float, delta: float, q: float, steps: int) -> float:
    """sigma such that T steps of the sampled Gaussian mechanism at rate q are (epsilon, delta)-DP, from the
    leading term of Abadi et al. 2016, Lemma 3, and the tail bound of Theorem 2 (see the module docstring)."""
    log_inv_delta = math.log(1.0 / delta)
    # sqrt(a) = sqrt(L + epsilon) - sqrt(L), from epsilon = a + 2 sqrt(a L); written without the cancellation.
    root_a = epsilon / (math.sqrt(log_inv_delta + epsilon) + math.sqrt(log_inv_delta))
    return q * math.sqrt(steps / (1.0 - q)) / root_a
