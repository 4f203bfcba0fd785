import numpy as np
import pytest

from digits.data import N_PIXELS, SPLITS, Split, load_dataset, load_splits, split_indices


def indices(seed: int = 42) -> dict[str, np.ndarray]:
    return split_indices(load_dataset().labels, seed, 0.2, 0.2)


def test_dataset_is_the_bundled_digits():
    data = load_dataset()
    assert data.pixels.shape == (1797, N_PIXELS)
    assert data.pixels.min() == 0 and data.pixels.max() == 16
    assert sorted(np.unique(data.labels)) == list(range(10))


def test_split_covers_every_image_exactly_once():
    parts = indices()
    assert list(parts) == list(SPLITS)
    combined = np.concatenate(list(parts.values()))
    assert sorted(combined) == list(range(1797))
    assert [len(parts[name]) for name in SPLITS] == [1078, 359, 360]


def test_split_is_deterministic_for_a_seed():
    first, second = indices(seed=7), indices(seed=7)
    for name in SPLITS:
        np.testing.assert_array_equal(first[name], second[name])


def test_another_seed_gives_another_split():
    assert not np.array_equal(indices(seed=1)["holdout"], indices(seed=2)["holdout"])


def test_every_split_has_every_digit_in_proportion():
    for split in load_splits(42, 0.2, 0.2).values():
        counts = np.bincount(split.labels, minlength=10)
        assert counts.min() >= 0.9 * counts.max()


@pytest.mark.parametrize("validation, holdout", [(0.0, 0.2), (0.5, 0.5), (-0.1, 0.2)])
def test_rejects_fractions_that_leave_nothing(validation, holdout):
    with pytest.raises(ValueError, match="fraction"):
        split_indices(load_dataset().labels, 42, validation, holdout)


def test_per_class_keeps_the_first_images_of_each_digit():
    split = Split(np.arange(6 * N_PIXELS).reshape(6, N_PIXELS), np.array([1, 0, 1, 1, 0, 0]))
    small = split.per_class(2)
    assert small.labels.tolist() == [1, 0, 1, 0]
    np.testing.assert_array_equal(small.pixels, split.pixels[[0, 1, 2, 4]])
