/* Configuration: the Go ssh-proxy's config.yaml keys unchanged, plus ours.
 * Loaded by the listener (and by a child run by hand); the child also parses the
 * resolved text its monitor sends. Field comments give the YAML key. */
#ifndef DAEMON_CONFIG_H
#define DAEMON_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

/* identity/session/provisioner/authz/k8shelld: a gRPC backend */
struct config_backend {
	char *address;		/* .address; "" = disabled */
	char *token_file;	/* .tokenFilePath */
	char *ca_cert;		/* .caCertPath; "" = plaintext */
	char *server_name;	/* .serverName */
};

struct config_static_user {
	char *name;		/* identity.static.users[].name */
	char *authorized_keys;	/* identity.static.users[].authorizedKeys (path, authorized_keys format) */
};

struct config_recording_stream {
	char *format;		/* "" | asciinema | pcapng | none */
	int gzip;		/* -1 unset, 0, 1 */
	int vscode_terminals;	/* directTCPIP only: -1 unset, 0, 1 */
	int vscode_record_input;/* directTCPIP only: -1 unset, 0, 1 */
};

struct config_grpc_allowed {
	char *namespace_;	/* grpc.allowed[].namespace */
	char *service_account;	/* grpc.allowed[].serviceAccount */
};

struct config {
	char *path;			/* file it was loaded from */

	struct {
		char **listen_address;	/* server.listenAddress: string or list; default all (IPv4+IPv6) */
		size_t listen_address_count;
		int port;		/* server.port (required, 1..65535) */
		char *server_key;	/* server.serverKey (Go key: one host key file) */
		char **host_keys;	/* server.hostKeys (list) */
		size_t host_keys_count;
		bool forking;		/* server.forking (accepted; we always fork) */
		bool proxy_protocol;	/* server.proxyProtocol */
		int handshake_timeout;	/* server.SSHHandshakeTimeout seconds, default 30 */
		int max_direct_tcpip;	/* server.maxDirectTCPIPConnections, default 15 */
		int max_auth_tries;	/* server.maxAuthTries (ours), default 6 */
		int drain_timeout;	/* server.drainTimeout seconds (ours), 0 = wait for sessions */
		char *max_startups_text;/* server.maxStartups "start:rate:full" (ours), default "10:30:100" */
		int max_startups_begin, max_startups_rate, max_startups_full;
		struct {
			bool show_provision_info, show_pulse, show_percentage;
			bool show_errors, show_system_errors;
		} writer;		/* server.writerOptions.* */
		char *sftp_binary;	/* server.sftpBinary, default /usr/local/bin/sftp */
		struct {
			bool enabled;
			char *subject;
			bool public_ip_only;
			char **whitelist;
			size_t whitelist_count;
		} publish_failures;	/* server.publishSshFailures.* */
		struct {
			bool record_shell, record_exec, record_sftp, record_direct_tcpip;
			long buffer_bytes;	/* 0 -> 8 MiB */
			struct config_recording_stream shell, exec, sftp, direct_tcpip;
		} recording;		/* server.recording.* */
	} server;

	struct {
		char *user;		/* privsep.user (ours), default "nobody" */
		int max_signatures;	/* privsep.maxSignatures (ours): host-key signatures per connection, default 64 */
	} privsep;

	struct {
		int port;		/* grpc.port, 0 = control API disabled */
		bool enable_tls;
		char *cert_file, *key_file;
		char *cert_reload_delay;/* duration text, default "2s" */
		bool auth_enabled;
		char *issuer_url, *audience;
		struct config_grpc_allowed *allowed;
		size_t allowed_count;
	} grpc;

	struct {
		bool enabled;
		char *url, *username, *password, *token;
		int max_reconnects;
		char *reconnect_wait;	/* duration text, default "2s" */
	} nats;

	struct config_backend identity;
	struct {
		struct config_static_user *users;	/* identity.static.users */
		size_t users_count;
	} identity_static;
	struct config_backend session;
	struct config_backend provisioner;
	struct {
		char *address;		/* provisioner.static.address (ours), e.g. 127.0.0.1:2822 */
		char *ca_cert;		/* provisioner.static.caCertPath: "" plaintext, else TLS with this CA */
		char *server_name;	/* provisioner.static.serverName: TLS name ("" from address) */
	} provisioner_static;
	struct config_backend authz;
	struct config_backend k8shelld;
};

/* Where a load failed: every message names file, key, line and column. */
struct config_error {
	char file[256];
	char key[128];		/* dotted path, e.g. "server.port" */
	int line, column;	/* 1-based; 0 when unknown */
	char message[512];	/* full human text: "FILE:LINE:COL: KEY: what is wrong" */
};

/* Resolves ${VAR} and !file tags (libyaml pre-pass) into YAML text; *text is
 * malloc'd and holds secrets: free with config_text_free(). */
int config_prepass(const char *path, char **text, size_t *len, struct config_error *err);
void config_text_free(char *text, size_t len);

/* Parses resolved YAML text (name used in messages), applies defaults, validates. */
int config_parse(const char *text, size_t len, const char *name, struct config **out,
    struct config_error *err);

/* config_prepass + config_parse. Returns 0, or -1 with err filled in. */
int config_load(const char *path, struct config **out, struct config_error *err);
void config_free(struct config *cfg);

/* Host-key paths in order: server.serverKey first, then server.hostKeys. */
size_t config_host_key_paths(const struct config *cfg, const char **paths, size_t max);

#endif
