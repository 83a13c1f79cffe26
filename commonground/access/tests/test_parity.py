"""Parity: intervals against published values, and the same-clinics-and-period restriction."""

from __future__ import annotations

import pytest

from commonground.access import parity
from commonground.access.tests.helpers import initial, run


def test_wilson_interval_matches_published_values():
    # Newcombe (1998) / Altman et al. "Statistics with confidence": 81/263.
    assert parity.wilson(81, 263) == pytest.approx((0.2553, 0.3662), abs=1e-4)
    assert parity.wilson(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)


def test_newcombe_difference_matches_the_1998_examples():
    assert parity.newcombe_difference(56, 70, 48, 80) == pytest.approx(
        (0.2, 0.0524, 0.3339), abs=1e-4
    )
    assert parity.newcombe_difference(9, 10, 3, 10) == pytest.approx(
        (0.6, 0.1705, 0.8090), abs=1e-4
    )


def test_ratio_interval_is_the_log_interval():
    r, lo, hi = parity.ratio_interval(10, 20, 5, 20)  # type: ignore[misc]
    assert (r, lo, hi) == pytest.approx((2.0, 0.8325, 4.8051), abs=1e-4)
    assert parity.ratio_interval(0, 20, 5, 20) is not None  # continuity-corrected


def test_bootstrap_median_difference_is_deterministic_and_brackets_the_point():
    a = [(3, 40), (7, 40), (12, 20)]
    b = [(2, 50), (5, 50)]
    first = parity.bootstrap_median_difference(a, b)
    assert first == parity.bootstrap_median_difference(a, b)
    point, low, high = first
    assert point == 7 - 3.5
    assert low <= point <= high


def test_material_flag_uses_the_committee_thresholds():
    mh = parity.Cohort("initial_non_urgent_mh", 600, 400, [(8, 600), (20, 400)])
    ms = parity.Cohort("initial_primary_care", 850, 150, [(5, 850), (14, 150)])
    comp = parity.compare("x", mh, ms, ["OAK"], None)
    assert comp.difference is not None and comp.difference[0] == pytest.approx(-0.25)
    assert comp.material is True
    relaxed = parity.compare("x", mh, ms, ["OAK"], None, parity.Thresholds(0.5, 9.0))
    assert relaxed.material is False


def test_small_cells_suppress_the_comparison():
    mh = parity.Cohort("initial_non_urgent_mh", 600, 4, [(8, 604)])
    ms = parity.Cohort("initial_primary_care", 850, 150, [(5, 1000)])
    comp = parity.compare("x", mh, ms, ["OAK"], None)
    assert comp.suppressed and comp.difference is None and comp.ratio is None


def test_parity_restricts_to_shared_clinics_and_period(tmp_path):
    # MH at OAK and SRF, January and February; primary care only at OAK, only in January.
    rows = [
        initial(f"M{clinic}{i}", "2025-01-06T09:00:00", "2025-01-13T10:00:00",
                patient_id=f"PM{clinic}{i}", clinic_id=clinic)
        for i in range(12) for clinic in ("OAK", "SRF")
    ]  # fmt: skip
    rows += [
        initial(f"MF{i}", "2025-02-03T09:00:00", "2025-03-10T10:00:00", patient_id=f"PF{i}",
                clinic_id="OAK")
        for i in range(12)
    ]  # fmt: skip
    rows += [
        initial(f"C{i}", "2025-01-06T09:00:00", "2025-01-09T10:00:00", patient_id=f"PC{i}",
                clinic_id="OAK", provider_class="pcp", service_line="PC")
        for i in range(12)
    ]  # fmt: skip
    r = run(tmp_path, rows, as_of="2025-03-31")
    comp = parity.parity(r.con)[0]
    assert comp.clinics == ["OAK"]
    assert comp.period is not None and str(comp.period[0]) == str(comp.period[1]) == "2025-01-06"
    assert (comp.mh.compliant, comp.mh.noncompliant) == (12, 0)  # SRF and February excluded
    assert (comp.ms.compliant, comp.ms.noncompliant) == (12, 0)
    assert comp.difference is not None and comp.difference[0] == 0
    assert comp.mh.median == 5 and comp.ms.median == 3
