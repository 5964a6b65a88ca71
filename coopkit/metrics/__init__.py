"""Built-in evaluation metrics (registered through coopkit's own entry point)."""
