"""Reports written into `docs/`: the speed benchmark (`benchmark`) and the full-data reproduction of
every shipped config (`reproduce`)."""
