"""Pure steps of the plan: each decides one thing from the spec and the catalogs."""
