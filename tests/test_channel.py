"""Geometry and near-field channel (SPEC 2), against independent computations."""

import numpy as np
import pytest

from nfkg.model.channel import (ULA, antenna_positions, far_field_channel, near_field_channel, nlos_channel,
                          node_position, rayleigh_distance, reactive_distance)


def test_gain_equals_pathloss_from_euclidean_geometry():
    ula = ULA(100, 28e9)
    r, psi = 7.5, -0.4
    f = ula.channel(r, psi)
    # Independent: Euclidean distance from Cartesian positions.
    dist = np.linalg.norm(antenna_positions(100, ula.spacing) - node_position(r, psi), axis=-1)
    beta = (ula.wavelength / (4 * np.pi)) ** 2 * (1.0 / dist) ** 2
    np.testing.assert_allclose(np.abs(f) ** 2, beta, rtol=1e-12)
    np.testing.assert_allclose(np.angle(f * np.exp(2j * np.pi / ula.wavelength * (dist - r))), 0, atol=1e-9)


def test_node_position_convention():
    # psi measured from the y-axis: psi = 0 is broadside (0, r), psi = pi/2 is on the +x axis.
    np.testing.assert_allclose(node_position(2.0, 0.0), [0.0, 2.0], atol=1e-15)
    np.testing.assert_allclose(node_position(2.0, np.pi / 2), [2.0, 0.0], atol=1e-15)
    np.testing.assert_allclose(antenna_positions(4, 1.0)[:, 0], [-1.5, -0.5, 0.5, 1.5])


def test_pathloss_exponent_and_spacing_are_parameters():
    f = near_field_channel(10.0, 0.0, 8, 0.01, spacing=0.02, pathloss_exponent=3.0)
    dist = np.linalg.norm(antenna_positions(8, 0.02) - node_position(10.0, 0.0), axis=-1)
    np.testing.assert_allclose(np.abs(f) ** 2, (0.01 / (4 * np.pi)) ** 2 * dist**-3.0, rtol=1e-12)


def test_batch_of_positions_gives_batch_of_channels():
    ula = ULA(32, 30e9)
    r = np.linspace(5, 10, 6).reshape(2, 3)
    f = ula.channel(r, 0.3)
    assert f.shape == (2, 3, 32)
    np.testing.assert_array_equal(f[1, 2], ula.channel(r[1, 2], 0.3))


@pytest.mark.parametrize("convention, expected", [("C", 53.57), ("J", 52.5)])
def test_rayleigh_distance_published_values(convention, expected):
    # Papers use c = 3e8: C's 53.57 m and J's "about 52.5 m" at 28 GHz, N = 100.
    d = rayleigh_distance(100, 3e8 / 28e9, convention=convention)
    assert d == pytest.approx(expected, rel=1e-3)


def test_reactive_distance_published_value():
    assert reactive_distance(100, 3e8 / 28e9) == pytest.approx(2.3, rel=1e-2)
    assert ULA(100, 28e9, speed=3e8).reactive_distance() == pytest.approx(2.31, abs=0.01)


def test_rayleigh_with_exact_c_within_published_tolerance():
    assert ULA(100, 28e9).rayleigh_distance("C") == pytest.approx(53.57, rel=1e-3)


def test_bad_aperture_convention():
    with pytest.raises(ValueError, match="convention"):
        rayleigh_distance(10, 0.01, convention="X")


def test_far_field_matches_near_field_far_away():
    ula = ULA(16, 30e9)
    r = 1e3 * ula.rayleigh_distance()
    nf, ff = ula.channel(r, 0.5), ula.far_field(r, 0.5)
    corr = np.abs(np.vdot(nf, ff)) / (np.linalg.norm(nf) * np.linalg.norm(ff))
    assert corr == pytest.approx(1.0, abs=1e-6)
    # ... and differs inside the near field.
    r = 0.05 * ula.rayleigh_distance()
    nf, ff = ULA(256, 30e9).channel(r, 0.5), ULA(256, 30e9).far_field(r, 0.5)
    assert np.abs(np.vdot(nf, ff)) / (np.linalg.norm(nf) * np.linalg.norm(ff)) < 0.9


def test_nlos_is_los_plus_scaled_paths():
    ula = ULA(16, 30e9)
    gains = np.array([0.5 + 0.5j, -0.2j])
    f = nlos_channel(10.0, 0.1, [8.0, 12.0], [0.3, -0.4], gains, 16, ula.wavelength)
    expected = ula.channel(10.0, 0.1) + (gains[0] * ula.channel(8.0, 0.3) + gains[1] * ula.channel(12.0, -0.4)) / np.sqrt(2)
    np.testing.assert_allclose(f, expected, rtol=1e-12)
    np.testing.assert_allclose(nlos_channel(10.0, 0.1, np.zeros(0), np.zeros(0), np.zeros(0), 16, ula.wavelength),
                               ula.channel(10.0, 0.1))
