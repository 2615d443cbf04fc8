"""The simulator's implied volatilities, from the VIX level alone: SPX options and VIX options.

The only volatility input the simulator has at any instant is the VIX. Everything below is a
deterministic function of (VIX, forward, strike, time to expiry) and frozen parameter objects
(``SurfaceParams``, ``VixOptionParams``); every function is vectorized and cheap enough for
every engine cycle (the few ``*_one`` functions are one-point twins used by
``broker.sim.scalar_quotes`` for small batches). The VIX futures curve is in
``broker.sim.vix_futures``.

Smile: SSVI (Gatheral and Jacquier, "Arbitrage-free SVI volatility surfaces", 2014)
    Total implied variance w = sigma^2 t at log-moneyness k = ln(K / F) is
        w(k) = theta / 2 * (1 + rho phi k + sqrt((phi k + rho)^2 + 1 - rho^2)),
        phi = eta / sqrt(theta (1 + theta)),
    with theta = atm(t)^2 t the at-the-money total variance. For short expiries phi k is
    k / (atm sqrt(t)) times eta: the smile is a function of moneyness in standard deviations,
    so shorter expiries are steeper per unit of log-strike (the at-the-money slope
    d sigma / dk = rho eta / (2 sqrt(t)) does not depend on the vol level). rho < 0 gives the
    put skew; calls fall below at-the-money near the money, bottom out at sqrt(1 - rho^2) x atm
    (0.8 x atm with rho = -0.6) and then flatten and rise slowly; the wings grow linearly in
    total variance (Lee's moment bound). Theorem 4.2 of the paper makes the slice free of
    butterfly arbitrage for all theta when eta^2 (1 + |rho|) <= 4, i.e. eta <= 2/sqrt(1+|rho|)
    (1.58 with rho = -0.6; the theorem's other condition then holds too); eta is capped
    there. The surface is free of calendar arbitrage because theta(t) increases with t
    (below) and theta phi(theta) increases with theta.

Regime: eta = eta_ref (VIX / 20)^(-eta_decay), capped as above
    A calm market has the steeper skew relative to its vol level, a stressed one the larger
    skew in vol points. With the defaults the 30-day 25-delta put minus at-the-money is about
    3.6 vol points at VIX 12, 4.2 at 15, 7.1 at 30 and 10 at 50 (see ``vol_at_delta``).

The 30-day at-the-money level: the model's own variance swap reproduces the VIX
    The VIX is the 30-day variance-swap rate replicated from out-of-the-money SPX options, so
    it includes the skew and exceeds at-the-money vol. By default the 30-day at-the-money vol
    is solved so that replicating the model's 30-day smile (2/T times the integral of OTM
    prices over K^2, Simpson's rule on a fixed grid of 225 strikes) gives VIX / 100 (to 1e-6).
    That makes atm / VIX a consequence of the skew, not a free number: about 0.76 at VIX 12,
    0.79 at 20 and 0.82 at 50 with the defaults (a steeper skew lowers it). Setting
    ``atm_ratio`` instead fixes atm_30d = atm_ratio x VIX / 100.

Term structure: the at-the-money variance mean-reverts to a long-run level
    ln atm(t)^2 = ln L + a h(t), h(t) = (1 - e^{-kappa t}) / (kappa t), L = long_run_vol^2,
    with a chosen so that atm(30 days) is the 30-day level above: ln atm(t)^2 is the average
    over [0, t] of a log variance ln L + a e^{-kappa s} that reverts exponentially to ln L (a
    geometric mean reversion, so always positive). The curve slopes upward when the VIX is
    low and is inverted when it is high, and passes through the 30-day level. Defaults:
    long-run 19 % vol, kappa 1.5 per year. Total variance theta(t) stays increasing in t as
    long as a < 1 / max(-t h'(t)) = 3.35; a is capped at 3.2, which only binds above VIX ~100
    (then the 30-day anchor gives way to the no-calendar-arbitrage condition).

VIX options, at the money: the vol of vol by regime and expiry
    A VIX option is an option on the VIX future of its expiry: ``vix_option_vol`` is its
    Black-76 vol, for ``black76_price(future, strike, t, rate, vol, is_call)``.
        atm(t) = atm_vol_ref x (VIX / ref_vix)^level_power
                 x ((ref_days + offset_days) / (days + offset_days))^term_power
    with days the time to expiry in calendar days. Defaults: 90 % for a 30-day option at
    VIX 20, level_power 0.5 (about 70 % at VIX 12, 122 % at VIX 37, 180 % at VIX 80: the
    30-day level moves with the VIX the way the VVIX does, which ran from the 80s in calm
    2017 to above 150 in February 2018), term_power 0.35 with a 7-day offset: longer
    expiries have a lower vol (a far future moves less, the Samuelson effect), about
    t^-0.35 beyond a few weeks, while the offset keeps the shortest expiries finite (1.8 x
    the 30-day level at expiry rather than infinity). Capped at max_atm_vol (500 %).

VIX options, smile: SSVI with a positive rho (call skew)
    The same SSVI slice in ln(K / future), with rho = +0.7 and eta = 0.6: out-of-the-money
    calls are dearer in vol (at VIX 20 a 30-day call struck 50 % above the future trades at
    about 1.3 x at-the-money, one at twice the future at about 1.5 x), puts cheaper,
    bottoming out at sqrt(1 - rho^2) = 0.71 x atm well below the future. The skew is in
    moneyness over at-the-money standard deviations, so it is steeper relative to the vol
    level in calm markets than in stress. eta is within the no-butterfly bound (1.53 for
    rho = 0.7), so Black-76 call prices are convex and decreasing in the strike.

Edge cases: t below one minute (including t <= 0) is priced as one minute; strikes,
forwards or futures <= 0, a non-positive or non-finite VIX, or NaN inputs give NaN, never
an exception.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.special import ndtr, ndtri

FloatArray = npt.NDArray[np.float64]

YEAR_DAYS = 365.0
ONE_MINUTE_YEARS = 1.0 / (YEAR_DAYS * 24.0 * 60.0)
_MAX_TERM_LOG_RATIO = 3.2  # see "Term structure" in the module docstring
_SWAP_GRID_STEP = 0.25  # replication grid, in at-the-money standard deviations
_SWAP_GRID_LOW = -40.0  # the put integrand decays like exp(-|u| / (eta (1 - rho)))
_SWAP_GRID_HIGH = 16.0
_DELTA_ITERATIONS = 80  # bisection steps in vol_at_delta


def _f64(x: npt.ArrayLike) -> FloatArray:
    return np.asarray(x, dtype=np.float64)


def ssvi_eta_bound(rho: float) -> float:
    """Return the largest eta for which an SSVI slice is free of butterfly arbitrage."""
    return 2.0 / math.sqrt(1.0 + abs(rho))


def ssvi_total_variance(
    k: npt.ArrayLike, theta: npt.ArrayLike, rho: float, eta: float
) -> FloatArray:
    """Return SSVI total implied variance at log-moneyness k for at-the-money variance theta."""
    k_ = _f64(k)
    th = _f64(theta)
    phi = eta / np.sqrt(th * (1.0 + th))
    x = phi * k_
    root = np.sqrt((x + rho) ** 2 + (1.0 - rho * rho))
    return np.asarray(0.5 * th * (1.0 + rho * x + root), dtype=np.float64)


def ssvi_total_variance_one(k: float, theta: float, rho: float, eta: float) -> float:
    """Return ``ssvi_total_variance`` for one point, in the same operations (for small batches).

    theta must be positive (callers floor t at a minute): 0 raises ZeroDivisionError here where
    the vector function gives NaN.
    """
    x = eta / math.sqrt(theta * (1.0 + theta)) * k
    y = x + rho
    root = math.sqrt(y * y + (1.0 - rho * rho))  # NumPy evaluates an array's ** 2 as y * y
    return 0.5 * theta * (1.0 + rho * x + root)


# --------------------------------------------------------------------------------------------
# SPX surface
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SurfaceParams:
    """Parameters of the SPX surface (defaults are the simulator's; see the module docstring).

    long_run_vol      at-the-money vol the term structure reverts to (0.19)
    term_kappa        speed of that reversion, per year, on log variance (1.5: half-life ~5.5
                      months; 1-year at-the-money ~12 % at VIX 11 and ~24 % at VIX 37)
    rho               SSVI skew correlation (-0.6: calls bottom out at 0.8 x at-the-money)
    eta_ref           SSVI skew size at VIX = eta_ref_vix (1.3)
    eta_ref_vix       VIX level of eta_ref (20)
    eta_decay         eta falls as VIX^(-eta_decay) (0.2): relatively flatter skew in stress
    atm_ratio         None: the 30-day at-the-money vol makes the model's variance swap equal
                      the VIX; a number: atm_30d = atm_ratio x VIX / 100
    vix_days          horizon of the VIX in calendar days (30)
    min_years         shortest time to expiry priced (one minute); shorter counts as this
    """

    long_run_vol: float = 0.19
    term_kappa: float = 1.5
    rho: float = -0.6
    eta_ref: float = 1.3
    eta_ref_vix: float = 20.0
    eta_decay: float = 0.2
    atm_ratio: float | None = None
    vix_days: float = 30.0
    min_years: float = ONE_MINUTE_YEARS

    def __post_init__(self) -> None:
        if not 0.0 < self.long_run_vol < 5.0:
            raise ValueError(f"long_run_vol must be in (0, 5), got {self.long_run_vol}")
        if not self.term_kappa > 0.0:
            raise ValueError(f"term_kappa must be positive, got {self.term_kappa}")
        if not -1.0 < self.rho < 1.0:
            raise ValueError(f"rho must be in (-1, 1), got {self.rho}")
        if not (self.eta_ref > 0.0 and self.eta_ref_vix > 0.0 and self.eta_decay >= 0.0):
            raise ValueError("eta_ref and eta_ref_vix must be positive, eta_decay >= 0")
        if self.atm_ratio is not None and not 0.0 < self.atm_ratio <= 2.0:
            raise ValueError(f"atm_ratio must be in (0, 2], got {self.atm_ratio}")
        if not (self.vix_days > 0.0 and self.min_years > 0.0):
            raise ValueError("vix_days and min_years must be positive")


DEFAULT_SURFACE = SurfaceParams()


def skew_eta(vix: float, params: SurfaceParams = DEFAULT_SURFACE) -> float:
    """Return the SSVI eta of the smile at this VIX (regime-scaled, capped for no arbitrage)."""
    if not (math.isfinite(vix) and vix > 0.0):
        return math.nan
    eta = params.eta_ref * (vix / params.eta_ref_vix) ** (-params.eta_decay)
    return min(float(eta), ssvi_eta_bound(params.rho))


def _swap_grid() -> tuple[FloatArray, FloatArray, FloatArray]:
    """Return the replication grid u, its Simpson weights and the OTM side (+1 call, -1 put)."""
    n_left = round(-_SWAP_GRID_LOW / _SWAP_GRID_STEP)
    n_right = round(_SWAP_GRID_HIGH / _SWAP_GRID_STEP)
    u = np.arange(-n_left, n_right + 1, dtype=np.float64) * _SWAP_GRID_STEP

    def simpson(n: int) -> FloatArray:
        w = np.ones(n + 1)
        w[1:-1:2] = 4.0
        w[2:-1:2] = 2.0
        return w

    left, right = simpson(n_left), simpson(n_right)  # two panels: the integrand kinks at 0
    weights = np.concatenate((left[:-1], [left[-1] + right[0]], right[1:])) * (
        _SWAP_GRID_STEP / 3.0
    )
    side = np.where(u > 0.0, 1.0, -1.0).astype(np.float64)
    for a in (u, weights, side):
        a.setflags(write=False)
    return u, weights, side


_SWAP_U, _SWAP_WEIGHTS, _SWAP_SIDE = _swap_grid()  # read-only constants


def _slice_variance_swap(atm: float, t: float, rho: float, eta: float) -> float:
    """Return the variance-swap vol of one SSVI slice (at-the-money vol atm, expiry t years).

    With F = 1 the fair variance is (2 / t) * integral of OTM(k) e^{-k} dk; the integrand is
    evaluated on a grid of at-the-money standard deviations u = k / (atm sqrt(t)).
    """
    sd = atm * math.sqrt(t)
    k = _SWAP_U * sd
    s = np.sqrt(ssvi_total_variance(k, sd * sd, rho, eta))
    d1 = -k / s + 0.5 * s
    d2 = d1 - s
    side = _SWAP_SIDE
    otm = side * (np.exp(-k) * ndtr(side * d1) - ndtr(side * d2))
    return math.sqrt(2.0 * float(_SWAP_WEIGHTS @ otm) * sd / t)


def _anchor_atm(vix: float, eta: float, params: SurfaceParams) -> float:
    """Return the 30-day at-the-money vol whose slice replicates a variance swap at VIX."""
    target = vix / 100.0
    if params.atm_ratio is not None:
        return params.atm_ratio * target
    t = params.vix_days / YEAR_DAYS
    # The swap vol is nearly proportional to atm (the smile is self-similar in u), so one
    # rescaling lands within ~1e-3 and a secant step through both points within ~1e-6.
    atm0 = 0.8 * target
    swap0 = _slice_variance_swap(atm0, t, params.rho, eta)
    atm1 = atm0 * target / swap0
    swap1 = _slice_variance_swap(atm1, t, params.rho, eta)
    if swap1 == swap0:
        return atm1
    return atm1 + (target - swap1) * (atm1 - atm0) / (swap1 - swap0)


def _h(x: FloatArray) -> FloatArray:
    """Return (1 - e^{-x}) / x, with its limit 1 at x = 0."""
    small = x < 1e-8
    safe = np.where(small, 1.0, x)
    return np.asarray(np.where(small, 1.0 - 0.5 * x, -np.expm1(-safe) / safe))


def h_one(x: float) -> float:
    """Return ``_h`` of one float, in the same operations."""
    return 1.0 - 0.5 * x if x < 1e-8 else -math.expm1(-x) / x


@dataclass(frozen=True, slots=True)
class SpxSurface:
    """The SPX surface at one VIX level: build it once with ``spx_surface``, then query it."""

    vix: float
    atm_30d: float  # at-the-money vol at the VIX horizon
    eta: float  # SSVI skew size in this regime
    term_log_ratio: float  # a: ln(atm(0+)^2 / long-run variance)
    params: SurfaceParams

    def _years(self, t: npt.ArrayLike) -> FloatArray:
        return np.maximum(_f64(t), self.params.min_years)

    def _atm(self, years: FloatArray) -> FloatArray:
        p = self.params
        log_long = 2.0 * math.log(p.long_run_vol)
        return np.exp(0.5 * (log_long + self.term_log_ratio * _h(p.term_kappa * years)))

    def atm_vol(self, t: npt.ArrayLike) -> FloatArray:
        """Return the at-the-money (K = forward) vol for each time to expiry t in years."""
        return self._atm(self._years(t))

    def vol(self, forward: npt.ArrayLike, strikes: npt.ArrayLike, t: npt.ArrayLike) -> FloatArray:
        """Return the Black-Scholes implied vol of each (forward, strike, t), broadcast."""
        fwd, k_, t_ = np.broadcast_arrays(_f64(forward), _f64(strikes), _f64(t))
        years = self._years(t_)
        with np.errstate(divide="ignore", invalid="ignore"):
            valid = (fwd > 0.0) & (k_ > 0.0) & np.isfinite(fwd) & np.isfinite(k_)
            k = np.log(np.where(valid, k_, 1.0) / np.where(valid, fwd, 1.0))
            atm = self._atm(years)
            theta = atm * atm * years
            vol = np.sqrt(ssvi_total_variance(k, theta, self.params.rho, self.eta) / years)
        return np.asarray(np.where(valid, vol, np.nan), dtype=np.float64)

    def variance_swap_vol(self, t: npt.ArrayLike) -> FloatArray:
        """Return the variance-swap vol replicated from this surface's smile at each t."""
        years = self._years(t)
        atm = self._atm(years)
        flat = [
            _slice_variance_swap(float(a), float(y), self.params.rho, self.eta)
            for a, y in zip(atm.ravel(), years.ravel(), strict=True)
        ]
        return np.asarray(flat, dtype=np.float64).reshape(years.shape)

    def vol_at_delta(self, t: npt.ArrayLike, delta: npt.ArrayLike) -> FloatArray:
        """Return the vol at a forward delta: in (0, 1) for calls, in (-1, 0) for puts.

        The delta is Black's undiscounted forward delta, N(d1) for a call and N(d1) - 1 for
        a put, at the strike's own vol: ``vol_at_delta(30 / 365, -0.25)`` is the 30-day
        25-delta put. Solved by bisection (d1 decreases in k on an arbitrage-free smile).
        """
        t_, d_ = np.broadcast_arrays(_f64(t), _f64(delta))
        years = self._years(t_)
        with np.errstate(invalid="ignore"):
            ok = ((d_ > 0.0) & (d_ < 1.0)) | ((d_ > -1.0) & (d_ < 0.0))
            target = ndtri(np.where(d_ > 0.0, d_, 1.0 + d_))
        sd = self._atm(years) * np.sqrt(years)
        theta = sd * sd
        rho = self.params.rho
        lo = np.full(years.shape, -60.0)  # in at-the-money standard deviations
        hi = np.full(years.shape, 60.0)
        for _ in range(_DELTA_ITERATIONS):
            mid = 0.5 * (lo + hi)
            k = mid * sd
            s = np.sqrt(ssvi_total_variance(k, theta, rho, self.eta))
            above = -k / s + 0.5 * s > target  # d1 too high: the strike is still too low
            lo = np.where(above, mid, lo)
            hi = np.where(above, hi, mid)
        k = 0.5 * (lo + hi) * sd
        vol = np.sqrt(ssvi_total_variance(k, theta, rho, self.eta) / years)
        return np.asarray(np.where(ok, vol, np.nan), dtype=np.float64)


def spx_surface(vix: float, params: SurfaceParams = DEFAULT_SURFACE) -> SpxSurface:
    """Return the surface at this VIX level (NaN everywhere for a non-positive or NaN VIX)."""
    if not (math.isfinite(vix) and vix > 0.0):
        return SpxSurface(vix, math.nan, math.nan, math.nan, params)
    eta = skew_eta(vix, params)
    atm30 = _anchor_atm(vix, eta, params)
    tau = params.vix_days / YEAR_DAYS
    h_tau = h_one(params.term_kappa * tau)
    a = (2.0 * math.log(atm30) - 2.0 * math.log(params.long_run_vol)) / h_tau
    if a > _MAX_TERM_LOG_RATIO:  # VIX above ~100: keep the calendar free of arbitrage
        a = _MAX_TERM_LOG_RATIO
        atm30 = params.long_run_vol * math.exp(0.5 * a * h_tau)
    return SpxSurface(vix, atm30, eta, a, params)


def atm_vol_30d(vix: float, params: SurfaceParams = DEFAULT_SURFACE) -> float:
    """Return the at-the-money vol at the VIX horizon (30 days) implied by this VIX level."""
    return spx_surface(vix, params).atm_30d


def atm_vol(vix: float, t: npt.ArrayLike, params: SurfaceParams = DEFAULT_SURFACE) -> FloatArray:
    """Return the at-the-money (K = forward) vol for each time to expiry t in years."""
    return spx_surface(vix, params).atm_vol(t)


def spx_vol(
    vix: float,
    forward: npt.ArrayLike,
    strikes: npt.ArrayLike,
    t: npt.ArrayLike,
    params: SurfaceParams = DEFAULT_SURFACE,
) -> FloatArray:
    """Return the Black-Scholes implied vol of SPX options (forward, strike, t broadcast)."""
    return spx_surface(vix, params).vol(forward, strikes, t)


def variance_swap_vol(
    vix: float, t: npt.ArrayLike, params: SurfaceParams = DEFAULT_SURFACE
) -> FloatArray:
    """Return the variance-swap vol replicated from the model's smile at each expiry t."""
    return spx_surface(vix, params).variance_swap_vol(t)


def vol_at_delta(
    vix: float,
    t: npt.ArrayLike,
    delta: npt.ArrayLike,
    params: SurfaceParams = DEFAULT_SURFACE,
) -> FloatArray:
    """Return the vol at a forward delta (calls in (0, 1), puts in (-1, 0)); see SpxSurface."""
    return spx_surface(vix, params).vol_at_delta(t, delta)


# --------------------------------------------------------------------------------------------
# VIX options
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VixOptionParams:
    """Parameters of the VIX option vols (defaults are the simulator's; see the docstring).

    atm_vol_ref     at-the-money vol of a ref_days option when VIX = ref_vix (0.9)
    ref_vix         VIX level of atm_vol_ref (20)
    level_power     at-the-money vol grows as VIX^level_power (0.5)
    term_power      and falls as (days + offset_days)^-term_power (0.35)
    ref_days        expiry of atm_vol_ref in calendar days (30)
    offset_days     keeps the shortest expiries finite (7)
    rho, eta        SSVI smile: rho > 0 is the call skew (0.7, 0.6)
    max_atm_vol     cap on the at-the-money vol (5.0)
    min_years       shortest time to expiry priced (one minute)
    """

    atm_vol_ref: float = 0.9
    ref_vix: float = 20.0
    level_power: float = 0.5
    term_power: float = 0.35
    ref_days: float = 30.0
    offset_days: float = 7.0
    rho: float = 0.7
    eta: float = 0.6
    max_atm_vol: float = 5.0
    min_years: float = ONE_MINUTE_YEARS

    def __post_init__(self) -> None:
        positive = (
            self.atm_vol_ref,
            self.ref_vix,
            self.ref_days,
            self.offset_days,
            self.eta,
            self.max_atm_vol,
            self.min_years,
        )
        if not all(x > 0.0 for x in positive):
            raise ValueError("vol, reference levels, days, eta, cap and min_years must be > 0")
        if self.level_power < 0.0 or self.term_power < 0.0:
            raise ValueError("level_power and term_power must be >= 0")
        if not -1.0 < self.rho < 1.0:
            raise ValueError(f"rho must be in (-1, 1), got {self.rho}")
        if self.eta > ssvi_eta_bound(self.rho):
            raise ValueError(
                f"eta {self.eta} exceeds the no-butterfly bound {ssvi_eta_bound(self.rho):.4f}"
            )


DEFAULT_VIX_OPTIONS = VixOptionParams()


def vix_option_atm_vol(
    vix: float, t: npt.ArrayLike, params: VixOptionParams = DEFAULT_VIX_OPTIONS
) -> FloatArray:
    """Return the at-the-money Black-76 vol of VIX options expiring in t years."""
    years = np.maximum(_f64(t), params.min_years)
    if not (math.isfinite(vix) and vix > 0.0):
        return np.full(years.shape, np.nan)
    level = params.atm_vol_ref * (vix / params.ref_vix) ** params.level_power
    days = years * YEAR_DAYS
    term = ((params.ref_days + params.offset_days) / (days + params.offset_days)) ** (
        params.term_power
    )
    return np.asarray(np.minimum(level * term, params.max_atm_vol), dtype=np.float64)


def vix_option_vol(
    vix: float,
    future: npt.ArrayLike,
    strikes: npt.ArrayLike,
    t: npt.ArrayLike,
    params: VixOptionParams = DEFAULT_VIX_OPTIONS,
) -> FloatArray:
    """Return the Black-76 implied vol of VIX options on `future` (arrays broadcast)."""
    fwd, k_, t_ = np.broadcast_arrays(_f64(future), _f64(strikes), _f64(t))
    years = np.maximum(t_, params.min_years)
    atm = vix_option_atm_vol(vix, years, params)
    with np.errstate(divide="ignore", invalid="ignore"):
        valid = (fwd > 0.0) & (k_ > 0.0) & np.isfinite(fwd) & np.isfinite(k_)
        k = np.log(np.where(valid, k_, 1.0) / np.where(valid, fwd, 1.0))
        theta = atm * atm * years
        vol = np.sqrt(ssvi_total_variance(k, theta, params.rho, params.eta) / years)
    return np.asarray(np.where(valid, vol, np.nan), dtype=np.float64)
