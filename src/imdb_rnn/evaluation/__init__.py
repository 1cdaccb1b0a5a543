"""Judging a model: exact test-set metrics (`metrics`), evaluating a run's model on the test set
(`evaluate`), and reading the reviews a user wants classified (`reviews`)."""
