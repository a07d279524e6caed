# privsep: filled in by its owner
