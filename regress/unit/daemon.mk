# regress/unit/daemon.mk: filled in by its owner
