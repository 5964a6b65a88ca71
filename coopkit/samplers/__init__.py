"""Built-in MCMC samplers (registered through coopkit's own entry point)."""
