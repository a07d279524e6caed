# regress: filled in by its owner
