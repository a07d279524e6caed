# contrib/libssh/local.mk: filled in by its owner
