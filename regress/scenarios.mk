# regress/scenarios.mk: filled in by its owner
