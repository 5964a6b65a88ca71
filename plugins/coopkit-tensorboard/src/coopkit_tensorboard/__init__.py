"""coopkit-tensorboard: logs coopkit training to TensorBoard through coopkit's event hooks."""

__version__ = "0.1.0"
