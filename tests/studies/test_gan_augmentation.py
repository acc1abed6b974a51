"""The augmentation study's two steps, small: labelled generated digits, then both trainings."""

import numpy as np

from studies.experiments.gan_augmentation import accuracy_with_and_without, labelled_samples


def test_generated_digits_are_labelled_and_both_classifiers_are_tested():
    x, y = labelled_samples(seed=0, gan_steps=5, n_generated=20, confidence=0.0)
    assert x.shape == (20, 64) and x.min() >= 0.0 and x.max() <= 1.0
    assert y.shape == (20,) and y.min() >= 0 and y.max() <= 9
    strict, _ = labelled_samples(seed=0, gan_steps=5, n_generated=20, confidence=0.999999)
    assert len(strict) <= 20  # the confidence filter keeps at most as many
    result = accuracy_with_and_without(0, x, y, epochs=1)
    assert set(result) == {"with", "without"} and all(0.0 <= v <= 1.0 for v in result.values())
    assert np.isfinite(list(result.values())).all()
