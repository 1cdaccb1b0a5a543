"""Training: the recipe (`recipe.train`: config → data → model → fit → test metrics), its callbacks,
what it writes into a run folder (`records`), and sweeps over configs and seeds (`sweep`)."""
