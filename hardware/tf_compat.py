"""Import nengo-dl 3.6 on a modern TensorFlow (2.16+ with Keras 3 installed): the one shim.

nengo-dl 3.6 was written for TensorFlow <= 2.15, where ``keras`` *was* tf.keras. Its
``nengo_dl.compat`` imports ``keras.engine.functional`` and
``keras.layers.BatchNormalizationV1/V2``, which Keras 3 no longer has. tf-keras (the
Keras 2 code base, published separately) still has them under ``tf_keras.src``. So,
before nengo_dl is imported, :func:`import_nengo_dl`

1. sets ``TF_USE_LEGACY_KERAS=1`` so that ``tf.keras`` is tf-keras (TensorFlow reads it
   when ``tf.keras`` is first used; after that its choice is fixed);
2. aliases ``sys.modules["keras.engine"]`` and ``["keras.engine.functional"]`` to
   tf-keras's ``src.engine`` modules;
3. adds ``BatchNormalizationV1/V2`` (tf-keras's two batch-normalisation classes) to
   ``keras.layers``;
4. makes nengo 4.1's pass-through filter step (``LinearFilter.NoX``, a delta synapse) keep
   its ``D`` as the 1-D array nengo-dl 3.6's filter builder expects (nengo 4.1 keeps the
   ``(1, 1)`` matrix, and nengo-dl's ``assert self.D.shape == (1, n_ops, 1)`` fails on it);
   nengo's own step reads the scalar ``d`` and is unchanged.

Keras 3 itself stays installed and importable; only names it lacks are added. Importing
nengo_dl (and with it TensorFlow) takes 6-8 s, so nothing here runs at ``import hardware``.
"""

from __future__ import annotations

import importlib
import os
import sys
from types import ModuleType

from snn.errors import ValidationError

LEGACY_KERAS = "TF_USE_LEGACY_KERAS"


def _install_aliases() -> None:
    import keras
    import keras.layers
    from tf_keras.src import engine
    from tf_keras.src.engine import functional
    from tf_keras.src.layers.normalization import batch_normalization, batch_normalization_v1

    sys.modules.setdefault("keras.engine", engine)
    sys.modules.setdefault("keras.engine.functional", functional)
    if not hasattr(keras, "engine"):
        keras.engine = engine
    if not hasattr(keras.layers, "BatchNormalizationV1"):
        keras.layers.BatchNormalizationV1 = batch_normalization_v1.BatchNormalization
    if not hasattr(keras.layers, "BatchNormalizationV2"):
        keras.layers.BatchNormalizationV2 = batch_normalization.BatchNormalization


def import_nengo_dl() -> ModuleType:
    """Import and return ``nengo_dl``, installing the compatibility aliases first.

    Idempotent. Raises :class:`snn.ValidationError` when ``tf.keras`` was already used
    and resolved to Keras 3 (then nengo-dl cannot work in this process).
    """
    if "nengo_dl" in sys.modules:
        return sys.modules["nengo_dl"]
    # TensorFlow resolves tf.keras lazily, at its first use, so the variable still counts
    # after `import tensorflow` as long as nothing has touched tf.keras yet
    os.environ[LEGACY_KERAS] = "1"
    if "tensorflow" in sys.modules:
        import tensorflow as tf

        if not tf.keras.__name__.startswith("tf_keras"):
            raise ValidationError(
                "nengo_dl",
                f"tf.keras was used before {LEGACY_KERAS}=1 was set, so it is Keras 3; call "
                "hardware.tf_compat.import_nengo_dl() (or set the variable) before using tf.keras",
            )
    _install_aliases()
    _pass_through_with_1d_d()
    return importlib.import_module("nengo_dl")


def _pass_through_with_1d_d() -> None:
    import nengo
    import numpy as np

    step = nengo.synapses.LinearFilter.NoX
    if getattr(step, "_neurobridge_1d_d", False):
        return
    original = step.__init__

    def __init__(self, A, B, C, D, X):
        original(self, A, B, C, D, X)
        self.D = np.ravel(self.D)

    step.__init__ = __init__
    step._neurobridge_1d_d = True


__all__ = ["import_nengo_dl"]
