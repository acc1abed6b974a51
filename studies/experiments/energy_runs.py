"""Energy-based model runs: the latent-variable ellipse, SGLD-trained EBMs on 2-D toys and
digits, JEM on digits, and out-of-distribution scores from ANN and spiking features.

- ``ellipse``: :class:`ann_bridge.ebm.LatentCurveEBM` learns the ellipse x^2/4 + y^2 = 1 from
  points on it; held-out points off the curve (normal offsets 0.1-0.5) score its free energy
  against the true distance (scipy, :func:`ann_bridge.ebm.ellipse_distance`).
- ``ring`` (8 Gaussians of std 0.1 on the circle of radius 2: wider than the GAN toy's 0.02,
  so that Langevin chains of a few hundred steps can mix) and ``moons`` (scikit-learn's, noise
  0.05, centred and scaled by 1.5): an :class:`~ann_bridge.ebm.EnergyMLP` trained by
  maximum likelihood with SGLD negatives; samples = fresh chains from uniform noise (500
  steps) and the persistent chains of the replay buffer; both scored by MMD to held-out data
  beside a Gaussian fitted to the data (the baseline).
- ``digits``: the same on the 8x8 digits in [0, 1]: samples and the Frechet distance on the
  cached digits classifier's features, beside a fitted Gaussian's.
- ``ood``: classes held out of training (digits: 8 and 9; MNIST-1D: 8 and 9), scored by the
  energy ``-logsumexp(logits)`` and by the maximum softmax probability, AUROC of in- vs
  out-of-distribution test samples, for: a plain MLP classifier, a JEM, and the same energy
  head (:class:`ann_bridge.ebm.jem.EnergyHead`) on the MLP's hidden features, on liquid
  state machine states, on the hidden spikes of an LSNN trained by e-prop, and the spiking
  CNN of ``snn compare`` (its LI readout is its head).
"""

from __future__ import annotations

import time

import numpy as np
import torch
from torch import nn

from snn import validate
from snn.errors import ValidationError

TASKS = ("ellipse", "ring", "moons", "digits", "jem", "ood")
TOYS = ("ring", "moons")
HELD_OUT = (8, 9)
FEATURES = ("mlp", "jem", "mlp-hidden", "lsm", "lsnn", "scnn")


def check_task(task: str) -> str:
    if task not in TASKS:
        raise ValidationError("--task", f"must be one of {list(TASKS)}, got {task!r}")
    return task


# ---- the latent-variable EBM -----------------------------------------------------------
def ellipse(seed: int = 0, train_points: int = 2000, test_points: int = 500, steps: int = 2000,
            progress=None) -> dict:  # fmt: skip
    """Learn the ellipse (a = 2, b = 1) and compare F(y) with the true distance off the curve."""
    from ann_bridge.ebm import LatentCurveEBM, ellipse_distance, ellipse_points

    rng = np.random.default_rng(seed)
    points, _ = ellipse_points(train_points, rng=rng)
    model = LatentCurveEBM(seed=seed)
    start = time.perf_counter()
    losses = model.fit(points, steps=steps, seed=seed, progress=progress)
    seconds = time.perf_counter() - start
    on_curve, angles = ellipse_points(test_points, rng=np.random.default_rng(seed + 1000))
    normal = np.stack([np.cos(angles) / 2.0, np.sin(angles)], axis=1)
    normal /= np.linalg.norm(normal, axis=1, keepdims=True)
    offsets = rng.uniform(0.1, 0.5, test_points) * rng.choice([-1.0, 1.0], test_points)
    held_out = on_curve + offsets[:, None] * normal
    truth = ellipse_distance(held_out)
    inferred = model.free_energy(torch.as_tensor(held_out, dtype=torch.float32)).numpy()
    relative = np.abs(inferred - truth) / truth
    return {"task": "ellipse", "seed": seed, "train_seconds": seconds, "final_loss": losses[-1],
            "median_relative_error": float(np.median(relative)),
            "p95_relative_error": float(np.quantile(relative, 0.95)),
            "max_relative_error": float(relative.max()), "within_5_percent": float(np.mean(relative <= 0.05)),
            "curves": {"held_out": held_out, "truth": truth, "inferred": inferred,
                       "curve": model.decode(torch.linspace(0, 2 * np.pi, 400)).detach().numpy(),
                       "train": points}}  # fmt: skip


# ---- SGLD EBMs on toys and digits -----------------------------------------------------
def toy_sampler(name: str, seed: int):
    """``draw(n)`` -> (n, 2) float32 points of toy ``name`` (ring or moons), from one stream."""
    rng = np.random.default_rng(seed)
    if name == "ring":
        from ann_bridge.gan.toys import centres

        means, _ = centres("ring")

        def draw(n: int) -> np.ndarray:
            return (means[rng.integers(len(means), size=n)] + 0.1 * rng.standard_normal((n, 2))).astype(
                np.float32
            )

    elif name == "moons":
        from sklearn.datasets import make_moons

        def draw(n: int) -> np.ndarray:
            x, _ = make_moons(n, noise=0.05, random_state=int(rng.integers(2**31)))
            return ((x - [0.5, 0.25]) * 1.5).astype(np.float32)

    else:
        raise ValidationError("--task", f"toy must be one of {list(TOYS)}, got {name!r}")
    return draw


def _gaussian_baseline(data: np.ndarray, n: int, seed: int) -> np.ndarray:
    """``n`` samples of the Gaussian with the data's mean and covariance."""
    rng = np.random.default_rng(seed + 7)
    return rng.multivariate_normal(data.mean(0), np.cov(data, rowvar=False), n)


def toy(name: str, seed: int = 0, steps: int = 3000, progress=None) -> dict:
    """An SGLD-trained EBM on toy ``name``: MMD of its samples and of the Gaussian baseline to
    held-out data."""
    from ann_bridge.ebm import EnergyMLP
    from ann_bridge.ebm.training import EBMConfig, mmd, train_ebm

    draw = toy_sampler(name, seed)
    config = EBMConfig(steps=validate.count("--steps", steps), seed=seed)
    sampler = config.sampler
    torch.manual_seed(seed)
    energy = EnergyMLP(2)
    start = time.perf_counter()
    buffer, history = train_ebm(energy, draw, (2,), config, progress=progress)
    seconds = time.perf_counter() - start
    held_out = draw(2000)
    fresh = sampler.run(energy, sampler.uniform(2000, (2,), seed), chain=500).numpy()
    persistent = buffer.points[:2000].numpy()
    gaussian = _gaussian_baseline(draw(5000), 2000, seed)
    grid = np.linspace(sampler.low, sampler.high, 121)
    mesh = np.stack(np.meshgrid(grid, grid), axis=-1).reshape(-1, 2)
    with torch.no_grad():
        landscape = energy(torch.as_tensor(mesh, dtype=torch.float32)).numpy().reshape(len(grid), len(grid))
    return {"task": name, "seed": seed, "train_seconds": seconds,
            "mmd_fresh_chains": mmd(fresh, held_out), "mmd_replay_buffer": mmd(persistent, held_out),
            "mmd_gaussian": mmd(gaussian, held_out), "mmd_data": mmd(draw(2000), held_out),
            "curves": {"samples": fresh, "buffer": persistent, "data": held_out, "grid": grid,
                       "landscape": landscape, "energies": np.array(history)}}  # fmt: skip


def digits(seed: int = 0, steps: int = 4000, progress=None) -> dict:
    """An SGLD-trained EBM on the digits in [0, 1]: Frechet distance of fresh-chain samples,
    buffer samples and a fitted Gaussian's to the test set, on the cached classifier's features."""
    from ann_bridge.ebm import EnergyMLP
    from ann_bridge.ebm.sampling import Sampler
    from ann_bridge.ebm.training import EBMConfig, train_ebm
    from ann_bridge.gan.metrics import cached_model, frechet_distance
    from studies.experiments.datasets import load

    data = load("digits", seed=0)
    rng = np.random.default_rng(seed)

    def draw(n: int) -> np.ndarray:
        return data.x_train[rng.integers(len(data.x_train), size=n)]

    sampler = Sampler(chain=40, step_size=1.0, noise=0.01, low=0.0, high=1.0)  # JEM's, longer chains
    config = EBMConfig(steps=validate.count("--steps", steps), batch=128, seed=seed, sampler=sampler)
    torch.manual_seed(seed)
    energy = EnergyMLP(64, hidden=256)
    start = time.perf_counter()
    buffer, history = train_ebm(energy, draw, (64,), config, progress=progress)
    seconds = time.perf_counter() - start
    classifier = cached_model("digits", data.x_train, data.y_train, data.x_test, data.y_test)
    fresh = sampler.run(energy, sampler.uniform(1000, (64,), seed), chain=200).numpy()
    persistent = buffer.points[:1000].numpy()
    gaussian = np.clip(_gaussian_baseline(data.x_train, 1000, seed), 0, 1).astype(np.float32)
    test_features = classifier.features(data.x_test)

    def distance(samples):
        return frechet_distance(classifier.features(samples), test_features)

    return {"task": "digits", "seed": seed, "train_seconds": seconds,
            "frechet_fresh_chains": distance(fresh), "frechet_replay_buffer": distance(persistent),
            "frechet_gaussian": distance(gaussian), "frechet_train_data": distance(data.x_train[:1000]),
            "curves": {"samples": fresh, "buffer": persistent, "energies": np.array(history)}}  # fmt: skip


# ---- JEM and OOD scores -----------------------------------------------------------------
def _mlp(n_in: int, n_out: int) -> nn.Module:
    return nn.Sequential(
        nn.Linear(n_in, 256), nn.SiLU(), nn.Linear(256, 256), nn.SiLU(), nn.Linear(256, n_out)
    )


def _sampler(name: str):
    """JEM's sampler in the box of dataset ``name``'s values: digits' pixels [0, 1], MNIST-1D's
    standardised samples [-4, 4]."""
    from dataclasses import replace

    from ann_bridge.ebm.jem import JEM_SAMPLER

    return JEM_SAMPLER if name == "digits" else replace(JEM_SAMPLER, low=-4.0, high=4.0)


def jem(seed: int = 0, epochs: int = 60, dataset: str = "digits", progress=None) -> dict:
    """JEM on every class of ``dataset``: test accuracy, beside the same MLP trained as a plain
    classifier."""
    from ann_bridge.ebm.jem import JEMConfig, train_jem
    from studies.experiments.datasets import load

    data = load(dataset, seed=seed)
    sampler = _sampler(dataset)
    out = {"task": "jem", "dataset": dataset, "seed": seed}
    for label, generative in (("jem", 1.0), ("mlp", 0.0)):
        torch.manual_seed(seed)
        model = _mlp(data.n_features, data.n_classes)
        start = time.perf_counter()
        train_jem(
            model,
            data.x_train,
            data.y_train,
            JEMConfig(epochs=epochs, generative=generative, seed=seed, sampler=sampler),
            progress=progress,
        )
        with torch.no_grad():
            predicted = model(torch.as_tensor(data.x_test)).argmax(1).numpy()
        out[f"{label}_accuracy"] = float(np.mean(predicted == data.y_test))
        out[f"{label}_seconds"] = time.perf_counter() - start
    return out


def _ood_data(dataset: str, seed: int):
    from studies.experiments.datasets import load, restrict

    full = load(dataset, seed=seed)
    kept = tuple(c for c in range(full.n_classes) if c not in HELD_OUT)
    inside = restrict(full, kept)
    outside = full.x_test[np.isin(full.y_test, HELD_OUT)]
    return inside, outside


def _scored(logits_in: np.ndarray, logits_out: np.ndarray, labels: np.ndarray) -> dict:
    from ann_bridge.ebm.jem import auroc, scores

    inside, outside = scores(logits_in), scores(logits_out)
    return {"accuracy": float(np.mean(logits_in.argmax(1) == labels)),
            "auroc_energy": auroc(inside["energy"], outside["energy"]),
            "auroc_softmax": auroc(inside["softmax"], outside["softmax"])}  # fmt: skip


def _head(train_features, train_labels, test_features, ood_features, labels, n_classes, seed) -> dict:
    from ann_bridge.ebm.jem import EnergyHead

    head = EnergyHead(train_features.shape[1], n_classes).fit(train_features, train_labels, seed=seed)
    return _scored(head.logits(test_features), head.logits(ood_features), labels)


def ood(seed: int = 0, dataset: str = "digits", features=FEATURES, epochs: int = 60, progress=None,
        lsnn_iterations: int | None = None) -> list[dict]:  # fmt: skip
    """One row per feature set in ``features``: in-distribution test accuracy and the AUROC of
    the energy and softmax scores for held-out classes :data:`HELD_OUT` (``lsnn_iterations``:
    e-prop iterations of the LSNN, default its task's)."""
    from ann_bridge.ebm.jem import JEMConfig, train_jem

    for name in features:
        if name not in FEATURES:
            raise ValidationError("--features", f"must be among {list(FEATURES)}, got {name!r}")
    inside, outside = _ood_data(dataset, seed)
    sampler = _sampler(dataset)
    rows = []

    def row(name: str, started: float, measured: dict) -> None:
        rows.append({"features": name, "dataset": dataset, "seed": seed,
                     "seconds": time.perf_counter() - started, **measured})  # fmt: skip

    trained = {}
    for name, generative in (("mlp", 0.0), ("jem", 1.0)):
        if name in features or (name == "mlp" and "mlp-hidden" in features):
            start = time.perf_counter()
            torch.manual_seed(seed)
            model = _mlp(inside.n_features, inside.n_classes)
            train_jem(model, inside.x_train, inside.y_train, JEMConfig(epochs=epochs, generative=generative,
                      seed=seed, sampler=sampler), progress=progress)  # fmt: skip
            trained[name] = model
            if name in features:
                with torch.no_grad():
                    logits_in = model(torch.as_tensor(inside.x_test)).numpy()
                    logits_out = model(torch.as_tensor(outside)).numpy()
                row(name, start, _scored(logits_in, logits_out, inside.y_test))

    def mlp_hidden(parts):
        with torch.no_grad():
            return [trained["mlp"][:-1](torch.as_tensor(x)).numpy() for x in parts]

    extractors = {  # fixed features -> the same energy head
        "mlp-hidden": mlp_hidden,
        "lsm": lambda parts: _lsm_features(dataset, parts, seed),
        "lsnn": lambda parts: _lsnn_features(dataset, parts, seed, progress, lsnn_iterations),
    }
    for name, extract in extractors.items():
        if name in features:
            start = time.perf_counter()
            f_train, f_test, f_out = extract((inside.x_train, inside.x_test, outside))
            head = _head(f_train, inside.y_train, f_test, f_out, inside.y_test, inside.n_classes, seed)
            row(name, start, head)
    if "scnn" in features:
        start = time.perf_counter()
        row("scnn", start, _scnn_scores(inside, outside, seed, progress))
    return rows


def _lsm_features(dataset: str, parts, seed: int):
    """Liquid states (:func:`studies.experiments.reservoir_runs.lsm_features`) of each part:
    digits row by row (8 steps of 8 pixels), MNIST-1D through its LSNN spike encoding."""
    from snn.reservoir import LSM
    from studies.experiments.reservoir_runs import lsm_features
    from studies.experiments.tasks import encoder

    if dataset == "digits":
        sequences = [x.reshape(-1, 8, 8).astype(float) for x in parts]
        replicas = 20
    else:  # 40 steps of 32 level channels + 8 clock channels, 0/1
        sequences = [encoder(dataset)(x) for x in parts]
        replicas = 4
    bounds = np.cumsum([0] + [len(s) for s in sequences])
    features, _, _ = lsm_features(LSM(units=300), np.concatenate(sequences), seed=seed, replicas=replicas)
    return [features[bounds[k] : bounds[k + 1]] for k in range(len(parts))]


def _lsnn_features(dataset: str, parts, seed: int, progress, iterations: int | None = None):
    """Hidden spike counts per input row (digits: 8 rows of 5 steps; MNIST-1D: 8 phases) of an
    LSNN trained by e-prop on the in-distribution classes of ``dataset``."""
    from ann_bridge.lsnn import LSNNModule
    from studies.experiments import tasks
    from studies.experiments.lsnn_training import train

    kept = tuple(c for c in range(10) if c not in HELD_OUT)
    task = tasks.get(dataset, classes=kept)
    trained = train(task, "eprop", seed=seed, iterations=iterations, progress=progress)
    module = LSNNModule(trained.lsnn, trained.weights, dtype=torch.float32)
    encode = tasks.encoder(dataset)
    out = []
    for x in parts:
        spikes = []
        with torch.no_grad():
            for chunk in np.array_split(encode(x), max(1, len(x) // 256)):
                z, _ = module(torch.as_tensor(chunk, dtype=torch.float32))
                spikes.append(z.numpy())
        z = np.concatenate(spikes)  # (n, T, N)
        windows = np.array_split(np.arange(z.shape[1]), 8)
        out.append(np.concatenate([z[:, w].sum(1) for w in windows], axis=1))
    return out


def _scnn_scores(inside, outside, seed: int, progress) -> dict:
    """``snn compare``'s spiking CNN trained on the in-distribution classes; its logits scored."""
    from ann_bridge.classifier import SpikingCNN
    from ann_bridge.training import TrainConfig, train

    torch.manual_seed(seed)
    model = SpikingCNN(inside.image_shape, inside.n_classes, timesteps=16)
    config = TrainConfig(seed=seed, epochs=60, patience=15, lr=3e-3, batch_size=100, progress=progress)
    train(model, inside.x_train, inside.y_train, inside.x_val, inside.y_val, config, desc=f"scnn seed {seed}")
    model.cpu().eval()
    with torch.no_grad():
        logits_in = model(torch.as_tensor(inside.x_test)).numpy()
        logits_out = model(torch.as_tensor(outside)).numpy()
    return _scored(logits_in, logits_out, inside.y_test)
