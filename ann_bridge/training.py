"""One training loop for every model row (ANN or SNN): Adam, minibatches, a progress bar,
early stopping on validation loss (smoother than accuracy on a small split), seeded; the
weights of the epoch with the lowest validation loss are kept."""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from ann_bridge.device import device as default_device
from snn import validate
from snn.errors import ValidationError


@dataclass(frozen=True, kw_only=True)
class TrainConfig:
    """epochs (max), batch_size, lr (Adam), patience (epochs without a better validation
    accuracy before stopping), seed, progress (None: only on a terminal)."""

    epochs: int = 60
    batch_size: int = 64
    lr: float = 2e-3
    weight_decay: float = 0.0
    patience: int = 10
    seed: int = 0
    progress: bool | None = None

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "patience"):
            object.__setattr__(self, name, validate.count(f"TrainConfig.{name}", getattr(self, name)))
        object.__setattr__(self, "lr", validate.positive("TrainConfig.lr", self.lr))
        object.__setattr__(
            self, "weight_decay", validate.non_negative("TrainConfig.weight_decay", self.weight_decay)
        )


@dataclass
class TrainResult:
    val_accuracy: float
    epochs: int
    seconds: float
    history: list = field(default_factory=list)  # (epoch, mean training loss, validation accuracy)
    # validation accuracy is that of the kept (lowest validation loss) weights


def _tensors(x: np.ndarray, y: np.ndarray, on: torch.device, dtype=torch.float32):
    return torch.as_tensor(x, dtype=dtype, device=on), torch.as_tensor(y, dtype=torch.long, device=on)


@torch.no_grad()
def logits(
    model: nn.Module, x: np.ndarray, batch_size: int = 256, on: torch.device | None = None
) -> torch.Tensor:
    on = on or next(model.parameters()).device
    model.eval()
    out = []
    for start in range(0, len(x), batch_size):
        out.append(model(torch.as_tensor(x[start : start + batch_size], dtype=torch.float32, device=on)))
    return torch.cat(out)


@torch.no_grad()
def predict(
    model: nn.Module, x: np.ndarray, batch_size: int = 256, on: torch.device | None = None
) -> np.ndarray:
    """Class predictions ``(n,)`` for features ``x`` ``(n, features)``."""
    return logits(model, x, batch_size, on).argmax(1).cpu().numpy()


def accuracy(model: nn.Module, x: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(predict(model, x) == y))


def epochs_bar(count: int, desc: str, progress: bool | None = None, unit: str = "epoch"):
    """``range(count)`` with a tqdm bar: shown on a terminal when ``progress`` is None, always
    when True, never when False (tqdm's ``disable=None``)."""
    from tqdm import tqdm

    return tqdm(range(count), desc=desc, unit=unit, leave=False,
                disable=None if progress is None else not progress)  # fmt: skip


def train(
    model: nn.Module,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_val: np.ndarray,
    y_val: np.ndarray,
    config: TrainConfig = TrainConfig(),
    desc: str = "train",
) -> TrainResult:
    """Train ``model`` (logits out) with cross-entropy; returns the best validation accuracy."""
    for label, values, labels in (("x_train", x_train, y_train), ("x_val", x_val, y_val)):
        validate.finite_array(label, values)
        labels = np.asarray(labels)
        if (
            labels.shape != (len(values),)
            or labels.dtype.kind not in "iu"
            or (labels.size and labels.min() < 0)
        ):
            name = "y" + label[1:]
            raise ValidationError(name, f"must hold one integer class >= 0 per sample ({len(values)})")
    torch.manual_seed(config.seed)
    on = default_device()
    model.to(on)
    x, y = _tensors(x_train, y_train, on)
    optimiser = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    loss_fn = nn.CrossEntropyLoss()
    shuffle = torch.Generator().manual_seed(config.seed)
    best_loss, best_accuracy, best_state, waited, history = np.inf, 0.0, None, 0, []
    y_val_tensor = torch.as_tensor(y_val, dtype=torch.long, device=on)
    start = time.perf_counter()
    bar = epochs_bar(config.epochs, desc, config.progress)
    epoch = 0
    for epoch in bar:
        model.train()
        order = torch.randperm(len(x), generator=shuffle).to(on)
        losses = []
        for begin in range(0, len(x), config.batch_size):
            batch = order[begin : begin + config.batch_size]
            optimiser.zero_grad()
            loss = loss_fn(model(x[batch]), y[batch])
            loss.backward()
            optimiser.step()
            losses.append(loss.item())
        val_logits = logits(model, x_val, on=on)
        val_loss = float(loss_fn(val_logits, y_val_tensor))
        val = float((val_logits.argmax(1) == y_val_tensor).float().mean())
        history.append((epoch, float(np.mean(losses)), val))
        bar.set_postfix(loss=f"{np.mean(losses):.3f}", val=f"{val:.3f}")
        if val_loss < best_loss:
            best_loss, best_accuracy, best_state, waited = val_loss, val, copy.deepcopy(model.state_dict()), 0
        else:
            waited += 1
            if waited >= config.patience:
                break
    bar.close()
    if best_state is None:
        raise ValidationError("training", "the validation loss was never finite; lower TrainConfig.lr")
    model.load_state_dict(best_state)
    return TrainResult(
        val_accuracy=best_accuracy, epochs=epoch + 1, seconds=time.perf_counter() - start, history=history
    )
