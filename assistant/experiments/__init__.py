"""Online experiments: deterministic assignment of conversations to variants, and the variants'
pipeline settings. Exposures and outcomes are logged in the database; ``evals.experiments``
analyses them."""
