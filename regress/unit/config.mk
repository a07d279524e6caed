# regress/unit/config.mk: filled in by its owner
