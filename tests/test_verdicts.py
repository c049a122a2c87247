"""Specification of the verdict rules (verify/verdicts.py) and of the calibrated statistics (numeric/stats.py)."""
import numpy as np
import pytest

from numeric import stats
from verify.context import AuditContext
from verify.results import Check, Finding
from verify.verdicts import WIDE_MARGIN, decide


def _chk(target, passed, margin=0.0, kind="monte-carlo"):
    return Check(name="c", kind=kind, target=target, statistic="s", estimate=0, prediction=0, tolerance=1, passed=passed,
                 margin=margin)


def test_verified_needs_a_numeric_check_beyond_the_symbolic_identity():
    only_sym = Finding("s", symbolic_equal=True, checks=[_chk("both", True, kind="symbolic")])
    assert decide(only_sym)[0] == "inconclusive"
    assert decide(Finding("s", symbolic_equal=True, checks=[_chk("both", True)]))[0] == "verified"


def test_erratum_needs_evidence_both_ways():
    derived_ok = _chk("derived", True)
    printed_far = _chk("printed", False, margin=WIDE_MARGIN + 1)
    printed_near = _chk("printed", False, margin=3.0)
    assert decide(Finding("s", symbolic_equal=False, checks=[derived_ok, printed_far]))[0] == "erratum"
    assert decide(Finding("s", symbolic_equal=False, checks=[derived_ok, printed_near]))[0] == "inconclusive"
    assert decide(Finding("s", symbolic_equal=False, checks=[printed_far]))[0] == "inconclusive"
    assert decide(Finding("s", symbolic_equal=False, checks=[_chk("derived", False), printed_far]))[0] == "inconclusive"


def test_a_failing_check_of_the_derived_form_is_never_verified():
    v, reason = decide(Finding("s", symbolic_equal=True, checks=[_chk("both", False)]))
    assert v == "inconclusive" and "investigate" in reason


def test_not_checkable_is_the_only_preset_verdict():
    assert decide(Finding("s", verdict="not-checkable", reason="needs MNIST"))[0] == "not-checkable"
    with pytest.raises(ValueError):
        decide(Finding("s", verdict="verified"))


def test_z_matches_the_false_alarm_probability():
    assert abs(stats.z_two_sided(0.05) - 1.959964) < 1e-5
    assert abs(stats.z_two_sided(1e-4) - 3.890592) < 1e-5


def test_calibration_false_alarm_rate_of_the_mean_check():
    """Under the null, |mean - mu| <= z(alpha) SE fails with probability ~alpha: at alpha = 0.05 over 4000 repetitions
    the failure count is Binomial(4000, 0.05) (mean 200, SD 13.8); we accept 200 +- 5 SD."""
    rng = np.random.default_rng(1)
    x = rng.exponential(size=(4000, 200))  # skewed on purpose: the rule relies on the CLT, not on normality
    fails = 0
    for row in x:
        e = stats.mean_estimate(row)
        fails += not stats.passes(e.value, e.se, 1.0, alpha=0.05)[0]
    assert abs(fails - 200) <= 5 * 13.8


def test_kurtosis_aware_variance_se():
    """The SE of the sample variance of a heavy-tailed law matches the spread of variances across replicates."""
    rng = np.random.default_rng(2)
    samples = rng.standard_t(df=6, size=(2000, 500))
    v = np.array([stats.variance_estimate(s).value for s in samples])
    se = np.median([stats.variance_estimate(s).se for s in samples])
    assert 0.85 < v.std() / se < 1.15


def test_diverged_samples_are_dropped_and_counted():
    e = stats.mean_estimate(np.array([1.0, 2.0, np.nan, np.inf, 3.0]))
    assert e.value == 2.0 and e.n == 3 and e.n_dropped == 2


def test_seeds_depend_only_on_claim_and_stream():
    a = AuditContext("P0-3", seed=5).rng("x").normal(size=3)
    b = AuditContext("P0-3", seed=5).rng("x").normal(size=3)
    c = AuditContext("P0-4", seed=5).rng("x").normal(size=3)
    d = AuditContext("P0-3", seed=5).rng("y").normal(size=3)
    assert np.array_equal(a, b) and not np.array_equal(a, c) and not np.array_equal(a, d)
