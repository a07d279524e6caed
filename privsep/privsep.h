/* The contract between listener, monitor and child: fixed file descriptors,
 * exit codes and limits. Shared by all three processes; keep it tiny. */
#ifndef PRIVSEP_H
#define PRIVSEP_H

/* In the re-exec'd child (and systemd Accept=yes / inetd / by hand). */
#define PRIVSEP_CLIENT_FD	3	/* the client's connection */
#define PRIVSEP_MONITOR_FD	4	/* SOCK_SEQPACKET to the monitor, absent when run by hand */
#define PRIVSEP_FIRST_FREE_FD	5	/* closefrom() boundary before execv */
#define PRIVSEP_SCRATCH_FD	10	/* fds are moved at or above this before dup2 */

/* Exit codes of the child, reported by the monitor to the listener. */
#define EXIT_CHILD_OK		0	/* session ended normally */
#define EXIT_CHILD_AUTH_FAIL	2	/* authentication failed or was abandoned */
#define EXIT_CHILD_HANDSHAKE	3	/* PROXY header / version / KEX failed or timed out */
#define EXIT_CHILD_GRACE	4	/* login grace time expired (killed by the monitor) */
#define EXIT_CHILD_CONFIG	5	/* could not obtain or parse the configuration */
#define EXIT_CHILD_INTERNAL	6	/* internal error */
#define EXIT_CHILD_VIOLATION	7	/* monitor policy violation (child SIGKILLed) */
#define EXIT_CHILD_SIGNALLED	8	/* died of a signal not sent by the monitor */

#endif
