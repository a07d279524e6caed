/* The monitor protocol's messages: one typed, length-checked message per
 * SOCK_SEQPACKET packet. Shared by the monitor (privileged) and the child. */
#ifndef PRIVSEP_MONITOR_MSG_H
#define PRIVSEP_MONITOR_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Packet: u8 type, then the fields below in order. u32 is big-endian; a
 * string is u32 length + bytes (no NUL on the wire). Every field is checked
 * against its bounds and a packet must end exactly after its last field.
 *
 *   REQ_CONFIG                              ANS_CONFIG          string text
 *   REQ_HOSTKEYS_COUNT                      ANS_HOSTKEYS_COUNT  u32 count
 *   REQ_HOSTKEY_PUB   u32 idx               ANS_HOSTKEY_PUB     string blob
 *   REQ_SIGN          u32 idx, string alg, string data
 *                                           ANS_SIGN            string sig
 *   REQ_KEY_ALLOWED   string user, string blob
 *                                           ANS_KEY_ALLOWED     u8 allowed (0|1)
 *   REQ_AUTHENTICATED string user           ANS_AUTHENTICATED
 *                                           ANS_ERROR           u32 code, string message
 */
enum monitor_msg_type {
	MONITOR_REQ_CONFIG = 1,
	MONITOR_ANS_CONFIG = 2,
	MONITOR_REQ_HOSTKEYS_COUNT = 3,
	MONITOR_ANS_HOSTKEYS_COUNT = 4,
	MONITOR_REQ_HOSTKEY_PUB = 5,
	MONITOR_ANS_HOSTKEY_PUB = 6,
	MONITOR_REQ_SIGN = 7,
	MONITOR_ANS_SIGN = 8,
	MONITOR_REQ_KEY_ALLOWED = 9,
	MONITOR_ANS_KEY_ALLOWED = 10,
	MONITOR_REQ_AUTHENTICATED = 11,
	MONITOR_ANS_AUTHENTICATED = 12,
	MONITOR_ANS_ERROR = 13,
};

#define MONITOR_MSG_MAX		(256 * 1024)	/* largest packet either side sends */
#define MONITOR_ALG_MAX		64		/* signature algorithm name */
#define MONITOR_USER_MAX	256		/* user name */
#define MONITOR_ERRMSG_MAX	256		/* ANS_ERROR text */
#define MONITOR_BLOB_MAX	16384		/* public key blob (OpenSSH's SSH_MAX_PUBKEY_BYTES) */
#define MONITOR_DATA_MAX	4096		/* REQ_SIGN data; the policy wants far less */
#define MONITOR_SIG_MAX		4096		/* ANS_SIGN blob */
#define MONITOR_KEYS_MAX	16		/* host keys */

/* ANS_ERROR codes: why the monitor could not answer (not a policy refusal:
 * those kill the child). */
#define MONITOR_ERR_UNAVAILABLE	1	/* nothing to answer with (e.g. no config text) */
#define MONITOR_ERR_AUTHKEYS	2	/* the authorized keys file could not be read */
#define MONITOR_ERR_CRYPTO	3	/* signing failed */
#define MONITOR_ERR_MAX		3

/* Decoded message. Strings are NUL-terminated copies; data points into the
 * packet buffer it was decoded from (borrowed: keep the buffer alive). */
struct monitor_msg {
	enum monitor_msg_type type;
	uint32_t idx;				/* REQ_HOSTKEY_PUB, REQ_SIGN */
	uint32_t count;				/* ANS_HOSTKEYS_COUNT */
	uint32_t code;				/* ANS_ERROR */
	bool allowed;				/* ANS_KEY_ALLOWED */
	char alg[MONITOR_ALG_MAX + 1];		/* REQ_SIGN */
	char user[MONITOR_USER_MAX + 1];	/* REQ_KEY_ALLOWED, REQ_AUTHENTICATED */
	char errmsg[MONITOR_ERRMSG_MAX + 1];	/* ANS_ERROR */
	const uint8_t *data;	/* ANS_CONFIG text, ANS_HOSTKEY_PUB blob, REQ_SIGN data,
				 * ANS_SIGN sig, REQ_KEY_ALLOWED blob */
	size_t dlen;
};

#define MONITOR_MSG_E_SHORT	-1	/* packet ends inside a field */
#define MONITOR_MSG_E_TRAILING	-2	/* bytes after the last field */
#define MONITOR_MSG_E_TYPE	-3	/* unknown message type */
#define MONITOR_MSG_E_LENGTH	-4	/* string or packet length out of bounds */
#define MONITOR_MSG_E_NUL	-5	/* NUL byte inside a text field */
#define MONITOR_MSG_E_RANGE	-6	/* field value out of range */
#define MONITOR_MSG_E_IO	-7	/* send/recv failed (errno kept) */
#define MONITOR_MSG_E_EOF	-8	/* peer closed the socket */
#define MONITOR_MSG_E_UNEXPECTED -9	/* answer of the wrong type */
#define MONITOR_MSG_E_REFUSED	-10	/* the monitor answered ANS_ERROR */
#define MONITOR_MSG_E_NOMEM	-11
const char *monitor_msg_strerror(int err);
/* "REQ_SIGN", ...; "unknown" otherwise. */
const char *monitor_msg_type_name(int type);

/* Encoded size of m, or a negative error when a field is out of bounds. */
int monitor_msg_size(const struct monitor_msg *m, size_t *len);
/* Encodes m into buf (cap bytes); *len gets the packet size. */
int monitor_msg_encode(const struct monitor_msg *m, uint8_t *buf, size_t cap, size_t *len);
/* Strict decoder of one packet (untrusted input: the fuzz target). */
int monitor_msg_decode(const uint8_t *buf, size_t len, struct monitor_msg *m);

/* socketpair(AF_UNIX, SOCK_SEQPACKET|SOCK_CLOEXEC) with send buffers large
 * enough for a MONITOR_MSG_MAX packet (the default is ~208 KiB). */
int monitor_msg_socketpair(int sv[2]);
/* One packet over a SOCK_SEQPACKET socket (blocking, EINTR retried). recv
 * decodes into m borrowing from buf, which must hold MONITOR_MSG_MAX bytes;
 * an oversized packet is MONITOR_MSG_E_LENGTH. */
int monitor_msg_send(int fd, const struct monitor_msg *m);
int monitor_msg_recv(int fd, uint8_t *buf, struct monitor_msg *m);

#endif
