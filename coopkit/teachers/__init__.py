"""Built-in teachers (registered through coopkit's own entry point)."""
