/* contrib/libssh/tests/patch-server.c: one-connection libssh server that drives our libssh patches
 * (host key signing, streamlocal opens, open failure reasons, disconnect, auth failures, data path) with OpenSSH. */
#include "autoconf.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <libssh/libssh.h>
#include <libssh/server.h>
#include <libssh/callbacks.h>
#include <libssh/ssh2.h>

/* Hard bound on the whole run, so a hung peer cannot stall "make check". */
#define TEST_TIMEOUT_SEC	120
#define EXIT_STATUS		7
#define ECHO_BUF		16384
/* transfer: not a multiple of the packet size, so writes end mid-packet */
#define SEND_CHUNK		100000

enum test_mode {
	MODE_SIGN,		/* public host key only, signatures from the callback */
	MODE_NOSIGN,		/* public host key only, no callback: KEX must fail */
	MODE_STREAMLOCAL,	/* direct-streamlocal open, echoed back */
	MODE_BADOPEN,		/* a malformed direct-streamlocal open */
	MODE_REFUSE,		/* every channel open refused with -r/-t */
	MODE_AUTHFAIL,		/* every auth refused; -n refusals, then disconnect with -m */
	MODE_BADSIG,		/* a publickey request that must fail (-b), no other reply */
	MODE_TRANSFER,		/* exec sink / send FILE / send-stderr FILE / discard / zeros N */
};

/* transfer: how the channel data callbacks take what libssh hands them (-c). */
enum consume {
	CONSUME_ALL,		/* one callback takes everything */
	CONSUME_NONE,		/* no data callback: ssh_channel_read() gets it all */
	CONSUME_PARTIAL,	/* two callbacks take nothing, a byte, a part or all */
};

/* libssh's internal SSH_MSG_CHANNEL_OPEN handler, reachable because libssh.a is
 * linked statically: OpenSSH never sends a malformed open, so the test feeds
 * one in as if it had come off the wire. */
int ssh_packet_channel_open(ssh_session session, uint8_t type,
    ssh_buffer packet, void *user);
/* Likewise for SSH_MSG_USERAUTH_REQUEST, as OpenSSH never sends a bad
 * signature; and the key blob export, not public in 0.10.6. */
int ssh_packet_userauth_request(ssh_session session, uint8_t type,
    ssh_buffer packet, void *user);
int ssh_pki_export_pubkey_blob(const ssh_key key, ssh_string *pblob);

/* transfer: everything libssh 0.10.6 implements with libcrypto */
#define XFER_CIPHERS	"chacha20-poly1305@openssh.com,aes256-gcm@openssh.com," \
	"aes128-gcm@openssh.com,aes256-ctr,aes192-ctr,aes128-ctr,aes256-cbc," \
	"aes192-cbc,aes128-cbc,3des-cbc"
#define XFER_MACS	"hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com," \
	"hmac-sha1-etm@openssh.com,hmac-sha2-256,hmac-sha2-512,hmac-sha1"

/* Sender channel of the injected open: the failure reply must name it. */
#define BADOPEN_SENDER	4242

/* The test's stand-in for the privsep monitor: it alone holds the private key. */
struct signer {
	EVP_PKEY *pkey;
	int keytype;		/* enum ssh_keytypes_e of the host key */
	const char *want_alg;
	size_t want_len;
	ssh_key pub;		/* what the session was given, to compare */
	unsigned int calls;
	unsigned int bad_calls;
	enum {
		INJECT_NONE,
		INJECT_ERROR,	/* the callback fails */
		INJECT_SHORT,	/* the raw signature is one byte short */
		INJECT_ALG,	/* the blob names another algorithm */
	} inject;
};

static void
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("patch-server: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static void
usage(void)
{
	fprintf(stderr, "usage: patch-server sign|nosign|streamlocal|badopen|refuse|authfail|badsig|transfer\n"
	    "    -k hostkey.pub -p portfile [-s privkey] [-a sig_alg] [-l datalen] [-d destination]\n"
	    "    [-f error|short|alg] [-r reason|default] [-t description] [-n tries -m message]\n"
	    "    [-b sig|key] [-c all|none|partial] [-N [-Q BYTES]]\n");
	exit(2);
}

/* --- SSH wire helpers for the signature blob ----------------------------- */

struct wbuf {
	unsigned char d[2048];
	size_t len;
};

static void
wbuf_put(struct wbuf *b, const void *p, size_t n)
{
	if (n > sizeof(b->d) - b->len)
		die("signature buffer overflow");
	memcpy(b->d + b->len, p, n);
	b->len += n;
}

static void
wbuf_put_string(struct wbuf *b, const void *p, size_t n)
{
	unsigned char l[4] = { n >> 24, n >> 16, n >> 8, n };

	wbuf_put(b, l, sizeof(l));
	wbuf_put(b, p, n);
}

static void
wbuf_put_mpint(struct wbuf *b, const BIGNUM *bn)
{
	unsigned char raw[80] = { 0 };
	int n = BN_num_bytes(bn);

	if (n < 0 || (size_t)n >= sizeof(raw))
		die("mpint too large");
	BN_bn2bin(bn, raw + 1);
	/* A leading zero keeps a high bit from reading as negative. */
	if (n > 0 && (raw[1] & 0x80))
		wbuf_put_string(b, raw, n + 1);
	else
		wbuf_put_string(b, raw + 1, n);
}

/* --- The signer (what the monitor will do) --------------------------------- */

/* ssh-keygen writes Ed25519 keys only in the OpenSSH format, which libcrypto
 * cannot read: take the seed out of the unencrypted openssh-key-v1 blob. */
static EVP_PKEY *
load_ed25519_openssh(const char *path)
{
	static const char magic[] = "openssh-key-v1";
	char line[512], b64[4096] = "";
	unsigned char raw[3072], *p, *end;
	uint32_t n, i;
	size_t b64len = 0;
	int rawlen, fields;
	FILE *f;
	EVP_PKEY *pkey;

	if ((f = fopen(path, "r")) == NULL)
		die("open %s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "-----", 5) == 0)
			continue;
		line[strcspn(line, "\r\n")] = '\0';
		if (b64len + strlen(line) >= sizeof(b64))
			die("%s: key too large", path);
		memcpy(b64 + b64len, line, strlen(line) + 1);
		b64len += strlen(line);
	}
	fclose(f);
	if ((rawlen = EVP_DecodeBlock(raw, (unsigned char *)b64, b64len)) < 0)
		die("%s: bad base64", path);
	p = raw;
	end = raw + rawlen;
	if ((size_t)rawlen < sizeof(magic) || memcmp(p, magic, sizeof(magic)) != 0)
		die("%s: not an openssh-key-v1 key", path);
	p += sizeof(magic);
#define GET_U32(v) do { \
	if (end - p < 4) die("%s: truncated", path); \
	v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; \
	p += 4; } while (0)
#define SKIP_STRING() do { uint32_t l_; GET_U32(l_); \
	if ((uint32_t)(end - p) < l_) die("%s: truncated", path); \
	p += l_; } while (0)
	/* ciphername, kdfname, kdfoptions, number of keys, public key, private section length */
	SKIP_STRING();
	SKIP_STRING();
	SKIP_STRING();
	GET_U32(n);
	if (n != 1)
		die("%s: %u keys", path, n);
	SKIP_STRING();
	GET_U32(n);
	/* checkint, checkint, key type, public key, then seed || public key */
	GET_U32(i);
	GET_U32(n);
	if (i != n)
		die("%s: encrypted keys are not supported", path);
	for (fields = 0; fields < 2; fields++)
		SKIP_STRING();
	GET_U32(n);
	if (n != 64 || end - p < 64)
		die("%s: bad ed25519 private key", path);
#undef GET_U32
#undef SKIP_STRING
	pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, p, 32);
	OPENSSL_cleanse(raw, sizeof(raw));
	if (pkey == NULL)
		die("%s: cannot build the ed25519 key", path);
	return pkey;
}

static EVP_PKEY *
signer_load(const char *path, int keytype)
{
	EVP_PKEY *pkey;
	FILE *f;

	if (keytype == SSH_KEYTYPE_ED25519)
		return load_ed25519_openssh(path);
	/* ECDSA and RSA keys come from "ssh-keygen -m PKCS8". */
	if ((f = fopen(path, "r")) == NULL)
		die("open %s: %s", path, strerror(errno));
	pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (pkey == NULL)
		die("%s: not a PKCS#8 PEM private key", path);
	return pkey;
}

static const EVP_MD *
signer_md(const char *sig_alg)
{
	if (strcmp(sig_alg, "ssh-ed25519") == 0)
		return NULL;
	if (strcmp(sig_alg, "rsa-sha2-256") == 0 ||
	    strcmp(sig_alg, "ecdsa-sha2-nistp256") == 0)
		return EVP_sha256();
	if (strcmp(sig_alg, "rsa-sha2-512") == 0 ||
	    strcmp(sig_alg, "ecdsa-sha2-nistp521") == 0)
		return EVP_sha512();
	if (strcmp(sig_alg, "ecdsa-sha2-nistp384") == 0)
		return EVP_sha384();
	if (strcmp(sig_alg, "ssh-rsa") == 0)
		return EVP_sha1();
	die("unexpected signature algorithm %s", sig_alg);
	return NULL;
}

/* Sign data as sig_alg and wrap the result as an SSH signature blob. */
static int
signer_sign(struct signer *s, const char *sig_alg, const unsigned char *data,
    size_t datalen, ssh_string *out)
{
	unsigned char sig[1024];
	size_t siglen = sizeof(sig);
	struct wbuf blob = { .len = 0 }, inner = { .len = 0 };
	EVP_MD_CTX *ctx;
	ECDSA_SIG *esig;
	const unsigned char *q;
	int ok;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return SSH_ERROR;
	ok = EVP_DigestSignInit(ctx, NULL, signer_md(sig_alg), NULL, s->pkey) == 1 &&
	    EVP_DigestSign(ctx, sig, &siglen, data, datalen) == 1;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return SSH_ERROR;

	if (s->inject == INJECT_ALG)
		wbuf_put_string(&blob, "ssh-rsa", strlen("ssh-rsa"));
	else
		wbuf_put_string(&blob, sig_alg, strlen(sig_alg));
	if (s->inject == INJECT_SHORT)
		siglen--;
	if (strncmp(sig_alg, "ecdsa-", 6) == 0) {
		/* libcrypto gives DER; SSH wants string(mpint r, mpint s). */
		q = sig;
		if ((esig = d2i_ECDSA_SIG(NULL, &q, siglen)) == NULL)
			return SSH_ERROR;
		wbuf_put_mpint(&inner, ECDSA_SIG_get0_r(esig));
		wbuf_put_mpint(&inner, ECDSA_SIG_get0_s(esig));
		ECDSA_SIG_free(esig);
		wbuf_put_string(&blob, inner.d, inner.len);
	} else {
		wbuf_put_string(&blob, sig, siglen);
	}

	if ((*out = ssh_string_new(blob.len)) == NULL)
		return SSH_ERROR;
	if (ssh_string_fill(*out, blob.d, blob.len) != 0) {
		ssh_string_free(*out);
		*out = NULL;
		return SSH_ERROR;
	}
	return SSH_OK;
}

static int
hostkey_sign_cb(ssh_session session, ssh_key hostkey, const char *sig_alg,
    const unsigned char *data, size_t datalen, ssh_string *signature,
    void *userdata)
{
	struct signer *s = userdata;

	(void)session;
	s->calls++;
	fprintf(stderr, "patch-server: sign call %u: sig_alg=%s datalen=%zu "
	    "private=%d\n", s->calls, sig_alg, datalen, ssh_key_is_private(hostkey));
	if (strcmp(sig_alg, s->want_alg) != 0 || datalen != s->want_len ||
	    ssh_key_is_private(hostkey) ||
	    ssh_key_cmp(hostkey, s->pub, SSH_KEY_CMP_PUBLIC) != 0) {
		s->bad_calls++;
		return SSH_ERROR;
	}
	if (s->inject == INJECT_ERROR)
		return SSH_ERROR;
	return signer_sign(s, sig_alg, data, datalen, signature);
}

/* --- Connection plumbing ---------------------------------------------------- */

/* The session holds only what the monitor would hand out: the public key,
 * imported from its base64 blob as in the .pub file. */
static ssh_key
load_public_only(const char *path)
{
	char line[8192], *type, *b64, *save = NULL;
	ssh_key key = NULL;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL)
		die("open %s: %s", path, strerror(errno));
	if (fgets(line, sizeof(line), f) == NULL)
		die("%s: empty", path);
	fclose(f);
	if ((type = strtok_r(line, " \n", &save)) == NULL ||
	    (b64 = strtok_r(NULL, " \n", &save)) == NULL)
		die("%s: not an OpenSSH public key line", path);
	if (ssh_pki_import_pubkey_base64(b64, ssh_key_type_from_name(type), &key) != SSH_OK)
		die("%s: cannot import the public key", path);
	if (!ssh_key_is_public(key) || ssh_key_is_private(key))
		die("the host key must be public only");
	return key;
}

static int
listen_loopback(const char *portfile)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t slen = sizeof(sin);
	char tmp[4096];
	FILE *f;
	int fd;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, 1) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &slen) == -1)
		die("listen: %s", strerror(errno));
	/* Written then renamed, so the script never reads a partial port. */
	snprintf(tmp, sizeof(tmp), "%s.tmp", portfile);
	if ((f = fopen(tmp, "w")) == NULL ||
	    fprintf(f, "%u\n", ntohs(sin.sin_port)) < 0 || fclose(f) != 0 ||
	    rename(tmp, portfile) != 0)
		die("write %s: %s", portfile, strerror(errno));
	return fd;
}

static int
accept_one(int lfd)
{
	struct pollfd pfd = { .fd = lfd, .events = POLLIN };
	int fd;

	if (poll(&pfd, 1, 30 * 1000) != 1)
		die("no client connected within 30 s");
	if ((fd = accept(lfd, NULL, NULL)) == -1)
		die("accept: %s", strerror(errno));
	close(lfd);
	return fd;
}

/* Per-connection state for the message callback. With server callbacks set
 * (the signing one) libssh no longer queues messages for ssh_message_get(),
 * so everything arrives here, as in the gateway's child. */
struct conn {
	enum test_mode mode;
	const char *want_dest;	/* streamlocal: expected socket path */
	ssh_channel chan;
	struct ssh_channel_callbacks_struct chan_cb;
	bool remote_closed;	/* the client sent SSH_MSG_CHANNEL_CLOSE */
	char *cmd;		/* sign: the exec command, once requested */
	unsigned int opens;
	unsigned int bad_opens;
	bool refuse_default;	/* refuse: ssh_message_reply_default() */
	uint32_t refuse_reason;	/* refuse: reason code and description */
	const char *refuse_text; /* NULL: none */
	int refuse_rc;		/* refuse: last reply's return code */
	int misuse_rc;		/* refuse: the reply called on a non-open message */
	unsigned int max_tries;	/* authfail: publickey refusals before the disconnect */
	const char *bye;	/* authfail: the disconnect message */
	unsigned int pubkey_msgs; /* publickey requests that reached the application */
	bool badkey;		/* badsig: an undecodable key instead of a bad signature */
	ssh_key hostkey;	/* badsig: the key the forged request names */
	enum consume consume;	/* transfer: the data callbacks' appetite */
	struct ssh_channel_callbacks_struct data_cb2; /* transfer: -c partial's second */
	EVP_MD_CTX *sha;	/* transfer: SHA-256 of the bytes received, in order */
	bool discard;		/* transfer: count only, to measure libssh alone */
	bool nonblock;		/* -N: nonblocking socket and session */
	bool writable;		/* -N: POLLOUT with nothing queued in libssh */
	size_t queue_max;	/* -Q: write ahead while libssh queues at most this */
	size_t queue_peak;	/* -Q: the most ssh_get_pending_output() reported */
	unsigned long long in_bytes;
	unsigned int data_calls[2];
};

static void
put_u32(ssh_buffer b, uint32_t v)
{
	unsigned char d[4] = { v >> 24, v >> 16, v >> 8, v };

	if (ssh_buffer_add_data(b, d, sizeof(d)) != 0)
		die("ssh_buffer_add_data");
}

static void
put_string(ssh_buffer b, const char *str)
{
	put_u32(b, strlen(str));
	if (ssh_buffer_add_data(b, str, strlen(str)) != 0)
		die("ssh_buffer_add_data");
}

/* A direct-streamlocal open without its reserved string and uint32. */
static void
inject_bad_open(ssh_session session)
{
	ssh_buffer b;

	if ((b = ssh_buffer_new()) == NULL)
		die("ssh_buffer_new");
	put_string(b, "direct-streamlocal@openssh.com");
	put_u32(b, BADOPEN_SENDER);
	put_u32(b, 65536);
	put_u32(b, 32768);
	put_string(b, "/some/remote/path");
	ssh_packet_channel_open(session, 90 /* SSH2_MSG_CHANNEL_OPEN */, b, NULL);
	ssh_buffer_free(b);
}

/* A signed publickey request that must be refused: a signature of zeros
 * for a real key, or a key blob of an unknown type. */
static void
inject_bad_userauth(ssh_session session, const struct conn *c)
{
	static const unsigned char zeros[64];
	const char *alg = c->badkey ? "ssh-unknown@example.com" : "ssh-ed25519";
	ssh_string blob = NULL;
	ssh_buffer b;

	if ((b = ssh_buffer_new()) == NULL)
		die("ssh_buffer_new");
	put_string(b, "user");
	put_string(b, "ssh-connection");
	put_string(b, "publickey");
	if (ssh_buffer_add_data(b, "\1", 1) != 0)
		die("ssh_buffer_add_data");
	put_string(b, alg);
	if (c->badkey) {
		/* string alg, string 32 key bytes */
		put_u32(b, 4 + strlen(alg) + 4 + 32);
		put_string(b, alg);
		put_u32(b, 32);
		if (ssh_buffer_add_data(b, zeros, 32) != 0)
			die("ssh_buffer_add_data");
	} else {
		if (ssh_pki_export_pubkey_blob(c->hostkey, &blob) != SSH_OK)
			die("ssh_pki_export_pubkey_blob");
		put_u32(b, ssh_string_len(blob));
		if (ssh_buffer_add_data(b, ssh_string_data(blob), ssh_string_len(blob)) != 0)
			die("ssh_buffer_add_data");
		ssh_string_free(blob);
	}
	/* The signature blob: string alg, string raw signature. */
	put_u32(b, 4 + strlen(alg) + 4 + sizeof(zeros));
	put_string(b, alg);
	put_u32(b, sizeof(zeros));
	if (ssh_buffer_add_data(b, zeros, sizeof(zeros)) != 0)
		die("ssh_buffer_add_data");
	ssh_packet_userauth_request(session, 50 /* SSH2_MSG_USERAUTH_REQUEST */, b, NULL);
	ssh_buffer_free(b);
}

static void
conn_chan_closed(ssh_session session, ssh_channel channel, void *userdata)
{
	struct conn *c = userdata;

	(void)session;
	(void)channel;
	c->remote_closed = true;
}

static void
xfer_hash(struct conn *c, const void *data, size_t len)
{
	if (len > 0 && !c->discard && EVP_DigestUpdate(c->sha, data, len) != 1)
		die("EVP_DigestUpdate");
	c->in_bytes += len;
}

/* transfer: what the data callback `which` takes of the len bytes it is given
 * on its n-th call; the rest stays with libssh, which must keep it in order. */
static uint32_t
xfer_take(const struct conn *c, int which, unsigned int n, uint32_t len)
{
	if (c->consume == CONSUME_ALL)
		return len;
	if (which == 0) {
		switch (n % 4) {
		case 0: return 0;
		case 1: return len < 1 ? len : 1;
		case 2: return len / 3;
		default: return len;
		}
	}
	switch (n % 3) {
	case 0: return 0;
	case 1: return len < 4099 ? len : 4099;
	default: return len;
	}
}

static int
xfer_data(struct conn *c, int which, void *data, uint32_t len, int is_stderr)
{
	uint32_t n;

	if (is_stderr)
		die("extended data from the client");
	n = xfer_take(c, which, c->data_calls[which]++, len);
	xfer_hash(c, data, n);
	return (int)n;
}

static int
xfer_data_a(ssh_session session, ssh_channel channel, void *data, uint32_t len,
    int is_stderr, void *userdata)
{
	(void)session;
	(void)channel;
	return xfer_data(userdata, 0, data, len, is_stderr);
}

static int
xfer_data_b(ssh_session session, ssh_channel channel, void *data, uint32_t len,
    int is_stderr, void *userdata)
{
	(void)session;
	(void)channel;
	return xfer_data(userdata, 1, data, len, is_stderr);
}

static int
xfer_writable(ssh_session session, ssh_channel channel, uint32_t window, void *userdata)
{
	struct conn *c = userdata;

	(void)session;
	(void)channel;
	(void)window;
	c->writable = true;
	return 0;
}

static int
conn_open(struct conn *c, ssh_message msg)
{
	const char *dest = ssh_message_channel_request_open_destination(msg);
	int subtype = ssh_message_subtype(msg);
	int port = ssh_message_channel_request_open_destination_port(msg);

	c->opens++;
	fprintf(stderr, "patch-server: channel open subtype=%d destination=%s port=%d\n",
	    subtype, dest != NULL ? dest : "(null)", port);
	if (c->mode == MODE_REFUSE) {
		c->refuse_rc = c->refuse_default ? ssh_message_reply_default(msg) :
		    ssh_message_channel_request_open_reply_failure(msg,
		    c->refuse_reason, c->refuse_text);
		return 0;
	}
	if (c->chan != NULL)
		goto bad;
	if (c->mode == MODE_STREAMLOCAL &&
	    (subtype != SSH_CHANNEL_DIRECT_STREAMLOCAL || dest == NULL ||
	    strcmp(dest, c->want_dest) != 0 || port != 0))
		goto bad;
	if ((c->mode == MODE_SIGN || c->mode == MODE_TRANSFER) &&
	    subtype != SSH_CHANNEL_SESSION)
		goto bad;
	if ((c->chan = ssh_message_channel_request_open_reply_accept(msg)) == NULL)
		die("cannot accept the channel");
	c->chan_cb.userdata = c;
	c->chan_cb.channel_close_function = conn_chan_closed;
	if (c->mode == MODE_TRANSFER && c->consume != CONSUME_NONE)
		c->chan_cb.channel_data_function = xfer_data_a;
	if (c->mode == MODE_TRANSFER)
		c->chan_cb.channel_write_wontblock_function = xfer_writable;
	ssh_callbacks_init(&c->chan_cb);
	if (ssh_set_channel_callbacks(c->chan, &c->chan_cb) != SSH_OK)
		die("cannot set the channel callbacks");
	if (c->mode == MODE_TRANSFER && c->consume == CONSUME_PARTIAL) {
		c->data_cb2.userdata = c;
		c->data_cb2.channel_data_function = xfer_data_b;
		ssh_callbacks_init(&c->data_cb2);
		if (ssh_add_channel_callbacks(c->chan, &c->data_cb2) != SSH_OK)
			die("cannot add the second data callback");
	}
	return 0;
bad:
	c->bad_opens++;
	return 1;
}

/* Returns 0 when the message was answered, 1 for libssh's default reply. */
static int
conn_message_cb(ssh_session session, ssh_message msg, void *userdata)
{
	struct conn *c = userdata;

	switch (ssh_message_type(msg)) {
	case SSH_REQUEST_AUTH:
		if (ssh_message_subtype(msg) == SSH_AUTH_METHOD_PUBLICKEY)
			c->pubkey_msgs++;
		if (c->mode == MODE_AUTHFAIL) {
			ssh_message_auth_set_methods(msg, SSH_AUTH_METHOD_PUBLICKEY);
			return 1;
		}
		/* The client's "none" gets no reply of its own: the refusal of
		 * the forged request is what it must receive. */
		if (c->mode == MODE_BADSIG) {
			if (ssh_message_subtype(msg) != SSH_AUTH_METHOD_NONE)
				return 1;
			ssh_set_auth_methods(session, SSH_AUTH_METHOD_PUBLICKEY);
			inject_bad_userauth(session, c);
			return 0;
		}
		/* "none" is enough: these tests are about transport and channels. */
		if (ssh_message_subtype(msg) != SSH_AUTH_METHOD_NONE) {
			ssh_message_auth_set_methods(msg, SSH_AUTH_METHOD_NONE);
			return 1;
		}
		/* Refusing an open only makes sense for an open: any other
		 * message must be turned down without touching the wire. */
		if (c->mode == MODE_REFUSE)
			c->misuse_rc = ssh_message_channel_request_open_reply_failure(msg,
			    SSH2_OPEN_CONNECT_FAILED, "not an open");
		ssh_message_auth_reply_success(msg, 0);
		if (c->mode == MODE_BADOPEN)
			inject_bad_open(session);
		return 0;
	case SSH_REQUEST_CHANNEL_OPEN:
		return conn_open(c, msg);
	case SSH_REQUEST_CHANNEL:
		if ((c->mode != MODE_SIGN && c->mode != MODE_TRANSFER) || c->cmd != NULL ||
		    ssh_message_subtype(msg) != SSH_CHANNEL_REQUEST_EXEC)
			return 1;
		if ((c->cmd = strdup(ssh_message_channel_request_command(msg))) == NULL)
			die("out of memory");
		ssh_message_channel_request_reply_success(msg);
		return 0;
	default:
		return 1;
	}
}

static void
conn_poll(ssh_session session, ssh_event ev, const struct conn *c)
{
	if (ssh_event_dopoll(ev, 100) == SSH_ERROR)
		die("connection lost: %s", ssh_get_error(session));
	if (c->bad_opens > 0)
		die("unexpected channel open");
}

/* Exec: count stdin bytes (enough to force rekeys), answer, exit with EXIT_STATUS. */
static void
serve_exec(ssh_session session, ssh_event ev, struct conn *c)
{
	char buf[ECHO_BUF], reply[512];
	unsigned long long total = 0;
	int n;

	while (c->cmd == NULL)
		conn_poll(session, ev, c);
	/* Blocking reads also run the rekeys the client starts. */
	while ((n = ssh_channel_read(c->chan, buf, sizeof(buf), 0)) > 0)
		total += n;
	if (n < 0)
		die("channel read: %s", ssh_get_error(session));
	n = snprintf(reply, sizeof(reply), "exec=%s bytes=%llu\n", c->cmd, total);
	if (ssh_channel_write(c->chan, reply, n) != n ||
	    ssh_channel_request_send_exit_status(c->chan, EXIT_STATUS) != SSH_OK ||
	    ssh_channel_send_eof(c->chan) != SSH_OK ||
	    ssh_channel_close(c->chan) != SSH_OK)
		die("channel reply: %s", ssh_get_error(session));
}

/* transfer sink: hash stdin until EOF, taken by the data callbacks and by
 * ssh_channel_read_nonblocking() for what they left, and report it. */
static void
xfer_sink(ssh_session session, ssh_event ev, struct conn *c, char *reply, size_t size)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen, i;
	char buf[ECHO_BUF];
	size_t off;
	int n;

	for (;;) {
		while ((n = ssh_channel_read_nonblocking(c->chan, buf, sizeof(buf), 0)) > 0)
			xfer_hash(c, buf, n);
		if (n == SSH_EOF)
			break;
		if (n < 0)
			die("channel read: %s", ssh_get_error(session));
		conn_poll(session, ev, c);
	}
	if (EVP_DigestFinal_ex(c->sha, md, &mdlen) != 1)
		die("EVP_DigestFinal_ex");
	off = snprintf(reply, size, "bytes=%llu sha256=", c->in_bytes);
	for (i = 0; i < mdlen && off + 3 < size; i++)
		off += snprintf(reply + off, size - off, "%02x", md[i]);
	snprintf(reply + off, size - off, "\n");
}

/* transfer send: the file (or n zero bytes) to stdout or stderr, in chunks
 * that end mid-packet. Blocking writes wait for the window and the socket.
 * With -N, as in the gateway's child, the session is nonblocking, and after
 * a write it is polled until libssh reports POLLOUT on an empty queue: the
 * next packet is then written straight from libssh's packet buffer, and on
 * this socket often only in part. */
static void
xfer_send(ssh_session session, ssh_event ev, struct conn *c, const char *path,
    bool to_stderr, unsigned long long zeros)
{
	static char buf[SEND_CHUNK];
	ssize_t n, off;
	int fd = -1, w;

	if (path != NULL && (fd = open(path, O_RDONLY)) == -1)
		die("open %s: %s", path, strerror(errno));
	for (;;) {
		if (fd != -1) {
			if ((n = read(fd, buf, sizeof(buf))) < 0)
				die("read %s: %s", path, strerror(errno));
		} else {
			n = zeros < sizeof(buf) ? (ssize_t)zeros : (ssize_t)sizeof(buf);
			zeros -= n;
		}
		if (n == 0)
			break;
		ssh_set_blocking(session, !c->nonblock);
		for (off = 0; off < n; off += w) {
			w = to_stderr ? ssh_channel_write_stderr(c->chan, buf + off, n - off) :
			    ssh_channel_write(c->chan, buf + off, n - off);
			if (w < 0 || (w != n - off && !c->nonblock))
				die("channel write: %s", ssh_get_error(session));
			if (!c->nonblock)
				continue;
			if (c->queue_max > 0) {
				/* As the gateway's child: go on writing while what
				 * the socket did not take stays under the bound. */
				size_t q;

				while ((q = ssh_get_pending_output(session)) > c->queue_max ||
				    (w == 0 && q > 0)) {
					if (q > c->queue_peak)
						c->queue_peak = q;
					conn_poll(session, ev, c);
				}
				if (q > c->queue_peak)
					c->queue_peak = q;
				if (w == 0)
					conn_poll(session, ev, c);
				continue;
			}
			/* Nothing written (no window) arms no POLLOUT: poll once,
			 * for the window adjust. */
			c->writable = false;
			if (w == 0)
				conn_poll(session, ev, c);
			while (w > 0 && !c->writable)
				conn_poll(session, ev, c);
		}
		ssh_set_blocking(session, 1);
	}
	if (fd != -1)
		close(fd);
}

static void
serve_transfer(ssh_session session, ssh_event ev, struct conn *c)
{
	char reply[512] = "";

	while (c->cmd == NULL)
		conn_poll(session, ev, c);
	/* discard and zeros N only measure: no hashing, no file */
	c->discard = strcmp(c->cmd, "discard") == 0;
	if (strcmp(c->cmd, "sink") == 0 || c->discard)
		xfer_sink(session, ev, c, reply, sizeof(reply));
	else if (strncmp(c->cmd, "send ", 5) == 0)
		xfer_send(session, ev, c, c->cmd + 5, false, 0);
	else if (strncmp(c->cmd, "send-stderr ", 12) == 0)
		xfer_send(session, ev, c, c->cmd + 12, true, 0);
	else if (strncmp(c->cmd, "zeros ", 6) == 0)
		xfer_send(session, ev, c, NULL, false, strtoull(c->cmd + 6, NULL, 10));
	else
		die("unknown transfer command '%s'", c->cmd);
	if ((reply[0] != '\0' &&
	    ssh_channel_write(c->chan, reply, strlen(reply)) != (int)strlen(reply)) ||
	    ssh_channel_request_send_exit_status(c->chan, 0) != SSH_OK ||
	    ssh_channel_send_eof(c->chan) != SSH_OK ||
	    ssh_channel_close(c->chan) != SSH_OK)
		die("channel reply: %s", ssh_get_error(session));
	fprintf(stderr, "patch-server: transfer %s: received %llu bytes, data callback "
	    "calls %u/%u, queue peak %zu\n", c->cmd, c->in_bytes, c->data_calls[0],
	    c->data_calls[1], c->queue_peak);
}

/* streamlocal: echo the forwarded connection until the client's EOF. */
static void
serve_streamlocal(ssh_session session, ssh_event ev, struct conn *c)
{
	char buf[ECHO_BUF];
	int n;

	for (;;) {
		conn_poll(session, ev, c);
		if (c->chan == NULL)
			continue;
		while ((n = ssh_channel_read_nonblocking(c->chan, buf, sizeof(buf), 0)) > 0)
			if (ssh_channel_write(c->chan, buf, n) != n)
				die("channel write: %s", ssh_get_error(session));
		/* SSH_EOF once the client's EOF arrived and all data was read. */
		if (n == SSH_EOF)
			break;
		if (n < 0)
			die("channel read: %s", ssh_get_error(session));
	}
	if (ssh_channel_send_eof(c->chan) != SSH_OK ||
	    ssh_channel_close(c->chan) != SSH_OK)
		die("channel close: %s", ssh_get_error(session));
}

/* Serve until the client hangs up (at most 10 s). */
static void
serve_until_closed(ssh_session session, ssh_event ev)
{
	int i;

	for (i = 0; i < 100 && ssh_is_connected(session); i++)
		if (ssh_event_dopoll(ev, 100) == SSH_ERROR)
			break;
	if (ssh_is_connected(session))
		die("the client stayed connected");
}

/* badopen: the client, told that a channel it never opened failed to open,
 * hangs up; no open may have reached the application. */
static void
serve_badopen(ssh_session session, ssh_event ev, struct conn *c)
{
	serve_until_closed(session, ev);
	if (c->opens != 0)
		die("the malformed open reached the application");
}

/* authfail: refuse publickey requests, then hang up with our reason as an
 * application does after MaxAuthTries: right after a poll turn that wrote the
 * last refusal, so libssh has not seen POLLOUT since its last write. */
static void
serve_authfail(ssh_session session, ssh_event ev, struct conn *c)
{
	while (c->pubkey_msgs < c->max_tries)
		conn_poll(session, ev, c);
	if (ssh_session_set_disconnect_message(session, c->bye) != SSH_OK)
		die("ssh_session_set_disconnect_message");
	ssh_disconnect(session);
}

/* Let the client see the close: wait for the exec client to hang up, or
 * for the forwarding client (which stays connected) to confirm the close,
 * which it does once it wrote the echo to its local socket. Our own close
 * already makes ssh_channel_is_closed() true, so the callback tells. */
static void
conn_drain(ssh_session session, ssh_event ev, const struct conn *c)
{
	int i;

	for (i = 0; i < 100 && ssh_is_connected(session); i++) {
		if (c->mode == MODE_STREAMLOCAL && c->remote_closed)
			break;
		if (ssh_event_dopoll(ev, 100) == SSH_ERROR)
			break;
	}
}

int
main(int argc, char **argv)
{
	struct signer signer = { .pkey = NULL };
	struct ssh_server_callbacks_struct cb = { .userdata = &signer,
	    .hostkey_sign_function = hostkey_sign_cb };
	struct conn conn = { .want_dest = "/some/remote/path" };
	ssh_event ev;
	const char *pubfile = NULL, *privfile = NULL, *portfile = NULL;
	enum test_mode mode;
	ssh_bind sshbind;
	ssh_session session;
	ssh_key hostkey;
	int ch, lfd, fd, rc;

	if (argc < 2)
		usage();
	if (strcmp(argv[1], "sign") == 0)
		mode = MODE_SIGN;
	else if (strcmp(argv[1], "nosign") == 0)
		mode = MODE_NOSIGN;
	else if (strcmp(argv[1], "streamlocal") == 0)
		mode = MODE_STREAMLOCAL;
	else if (strcmp(argv[1], "badopen") == 0)
		mode = MODE_BADOPEN;
	else if (strcmp(argv[1], "refuse") == 0)
		mode = MODE_REFUSE;
	else if (strcmp(argv[1], "authfail") == 0)
		mode = MODE_AUTHFAIL;
	else if (strcmp(argv[1], "badsig") == 0)
		mode = MODE_BADSIG;
	else if (strcmp(argv[1], "transfer") == 0)
		mode = MODE_TRANSFER;
	else
		usage();
	conn.mode = mode;
	conn.refuse_rc = conn.misuse_rc = 1;	/* neither SSH_OK nor SSH_ERROR: not called */
	optind = 2;
	while ((ch = getopt(argc, argv, "a:b:c:d:f:k:l:m:n:Np:Q:r:s:t:")) != -1) {
		switch (ch) {
		case 'a': signer.want_alg = optarg; break;
		case 'b':
			if (strcmp(optarg, "key") == 0)
				conn.badkey = true;
			else if (strcmp(optarg, "sig") != 0)
				usage();
			break;
		case 'c':
			if (strcmp(optarg, "all") == 0)
				conn.consume = CONSUME_ALL;
			else if (strcmp(optarg, "none") == 0)
				conn.consume = CONSUME_NONE;
			else if (strcmp(optarg, "partial") == 0)
				conn.consume = CONSUME_PARTIAL;
			else
				usage();
			break;
		case 'd': conn.want_dest = optarg; break;
		case 'f':
			if (strcmp(optarg, "error") == 0)
				signer.inject = INJECT_ERROR;
			else if (strcmp(optarg, "short") == 0)
				signer.inject = INJECT_SHORT;
			else if (strcmp(optarg, "alg") == 0)
				signer.inject = INJECT_ALG;
			else
				usage();
			break;
		case 'k': pubfile = optarg; break;
		case 'l': signer.want_len = strtoul(optarg, NULL, 10); break;
		case 'm': conn.bye = optarg; break;
		case 'n': conn.max_tries = strtoul(optarg, NULL, 10); break;
		case 'N': conn.nonblock = true; break;
		case 'Q': conn.queue_max = strtoul(optarg, NULL, 10); break;
		case 'p': portfile = optarg; break;
		case 'r':
			if (strcmp(optarg, "default") == 0)
				conn.refuse_default = true;
			else
				conn.refuse_reason = strtoul(optarg, NULL, 10);
			break;
		case 's': privfile = optarg; break;
		case 't': conn.refuse_text = optarg; break;
		default: usage();
		}
	}
	if (pubfile == NULL || portfile == NULL)
		usage();
	if (mode != MODE_NOSIGN &&
	    (privfile == NULL || signer.want_alg == NULL || signer.want_len == 0))
		usage();
	if (mode == MODE_AUTHFAIL && (conn.max_tries == 0 || conn.bye == NULL))
		usage();
	alarm(TEST_TIMEOUT_SEC);

	if (ssh_init() != SSH_OK)
		die("ssh_init");
	/* Warnings include every ssh_set_error(): the tests match on them. */
	ssh_set_log_level(SSH_LOG_WARN);
	hostkey = load_public_only(pubfile);
	signer.keytype = ssh_key_type(hostkey);
	if ((signer.pub = ssh_key_dup(hostkey)) == NULL)
		die("ssh_key_dup of a public key failed");
	conn.hostkey = signer.pub;
	if (privfile != NULL)
		signer.pkey = signer_load(privfile, signer.keytype);

	if ((sshbind = ssh_bind_new()) == NULL ||
	    ssh_bind_options_set(sshbind, SSH_BIND_OPTIONS_PROCESS_CONFIG,
	    &(bool){ false }) != SSH_OK)
		die("ssh_bind");
	/* The bind takes ownership of the key. */
	if (ssh_bind_options_set(sshbind, SSH_BIND_OPTIONS_IMPORT_KEY, hostkey) != SSH_OK)
		die("import public host key: %s", ssh_get_error(sshbind));

	lfd = listen_loopback(portfile);
	fd = accept_one(lfd);
	/* -N: a nonblocking socket with a small send buffer, so that a write
	 * after POLLOUT takes only part of a packet and the rest is queued. */
	if (conn.nonblock && (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &(int){ 8192 }, sizeof(int)) == -1))
		die("nonblocking socket: %s", strerror(errno));
	if ((session = ssh_new()) == NULL)
		die("ssh_new");
	if (ssh_bind_accept_fd(sshbind, session, fd) != SSH_OK)
		die("ssh_bind_accept_fd: %s", ssh_get_error(sshbind));
	/* transfer: every cipher and MAC libssh has, so the client picks. */
	if (mode == MODE_TRANSFER &&
	    (ssh_options_set(session, SSH_OPTIONS_CIPHERS_C_S, XFER_CIPHERS) != SSH_OK ||
	    ssh_options_set(session, SSH_OPTIONS_CIPHERS_S_C, XFER_CIPHERS) != SSH_OK ||
	    ssh_options_set(session, SSH_OPTIONS_HMAC_C_S, XFER_MACS) != SSH_OK ||
	    ssh_options_set(session, SSH_OPTIONS_HMAC_S_C, XFER_MACS) != SSH_OK))
		die("transfer algorithms: %s", ssh_get_error(session));
	if (mode == MODE_TRANSFER && (conn.sha = EVP_MD_CTX_new()) == NULL)
		die("EVP_MD_CTX_new");
	if (conn.sha != NULL && EVP_DigestInit_ex(conn.sha, EVP_sha256(), NULL) != 1)
		die("EVP_DigestInit_ex");
	if (mode != MODE_NOSIGN) {
		ssh_callbacks_init(&cb);
		ssh_set_server_callbacks(session, &cb);
	}

	rc = ssh_handle_key_exchange(session);
	/* Stock behaviour: without the callback a public key cannot sign; and
	 * a failed or malformed signature from the callback ends the KEX. */
	if (mode == MODE_NOSIGN || signer.inject != INJECT_NONE) {
		if (rc == SSH_OK)
			die("key exchange succeeded without a valid signature");
		printf("kex=failed sign_calls=%u error=%s\n", signer.calls,
		    ssh_get_error(session));
		goto out;
	}
	if (rc != SSH_OK)
		die("key exchange: %s", ssh_get_error(session));

	ssh_set_message_callback(session, conn_message_cb, &conn);
	if ((ev = ssh_event_new()) == NULL || ssh_event_add_session(ev, session) != SSH_OK)
		die("ssh_event");
	if (mode == MODE_SIGN)
		serve_exec(session, ev, &conn);
	else if (mode == MODE_TRANSFER)
		serve_transfer(session, ev, &conn);
	else if (mode == MODE_STREAMLOCAL)
		serve_streamlocal(session, ev, &conn);
	else if (mode == MODE_REFUSE || mode == MODE_BADSIG)
		serve_until_closed(session, ev);
	else if (mode == MODE_AUTHFAIL)
		serve_authfail(session, ev, &conn);
	else
		serve_badopen(session, ev, &conn);
	if (conn.chan != NULL)
		conn_drain(session, ev, &conn);
	ssh_event_remove_session(ev, session);
	ssh_event_free(ev);
	ssh_channel_free(conn.chan);
	free(conn.cmd);
	EVP_MD_CTX_free(conn.sha);
	printf("opens=%u\n", conn.opens);
	if (mode == MODE_REFUSE)
		printf("refuse_rc=%d\nmisuse_rc=%d\n", conn.refuse_rc, conn.misuse_rc);
	if (mode == MODE_AUTHFAIL || mode == MODE_BADSIG)
		printf("pubkey_msgs=%u\n", conn.pubkey_msgs);
	if (signer.bad_calls > 0)
		die("%u sign calls had unexpected arguments", signer.bad_calls);
	printf("sign_calls=%u\n", signer.calls);
out:
	ssh_disconnect(session);
	ssh_free(session);
	ssh_bind_free(sshbind);
	ssh_key_free(signer.pub);
	EVP_PKEY_free(signer.pkey);
	ssh_finalize();
	return 0;
}
