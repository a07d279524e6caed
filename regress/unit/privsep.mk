# regress/unit/privsep.mk: filled in by its owner
