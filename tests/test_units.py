"""Units: one registry, FLOP and bytes are dimensions, GB vs GiB, clear errors."""

import pickle

import pytest

import symsys
from symsys.errors import UnitError
from symsys.units import Q_, to_magnitude, to_quantity, ureg


def test_gb_and_gib_are_distinct():
    assert Q_(1, "GiB").m_as("B") == 2**30
    assert Q_(1, "GB").m_as("B") == 10**9
    assert Q_(80, "GB").m_as("GiB") == pytest.approx(74.505805969, rel=1e-9)


def test_flop_per_second_where_bytes_per_second_expected_raises_naming_the_argument():
    with pytest.raises(UnitError, match=r"memory_bandwidth: got 3 TFLOP/s .* expected .*B/s"):
        to_magnitude(Q_(3, "TFLOP/s"), "B/s", "memory_bandwidth")


def test_bytes_are_not_dimensionless():
    with pytest.raises(UnitError):
        to_magnitude(Q_(3, "GB"), "1", "efficiency")


def test_bare_number_for_a_dimensional_input_is_refused():
    with pytest.raises(UnitError, match="bare number"):
        to_magnitude(3.35e12, "B/s", "beta")


def test_round_trip_and_seed_spellings():
    q = to_quantity(to_magnitude(Q_(3.35, "TB/s"), "B/s", "beta"), "B/s")
    assert q.m_as("TB/s") == pytest.approx(3.35)
    assert Q_(989.4, "TFLOP/s").to("TFLOPs/s").magnitude == pytest.approx(989.4)
    assert Q_(175e9, "param").to("Gparam").magnitude == pytest.approx(175)
    assert Q_(1.2, "Tbit/s").m_as("GB/s") == pytest.approx(150)
    assert symsys.ureg is ureg and symsys.Q_ is Q_


def test_quantities_pickle():
    q = Q_(3.35, "TB/s")
    assert pickle.loads(pickle.dumps(q)) == q


def test_an_integer_quantity_beyond_any_float_is_an_error_naming_the_option():
    """pint keeps an int exact through a conversion; before, 10**400 bytes of workspace reached
    the law and raised a bare OverflowError."""
    import pytest

    import symsys
    from symsys.errors import InvalidParameter
    from symsys.units import Q_

    with pytest.raises(InvalidParameter, match=r"workspace: an integer of about 401 digits B"):
        symsys.Engine.solve("Llama3_8B", "H100", workspace=Q_(10**400, "B"))
    with pytest.raises(InvalidParameter, match=r"overhead: an integer of about 5001 digits s"):
        symsys.Engine.solve("Llama3_8B", "H100", overhead=Q_(10**5000, "s"))
    # 2 GiB given as an int is 2 * 2**30 bytes held, exactly
    held = symsys.Engine.solve("Llama3_8B", "H100", workspace=Q_(2, "GiB")).memory_footprint
    bare = symsys.Engine.solve("Llama3_8B", "H100").memory_footprint
    assert held.m_as("B") - bare.m_as("B") == 2 * 2**30
