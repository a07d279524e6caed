/* The per-connection SSH server process (ssh-proxy --child): unprivileged,
 * the only process that speaks SSH, gRPC and NATS. */
#ifndef CHILD_CHILD_H
#define CHILD_CHILD_H
/* child_main() is declared in daemon/proxy.h; this header holds what the
 * child's own files share. */
#endif
