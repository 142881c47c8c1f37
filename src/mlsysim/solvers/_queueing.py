"""Queueing maths and argument checks shared by the inference families (private).

A GI/G/c queue of `servers` identical replicas, first come first served. Its probability of waiting is the
Erlang C formula of the M/M/c queue; the conditional wait is exponential with the mean the Allen-Cunneen
approximation gives (exact for M/M/c); the service time is gamma-distributed with the given mean and
coefficient of variation (deterministic at CV 0, exponential at CV 1). A request's response time is its wait
plus its own service, taken as independent (exact for M/M/c under FCFS).

References: Erlang C and its Erlang B recursion -- Gross, Shortle, Thompson & Harris, "Fundamentals of
Queueing Theory" (4th ed.), sec. 2.3; Allen-Cunneen -- Allen, "Probability, Statistics and Queueing Theory"
(1990), sec. 6; regularised incomplete gamma -- Abramowitz & Stegun 6.5.29 (series) and 6.5.31 (continued
fraction).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidInputError, InvalidTypeError

# Largest replica count accepted: the Erlang B recursion is O(servers), ~0.2 s at a million in CPython, and no
# serving fleet behind one queue is that large (estimate).
MAX_SERVERS = 10**6
# Relative tolerance of the quantile bisection: far below the precision of any input latency.
_QUANTILE_RTOL = 1e-9
# Iteration caps of the series / continued fraction of the incomplete gamma; a shape of 1e6 (CV 0.001)
# converges within ~10^4 series terms, the continued fraction within a few hundred.
_GAMMA_MAX_TERMS = 100_000
_GAMMA_EPS = 1e-15
# Gauss-Legendre nodes per panel and panels per side of the service-time step in the wait/service convolution.
_GL_NODES = (-0.9602898564975363, -0.7966664774136267, -0.5255324099163290, -0.1834346424956498,
             0.1834346424956498, 0.5255324099163290, 0.7966664774136267, 0.9602898564975363)
_GL_WEIGHTS = (0.1012285362903763, 0.2223810344533745, 0.3137066458778873, 0.3626837833783620,
               0.3626837833783620, 0.3137066458778873, 0.2223810344533745, 0.1012285362903763)
_PANELS = 24


# --- argument checks ---------------------------------------------------------------------------------------

def positive_float(name: str, value: Any, unit: str, *, allow_zero: bool = False) -> float:
    """A finite positive float (non-negative with allow_zero) in `unit`; a pint Quantity is converted to it."""
    if hasattr(value, "m_as"):
        try:
            value = value.m_as(unit)
        except Exception as exc:  # pint.DimensionalityError and undefined units
            raise InvalidInputError(f"{name} must be a quantity convertible to {unit}, got {value!r}") from exc
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidTypeError(f"{name} must be a number in {unit} (or a pint Quantity), got {value!r} "
                               f"({type(value).__name__})")
    value = float(value)
    low_ok = value >= 0.0 if allow_zero else value > 0.0
    if not (math.isfinite(value) and low_ok):
        bound = "non-negative" if allow_zero else "positive"
        raise InvalidInputError(f"{name} must be a finite {bound} number in {unit}, got {value!r}")
    return value


def fraction(name: str, value: Any, *, low: float = 0.0, high: float = 1.0, high_open: bool = False) -> float:
    """A float in [low, high] (or [low, high)) -- a probability, a sparsity."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidTypeError(f"{name} must be a number in [{low:g}, {high:g}{')' if high_open else ']'}, "
                               f"got {value!r}")
    value = float(value)
    if not (math.isfinite(value) and low <= value and (value < high if high_open else value <= high)):
        raise InvalidInputError(f"{name} must be in [{low:g}, {high:g}{')' if high_open else ']'}, got {value!r}")
    return value


def choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value.strip().lower() not in choices:
        raise InvalidInputError(f"{name} must be one of {', '.join(repr(c) for c in choices)}, got {value!r}")
    return value.strip().lower()


# --- distributions -----------------------------------------------------------------------------------------

def gamma_cdf(shape: float, x: float) -> float:
    """Regularised lower incomplete gamma P(shape, x): the CDF of a unit-scale gamma variable."""
    if x <= 0.0:
        return 0.0
    log_front = shape * math.log(x) - x - math.lgamma(shape)
    if x < shape + 1.0:
        # Series: P = x^k e^-x / Gamma(k+1) * sum_n x^n / ((k+1)...(k+n))  (A&S 6.5.29)
        term = total = 1.0 / shape
        for n in range(1, _GAMMA_MAX_TERMS):
            term *= x / (shape + n)
            total += term
            if term < total * _GAMMA_EPS:
                return min(1.0, math.exp(log_front) * total)
    else:
        # Continued fraction for Q = 1 - P, evaluated by the modified Lentz method (A&S 6.5.31)
        tiny = 1e-300
        b = x + 1.0 - shape
        c, d = 1.0 / tiny, 1.0 / b
        h = d
        for n in range(1, _GAMMA_MAX_TERMS):
            an = -n * (n - shape)
            b += 2.0
            d = an * d + b
            d = tiny if abs(d) < tiny else d
            c = b + an / c
            c = tiny if abs(c) < tiny else c
            d = 1.0 / d
            delta = d * c
            h *= delta
            if abs(delta - 1.0) < _GAMMA_EPS:
                return max(0.0, 1.0 - math.exp(log_front) * h)
    raise ArithmeticError(f"incomplete gamma P({shape}, {x}) did not converge")  # pragma: no cover


@dataclass(frozen=True)
class Service:
    """Service time: gamma with mean `mean` (s) and coefficient of variation `cv` (two-moment fit)."""

    mean: float
    cv: float

    def cdf(self, t: float) -> float:
        if t <= 0.0:
            return 0.0
        if self.cv == 0.0:
            return 1.0 if t >= self.mean else 0.0
        shape = 1.0 / (self.cv * self.cv)          # gamma: CV^2 = 1 / shape
        return gamma_cdf(shape, t * shape / self.mean)  # scale = mean / shape


def _quantile(cdf, p: float, start: float) -> float:
    """Smallest t with cdf(t) >= p, by bracketing from `start` and bisection (cdf non-decreasing)."""
    lo, hi = 0.0, max(start, 1e-300)
    while cdf(hi) < p:
        lo, hi = hi, hi * 2.0
        if not math.isfinite(hi):  # pragma: no cover - cdf reaches 1 long before
            raise ArithmeticError("quantile did not bracket")
    while hi - lo > _QUANTILE_RTOL * hi:
        mid = 0.5 * (lo + hi)
        if cdf(mid) >= p:
            hi = mid
        else:
            lo = mid
    return hi


# --- the queue ---------------------------------------------------------------------------------------------

def erlang_c(servers: int, offered_load: float) -> float:
    """Probability that an arrival waits in M/M/c with offered load a = lambda/mu < c (Erlang C), from the
    numerically stable Erlang B recursion B_k = a B_{k-1} / (k + a B_{k-1}), C = B / (1 - rho (1 - B))."""
    blocking = 1.0
    for k in range(1, servers + 1):
        blocking = offered_load * blocking / (k + offered_load * blocking)
    rho = offered_load / servers
    return blocking / (1.0 - rho * (1.0 - blocking))


@dataclass(frozen=True)
class Queue:
    arrival_rate: float      # 1/s
    service: Service         # seconds
    servers: int
    arrival_cv2: float = 1.0  # squared CV of inter-arrival times (1: Poisson)

    @property
    def offered_load(self) -> float:
        return self.arrival_rate * self.service.mean  # a = lambda / mu (Erlangs)

    @property
    def utilisation(self) -> float:
        return self.offered_load / self.servers       # rho = lambda / (c mu)

    @property
    def stable(self) -> bool:
        return self.utilisation < 1.0

    @property
    def p_wait(self) -> float:
        return erlang_c(self.servers, self.offered_load)

    @property
    def variability(self) -> float:
        """Allen-Cunneen factor (ca^2 + cs^2) / 2 that scales the M/M/c wait."""
        return 0.5 * (self.arrival_cv2 + self.service.cv ** 2)

    @property
    def wait_rate(self) -> float:
        """Rate of the exponential conditional wait: (c mu - lambda) / variability (M/M/c: c mu - lambda)."""
        if self.variability == 0.0:
            return math.inf  # D/D/c below saturation never queues
        return (self.servers / self.service.mean - self.arrival_rate) / self.variability

    @property
    def mean_wait(self) -> float:
        return self.p_wait / self.wait_rate  # W_q = C(c, a) / (c mu - lambda) x (ca^2 + cs^2) / 2

    def wait_quantile(self, p: float) -> float:
        """P(W > t) = C exp(-theta t): zero when at most a fraction 1 - p of requests waits."""
        c = self.p_wait
        return 0.0 if c <= 1.0 - p or math.isinf(self.wait_rate) else math.log(c / (1.0 - p)) / self.wait_rate

    def response_cdf(self, t: float) -> float:
        """P(W + S <= t) = (1 - C) F_S(t) + C P(E + S <= t), E ~ Exp(theta) independent of S."""
        if t <= 0.0:
            return 0.0
        c, theta, svc = self.p_wait, self.wait_rate, self.service
        if math.isinf(theta) or c == 0.0:
            return svc.cdf(t)
        if svc.cv == 0.0:  # deterministic service: the wait shifted by S
            return 0.0 if t < svc.mean else 1.0 - c * math.exp(-theta * (t - svc.mean))
        if svc.cv == 1.0:  # exponential service: E + S is hypoexponential (closed form)
            mu = 1.0 / svc.mean
            if abs(theta - mu) <= 1e-12 * mu:
                both = 1.0 - (1.0 + mu * t) * math.exp(-mu * t)
            else:
                both = 1.0 - (theta * math.exp(-mu * t) - mu * math.exp(-theta * t)) / (theta - mu)
            return (1.0 - c) * svc.cdf(t) + c * both
        return (1.0 - c) * svc.cdf(t) + c * _exp_plus(theta, svc, t)

    def response_quantile(self, p: float) -> float:
        return _quantile(self.response_cdf, p, self.service.mean)


def _exp_plus(theta: float, svc: Service, t: float) -> float:
    """P(E + S <= t) = int_0^t theta e^{-theta w} F_S(t - w) dw, by composite Gauss-Legendre on either side of
    w = t - mean(S), where F_S rises steeply when the service CV is small."""
    split = min(max(t - svc.mean, 0.0), t)
    total = 0.0
    for a, b in ((0.0, split), (split, t)):
        if b <= a:
            continue
        width = (b - a) / _PANELS
        for i in range(_PANELS):
            lo = a + i * width
            for node, weight in zip(_GL_NODES, _GL_WEIGHTS):
                w = lo + 0.5 * width * (node + 1.0)
                total += 0.5 * width * weight * theta * math.exp(-theta * w) * svc.cdf(t - w)
    return min(total, 1.0)


def check_servers(value: Any, name: str = "num_replicas") -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidTypeError(f"{name} must be a positive int, got {value!r} ({type(value).__name__})")
    if not 1 <= value <= MAX_SERVERS:
        raise InvalidInputError(f"{name} must be an int in [1, {MAX_SERVERS}], got {value}")
    return value


# --- a gamma-distributed delay added to a queue's response time -------------------------------------------

def gamma_quantile(shape: float, scale: float, p: float) -> float:
    """t with P(Gamma(shape, scale) <= t) = p: Newton's method on the CDF from the Wilson-Hilferty start
    (Johnson, Kotz & Balakrishnan, "Continuous Univariate Distributions" vol. 1, 17.5), kept inside a
    shrinking bracket so that it falls back to bisection where a Newton step would leave it."""
    z = _normal_quantile(p)
    guess = shape * max(1.0 - 1.0 / (9.0 * shape) + z / (3.0 * math.sqrt(shape)), 1e-3) ** 3
    lo, hi, x = 0.0, math.inf, guess
    for _ in range(200):
        f = gamma_cdf(shape, x) - p
        if f < 0.0:
            lo = x
        else:
            hi = x
        if hi - lo <= _QUANTILE_RTOL * hi:
            break
        density = math.exp((shape - 1.0) * math.log(x) - x - math.lgamma(shape))
        step = x - f / density if density > 0.0 else math.nan
        if not (lo < step < hi):  # outside the bracket: bisect (or expand while unbounded above)
            step = 2.0 * x if math.isinf(hi) else 0.5 * (lo + hi)
        if abs(step - x) <= _QUANTILE_RTOL * x:
            x = step
            break
        x = step
    return x * scale


def _normal_quantile(p: float) -> float:
    """Standard normal quantile by bisection on erfc (a start value only: accuracy 1e-10 is ample)."""
    lo, hi = -40.0, 40.0
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        if 0.5 * math.erfc(-mid / math.sqrt(2.0)) < p:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def gamma_plus_cdf(t: float, shape: float, scale: float, cdf_other, other_min: float) -> float:
    """P(G + Y <= t) for G ~ Gamma(shape, scale) independent of Y >= other_min with CDF cdf_other:
    int_0^{t - other_min} f_G(x) F_Y(t - x) dx, by composite Gauss-Legendre split at the mean of G."""
    upper = t - other_min
    if upper <= 0.0:
        return 0.0
    log_norm = math.lgamma(shape) + shape * math.log(scale)
    split = min(shape * scale, upper)
    total = 0.0
    for a, b in ((0.0, split), (split, upper)):
        if b <= a:
            continue
        width = (b - a) / _PANELS
        for i in range(_PANELS):
            lo = a + i * width
            for node, weight in zip(_GL_NODES, _GL_WEIGHTS):
                x = lo + 0.5 * width * (node + 1.0)
                density = math.exp((shape - 1.0) * math.log(x) - x / scale - log_norm)
                total += 0.5 * width * weight * density * cdf_other(t - x)
    return min(total, 1.0)


def quantile_between(cdf, p: float, lo: float, hi: float) -> float:
    """Smallest t in [lo, hi] with cdf(t) >= p, given cdf(lo) < p <= cdf(hi) (bisection)."""
    while hi - lo > _QUANTILE_RTOL * hi:
        mid = 0.5 * (lo + hi)
        if cdf(mid) >= p:
            hi = mid
        else:
            lo = mid
    return hi
