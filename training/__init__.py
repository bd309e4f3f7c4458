"""Training baselines (``auditlens train``) and the synthetic organisation for developing them."""
