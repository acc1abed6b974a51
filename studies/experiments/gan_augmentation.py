"""Generated digits as extra training data for the spiking classifier of ``snn compare``.

Per seed: a non-saturating GAN with Adam (the digits pair of :mod:`studies.experiments.gan_runs`,
``gan_steps`` steps) generates digits; the cached digits classifier (96 % test accuracy)
labels them and only confident ones (softmax >= ``confidence``) are kept, ``n_generated`` at
most; then ``snn compare``'s direct SNN MLP (256 LIF, rate-coded input, 25 steps, surrogate
BPTT, the same training settings) is trained on the training split alone and on the split
plus the generated digits (rescaled to the classifier's [0, 1] features), and both are
tested on the fixed test split.

    python -m studies.experiments.gan_augmentation --json benchmarks/results/gan/augmentation.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch


def labelled_samples(
    seed: int, gan_steps: int, n_generated: int, confidence: float
) -> tuple[np.ndarray, np.ndarray]:
    """Generated digits in [0, 1] (n, 64) and their labels from the cached classifier."""
    from ann_bridge.gan import Loss, generate, train
    from ann_bridge.gan.metrics import cached_model
    from studies.experiments.gan_runs import _classified_data, _networks

    x_train = _classified_data("digits", seed)[0]
    torch.manual_seed(seed)
    generator, discriminator = _networks("digits", "gan")
    rng = np.random.default_rng(seed)
    data = torch.from_numpy(x_train)
    train(generator, discriminator, lambda n: data[torch.from_numpy(rng.integers(len(data), size=n))],
          loss=Loss("gan"), optimizer="adam", steps=gan_steps, batch=64, lr_g=1e-3, seed=seed,
          progress=False)  # fmt: skip
    samples = generate(generator, 4 * n_generated, seed)

    model = cached_model("digits", *_classified_data("digits", 0))
    with torch.no_grad():
        probability = torch.softmax(model(torch.from_numpy(samples)), 1).numpy()
    keep = np.flatnonzero(probability.max(1) >= confidence)[:n_generated]
    return ((samples[keep] + 1) / 2).astype(np.float32), probability[keep].argmax(1).astype(np.int64)


def accuracy_with_and_without(seed: int, extra_x: np.ndarray, extra_y: np.ndarray, epochs: int) -> dict:
    """Test accuracy of the direct SNN MLP trained without and with the extra samples."""
    from ann_bridge.classifier import SpikingClassifier
    from ann_bridge.training import TrainConfig, train
    from studies.experiments.datasets import load

    data = load("digits", seed)
    out = {}
    for name, (x, y) in {
        "without": (data.x_train, data.y_train),
        "with": (np.concatenate([data.x_train, extra_x]), np.concatenate([data.y_train, extra_y])),
    }.items():
        torch.manual_seed(seed)
        model = SpikingClassifier(data.n_features, (256,), data.n_classes, timesteps=25, encoding="rate")
        config = TrainConfig(seed=seed, epochs=epochs, patience=15, lr=2e-3, progress=False)
        train(model, x, y, data.x_val, data.y_val, config, desc=f"snn {name} seed {seed}")
        model.cpu().eval()
        with torch.no_grad():
            scores = model(torch.as_tensor(data.x_test, dtype=torch.float32))
        out[name] = float(np.mean(scores.argmax(1).numpy() == data.y_test))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--gan-steps", type=int, default=1000)
    parser.add_argument("--generated", type=int, default=1000, help="generated digits added at most")
    parser.add_argument("--confidence", type=float, default=0.9)
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    rows = []
    for seed in range(args.seeds):
        x, y = labelled_samples(seed, args.gan_steps, args.generated, args.confidence)
        result = accuracy_with_and_without(seed, x, y, args.epochs)
        per_class = np.bincount(y, minlength=10).tolist()
        rows.append({"seed": seed, "generated": int(len(x)), "per_class": per_class, **result})
        print(rows[-1])
    report = {"runs": rows, "without_mean": float(np.mean([r["without"] for r in rows])),
              "with_mean": float(np.mean([r["with"] for r in rows])),
              "settings": vars(args) | {"json": None}}  # fmt: skip
    print(f"without {report['without_mean']:.4f}  with {report['with_mean']:.4f}")
    if args.json:
        from snn.atomic import write_atomic

        write_atomic(args.json, lambda handle: handle.write((json.dumps(report, indent=2) + "\n").encode()))


if __name__ == "__main__":
    main()
