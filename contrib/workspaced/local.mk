# contrib/workspaced: filled in by its owner
