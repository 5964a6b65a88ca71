"""The cooperative training engine: Algorithm 3 (CoopNets) and the baselines D and G."""
