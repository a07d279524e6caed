/* Config loader: libcyaml schema of the Go ssh-proxy's keys plus ours, a libyaml
 * walk that checks the text against that schema first, defaults and validation. */
#include "autoconf.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cyaml/cyaml.h>
#include <yaml.h>

#include "daemon/config.h"
#include "daemon/config-int.h"

#define CONFIG_MAX_TEXT		(1024 * 1024)
#define CONFIG_PATH_LEN		128
#define QUOTED_LEN		200	/* 40 characters, escaped, quoted */
#define WALK_MAX_FIELDS		32	/* keys in the largest schema mapping */

#define DEFAULT_HANDSHAKE_TIMEOUT	30
#define DEFAULT_MAX_DIRECT_TCPIP	15
#define DEFAULT_MAX_AUTH_TRIES		6
#define DEFAULT_MAX_STARTUPS		"10:30:100"
#define DEFAULT_SFTP_BINARY		"/usr/local/bin/sftp"
#define DEFAULT_BUFFER_BYTES		(8L * 1024 * 1024)
#define DEFAULT_PRIVSEP_USER		"nobody"
#define DEFAULT_MAX_SIGNATURES		64
#define DEFAULT_CERT_RELOAD_DELAY	"2s"
#define DEFAULT_ISSUER_URL		"https://kubernetes.default.svc.cluster.local"
#define DEFAULT_RECONNECT_WAIT		"2s"

/*
 * What libcyaml decodes into. Every scalar is a pointer so that an absent key
 * (NULL) differs from 0 or false; booleans are strict enums because libcyaml's
 * own booleans take anything as true. server.listenAddress (string or list)
 * is ignored here and collected by the walk.
 */
struct raw_writer {
	int *show_provision_info, *show_pulse, *show_percentage, *show_errors, *show_system_errors;
};

struct raw_publish {
	int *enabled;
	char *subject;
	int *public_ip_only;
	char **whitelist;
	unsigned whitelist_count;
};

struct raw_vscode {
	int *terminals, *record_input;
};

struct raw_stream {
	char *format;
	int *gzip;
	struct raw_vscode *vscode;
};

struct raw_recording {
	int *record_shell, *record_exec, *record_sftp, *record_direct_tcpip;
	long *buffer_bytes;
	struct raw_stream *shell, *exec, *sftp, *direct_tcpip;
};

struct raw_server {
	int *port;
	char *server_key;
	char **host_keys;
	unsigned host_keys_count;
	int *forking, *proxy_protocol, *handshake_timeout, *max_direct_tcpip;
	int *max_auth_tries, *drain_timeout;
	char *max_startups;
	struct raw_writer *writer;
	char *sftp_binary;
	struct raw_publish *publish;
	struct raw_recording *recording;
};

struct raw_privsep {
	char *user;
	int *max_signatures;
};

struct raw_allowed {
	char *namespace_;
	char *service_account;
};

struct raw_grpc {
	int *port, *enable_tls;
	char *cert_file, *key_file, *cert_reload_delay;
	int *auth_enabled;
	char *issuer_url, *audience;
	struct raw_allowed *allowed;
	unsigned allowed_count;
};

struct raw_nats {
	int *enabled;
	char *url, *username, *password, *token;
	int *max_reconnects, *retry_on_failed_connect;
	char *reconnect_wait;
};

struct raw_user {
	char *name, *authorized_keys;
};

/* identity.static holds users, provisioner.static an address (and its TLS). */
struct raw_static {
	struct raw_user *users;
	unsigned users_count;
	char *address, *ca_cert, *server_name;
};

struct raw_backend {
	char *address, *token_file, *ca_cert, *server_name;
	int *enabled;
	struct raw_static *static_;
};

struct raw_config {
	struct raw_server *server;
	struct raw_privsep *privsep;
	struct raw_grpc *grpc;
	struct raw_nats *nats;
	struct raw_backend *identity, *session, *provisioner, *authz, *k8shelld;
};

/* YAML 1.1 booleans, any case; anything else is an error naming the key. */
static const cyaml_strval_t bool_strings[] = {
	{ "true", 1 }, { "false", 0 }, { "yes", 1 }, { "no", 0 }, { "on", 1 }, { "off", 0 },
};

#define OPT		(CYAML_FLAG_OPTIONAL | CYAML_FLAG_POINTER_NULL_STR)
/* Strings: only an empty value is NULL, so a quoted "null" stays a string. */
#define OPT_STR		(CYAML_FLAG_OPTIONAL | CYAML_FLAG_POINTER_NULL)
#define F_STR(k, s, m)	CYAML_FIELD_STRING_PTR(k, OPT_STR, s, m, 0, CYAML_UNLIMITED)
#define F_INT(k, s, m)	CYAML_FIELD_INT_PTR(k, OPT, s, m)
#define F_BOOL(k, s, m)	CYAML_FIELD_ENUM_PTR(k, OPT | CYAML_FLAG_STRICT | CYAML_FLAG_CASE_INSENSITIVE, \
			    s, m, bool_strings, CYAML_ARRAY_LEN(bool_strings))
#define F_MAP(k, s, m, f) CYAML_FIELD_MAPPING_PTR(k, OPT, s, m, f)
#define F_SEQ(k, s, m, e) CYAML_FIELD_SEQUENCE(k, OPT, s, m, e, 0, CYAML_UNLIMITED)

static const cyaml_schema_value_t string_entry = {
	CYAML_VALUE_STRING(CYAML_FLAG_POINTER, char, 0, CYAML_UNLIMITED),
};

static const cyaml_schema_field_t writer_fields[] = {
	F_BOOL("showProvisionInfo", struct raw_writer, show_provision_info),
	F_BOOL("showPulse", struct raw_writer, show_pulse),
	F_BOOL("showPercentage", struct raw_writer, show_percentage),
	F_BOOL("showErrors", struct raw_writer, show_errors),
	F_BOOL("showSystemErrors", struct raw_writer, show_system_errors),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t publish_fields[] = {
	F_BOOL("enabled", struct raw_publish, enabled),
	F_STR("subject", struct raw_publish, subject),
	F_BOOL("publicIPOnly", struct raw_publish, public_ip_only),
	F_SEQ("whitelist", struct raw_publish, whitelist, &string_entry),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t vscode_fields[] = {
	F_BOOL("terminals", struct raw_vscode, terminals),
	F_BOOL("recordInput", struct raw_vscode, record_input),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t stream_fields[] = {
	F_STR("format", struct raw_stream, format),
	F_BOOL("gzip", struct raw_stream, gzip),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t tcpip_stream_fields[] = {
	F_STR("format", struct raw_stream, format),
	F_BOOL("gzip", struct raw_stream, gzip),
	F_MAP("vscode", struct raw_stream, vscode, vscode_fields),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t recording_fields[] = {
	F_BOOL("recordShell", struct raw_recording, record_shell),
	F_BOOL("recordExec", struct raw_recording, record_exec),
	F_BOOL("recordSFTP", struct raw_recording, record_sftp),
	F_BOOL("recordDirectTCPIP", struct raw_recording, record_direct_tcpip),
	F_INT("bufferBytes", struct raw_recording, buffer_bytes),
	F_MAP("shell", struct raw_recording, shell, stream_fields),
	F_MAP("exec", struct raw_recording, exec, stream_fields),
	F_MAP("sftp", struct raw_recording, sftp, stream_fields),
	F_MAP("directTCPIP", struct raw_recording, direct_tcpip, tcpip_stream_fields),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t server_fields[] = {
	CYAML_FIELD_IGNORE("listenAddress", CYAML_FLAG_OPTIONAL),
	F_INT("port", struct raw_server, port),
	F_STR("serverKey", struct raw_server, server_key),
	F_SEQ("hostKeys", struct raw_server, host_keys, &string_entry),
	F_BOOL("forking", struct raw_server, forking),
	F_BOOL("proxyProtocol", struct raw_server, proxy_protocol),
	F_INT("SSHHandshakeTimeout", struct raw_server, handshake_timeout),
	F_INT("maxDirectTCPIPConnections", struct raw_server, max_direct_tcpip),
	F_INT("maxAuthTries", struct raw_server, max_auth_tries),
	F_INT("drainTimeout", struct raw_server, drain_timeout),
	F_STR("maxStartups", struct raw_server, max_startups),
	F_MAP("writerOptions", struct raw_server, writer, writer_fields),
	F_STR("sftpBinary", struct raw_server, sftp_binary),
	F_MAP("publishSshFailures", struct raw_server, publish, publish_fields),
	F_MAP("recording", struct raw_server, recording, recording_fields),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t privsep_fields[] = {
	F_STR("user", struct raw_privsep, user),
	F_INT("maxSignatures", struct raw_privsep, max_signatures),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t allowed_fields[] = {
	F_STR("namespace", struct raw_allowed, namespace_),
	F_STR("serviceAccount", struct raw_allowed, service_account),
	CYAML_FIELD_END
};

static const cyaml_schema_value_t allowed_entry = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct raw_allowed, allowed_fields),
};

static const cyaml_schema_field_t grpc_fields[] = {
	F_INT("port", struct raw_grpc, port),
	F_BOOL("enableTLS", struct raw_grpc, enable_tls),
	F_STR("certFile", struct raw_grpc, cert_file),
	F_STR("keyFile", struct raw_grpc, key_file),
	F_STR("certReloadDelay", struct raw_grpc, cert_reload_delay),
	F_BOOL("authEnabled", struct raw_grpc, auth_enabled),
	F_STR("issuerURL", struct raw_grpc, issuer_url),
	F_STR("audience", struct raw_grpc, audience),
	F_SEQ("allowed", struct raw_grpc, allowed, &allowed_entry),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t nats_fields[] = {
	F_BOOL("enabled", struct raw_nats, enabled),
	F_STR("url", struct raw_nats, url),
	F_STR("username", struct raw_nats, username),
	F_STR("password", struct raw_nats, password),
	F_STR("token", struct raw_nats, token),
	F_INT("maxReconnects", struct raw_nats, max_reconnects),
	/* Go client option with no meaning here: accepted so Go configs load. */
	F_BOOL("retryOnFailedConnect", struct raw_nats, retry_on_failed_connect),
	F_STR("reconnectWait", struct raw_nats, reconnect_wait),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t user_fields[] = {
	F_STR("name", struct raw_user, name),
	F_STR("authorizedKeys", struct raw_user, authorized_keys),
	CYAML_FIELD_END
};

static const cyaml_schema_value_t user_entry = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct raw_user, user_fields),
};

static const cyaml_schema_field_t identity_static_fields[] = {
	F_SEQ("users", struct raw_static, users, &user_entry),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t provisioner_static_fields[] = {
	F_STR("address", struct raw_static, address),
	F_STR("caCertPath", struct raw_static, ca_cert),
	F_STR("serverName", struct raw_static, server_name),
	CYAML_FIELD_END
};

/* Older Go versions had backend.enabled; false there disables the client. */
#define BACKEND_FIELDS \
	F_STR("address", struct raw_backend, address), \
	F_STR("tokenFilePath", struct raw_backend, token_file), \
	F_STR("caCertPath", struct raw_backend, ca_cert), \
	F_STR("serverName", struct raw_backend, server_name), \
	F_BOOL("enabled", struct raw_backend, enabled)

static const cyaml_schema_field_t backend_fields[] = {
	BACKEND_FIELDS,
	CYAML_FIELD_END
};

static const cyaml_schema_field_t identity_fields[] = {
	BACKEND_FIELDS,
	F_MAP("static", struct raw_backend, static_, identity_static_fields),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t provisioner_fields[] = {
	BACKEND_FIELDS,
	F_MAP("static", struct raw_backend, static_, provisioner_static_fields),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t top_fields[] = {
	F_MAP("server", struct raw_config, server, server_fields),
	F_MAP("privsep", struct raw_config, privsep, privsep_fields),
	F_MAP("grpc", struct raw_config, grpc, grpc_fields),
	F_MAP("nats", struct raw_config, nats, nats_fields),
	F_MAP("identity", struct raw_config, identity, identity_fields),
	F_MAP("session", struct raw_config, session, backend_fields),
	F_MAP("provisioner", struct raw_config, provisioner, provisioner_fields),
	F_MAP("authz", struct raw_config, authz, backend_fields),
	F_MAP("k8shelld", struct raw_config, k8shelld, backend_fields),
	CYAML_FIELD_END
};

/* walk_mapping tracks each field of a mapping in a fixed array. */
_Static_assert(CYAML_ARRAY_LEN(server_fields) <= WALK_MAX_FIELDS, "server_fields");
_Static_assert(CYAML_ARRAY_LEN(grpc_fields) <= WALK_MAX_FIELDS, "grpc_fields");
_Static_assert(CYAML_ARRAY_LEN(recording_fields) <= WALK_MAX_FIELDS, "recording_fields");

static const cyaml_schema_value_t top_schema = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, struct raw_config, top_fields),
};

/* Where a key and its value sit in the text, found by the walk. */
struct cfg_node {
	char path[CONFIG_PATH_LEN];
	int kline, kcol;	/* the key (sequence entries: the value) */
	int line, col;		/* the value */
	int null;		/* plain ~ / null / empty: unset, as Go reads it */
};

struct parse {
	const char *name;
	struct config_error *err;
	int failed;
	yaml_parser_t parser;
	const char *text;
	size_t len;
	struct cfg_node *nodes;
	size_t nnodes, cap;
	char **listen;
	size_t nlisten;
	int empty;		/* no document, or a null one */
	char cylog[512];	/* libcyaml's messages, for the unexpected case */
	size_t cylog_len;
};

static void
cfg_error(struct parse *p, const char *key, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void
cfg_verror(struct parse *p, const char *key, int line, int col, const char *fmt, va_list ap)
    __attribute__((format(printf, 5, 0)));

static void
cfg_verror(struct parse *p, const char *key, int line, int col, const char *fmt, va_list ap)
{
	struct config_error *err = p->err;
	size_t o;

	/* The first error is the one reported. */
	if (p->failed++)
		return;
	memset(err, 0, sizeof(*err));
	snprintf(err->file, sizeof(err->file), "%s", p->name);
	snprintf(err->key, sizeof(err->key), "%s", key ? key : "");
	err->line = line;
	err->column = col;
	/* "FILE:LINE:COL: KEY: what", leaving out what is unknown. */
	if (line > 0)
		snprintf(err->message, sizeof(err->message), "%s:%d:%d: ", p->name, line, col);
	else
		snprintf(err->message, sizeof(err->message), "%s: ", p->name);
	o = strlen(err->message);
	if (err->key[0] != '\0' && o < sizeof(err->message))
		snprintf(err->message + o, sizeof(err->message) - o, "%s: ", err->key);
	o = strlen(err->message);
	if (o < sizeof(err->message))
		vsnprintf(err->message + o, sizeof(err->message) - o, fmt, ap);
}

static void
cfg_error(struct parse *p, const char *key, int line, int col, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cfg_verror(p, key, line, col, fmt, ap);
	va_end(ap);
}

static void
cfg_syntax_error(struct parse *p)
{
	const yaml_parser_t *y = &p->parser;
	char ctx[160];
	int line, col;

	config_yaml_error_pos(y, p->text, p->len, &line, &col, ctx, sizeof(ctx));
	cfg_error(p, NULL, line, col, "YAML syntax error: %s%s",
	    y->problem ? y->problem : "unknown error", ctx);
}

static int
node_cmp(const void *a, const void *b)
{
	return strcmp(((const struct cfg_node *)a)->path, ((const struct cfg_node *)b)->path);
}

/* Only after the walk, which leaves the nodes sorted by path. */
static const struct cfg_node *
node_find(const struct parse *p, const char *path)
{
	struct cfg_node key;

	if (p->nnodes == 0 || snprintf(key.path, sizeof(key.path), "%s", path) >= (int)sizeof(key.path))
		return NULL;
	return bsearch(&key, p->nodes, p->nnodes, sizeof(*p->nodes), node_cmp);
}

/* Error at the value of path (validation after load). */
static void
cfg_error_at(struct parse *p, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
cfg_error_at(struct parse *p, const char *path, const char *fmt, ...)
{
	const struct cfg_node *n = node_find(p, path);
	va_list ap;

	va_start(ap, fmt);
	cfg_verror(p, path, n ? n->line : 0, n ? n->col : 0, fmt, ap);
	va_end(ap);
}

/* Error about a key missing under parent: points at the parent's key. */
static void
cfg_error_missing(struct parse *p, const char *path, const char *parent, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
cfg_error_missing(struct parse *p, const char *path, const char *parent, const char *fmt, ...)
{
	const struct cfg_node *n = node_find(p, parent);
	va_list ap;

	va_start(ap, fmt);
	cfg_verror(p, path, n ? n->kline : 0, n ? n->kcol : 0, fmt, ap);
	va_end(ap);
}

static void
join_path(char *buf, size_t len, const char *parent, const char *key)
{
	snprintf(buf, len, "%s%s%s", parent, parent[0] ? "." : "", key);
}

/* A value as messages show it: quoted, control bytes escaped, at most 40
 * characters (cut on a character boundary). */
static const char *
quoted(const char *s, char *buf, size_t len)
{
	size_t o = 0, chars = 0;

	buf[o++] = '"';
	for (; *s != '\0' && o + 8 < len; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c & 0xc0) != 0x80 && chars++ == 40) {
			o += (size_t)snprintf(buf + o, len - o, "...");
			break;
		}
		if (c == '"' || c == '\\')
			o += (size_t)snprintf(buf + o, len - o, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			o += (size_t)snprintf(buf + o, len - o, "\\x%02x", c);
		else
			buf[o++] = (char)c;
	}
	while (o > 1 && *s != '\0' && ((unsigned char)buf[o - 1] & 0xc0) == 0x80)
		o--;		/* out of room mid-character */
	if (o > 1 && *s != '\0' && ((unsigned char)buf[o - 1] & 0xc0) == 0xc0)
		o--;
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

/* ---- walk: the text against the schema, before libcyaml sees it ---- */

static int
walk_next(struct parse *p, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&p->parser, ev)) {
		cfg_syntax_error(p);
		return -1;
	}
	return 0;
}

static struct cfg_node *
node_add(struct parse *p, const char *path, int kline, int kcol, const yaml_event_t *ev)
{
	struct cfg_node *n;

	if (p->nnodes == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;

		if ((n = reallocarray(p->nodes, cap, sizeof(*n))) == NULL)
			return NULL;
		p->nodes = n;
		p->cap = cap;
	}
	n = &p->nodes[p->nnodes++];
	memset(n, 0, sizeof(*n));
	snprintf(n->path, sizeof(n->path), "%s", path);
	n->line = (int)ev->start_mark.line + 1;
	n->col = (int)ev->start_mark.column + 1;
	n->kline = kline ? kline : n->line;
	n->kcol = kline ? kcol : n->col;
	return n;
}

static int
scalar_null_word(const yaml_event_t *ev)
{
	static const char *const words[] = { "", "~", "null", "Null", "NULL" };
	const char *v = (const char *)ev->data.scalar.value;

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcmp(v, words[i]) == 0)
			return 1;
	return 0;
}

static int
scalar_plain_null(const yaml_event_t *ev)
{
	return ev->data.scalar.length == 0 ||
	    (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && scalar_null_word(ev));
}

static void
describe(const yaml_event_t *ev, char *buf, size_t len)
{
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		if (ev->data.scalar.length == 0)
			snprintf(buf, len, "an empty value");
		else
			quoted((const char *)ev->data.scalar.value, buf, len);
		break;
	case YAML_SEQUENCE_START_EVENT:
		snprintf(buf, len, "a list");
		break;
	case YAML_MAPPING_START_EVENT:
		snprintf(buf, len, "a mapping");
		break;
	default:
		snprintf(buf, len, "an alias");
		break;
	}
}

static const char *
expected(const cyaml_schema_value_t *v)
{
	switch (v->type) {
	case CYAML_MAPPING:
		return "a mapping";
	case CYAML_SEQUENCE:
		return "a list";
	case CYAML_INT:
		return "an integer";
	case CYAML_ENUM:
		return "a boolean (true/false)";
	case CYAML_IGNORE:
		return "an address or a list of addresses";
	default:
		return "a string";
	}
}

static int
wrong_type(struct parse *p, const char *path, const yaml_event_t *ev, const cyaml_schema_value_t *v)
{
	char got[QUOTED_LEN];

	describe(ev, got, sizeof(got));
	cfg_error(p, path, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1,
	    "expected %s, got %s", expected(v), got);
	return -1;
}

/* Strict decimal: what libcyaml's strtoll(base 0) would also read the same way. */
static int
parse_integer(const char *s, uint32_t size, long long *out)
{
	long long min = size == sizeof(int) ? INT_MIN : LLONG_MIN;
	long long max = size == sizeof(int) ? INT_MAX : LLONG_MAX;
	const char *d = s + (*s == '-' || *s == '+');
	char *end;
	long long v;

	if (*d < '0' || *d > '9' || (d[0] == '0' && d[1] != '\0'))
		return -1;
	for (const char *c = d; *c; c++)
		if (*c < '0' || *c > '9')
			return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno == ERANGE || v < min || v > max)
		return -2;
	*out = v;
	return 0;
}

static int
check_scalar(struct parse *p, const char *path, const yaml_event_t *ev, const cyaml_schema_value_t *v)
{
	const char *s = (const char *)ev->data.scalar.value;
	int null_ok = (v->flags & CYAML_FLAG_POINTER_NULL_STR) == CYAML_FLAG_POINTER_NULL_STR;
	char q[QUOTED_LEN];
	long long n;
	int rc;

	if (strlen(s) != ev->data.scalar.length) {
		cfg_error(p, path, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1,
		    "value contains a NUL byte");
		return -1;
	}
	switch (v->type) {
	case CYAML_MAPPING:
	case CYAML_SEQUENCE:
		/* "server:" with nothing under it is an empty block, as in Go. */
		if (null_ok && scalar_null_word(ev))
			return 0;
		return wrong_type(p, path, ev, v);
	case CYAML_INT:
		if (null_ok && scalar_null_word(ev))
			return 0;
		if ((rc = parse_integer(s, v->data_size, &n)) == 0)
			return 0;
		if (rc == -2)
			cfg_error(p, path, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1,
			    "integer %s is out of range", quoted(s, q, sizeof(q)));
		else
			wrong_type(p, path, ev, v);
		return -1;
	case CYAML_ENUM:
		if (null_ok && scalar_null_word(ev))
			return 0;
		for (uint32_t i = 0; i < v->enumeration.count; i++)
			if (strcasecmp(s, v->enumeration.strings[i].str) == 0)
				return 0;
		return wrong_type(p, path, ev, v);
	default:
		return 0;
	}
}

/* Edit distance of two short keys, ignoring case; large when too long. */
static size_t
key_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[65], prev, tmp;

	if (la > 64 || lb > 64)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);

			tmp = row[j];
			row[j] = prev + cost;
			if (row[j - 1] + 1 < row[j])
				row[j] = row[j - 1] + 1;
			if (tmp + 1 < row[j])
				row[j] = tmp + 1;
			prev = tmp;
		}
	}
	return row[lb];
}

static int
unknown_key(struct parse *p, const char *parent, const char *path, const char *key,
    const cyaml_schema_field_t *fields, const yaml_event_t *ev)
{
	const char *best = NULL;
	size_t bestd = SIZE_MAX;
	char hint[128] = "";

	for (const cyaml_schema_field_t *f = fields; f->key != NULL; f++) {
		size_t d = key_distance(key, f->key);

		if (d < bestd) {
			bestd = d;
			best = f->key;
		}
	}
	if (strcmp(path, "ssh") == 0)
		snprintf(hint, sizeof(hint), " (the old ssh: block is gone: use server.port and server.serverKey)");
	else if (strcmp(key, "vscode") == 0 && strncmp(parent, "server.recording.", 17) == 0)
		snprintf(hint, sizeof(hint), " (VS Code options are only valid under server.recording.directTCPIP)");
	else if (best != NULL && bestd <= 2 && bestd < strlen(key))
		snprintf(hint, sizeof(hint), " (did you mean \"%s\"?)", best);
	cfg_error(p, path, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1,
	    "unknown key%s", hint);
	return -1;
}

static int walk_value(struct parse *, const yaml_event_t *, const cyaml_schema_value_t *,
    const char *, int, int);

static int
walk_mapping(struct parse *p, const cyaml_schema_value_t *v, const char *path)
{
	yaml_event_t kev, vev;
	char sub[CONFIG_PATH_LEN];
	int seen[WALK_MAX_FIELDS] = { 0 };	/* line of each field's key */
	int rc;

	for (;;) {
		const cyaml_schema_field_t *f;
		const char *key;

		if (walk_next(p, &kev) != 0)
			return -1;
		if (kev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&kev);
			return 0;
		}
		if (kev.type != YAML_SCALAR_EVENT) {
			cfg_error(p, path, (int)kev.start_mark.line + 1, (int)kev.start_mark.column + 1,
			    "mapping keys must be strings");
			yaml_event_delete(&kev);
			return -1;
		}
		key = (const char *)kev.data.scalar.value;
		join_path(sub, sizeof(sub), path, key);
		for (f = v->mapping.fields; f->key != NULL && strcmp(f->key, key) != 0; f++)
			;
		if (f->key == NULL) {
			unknown_key(p, path, sub, key, v->mapping.fields, &kev);
			yaml_event_delete(&kev);
			return -1;
		}
		if (seen[f - v->mapping.fields] != 0) {
			cfg_error(p, sub, (int)kev.start_mark.line + 1, (int)kev.start_mark.column + 1,
			    "duplicate key (first set at line %d)", seen[f - v->mapping.fields]);
			yaml_event_delete(&kev);
			return -1;
		}
		seen[f - v->mapping.fields] = (int)kev.start_mark.line + 1;
		if (walk_next(p, &vev) != 0) {
			yaml_event_delete(&kev);
			return -1;
		}
		rc = walk_value(p, &vev, &f->value, sub, (int)kev.start_mark.line + 1,
		    (int)kev.start_mark.column + 1);
		yaml_event_delete(&kev);
		yaml_event_delete(&vev);
		if (rc != 0)
			return -1;
	}
}

static int
walk_sequence(struct parse *p, const cyaml_schema_value_t *v, const char *path)
{
	yaml_event_t ev;
	char sub[CONFIG_PATH_LEN];
	int rc;

	for (size_t i = 0;; i++) {
		if (walk_next(p, &ev) != 0)
			return -1;
		if (ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			return 0;
		}
		snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
		rc = walk_value(p, &ev, v->sequence.entry, sub, 0, 0);
		yaml_event_delete(&ev);
		if (rc != 0)
			return -1;
	}
}

static int
listen_add(struct parse *p, const char *path, const yaml_event_t *ev)
{
	char **l;

	if (ev->type != YAML_SCALAR_EVENT || scalar_plain_null(ev) ||
	    strlen((const char *)ev->data.scalar.value) != ev->data.scalar.length) {
		char got[QUOTED_LEN];

		describe(ev, got, sizeof(got));
		cfg_error(p, path, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1,
		    "expected an address, got %s", got);
		return -1;
	}
	if ((l = reallocarray(p->listen, p->nlisten + 1, sizeof(*l))) == NULL)
		return -1;
	p->listen = l;
	if ((l[p->nlisten] = strdup((const char *)ev->data.scalar.value)) == NULL)
		return -1;
	p->nlisten++;
	return 0;
}

/* server.listenAddress: one address, or a list of them. */
static int
walk_listen(struct parse *p, const yaml_event_t *ev, const char *path)
{
	yaml_event_t e;
	char sub[CONFIG_PATH_LEN];
	int rc;

	if (ev->type == YAML_SCALAR_EVENT)
		return scalar_null_word(ev) ? 0 : listen_add(p, path, ev);
	if (ev->type != YAML_SEQUENCE_START_EVENT) {
		static const cyaml_schema_value_t v = { .type = CYAML_IGNORE };

		return wrong_type(p, path, ev, &v);
	}
	for (size_t i = 0;; i++) {
		if (walk_next(p, &e) != 0)
			return -1;
		if (e.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&e);
			return 0;
		}
		snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
		rc = node_add(p, sub, 0, 0, &e) == NULL ? -1 : listen_add(p, sub, &e);
		yaml_event_delete(&e);
		if (rc != 0)
			return -1;
	}
}

static int
walk_value(struct parse *p, const yaml_event_t *ev, const cyaml_schema_value_t *v, const char *path,
    int kline, int kcol)
{
	struct cfg_node *n;

	if ((n = node_add(p, path, kline, kcol, ev)) == NULL) {
		cfg_error(p, path, 0, 0, "out of memory");
		return -1;
	}
	if (ev->type == YAML_ALIAS_EVENT) {
		cfg_error(p, path, n->line, n->col, "YAML aliases are not supported");
		return -1;
	}
	if (v->type == CYAML_IGNORE)
		return walk_listen(p, ev, path);
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		n->null = scalar_plain_null(ev);
		return check_scalar(p, path, ev, v);
	case YAML_MAPPING_START_EVENT:
		if (v->type != CYAML_MAPPING)
			return wrong_type(p, path, ev, v);
		return walk_mapping(p, v, path);
	case YAML_SEQUENCE_START_EVENT:
		if (v->type != CYAML_SEQUENCE)
			return wrong_type(p, path, ev, v);
		return walk_sequence(p, v, path);
	default:
		cfg_error(p, path, n->line, n->col, "unexpected YAML event");
		return -1;
	}
}

static int
walk_document(struct parse *p)
{
	yaml_event_t ev;
	int rc = -1;

	if (walk_next(p, &ev) != 0)		/* stream start */
		return -1;
	yaml_event_delete(&ev);
	if (walk_next(p, &ev) != 0)
		return -1;
	if (ev.type == YAML_STREAM_END_EVENT) {
		yaml_event_delete(&ev);
		p->empty = 1;
		return 0;
	}
	yaml_event_delete(&ev);			/* document start */
	if (walk_next(p, &ev) != 0)
		return -1;
	if (ev.type == YAML_SCALAR_EVENT && scalar_null_word(&ev)) {
		p->empty = 1;
		rc = 0;
	} else if (ev.type == YAML_MAPPING_START_EVENT)
		rc = walk_mapping(p, &top_schema, "");
	else {
		rc = wrong_type(p, NULL, &ev, &top_schema);
	}
	yaml_event_delete(&ev);
	if (rc != 0)
		return -1;
	if (walk_next(p, &ev) != 0)		/* document end */
		return -1;
	yaml_event_delete(&ev);
	if (walk_next(p, &ev) != 0)
		return -1;
	if (ev.type != YAML_STREAM_END_EVENT) {
		cfg_error(p, NULL, (int)ev.start_mark.line + 1, (int)ev.start_mark.column + 1,
		    "only one YAML document is allowed");
		rc = -1;
	}
	yaml_event_delete(&ev);
	return rc;
}

/* libyaml emits events as it scans, so the walk can fail on a value (a plain
 * scalar swallowing a mis-indented line) before the syntax error behind it:
 * the syntax error is the one to report. */
static void
syntax_outranks(struct parse *p)
{
	yaml_event_t ev;

	if (p->parser.error != YAML_NO_ERROR)
		return;
	for (;;) {
		if (!yaml_parser_parse(&p->parser, &ev)) {
			p->failed = 0;
			cfg_syntax_error(p);
			return;
		}
		if (ev.type == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&ev);
			return;
		}
		yaml_event_delete(&ev);
	}
}

/* ---- libcyaml ---- */

/* Plain realloc/free, but wipes what it frees: decoded values hold secrets. */
static void *
cyaml_mem_wipe(void *ctx, void *ptr, size_t size)
{
	(void)ctx;
	if (size == 0) {
		if (ptr != NULL)
			explicit_bzero(ptr, malloc_usable_size(ptr));
		free(ptr);
		return NULL;
	}
	return realloc(ptr, size);
}

static void
cyaml_log_capture(cyaml_log_t level, void *ctx, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static void
cyaml_log_capture(cyaml_log_t level, void *ctx, const char *fmt, va_list ap)
{
	struct parse *p = ctx;
	int n;

	if (level < CYAML_LOG_WARNING || p->cylog_len >= sizeof(p->cylog) - 1)
		return;
	n = vsnprintf(p->cylog + p->cylog_len, sizeof(p->cylog) - p->cylog_len, fmt, ap);
	if (n > 0)
		p->cylog_len += (size_t)n;
	if (p->cylog_len > sizeof(p->cylog) - 1)
		p->cylog_len = sizeof(p->cylog) - 1;
}

/* The walk accepts only what libcyaml loads; should they ever disagree, its
 * own message and backtrace position still reach the user. */
static void
cyaml_failed(struct parse *p, cyaml_err_t e)
{
	const char *msg = p->cylog, *at;
	int line = 0, col = 0;
	size_t n;

	if (strncmp(msg, "Load: ", 6) == 0)
		msg += 6;
	n = strcspn(msg, "\n");
	if ((at = strstr(p->cylog, "(line: ")) != NULL && sscanf(at, "(line: %d, column: %d)", &line, &col) != 2)
		line = col = 0;
	cfg_error(p, NULL, line, col, "%.*s (libcyaml: %s)", (int)n, msg, cyaml_strerror(e));
}

/* ---- conversion, defaults, validation ---- */

static void
str_free(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

static char *
xstrdup(struct parse *p, const char *s)
{
	char *d = strdup(s);

	if (d == NULL)
		cfg_error(p, NULL, 0, 0, "out of memory");
	return d;
}

/* Moves a decoded string out (raw slot cleared), or the default when unset. */
static char *
take_str(struct parse *p, char **raw, const char *path, const char *dflt)
{
	const struct cfg_node *n = node_find(p, path);
	char *s = *raw;

	*raw = NULL;
	if (s != NULL && !(n != NULL && n->null))
		return s;
	str_free(s);
	return xstrdup(p, dflt);
}

static bool
get_bool(const int *v, bool dflt)
{
	return v != NULL ? *v != 0 : dflt;
}

static int
get_tristate(const int *v)
{
	return v != NULL ? *v != 0 : -1;
}

static char **
take_str_list(struct parse *p, char ***raw, unsigned count, const char *path, size_t *out_count)
{
	char **l = *raw;
	char sub[CONFIG_PATH_LEN];

	*raw = NULL;
	*out_count = count;
	for (unsigned i = 0; i < count; i++) {
		const struct cfg_node *n;

		snprintf(sub, sizeof(sub), "%s[%u]", path, i);
		n = node_find(p, sub);
		if (l[i] == NULL || l[i][0] == '\0' || (n != NULL && n->null)) {
			cfg_error_at(p, sub, "empty entry");
			if (l[i] == NULL && (l[i] = strdup("")) == NULL)
				cfg_error(p, NULL, 0, 0, "out of memory");
		}
	}
	return l;
}

/* Go time.ParseDuration syntax, not negative: "0", "2s", "1m30s", "1.5h". */
static int
duration_ok(const char *s)
{
	static const char *const units[] = { "ns", "us", "\xc2\xb5s", "\xce\xbcs", "ms", "s", "m", "h" };

	if (*s == '+')
		s++;
	if (strcmp(s, "0") == 0)
		return 1;
	if (*s == '\0')
		return 0;
	while (*s != '\0') {
		int digits = 0;
		size_t best = 0;

		while (*s >= '0' && *s <= '9') {
			s++;
			digits++;
		}
		if (*s == '.') {
			s++;
			while (*s >= '0' && *s <= '9') {
				s++;
				digits++;
			}
		}
		if (digits == 0)
			return 0;
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			size_t l = strlen(units[i]);

			if (strncmp(s, units[i], l) == 0 && l > best)
				best = l;
		}
		if (best == 0)
			return 0;
		s += best;
	}
	return 1;
}

static char *
take_duration(struct parse *p, char **raw, const char *path, const char *dflt)
{
	char *s = take_str(p, raw, path, dflt), q[QUOTED_LEN];

	if (s == NULL)
		return NULL;
	if (!duration_ok(s)) {
		cfg_error_at(p, path, "expected a duration such as \"2s\", \"500ms\" or \"1m30s\", got %s",
		    quoted(s, q, sizeof(q)));
		return s;
	}
	/* Go reads a zero duration as "use the default". */
	if (strspn(s, "+0.nsuµμmh") == strlen(s) && strpbrk(s, "123456789") == NULL) {
		str_free(s);
		s = xstrdup(p, dflt);
	}
	return s;
}

static int
parse_count(const char **s, int *out)
{
	long v = 0;
	int digits = 0;

	while (**s >= '0' && **s <= '9') {
		v = v * 10 + (**s - '0');
		if (v > INT_MAX)
			return -1;
		(*s)++;
		digits++;
	}
	*out = (int)v;
	return digits ? 0 : -1;
}

/* MaxStartups as in sshd: "start:rate:full", or "N" meaning N:100:N. */
static void
max_startups(struct parse *p, struct config *cfg)
{
	const char *path = "server.maxStartups", *s = cfg->server.max_startups_text;
	char q[QUOTED_LEN];
	int b, r, f;

	if (parse_count(&s, &b) != 0)
		goto syntax;
	if (*s == '\0') {
		r = 100;
		f = b;
	} else if (*s++ != ':' || parse_count(&s, &r) != 0 || *s++ != ':' || parse_count(&s, &f) != 0 ||
	    *s != '\0')
		goto syntax;
	if (f < 1) {
		cfg_error_at(p, path, "full must be at least 1, got %d", f);
		return;
	}
	if (b > f) {
		cfg_error_at(p, path, "start (%d) must not exceed full (%d)", b, f);
		return;
	}
	if (r < 1 || r > 100) {
		cfg_error_at(p, path, "rate must be between 1 and 100, got %d", r);
		return;
	}
	cfg->server.max_startups_begin = b;
	cfg->server.max_startups_rate = r;
	cfg->server.max_startups_full = f;
	return;
syntax:
	cfg_error_at(p, path, "expected \"start:rate:full\" or a number, got %s",
	    quoted(cfg->server.max_startups_text, q, sizeof(q)));
}

static int
int_in(struct parse *p, const int *v, int dflt, int min, int max, const char *path)
{
	int x = v != NULL ? *v : dflt;

	if (x < min || x > max) {
		if (max == INT_MAX)
			cfg_error_at(p, path, "must be at least %d, got %d", min, x);
		else
			cfg_error_at(p, path, "must be between %d and %d, got %d", min, max, x);
		return dflt;
	}
	return x;
}

/* Go reads 0 as "use the default"; a negative value is a mistake. */
static int
int_zero_default(struct parse *p, const int *v, int dflt, const char *path)
{
	if (v == NULL || *v == 0)
		return dflt;
	if (*v < 0) {
		cfg_error_at(p, path, "must not be negative, got %d", *v);
		return dflt;
	}
	return *v;
}

static void
conv_stream(struct parse *p, struct config_recording_stream *s, struct raw_stream *r, const char *name)
{
	struct raw_stream empty = { 0 };
	char path[CONFIG_PATH_LEN];

	if (r == NULL)
		r = &empty;
	snprintf(path, sizeof(path), "server.recording.%s.format", name);
	s->format = take_str(p, &r->format, path, "");
	s->gzip = get_tristate(r->gzip);
	s->vscode_terminals = get_tristate(r->vscode ? r->vscode->terminals : NULL);
	s->vscode_record_input = get_tristate(r->vscode ? r->vscode->record_input : NULL);
}

static void
check_stream(struct parse *p, const struct config_recording_stream *s, const char *name, int tcpip)
{
	char path[CONFIG_PATH_LEN], q[QUOTED_LEN];

	if (s->format == NULL)
		return;
	snprintf(path, sizeof(path), "server.recording.%s.format", name);
	if (strcmp(s->format, "") != 0 && strcmp(s->format, "asciinema") != 0 &&
	    strcmp(s->format, "pcapng") != 0 && strcmp(s->format, "none") != 0)
		cfg_error_at(p, path, "unknown format %s (want asciinema, pcapng or none)",
		    quoted(s->format, q, sizeof(q)));
	else if (strcmp(s->format, "none") == 0 && (!tcpip || s->vscode_terminals != 1))
		cfg_error_at(p, path, "none is only valid for directTCPIP with vscode.terminals enabled");
}

/* The listener's grammar: "host", "host:port", "[v6]" or "[v6]:port"; a bare
 * IPv6 address has several colons and no port. */
static int
listen_entry_ok(const char *e)
{
	const char *port = NULL, *colon;
	int n;

	if (e[0] == '\0' || strpbrk(e, " \t") != NULL)
		return 0;
	if (e[0] == '[') {
		const char *rb = strchr(e, ']');

		if (rb == NULL || rb == e + 1 || (rb[1] != '\0' && rb[1] != ':'))
			return 0;
		if (rb[1] == ':')
			port = rb + 2;
	} else if ((colon = strchr(e, ':')) != NULL && strchr(colon + 1, ':') == NULL) {
		if (colon == e)
			return 0;
		port = colon + 1;
	}
	if (port == NULL)
		return 1;
	if (parse_count(&port, &n) != 0 || *port != '\0')
		return 0;
	return n >= 1 && n <= 65535;
}

static void
conv_server(struct parse *p, struct config *cfg, struct raw_server *r)
{
	struct raw_server empty = { 0 };
	struct raw_writer wempty = { 0 }, *w;
	struct raw_publish pempty = { 0 }, *pub;
	struct raw_recording rempty = { 0 }, *rec;
	typeof(cfg->server) *s = &cfg->server;

	if (r == NULL)
		r = &empty;
	/* None given: the listener binds every address, IPv4 and IPv6. */
	s->listen_address = p->listen;
	s->listen_address_count = p->nlisten;
	p->listen = NULL;
	p->nlisten = 0;
	for (size_t i = 0; i < s->listen_address_count; i++) {
		char path[CONFIG_PATH_LEN], q[QUOTED_LEN];

		snprintf(path, sizeof(path), "server.listenAddress[%zu]", i);
		if (node_find(p, path) == NULL)
			snprintf(path, sizeof(path), "server.listenAddress");
		if (!listen_entry_ok(s->listen_address[i]))
			cfg_error_at(p, path, "expected host, host:port or [v6]:port (port 1-65535), got %s",
			    quoted(s->listen_address[i], q, sizeof(q)));
	}

	if (r->port == NULL)
		cfg_error_missing(p, "server.port", "server", "required key is missing");
	else
		s->port = int_in(p, r->port, 0, 1, 65535, "server.port");
	s->server_key = take_str(p, &r->server_key, "server.serverKey", "");
	s->host_keys = take_str_list(p, &r->host_keys, r->host_keys_count, "server.hostKeys",
	    &s->host_keys_count);
	r->host_keys_count = 0;
	if (s->server_key != NULL && s->server_key[0] == '\0' && s->host_keys_count == 0)
		cfg_error_missing(p, "server.serverKey", "server",
		    "no host key configured (set server.serverKey or server.hostKeys)");
	s->forking = get_bool(r->forking, false);
	s->proxy_protocol = get_bool(r->proxy_protocol, false);
	s->handshake_timeout = int_zero_default(p, r->handshake_timeout, DEFAULT_HANDSHAKE_TIMEOUT,
	    "server.SSHHandshakeTimeout");
	s->max_direct_tcpip = int_zero_default(p, r->max_direct_tcpip, DEFAULT_MAX_DIRECT_TCPIP,
	    "server.maxDirectTCPIPConnections");
	s->max_auth_tries = int_in(p, r->max_auth_tries, DEFAULT_MAX_AUTH_TRIES, 1, INT_MAX,
	    "server.maxAuthTries");
	s->drain_timeout = int_in(p, r->drain_timeout, 0, 0, INT_MAX, "server.drainTimeout");
	s->max_startups_text = take_str(p, &r->max_startups, "server.maxStartups", DEFAULT_MAX_STARTUPS);
	if (s->max_startups_text != NULL)
		max_startups(p, cfg);

	w = r->writer ? r->writer : &wempty;
	s->writer.show_provision_info = get_bool(w->show_provision_info, false);
	s->writer.show_pulse = get_bool(w->show_pulse, false);
	s->writer.show_percentage = get_bool(w->show_percentage, false);
	s->writer.show_errors = get_bool(w->show_errors, false);
	s->writer.show_system_errors = get_bool(w->show_system_errors, false);
	/* The Go writer's rules, applied once here: provisioning lines replace
	 * the spinner, and the percentage lives on the spinner line. */
	if (s->writer.show_provision_info)
		s->writer.show_pulse = false;
	if (!s->writer.show_pulse)
		s->writer.show_percentage = false;

	s->sftp_binary = take_str(p, &r->sftp_binary, "server.sftpBinary", DEFAULT_SFTP_BINARY);

	pub = r->publish ? r->publish : &pempty;
	s->publish_failures.enabled = get_bool(pub->enabled, false);
	s->publish_failures.subject = take_str(p, &pub->subject, "server.publishSshFailures.subject", "");
	s->publish_failures.public_ip_only = get_bool(pub->public_ip_only, false);
	s->publish_failures.whitelist = take_str_list(p, &pub->whitelist, pub->whitelist_count,
	    "server.publishSshFailures.whitelist", &s->publish_failures.whitelist_count);
	pub->whitelist_count = 0;

	rec = r->recording ? r->recording : &rempty;
	s->recording.record_shell = get_bool(rec->record_shell, false);
	s->recording.record_exec = get_bool(rec->record_exec, false);
	s->recording.record_sftp = get_bool(rec->record_sftp, false);
	s->recording.record_direct_tcpip = get_bool(rec->record_direct_tcpip, false);
	s->recording.buffer_bytes = rec->buffer_bytes ? *rec->buffer_bytes : 0;
	if (s->recording.buffer_bytes < 0)
		cfg_error_at(p, "server.recording.bufferBytes", "must not be negative, got %ld",
		    s->recording.buffer_bytes);
	if (s->recording.buffer_bytes <= 0)
		s->recording.buffer_bytes = DEFAULT_BUFFER_BYTES;
	conv_stream(p, &s->recording.shell, rec->shell, "shell");
	conv_stream(p, &s->recording.exec, rec->exec, "exec");
	conv_stream(p, &s->recording.sftp, rec->sftp, "sftp");
	conv_stream(p, &s->recording.direct_tcpip, rec->direct_tcpip, "directTCPIP");
}

static void
conv_backend(struct parse *p, struct config_backend *b, struct raw_backend *r, const char *name)
{
	struct raw_backend empty = { 0 };
	char path[CONFIG_PATH_LEN];

	if (r == NULL)
		r = &empty;
	join_path(path, sizeof(path), name, "address");
	b->address = take_str(p, &r->address, path, "");
	join_path(path, sizeof(path), name, "tokenFilePath");
	b->token_file = take_str(p, &r->token_file, path, "");
	join_path(path, sizeof(path), name, "caCertPath");
	b->ca_cert = take_str(p, &r->ca_cert, path, "");
	join_path(path, sizeof(path), name, "serverName");
	b->server_name = take_str(p, &r->server_name, path, "");
	if (!get_bool(r->enabled, true) && b->address != NULL)
		b->address[0] = '\0';
}

static void
conv_grpc(struct parse *p, struct config *cfg, struct raw_grpc *r)
{
	struct raw_grpc empty = { 0 };
	typeof(cfg->grpc) *g = &cfg->grpc;
	char path[CONFIG_PATH_LEN];

	if (r == NULL)
		r = &empty;
	g->port = int_in(p, r->port, 0, 0, 65535, "grpc.port");
	g->enable_tls = get_bool(r->enable_tls, false);
	g->cert_file = take_str(p, &r->cert_file, "grpc.certFile", "");
	g->key_file = take_str(p, &r->key_file, "grpc.keyFile", "");
	g->cert_reload_delay = take_duration(p, &r->cert_reload_delay, "grpc.certReloadDelay",
	    DEFAULT_CERT_RELOAD_DELAY);
	g->auth_enabled = get_bool(r->auth_enabled, false);
	g->issuer_url = take_str(p, &r->issuer_url, "grpc.issuerURL", DEFAULT_ISSUER_URL);
	g->audience = take_str(p, &r->audience, "grpc.audience", "");
	if (g->port != 0 && g->enable_tls && g->cert_file != NULL && g->key_file != NULL) {
		if (g->cert_file[0] == '\0')
			cfg_error_missing(p, "grpc.certFile", "grpc", "required when grpc.enableTLS is true");
		else if (g->key_file[0] == '\0')
			cfg_error_missing(p, "grpc.keyFile", "grpc", "required when grpc.enableTLS is true");
	}
	if (r->allowed_count > 0 && (g->allowed = calloc(r->allowed_count, sizeof(*g->allowed))) == NULL) {
		cfg_error(p, NULL, 0, 0, "out of memory");
		return;
	}
	g->allowed_count = r->allowed_count;
	for (unsigned i = 0; i < r->allowed_count; i++) {
		snprintf(path, sizeof(path), "grpc.allowed[%u].namespace", i);
		g->allowed[i].namespace_ = take_str(p, &r->allowed[i].namespace_, path, "");
		snprintf(path, sizeof(path), "grpc.allowed[%u].serviceAccount", i);
		g->allowed[i].service_account = take_str(p, &r->allowed[i].service_account, path, "");
	}
}

static void
conv_nats(struct parse *p, struct config *cfg, struct raw_nats *r)
{
	struct raw_nats empty = { 0 };
	typeof(cfg->nats) *n = &cfg->nats;

	if (r == NULL)
		r = &empty;
	n->enabled = get_bool(r->enabled, false);
	n->url = take_str(p, &r->url, "nats.url", "");
	n->username = take_str(p, &r->username, "nats.username", "");
	n->password = take_str(p, &r->password, "nats.password", "");
	n->token = take_str(p, &r->token, "nats.token", "");
	n->max_reconnects = r->max_reconnects ? *r->max_reconnects : 0;
	n->reconnect_wait = take_duration(p, &r->reconnect_wait, "nats.reconnectWait", DEFAULT_RECONNECT_WAIT);
}

static void
conv_static(struct parse *p, struct config *cfg, struct raw_backend *id, struct raw_backend *prov)
{
	struct raw_static *st = id ? id->static_ : NULL;
	char path[CONFIG_PATH_LEN], q[QUOTED_LEN];
	unsigned count = st ? st->users_count : 0;

	if (count > 0 && (cfg->identity_static.users = calloc(count, sizeof(struct config_static_user))) == NULL) {
		cfg_error(p, NULL, 0, 0, "out of memory");
		return;
	}
	cfg->identity_static.users_count = count;
	for (unsigned i = 0; i < count; i++) {
		struct config_static_user *u = &cfg->identity_static.users[i];

		snprintf(path, sizeof(path), "identity.static.users[%u].name", i);
		u->name = take_str(p, &st->users[i].name, path, "");
		if (u->name != NULL && u->name[0] == '\0') {
			char entry[CONFIG_PATH_LEN];

			snprintf(entry, sizeof(entry), "identity.static.users[%u]", i);
			cfg_error_missing(p, path, entry, "required key is missing");
		}
		for (unsigned j = 0; u->name != NULL && j < i; j++)
			if (cfg->identity_static.users[j].name != NULL &&
			    strcmp(cfg->identity_static.users[j].name, u->name) == 0)
				cfg_error_at(p, path, "user %s is already defined (users[%u])",
				    quoted(u->name, q, sizeof(q)), j);
		snprintf(path, sizeof(path), "identity.static.users[%u].authorizedKeys", i);
		u->authorized_keys = take_str(p, &st->users[i].authorized_keys, path, "");
		if (u->authorized_keys != NULL && u->authorized_keys[0] == '\0') {
			char entry[CONFIG_PATH_LEN];

			snprintf(entry, sizeof(entry), "identity.static.users[%u]", i);
			cfg_error_missing(p, path, entry, "required key is missing");
		}
	}
	st = prov ? prov->static_ : NULL;
	cfg->provisioner_static.address = take_str(p, st ? &st->address : &(char *){ NULL },
	    "provisioner.static.address", "");
	cfg->provisioner_static.ca_cert = take_str(p, st ? &st->ca_cert : &(char *){ NULL },
	    "provisioner.static.caCertPath", "");
	cfg->provisioner_static.server_name = take_str(p,
	    st ? &st->server_name : &(char *){ NULL }, "provisioner.static.serverName", "");
}

static void
conv_privsep(struct parse *p, struct config *cfg, struct raw_privsep *r)
{
	struct raw_privsep empty = { 0 };

	if (r == NULL)
		r = &empty;
	cfg->privsep.user = take_str(p, &r->user, "privsep.user", DEFAULT_PRIVSEP_USER);
	cfg->privsep.max_signatures = int_in(p, r->max_signatures, DEFAULT_MAX_SIGNATURES, 1, INT_MAX,
	    "privsep.maxSignatures");
}

static void
convert(struct parse *p, struct config *cfg, struct raw_config *r)
{
	conv_server(p, cfg, r->server);
	conv_privsep(p, cfg, r->privsep);
	conv_grpc(p, cfg, r->grpc);
	conv_nats(p, cfg, r->nats);
	conv_backend(p, &cfg->identity, r->identity, "identity");
	conv_backend(p, &cfg->session, r->session, "session");
	conv_backend(p, &cfg->provisioner, r->provisioner, "provisioner");
	conv_backend(p, &cfg->authz, r->authz, "authz");
	conv_backend(p, &cfg->k8shelld, r->k8shelld, "k8shelld");
	conv_static(p, cfg, r->identity, r->provisioner);

	/* Go's temporary default: with a session service, port-forwards record
	 * VS Code terminals (and keystrokes) unless configured otherwise. */
	if (cfg->session.address != NULL && cfg->session.address[0] != '\0') {
		struct config_recording_stream *t = &cfg->server.recording.direct_tcpip;

		if (t->vscode_terminals == -1)
			t->vscode_terminals = 1;
		if (t->vscode_record_input == -1)
			t->vscode_record_input = 1;
	}
	check_stream(p, &cfg->server.recording.shell, "shell", 0);
	check_stream(p, &cfg->server.recording.exec, "exec", 0);
	check_stream(p, &cfg->server.recording.sftp, "sftp", 0);
	check_stream(p, &cfg->server.recording.direct_tcpip, "directTCPIP", 1);
}

static void
str_list_free(char **l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		str_free(l[i]);
	free(l);
}

static void
backend_free(struct config_backend *b)
{
	str_free(b->address);
	str_free(b->token_file);
	str_free(b->ca_cert);
	str_free(b->server_name);
}

static void
stream_free(struct config_recording_stream *s)
{
	str_free(s->format);
}

void
config_free(struct config *cfg)
{
	if (cfg == NULL)
		return;
	str_free(cfg->path);
	str_list_free(cfg->server.listen_address, cfg->server.listen_address_count);
	str_free(cfg->server.server_key);
	str_list_free(cfg->server.host_keys, cfg->server.host_keys_count);
	str_free(cfg->server.max_startups_text);
	str_free(cfg->server.sftp_binary);
	str_free(cfg->server.publish_failures.subject);
	str_list_free(cfg->server.publish_failures.whitelist, cfg->server.publish_failures.whitelist_count);
	stream_free(&cfg->server.recording.shell);
	stream_free(&cfg->server.recording.exec);
	stream_free(&cfg->server.recording.sftp);
	stream_free(&cfg->server.recording.direct_tcpip);
	str_free(cfg->privsep.user);
	str_free(cfg->grpc.cert_file);
	str_free(cfg->grpc.key_file);
	str_free(cfg->grpc.cert_reload_delay);
	str_free(cfg->grpc.issuer_url);
	str_free(cfg->grpc.audience);
	for (size_t i = 0; i < cfg->grpc.allowed_count; i++) {
		str_free(cfg->grpc.allowed[i].namespace_);
		str_free(cfg->grpc.allowed[i].service_account);
	}
	free(cfg->grpc.allowed);
	str_free(cfg->nats.url);
	str_free(cfg->nats.username);
	str_free(cfg->nats.password);
	str_free(cfg->nats.token);
	str_free(cfg->nats.reconnect_wait);
	backend_free(&cfg->identity);
	for (size_t i = 0; i < cfg->identity_static.users_count; i++) {
		str_free(cfg->identity_static.users[i].name);
		str_free(cfg->identity_static.users[i].authorized_keys);
	}
	free(cfg->identity_static.users);
	backend_free(&cfg->session);
	backend_free(&cfg->provisioner);
	str_free(cfg->provisioner_static.address);
	str_free(cfg->provisioner_static.ca_cert);
	str_free(cfg->provisioner_static.server_name);
	backend_free(&cfg->authz);
	backend_free(&cfg->k8shelld);
	explicit_bzero(cfg, sizeof(*cfg));
	free(cfg);
}

int
config_parse(const char *text, size_t len, const char *name, struct config **out,
    struct config_error *err)
{
	struct config_error scratch;
	struct parse p = { .name = name ? name : "(config)", .err = err ? err : &scratch,
	    .text = text, .len = len };
	cyaml_config_t cy = { .log_fn = cyaml_log_capture, .log_ctx = &p, .mem_fn = cyaml_mem_wipe,
	    .log_level = CYAML_LOG_WARNING, .flags = CYAML_CFG_NO_ALIAS };
	struct raw_config *raw = NULL;
	struct config *cfg = NULL;
	cyaml_err_t e;

	*out = NULL;
	if (len > CONFIG_MAX_TEXT) {
		cfg_error(&p, NULL, 0, 0, "configuration is larger than %d bytes", CONFIG_MAX_TEXT);
		return -1;
	}
	if (!yaml_parser_initialize(&p.parser)) {
		cfg_error(&p, NULL, 0, 0, "out of memory");
		return -1;
	}
	yaml_parser_set_encoding(&p.parser, YAML_UTF8_ENCODING);
	yaml_parser_set_input_string(&p.parser, (const unsigned char *)text, len);
	if (walk_document(&p) != 0) {
		syntax_outranks(&p);
		goto out;
	}
	/* Paths are unique (duplicates were refused): sort once, look up fast. */
	if (p.nnodes > 1)
		qsort(p.nodes, p.nnodes, sizeof(*p.nodes), node_cmp);

	/* An empty file still yields every default (and the missing-port error). */
	if (p.empty)
		e = cyaml_load_data((const uint8_t *)"{}", 2, &cy, &top_schema, (cyaml_data_t **)&raw, NULL);
	else
		e = cyaml_load_data((const uint8_t *)text, len, &cy, &top_schema, (cyaml_data_t **)&raw, NULL);
	if (e != CYAML_OK || raw == NULL) {
		cyaml_failed(&p, e);
		goto out;
	}
	if ((cfg = calloc(1, sizeof(*cfg))) == NULL) {
		cfg_error(&p, NULL, 0, 0, "out of memory");
		goto out;
	}
	cfg->path = xstrdup(&p, p.name);
	convert(&p, cfg, raw);
out:
	if (raw != NULL)
		cyaml_free(&cy, &top_schema, raw, 0);
	yaml_parser_delete(&p.parser);
	free(p.nodes);
	str_list_free(p.listen, p.nlisten);
	if (p.failed) {
		config_free(cfg);
		return -1;
	}
	*out = cfg;
	return 0;
}

int
config_load(const char *path, struct config **out, struct config_error *err)
{
	char *text;
	size_t len;
	int rc;

	*out = NULL;
	if (config_prepass(path, &text, &len, err) != 0)
		return -1;
	rc = config_parse(text, len, path, out, err);
	config_text_free(text, len);
	return rc;
}

size_t
config_host_key_paths(const struct config *cfg, const char **paths, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i <= cfg->server.host_keys_count && n < max; i++) {
		const char *k = i == 0 ? cfg->server.server_key : cfg->server.host_keys[i - 1];
		size_t j;

		if (k == NULL || k[0] == '\0')
			continue;
		for (j = 0; j < n && strcmp(paths[j], k) != 0; j++)
			;
		if (j == n)
			paths[n++] = k;
	}
	return n;
}
