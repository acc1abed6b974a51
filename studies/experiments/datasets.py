"""Offline datasets: scikit-learn digits and MNIST-1D (generated locally by ``mnist1d``).

Both come as float32 arrays with a fixed test split (the same for every seed, so seeds
vary only training) and a validation split drawn from the training part by ``seed``.
Nothing is downloaded.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from snn.errors import ValidationError

DATASETS = ("digits", "mnist1d")


@dataclass(frozen=True)
class Dataset:
    """Features in [0, 1] (digits) or standardised (MNIST-1D), shape ``(n, features)``;
    ``image_shape`` is how a CNN sees one sample: ``(channels, length)``."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    image_shape: tuple[int, int]

    @property
    def n_features(self) -> int:
        return int(self.x_train.shape[1])


def _check(name: str, x: np.ndarray) -> None:
    if not np.all(np.isfinite(x)):
        raise ValidationError(f"dataset[{name}]", "contains NaN or infinite values")


def load(name: str, seed: int = 0, val_fraction: float = 0.15) -> Dataset:
    """Load ``name`` (``digits`` or ``mnist1d``); ``seed`` picks the validation split."""
    if name not in DATASETS:
        raise ValidationError("--dataset", f"must be one of {list(DATASETS)}, got {name!r}")
    if not 0 < val_fraction < 1:
        raise ValidationError("val_fraction", f"must be in (0, 1), got {val_fraction}")
    if name == "digits":
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split

        digits = load_digits()
        x = (digits.data / 16.0).astype(np.float32)
        y = digits.target.astype(np.int64)
        x_rest, x_test, y_rest, y_test = train_test_split(x, y, test_size=0.2, random_state=0, stratify=y)
        image_shape = (8, 8)  # rows as channels, columns as length
    else:
        from mnist1d.data import get_dataset_args, make_dataset

        data = make_dataset(get_dataset_args())  # the published MNIST-1D recipe, generated here
        x_rest, y_rest = data["x"].astype(np.float32), data["y"].astype(np.int64)
        x_test, y_test = data["x_test"].astype(np.float32), data["y_test"].astype(np.int64)
        image_shape = (1, x_rest.shape[1])
    _check(name, x_rest)
    _check(name, x_test)
    order = np.random.default_rng(seed).permutation(len(x_rest))
    n_val = int(round(val_fraction * len(x_rest)))
    val, train = order[:n_val], order[n_val:]
    if name == "mnist1d":  # standardise with the training part's statistics only
        mean, std = x_rest[train].mean(), x_rest[train].std()
        x_rest, x_test = (x_rest - mean) / std, (x_test - mean) / std
    return Dataset(
        name,
        x_rest[train],
        y_rest[train],
        x_rest[val],
        y_rest[val],
        x_test,
        y_test,
        int(y_rest.max()) + 1,
        image_shape,
    )


def restrict(data: Dataset, classes) -> Dataset:
    """``data`` with only the samples of ``classes`` (distinct, each < n_classes), relabelled
    ``0..len(classes) - 1`` in the given order (the held-out classes become the OOD set)."""
    classes = tuple(int(c) for c in classes)
    if (
        len(set(classes)) != len(classes)
        or len(classes) < 2
        or min(classes) < 0
        or max(classes) >= data.n_classes
    ):
        raise ValidationError(
            "classes", f"must be >= 2 distinct classes in [0, {data.n_classes - 1}], got {list(classes)}"
        )
    relabel = np.full(data.n_classes, -1)
    relabel[list(classes)] = np.arange(len(classes))
    parts = {}
    for part in ("train", "val", "test"):
        x, y = getattr(data, f"x_{part}"), getattr(data, f"y_{part}")
        keep = relabel[y] >= 0
        parts[f"x_{part}"], parts[f"y_{part}"] = x[keep], relabel[y[keep]]
    return Dataset(data.name, **parts, n_classes=len(classes), image_shape=data.image_shape)
