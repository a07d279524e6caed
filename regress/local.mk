# regress/: unit tests, fuzz targets (run on their seed corpus by make check)
# and shell scenarios driving the real OpenSSH client. Each area owns a fragment.
include $(srcdir)/regress/unit/config.mk
include $(srcdir)/regress/unit/privsep.mk
include $(srcdir)/regress/unit/child.mk
include $(srcdir)/regress/unit/daemon.mk
include $(srcdir)/regress/scenarios.mk
include $(srcdir)/regress/ws.mk
