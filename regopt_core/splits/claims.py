"""Every sentence the splits page states about a result, worded from the numbers beside it.

A verdict comes from the sign and size of a difference against its Monte-Carlo standard error: within
two standard errors of zero is "no detectable difference" (never "equal"), beyond is optimistic or
pessimistic "by" the shown amount. Each function returns :class:`Claim` (the verdict word a test can
check, and the sentence a page shows).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from regopt_core.splits.best_of_k import BestOfK
from regopt_core.splits.early_stopping import EarlyStopping
from regopt_core.splits.leakage import LeakResult
from regopt_core.splits.protocols import ApproachComparison

Z = 2.0  # differences within Z Monte-Carlo standard errors are reported as not detectable


@dataclass(frozen=True)
class Claim:
    verdict: str  # "optimistic", "pessimistic", "honest" (no detectable bias), or another named verdict
    text: str
    value: float = float("nan")
    se: float = float("nan")


def verdict(mean: float, se: float) -> str:
    """'optimistic' (mean > Z se), 'pessimistic' (mean < -Z se) or 'honest' (within): mean = true - reported."""
    if not np.isfinite(se):
        se = 0.0
    if mean > Z * se:
        return "optimistic"
    if mean < -Z * se:
        return "pessimistic"
    return "honest"


def _amount(x: float, percent: bool) -> str:
    return f"{100 * abs(x):.1f} percentage points" if percent else f"{abs(x):.3g}"


def optimism_claim(name: str, mean: float, se: float, *, percent: bool = False) -> Claim:
    """One protocol's optimism (true − reported) in words."""
    v = verdict(mean, se)
    pm = f"{100 * Z * se:.1f} points" if percent else f"{Z * se:.2g}"
    if v == "optimistic":
        text = f"{name} is optimistic by {_amount(mean, percent)} (± {pm}): it reports less error than its model makes."
    elif v == "pessimistic":
        text = f"{name} is pessimistic by {_amount(mean, percent)} (± {pm}): it reports more error than its model makes."
    else:
        text = (f"{name} shows no detectable optimism: true − reported = {mean * (100 if percent else 1):+.3g}"
                f"{' points' if percent else ''}, within ± {pm} (two Monte-Carlo standard errors).")
    return Claim(v, text, float(mean), float(se))


def approaches_claims(cmp: ApproachComparison) -> list[Claim]:
    """One claim per protocol, then which protocol is the most optimistic."""
    s = cmp.summary()
    pct = cmp.kind == "classification"
    out = [optimism_claim(f"**{name}**", float(m), float(e), percent=pct)
           for name, m, e in zip(s["approach"], s["optimism"], s["optimism_se"], strict=True)]
    i = int(np.argmax(s["optimism"]))
    out.append(Claim("most_optimistic", f"The most optimistic report over these {cmp.n_repeats} studies: "
                                        f"**{s['approach'][i]}**.", float(s["optimism"][i])))
    return out


def best_of_k_claims(res: BestOfK) -> list[Claim]:
    """The winner's report against a fresh test set, and how good the normal approximation is here."""
    r = res.best.size
    d = float(res.best.mean() - res.fresh.mean())
    se = float(np.sqrt(res.best.var(ddof=1) / r + res.fresh.var(ddof=1) / r)) if r > 1 else float("nan")
    v = verdict(d, se)  # accuracy: reported (best) - fresh > 0 is optimistic
    if v == "optimistic":
        t = (f"The winner of K = {res.n_models} reports {res.best.mean():.3f} on average; the same model scores "
             f"{res.fresh.mean():.3f} on a fresh test set: the test set overstates its accuracy by {d:.3f} "
             f"(± {Z * se:.3f}), from luck alone.")
    elif v == "pessimistic":
        t = (f"The winner reports {res.best.mean():.3f}, below the fresh test set's {res.fresh.mean():.3f} "
             f"(by {-d:.3f} ± {Z * se:.3f}).")
    else:
        t = (f"With K = {res.n_models} the winner's report ({res.best.mean():.3f}) and a fresh test set "
             f"({res.fresh.mean():.3f}) do not differ detectably ({d:+.4f} ± {Z * se:.4f}).")
    out = [Claim(v, t, d, se)]
    if res.normal_exceeds_one:
        out.append(Claim("approximation_exceeds_one",
                         f"The normal approximation p + s·E[max] = {res.normal_approximation:.4f} exceeds 1, which no "
                         f"accuracy can: with n = {res.n_test} test points and p = {res.accuracy:g} the binomial is far "
                         f"from normal. It is shown clipped to 1; the exact expectation is {res.expected_best_exact:.4f}.",
                         res.normal_approximation))
    else:
        err = res.normal_approximation - res.expected_best_exact
        size = "close to" if abs(err) <= 0.1 * max(res.se, 1e-12) else "off from"
        out.append(Claim("approximation_close" if size == "close to" else "approximation_off",
                         f"The normal approximation ({res.normal_approximation:.4f}) is {size} the exact expectation "
                         f"({res.expected_best_exact:.4f}): a difference of {err:+.4f}, "
                         f"{abs(err) / max(res.se, 1e-12):.2f} of one standard error s.", err))
    return out


def early_stopping_claims(res: EarlyStopping) -> list[Claim]:
    """Stopping at the validation minimum against training to the end, and the oracle."""
    if res.diverged:
        return [Claim("diverged", f"Gradient descent diverged at epoch {res.diverged_at} (step {res.step:.3g} is above "
                                  "2/L): the errors after that epoch are not shown.")]
    t, last = res.stop_epoch, int(res.epochs[-1])
    a, b = float(res.true[t]), float(res.true[-1])
    if t == last:
        c = Claim("no_stop", f"The validation error is smallest at the last epoch ({last}): stopping early changes "
                             f"nothing here (true error {a:.3f}).", 0.0)
    elif a < b:
        c = Claim("helps", f"Stopping at epoch {t} (the validation minimum) gives true error {a:.3f}; training all "
                           f"{last} epochs gives {b:.3f}: stopping lowers the true error by {b - a:.3f}.", b - a)
    elif a > b:
        c = Claim("hurts", f"Stopping at epoch {t} gives true error {a:.3f}, above the {b:.3f} after all {last} "
                           f"epochs: here the validation set stopped too early (by {a - b:.3f}).", b - a)
    else:
        c = Claim("same", f"Stopping at epoch {t} and training all {last} epochs give the same true error {a:.3f}.", 0.0)
    gap = a - float(np.nanmin(res.true))
    o = Claim("oracle", f"The best epoch in hindsight ({res.best_epoch}) reaches {np.nanmin(res.true):.3f}; the "
                        f"validation stop is {gap:.3f} above it.", gap)
    return [c, o]


def leak_claims(res: LeakResult) -> list[Claim]:
    """Each protocol's CV estimate against the true error of the model it deploys (error rates in points)."""
    s = res.summary()
    return [optimism_claim(f"**{name}**", float(m), float(e), percent=True)
            for name, m, e in zip(s["protocol"], s["optimism"], s["optimism_se"], strict=True)]
