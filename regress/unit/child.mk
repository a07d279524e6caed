# regress/unit/child.mk: filled in by its owner
