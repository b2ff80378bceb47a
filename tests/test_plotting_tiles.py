"""Tests of nnbook.plotting.tile_images and hidden_unit_maps (chapters 8 and 9)."""
import numpy as np
import pytest

from nnlib import MLP
from nnbook.plotting import grid_2d, hidden_unit_maps, tile_images


def test_tile_images_places_each_image_and_fills_the_rest():
    images = np.arange(3 * 2 * 3, dtype=float).reshape(3, 2, 3)      # three 2x3 images
    out = tile_images(images, ncols=2, gap=1)
    assert out.shape == (2 * 2 + 1, 2 * 3 + 1)
    np.testing.assert_array_equal(out[0:2, 0:3], images[0])
    np.testing.assert_array_equal(out[0:2, 4:7], images[1])
    np.testing.assert_array_equal(out[3:5, 0:3], images[2])
    assert np.all(np.isnan(out[2, :])) and np.all(np.isnan(out[:, 3]))   # the gaps
    assert np.all(np.isnan(out[3:5, 4:7]))                                 # the empty cell


def test_tile_images_without_gap_and_with_fewer_images_than_columns():
    images = np.ones((2, 4, 4))
    out = tile_images(images, ncols=5, gap=0, fill=-1.0)
    assert out.shape == (4, 8) and np.all(out == 1.0)


@pytest.mark.parametrize("bad, exc", [(np.ones((4, 4)), ValueError), (np.ones((0, 2, 2)), ValueError),
                                      ("images", TypeError)])
def test_tile_images_rejects_bad_input(bad, exc):
    with pytest.raises(exc):
        tile_images(bad, ncols=2)


def test_tile_images_rejects_bad_ncols():
    with pytest.raises((ValueError, TypeError)):
        tile_images(np.ones((2, 3, 3)), ncols=0)


def test_hidden_unit_maps_match_layer_outputs_on_the_grid():
    model = MLP([2, 3, 4, 2], activation="relu", seed=1)
    X = np.array([[-1.0, -2.0], [1.0, 2.0]])
    points, extent = grid_2d(X, resolution=7, padding=0.0)
    maps0 = hidden_unit_maps(model, points, 7, layer=0)
    maps1 = hidden_unit_maps(model, points, 7, layer=1)
    assert maps0.shape == (3, 7, 7) and maps1.shape == (4, 7, 7)
    outs = model.layer_outputs(points)
    # row r, column c of a map is the unit's output at (xs[c], ys[r]) = points[r * 7 + c]
    np.testing.assert_allclose(maps0[2, 5, 1], outs[1][5 * 7 + 1, 2])
    np.testing.assert_allclose(maps1[0, 6, 6], outs[3][6 * 7 + 6, 0])
    assert np.all(maps0 >= 0)                                               # ReLU outputs


def test_hidden_unit_maps_rejects_bad_arguments():
    model = MLP([2, 3, 2], seed=0)
    points, _ = grid_2d(np.array([[0.0, 0.0], [1.0, 1.0]]), resolution=4)
    with pytest.raises(ValueError, match="hidden layer"):
        hidden_unit_maps(model, points, 4, layer=1)
    with pytest.raises(ValueError, match="shape"):
        hidden_unit_maps(model, points, 5)
    with pytest.raises(ValueError):
        hidden_unit_maps(model, points, 4, layer=-1)
