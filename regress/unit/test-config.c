/* Unit tests of the config loader (daemon/config.h): good files with exact
 * values and defaults, and every error class with its file, key, line, column. */
#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/config.h"

#ifndef CONFIG_TESTDIR
#error CONFIG_TESTDIR must name regress/unit/configs
#endif
#ifndef CONFIG_ETCDIR
#error CONFIG_ETCDIR must name etc/
#endif

/* The smallest valid head, so each case adds only what it tests. */
#define HEAD "server:\n  port: 2022\n  serverKey: /k\n"

static struct config *
load_ok(const char *path)
{
	struct config *cfg = NULL;
	struct config_error err;

	if (config_load(path, &cfg, &err) != 0)
		fail_msg("%s", err.message);
	assert_non_null(cfg);
	return cfg;
}

static struct config *
parse_ok(const char *yaml)
{
	struct config *cfg = NULL;
	struct config_error err;

	if (config_parse(yaml, strlen(yaml), "t.yaml", &cfg, &err) != 0)
		fail_msg("%s", err.message);
	assert_non_null(cfg);
	return cfg;
}

static void
expect_parse_error(const char *yaml, const char *key, int line, int col, const char *message)
{
	struct config *cfg = (struct config *)&cfg;
	struct config_error err;

	assert_int_equal(config_parse(yaml, strlen(yaml), "t.yaml", &cfg, &err), -1);
	assert_null(cfg);
	assert_string_equal(err.file, "t.yaml");
	assert_string_equal(err.message, message);
	assert_string_equal(err.key, key);
	assert_int_equal(err.line, line);
	assert_int_equal(err.column, col);
}

static void
expect_load_error(const char *name, const char *key, int line, int col, const char *what)
{
	struct config *cfg = (struct config *)&cfg;
	struct config_error err;
	char path[512], message[1024];

	snprintf(path, sizeof(path), "%s/%s", CONFIG_TESTDIR, name);
	if (line > 0)
		snprintf(message, sizeof(message), "%s:%d:%d: %s%s%s", path, line, col, key,
		    key[0] ? ": " : "", what);
	else
		snprintf(message, sizeof(message), "%s: %s%s%s", path, key, key[0] ? ": " : "", what);
	assert_int_equal(config_load(path, &cfg, &err), -1);
	assert_null(cfg);
	assert_string_equal(err.message, message);
	assert_string_equal(err.file, path);
	assert_string_equal(err.key, key);
	assert_int_equal(err.line, line);
	assert_int_equal(err.column, col);
}

/* Writes text to a new temporary file; path must hold "/tmp/test-config-XXXXXX". */
static void
write_tmp(char *path, const char *text)
{
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(close(fd), 0);
}

/* ---- good files ---- */

static void
test_go_layout(void **state)
{
	struct config *c;
	const char *paths[4];

	(void)state;
	setenv("SECRET_FILES", CONFIG_TESTDIR "/secrets", 1);
	setenv("NATS_HOST", "nats.example", 1);
	c = load_ok(CONFIG_TESTDIR "/go-layout.yaml");
	assert_string_equal(c->path, CONFIG_TESTDIR "/go-layout.yaml");

	assert_int_equal(c->server.port, 2022);
	assert_string_equal(c->server.server_key, CONFIG_TESTDIR "/secrets/server_key");
	assert_int_equal(c->server.host_keys_count, 0);
	assert_false(c->server.forking);
	assert_true(c->server.proxy_protocol);
	assert_false(c->server.writer.show_provision_info);
	assert_true(c->server.writer.show_pulse);
	assert_true(c->server.writer.show_percentage);
	assert_true(c->server.writer.show_errors);
	assert_false(c->server.writer.show_system_errors);
	assert_int_equal(c->server.handshake_timeout, 15);
	assert_int_equal(c->server.max_direct_tcpip, 20);
	assert_string_equal(c->server.sftp_binary, "/usr/lib/openssh/sftp-server");
	assert_true(c->server.publish_failures.enabled);
	assert_string_equal(c->server.publish_failures.subject, "ssh.failures");
	assert_true(c->server.publish_failures.public_ip_only);
	assert_int_equal(c->server.publish_failures.whitelist_count, 2);
	assert_string_equal(c->server.publish_failures.whitelist[0], "10.0.0.0/8");
	assert_string_equal(c->server.publish_failures.whitelist[1], "192.168.1.7");

	assert_true(c->server.recording.record_shell);
	assert_false(c->server.recording.record_exec);
	assert_true(c->server.recording.record_sftp);
	assert_true(c->server.recording.record_direct_tcpip);
	assert_int_equal(c->server.recording.buffer_bytes, 1048576);
	assert_string_equal(c->server.recording.shell.format, "asciinema");
	assert_int_equal(c->server.recording.shell.gzip, 1);
	assert_int_equal(c->server.recording.shell.vscode_terminals, -1);
	assert_string_equal(c->server.recording.exec.format, "");
	assert_int_equal(c->server.recording.exec.gzip, 0);
	assert_string_equal(c->server.recording.sftp.format, "pcapng");
	assert_int_equal(c->server.recording.sftp.gzip, -1);
	assert_string_equal(c->server.recording.direct_tcpip.format, "none");
	assert_int_equal(c->server.recording.direct_tcpip.gzip, -1);
	assert_int_equal(c->server.recording.direct_tcpip.vscode_terminals, 1);
	assert_int_equal(c->server.recording.direct_tcpip.vscode_record_input, 0);

	assert_int_equal(c->grpc.port, 9100);
	assert_true(c->grpc.enable_tls);
	assert_string_equal(c->grpc.cert_file, "/etc/ssh-proxy/tls/tls.crt");
	assert_string_equal(c->grpc.key_file, "/etc/ssh-proxy/tls/tls.key");
	assert_string_equal(c->grpc.cert_reload_delay, "5s");
	assert_true(c->grpc.auth_enabled);
	assert_string_equal(c->grpc.issuer_url, "https://issuer.example");
	assert_string_equal(c->grpc.audience, "ssh-proxy");
	assert_int_equal(c->grpc.allowed_count, 2);
	assert_string_equal(c->grpc.allowed[0].namespace_, "k8shell");
	assert_string_equal(c->grpc.allowed[0].service_account, "api-server");
	assert_string_equal(c->grpc.allowed[1].namespace_, "");
	assert_string_equal(c->grpc.allowed[1].service_account, "*");

	assert_true(c->nats.enabled);
	assert_string_equal(c->nats.url, "nats://nats.example:4222");
	assert_string_equal(c->nats.username, "sshproxy");
	/* !file: trimmed, quotes and backslashes intact */
	assert_string_equal(c->nats.password, "s3cr3t-\"nats\"\\pass");
	assert_string_equal(c->nats.token, "");
	assert_int_equal(c->nats.max_reconnects, 10);
	assert_string_equal(c->nats.reconnect_wait, "1500ms");

	assert_string_equal(c->identity.address, "identity.k8shell:9020");
	assert_string_equal(c->identity.token_file, "/opt/shared/auth/api-server/identity-token");
	assert_string_equal(c->identity.ca_cert, "/opt/shared/auth/ca.crt");
	assert_string_equal(c->identity.server_name, "identity.k8shell.svc");
	assert_string_equal(c->session.address, "session.k8shell:9010");
	assert_string_equal(c->session.ca_cert, "");
	assert_string_equal(c->provisioner.address, "dns:///provisioner.k8shell:9030");
	/* an older Go key: enabled: false turns the backend off */
	assert_string_equal(c->authz.address, "");
	assert_string_equal(c->authz.token_file, "/opt/shared/auth/api-server/authz-token");
	assert_string_equal(c->k8shelld.address, "");
	assert_string_equal(c->k8shelld.token_file, "/opt/shared/auth/dummy-token");

	/* ours, all defaults; no listenAddress means every address */
	assert_int_equal(c->server.listen_address_count, 0);
	assert_int_equal(c->server.max_auth_tries, 6);
	assert_int_equal(c->server.drain_timeout, 0);
	assert_string_equal(c->server.max_startups_text, "10:30:100");
	assert_int_equal(c->server.max_startups_begin, 10);
	assert_int_equal(c->server.max_startups_rate, 30);
	assert_int_equal(c->server.max_startups_full, 100);
	assert_string_equal(c->privsep.user, "nobody");
	assert_int_equal(c->privsep.max_signatures, 64);
	assert_int_equal(c->identity_static.users_count, 0);
	assert_string_equal(c->provisioner_static.address, "");
	assert_string_equal(c->provisioner_static.ca_cert, "");

	assert_int_equal(config_host_key_paths(c, paths, 4), 1);
	assert_string_equal(paths[0], CONFIG_TESTDIR "/secrets/server_key");
	config_free(c);
}

static void
test_our_keys(void **state)
{
	struct config *c;
	const char *paths[8];

	(void)state;
	c = load_ok(CONFIG_TESTDIR "/ours.yaml");
	assert_int_equal(c->server.listen_address_count, 2);
	assert_string_equal(c->server.listen_address[0], "127.0.0.1");
	assert_string_equal(c->server.listen_address[1], "::1");
	assert_int_equal(c->server.port, 2222);
	assert_int_equal(c->server.host_keys_count, 3);
	assert_int_equal(c->server.max_auth_tries, 3);
	assert_int_equal(c->server.drain_timeout, 600);
	assert_string_equal(c->server.max_startups_text, "5:50:20");
	assert_int_equal(c->server.max_startups_begin, 5);
	assert_int_equal(c->server.max_startups_rate, 50);
	assert_int_equal(c->server.max_startups_full, 20);
	assert_string_equal(c->privsep.user, "sshproxy");
	assert_int_equal(c->privsep.max_signatures, 16);
	assert_int_equal(c->identity_static.users_count, 2);
	assert_string_equal(c->identity_static.users[0].name, "alice");
	assert_string_equal(c->identity_static.users[0].authorized_keys, "/etc/ssh-proxy/users/alice.keys");
	assert_string_equal(c->identity_static.users[1].name, "bob");
	assert_string_equal(c->identity_static.users[1].authorized_keys, "users/bob.keys");
	assert_string_equal(c->provisioner_static.address, "127.0.0.1:2822");
	assert_string_equal(c->provisioner_static.ca_cert, "/etc/k8shell/ca/ca.crt");
	assert_string_equal(c->provisioner_static.server_name, "workspace.example");

	/* serverKey first, then hostKeys, each path once */
	assert_int_equal(config_host_key_paths(c, paths, 8), 3);
	assert_string_equal(paths[0], "/etc/ssh-proxy/ssh_host_ed25519_key");
	assert_string_equal(paths[1], "/etc/ssh-proxy/ssh_host_ecdsa_key");
	assert_string_equal(paths[2], "/etc/ssh-proxy/ssh_host_rsa_key");
	assert_int_equal(config_host_key_paths(c, paths, 2), 2);
	assert_string_equal(paths[1], "/etc/ssh-proxy/ssh_host_ecdsa_key");
	config_free(c);
}

static void
test_defaults(void **state)
{
	struct config *c;

	(void)state;
	c = parse_ok("server:\n  port: 22\n  hostKeys: [/a]\n");
	assert_string_equal(c->path, "t.yaml");
	assert_int_equal(c->server.listen_address_count, 0);
	assert_string_equal(c->server.server_key, "");
	assert_false(c->server.forking);
	assert_false(c->server.proxy_protocol);
	assert_int_equal(c->server.handshake_timeout, 30);
	assert_int_equal(c->server.max_direct_tcpip, 15);
	assert_int_equal(c->server.max_auth_tries, 6);
	assert_int_equal(c->server.drain_timeout, 0);
	assert_string_equal(c->server.max_startups_text, "10:30:100");
	assert_int_equal(c->server.max_startups_begin, 10);
	assert_int_equal(c->server.max_startups_rate, 30);
	assert_int_equal(c->server.max_startups_full, 100);
	assert_false(c->server.writer.show_pulse);
	assert_string_equal(c->server.sftp_binary, "/usr/local/bin/sftp");
	assert_false(c->server.publish_failures.enabled);
	assert_string_equal(c->server.publish_failures.subject, "");
	assert_int_equal(c->server.publish_failures.whitelist_count, 0);
	assert_false(c->server.recording.record_shell);
	assert_int_equal(c->server.recording.buffer_bytes, 8 * 1024 * 1024);
	assert_string_equal(c->server.recording.shell.format, "");
	assert_int_equal(c->server.recording.shell.gzip, -1);
	/* no session service: the VS Code options stay unset */
	assert_int_equal(c->server.recording.direct_tcpip.vscode_terminals, -1);
	assert_int_equal(c->server.recording.direct_tcpip.vscode_record_input, -1);
	assert_string_equal(c->privsep.user, "nobody");
	assert_int_equal(c->privsep.max_signatures, 64);
	assert_int_equal(c->grpc.port, 0);
	assert_false(c->grpc.enable_tls);
	assert_string_equal(c->grpc.cert_file, "");
	assert_string_equal(c->grpc.key_file, "");
	assert_string_equal(c->grpc.cert_reload_delay, "2s");
	assert_string_equal(c->grpc.issuer_url, "https://kubernetes.default.svc.cluster.local");
	assert_string_equal(c->grpc.audience, "");
	assert_int_equal(c->grpc.allowed_count, 0);
	assert_false(c->nats.enabled);
	assert_string_equal(c->nats.url, "");
	assert_string_equal(c->nats.username, "");
	assert_string_equal(c->nats.password, "");
	assert_string_equal(c->nats.token, "");
	assert_int_equal(c->nats.max_reconnects, 0);
	assert_string_equal(c->nats.reconnect_wait, "2s");
	assert_string_equal(c->identity.address, "");
	assert_string_equal(c->identity.token_file, "");
	assert_string_equal(c->session.server_name, "");
	assert_string_equal(c->provisioner.ca_cert, "");
	assert_string_equal(c->authz.address, "");
	assert_string_equal(c->k8shelld.token_file, "");
	assert_string_equal(c->provisioner_static.address, "");
	config_free(c);

	/* Go reads 0 and empty values as "use the default" */
	c = parse_ok(HEAD "  SSHHandshakeTimeout: 0\n  maxDirectTCPIPConnections: 0\n  sftpBinary: \"\"\n"
	    "  writerOptions:\n  recording:\n    bufferBytes: 0\ngrpc:\n  certReloadDelay: 0s\n"
	    "nats:\n  reconnectWait: 0\n  url: ~\nsession:\n");
	assert_int_equal(c->server.handshake_timeout, 30);
	assert_int_equal(c->server.max_direct_tcpip, 15);
	assert_string_equal(c->server.sftp_binary, "/usr/local/bin/sftp");
	assert_int_equal(c->server.recording.buffer_bytes, 8 * 1024 * 1024);
	assert_string_equal(c->grpc.cert_reload_delay, "2s");
	assert_string_equal(c->nats.reconnect_wait, "2s");
	assert_string_equal(c->nats.url, "");
	config_free(c);
}

static void
test_samples(void **state)
{
	struct config *c;

	(void)state;
	c = load_ok(CONFIG_ETCDIR "/config.yaml");
	assert_int_equal(c->server.port, 2022);
	assert_string_equal(c->provisioner_static.ca_cert, "");
	assert_string_equal(c->provisioner_static.server_name, "");
	assert_string_equal(c->server.server_key, "/etc/ssh-proxy/ssh_host_ed25519_key");
	assert_int_equal(c->server.host_keys_count, 2);
	assert_int_equal(c->server.listen_address_count, 0);
	assert_int_equal(c->server.max_startups_full, 100);
	assert_int_equal(c->server.recording.direct_tcpip.vscode_terminals, -1);
	assert_int_equal(c->identity_static.users_count, 1);
	assert_string_equal(c->provisioner_static.address, "127.0.0.1:2822");
	assert_int_equal(c->grpc.allowed_count, 1);
	assert_string_equal(c->grpc.allowed[0].service_account, "api-server");
	assert_string_equal(c->grpc.cert_reload_delay, "2s");
	assert_string_equal(c->nats.reconnect_wait, "2s");
	assert_int_equal(c->privsep.max_signatures, 64);
	config_free(c);

	c = load_ok(CONFIG_ETCDIR "/config-minimal.yaml");
	assert_int_equal(c->server.port, 2222);
	assert_int_equal(c->server.host_keys_count, 1);
	assert_string_equal(c->identity_static.users[0].name, "alice");
	config_free(c);
}

static void
test_booleans(void **state)
{
	static const struct { const char *text; bool value; } cases[] = {
		{ "true", true }, { "false", false }, { "True", true }, { "FALSE", false },
		{ "yes", true }, { "No", false }, { "ON", true }, { "off", false }, { "\"true\"", true },
	};
	char yaml[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct config *c;

		snprintf(yaml, sizeof(yaml), HEAD "  proxyProtocol: %s\n", cases[i].text);
		c = parse_ok(yaml);
		assert_int_equal(c->server.proxy_protocol, cases[i].value);
		config_free(c);
	}
}

static void
test_listen_address(void **state)
{
	struct config *c;

	(void)state;
	c = parse_ok(HEAD "  listenAddress: 192.0.2.1\n");
	assert_int_equal(c->server.listen_address_count, 1);
	assert_string_equal(c->server.listen_address[0], "192.0.2.1");
	config_free(c);

	c = parse_ok(HEAD "  listenAddress: [\"::1\", 127.0.0.1:2200, \"[fe80::1%eth0]:22\", \"*\", gw.example]\n");
	assert_int_equal(c->server.listen_address_count, 5);
	assert_string_equal(c->server.listen_address[0], "::1");
	assert_string_equal(c->server.listen_address[1], "127.0.0.1:2200");
	assert_string_equal(c->server.listen_address[2], "[fe80::1%eth0]:22");
	assert_string_equal(c->server.listen_address[3], "*");
	assert_string_equal(c->server.listen_address[4], "gw.example");
	config_free(c);

	c = parse_ok(HEAD "  listenAddress:\n");
	assert_int_equal(c->server.listen_address_count, 0);
	config_free(c);

	expect_parse_error(HEAD "  listenAddress: 127.0.0.1:0\n", "server.listenAddress", 4, 18,
	    "t.yaml:4:18: server.listenAddress: expected host, host:port or [v6]:port (port 1-65535), got \"127.0.0.1:0\"");
	expect_parse_error(HEAD "  listenAddress:\n    - \"[::1]:\"\n", "server.listenAddress[0]", 5, 7,
	    "t.yaml:5:7: server.listenAddress[0]: expected host, host:port or [v6]:port (port 1-65535), got \"[::1]:\"");

	expect_parse_error(HEAD "  listenAddress: {a: b}\n", "server.listenAddress", 4, 18,
	    "t.yaml:4:18: server.listenAddress: expected an address or a list of addresses, got a mapping");
	expect_parse_error(HEAD "  listenAddress:\n    - 127.0.0.1\n    - [a]\n", "server.listenAddress[1]", 6, 7,
	    "t.yaml:6:7: server.listenAddress[1]: expected an address, got a list");
}

static void
test_max_startups(void **state)
{
	struct config *c;

	(void)state;
	c = parse_ok(HEAD "  maxStartups: 25\n");
	assert_string_equal(c->server.max_startups_text, "25");
	assert_int_equal(c->server.max_startups_begin, 25);
	assert_int_equal(c->server.max_startups_rate, 100);
	assert_int_equal(c->server.max_startups_full, 25);
	config_free(c);

	expect_parse_error(HEAD "  maxStartups: 10:30\n", "server.maxStartups", 4, 16,
	    "t.yaml:4:16: server.maxStartups: expected \"start:rate:full\" or a number, got \"10:30\"");
	expect_parse_error(HEAD "  maxStartups: \"-1\"\n", "server.maxStartups", 4, 16,
	    "t.yaml:4:16: server.maxStartups: expected \"start:rate:full\" or a number, got \"-1\"");
	expect_parse_error(HEAD "  maxStartups: 50:30:10\n", "server.maxStartups", 4, 16,
	    "t.yaml:4:16: server.maxStartups: start (50) must not exceed full (10)");
	expect_parse_error(HEAD "  maxStartups: 10:0:100\n", "server.maxStartups", 4, 16,
	    "t.yaml:4:16: server.maxStartups: rate must be between 1 and 100, got 0");
	expect_parse_error(HEAD "  maxStartups: 10:101:100\n", "server.maxStartups", 4, 16,
	    "t.yaml:4:16: server.maxStartups: rate must be between 1 and 100, got 101");
	expect_parse_error(HEAD "  maxStartups: 0\n", "server.maxStartups", 4, 16,
	    "t.yaml:4:16: server.maxStartups: full must be at least 1, got 0");
}

static void
test_env_and_file(void **state)
{
	struct config *c;
	char *text;
	size_t len;
	struct config_error err;

	(void)state;
	/* relative !file paths are taken from the config file's directory */
	setenv("TEST_SECRET_NAME", "relative", 1);
	c = load_ok(CONFIG_TESTDIR "/file-relative.yaml");
	assert_string_equal(c->nats.password, "relative-secret");
	assert_string_equal(c->nats.token, "relative-secret");
	config_free(c);

	/* the pre-pass keeps every line where it was */
	setenv("TEST_SFTP_DIR", "x\"y", 1);
	assert_int_equal(config_prepass(CONFIG_TESTDIR "/lines.yaml", &text, &len, &err), 0);
	assert_int_equal(strlen(text), len);
	{
		FILE *f = fopen(CONFIG_TESTDIR "/lines.yaml", "r");
		int src_lines = 0, out_lines = 0, ch;

		assert_non_null(f);
		while ((ch = fgetc(f)) != EOF)
			src_lines += ch == '\n';
		fclose(f);
		for (size_t i = 0; i < len; i++)
			out_lines += text[i] == '\n';
		assert_int_equal(out_lines, src_lines);
	}
	assert_non_null(strstr(text, "  sftpBinary: \"/opt/x\\\"y/sftp\\nsecond line\\n\"\n"));
	assert_non_null(strstr(text, "{subject: \"x\\\"y\", enabled: true,\n    publicIPOnly: true}\n"));
	config_text_free(text, len);
	/* ... so an error after the substitutions still names the right line */
	expect_load_error("lines.yaml", "server.forking", 10, 12, "expected a boolean (true/false), got \"perhaps\"");

	/* an empty or blank file is an empty value; a NUL byte is not text */
	{
		char secret[] = "/tmp/test-config-XXXXXX", cfgpath[] = "/tmp/test-config-XXXXXX";
		char yaml[256];

		write_tmp(secret, " \n\t\n");
		snprintf(yaml, sizeof(yaml), HEAD "nats:\n  password: !file %s\n", secret);
		write_tmp(cfgpath, yaml);
		c = load_ok(cfgpath);
		assert_string_equal(c->nats.password, "");
		config_free(c);
		assert_int_equal(truncate(secret, 0), 0);
		c = load_ok(cfgpath);
		assert_string_equal(c->nats.password, "");
		config_free(c);
		{
			FILE *f = fopen(secret, "w");

			assert_non_null(f);
			assert_int_equal(fwrite("a\0b\n", 1, 4, f), 4);
			assert_int_equal(fclose(f), 0);
		}
		c = NULL;
		assert_int_equal(config_load(cfgpath, &c, &err), -1);
		assert_null(c);
		assert_string_equal(err.key, "nats.password");
		assert_int_equal(err.line, 5);
		assert_int_equal(err.column, 13);
		snprintf(yaml, sizeof(yaml), "%s:5:13: nats.password: !file \"%s\" is not UTF-8 text", cfgpath, secret);
		assert_string_equal(err.message, yaml);
		unlink(secret);
		unlink(cfgpath);
	}

	/* config_parse takes resolved text: no environment, no files */
	c = parse_ok(HEAD "nats:\n  url: \"${NOT_EXPANDED}\"\n");
	assert_string_equal(c->nats.url, "${NOT_EXPANDED}");
	config_free(c);
}

/* Shapes found by fuzzing the pre-pass: a tab on the blank line after a plain
 * scalar, a block scalar at its parent's indentation, a multi-line quoted
 * scalar with text after it, a complex key. */
static void
test_prepass_shapes(void **state)
{
	char path[] = "/tmp/test-config-XXXXXX";
	struct config_error err;
	struct config *c;

	(void)state;
	setenv("TEST_K", "V", 1);
	c = load_ok(CONFIG_TESTDIR "/shapes.yaml");
	assert_string_equal(c->server.server_key, "V");
	assert_string_equal(c->server.sftp_binary, "/xV\n");
	assert_string_equal(c->server.publish_failures.subject, "a Vb");
	assert_true(c->server.publish_failures.enabled);
	assert_true(c->server.forking);
	config_free(c);
	/* the column after the multi-line value is the source's */
	expect_load_error("shapes-bad.yaml", "server.publishSshFailures.enabled", 10, 28,
	    "expected a boolean (true/false), got \"maybe\"");

	write_tmp(path, "? {a: 1}\n: ${TEST_K}\n");
	c = NULL;
	assert_int_equal(config_load(path, &c, &err), -1);
	assert_null(c);
	assert_string_equal(err.key, "");
	assert_int_equal(err.line, 1);
	assert_int_equal(err.column, 3);
	assert_non_null(strstr(err.message, ":1:3: mapping keys must be strings"));
	unlink(path);
}

static void
test_crlf(void **state)
{
	char path[] = "/tmp/test-config-XXXXXX";
	struct config_error err;
	struct config *c = NULL;

	(void)state;
	setenv("TEST_PORT", "2200", 1);
	write_tmp(path, "server:\r\n  port: ${TEST_PORT}\r\n  serverKey: /k\r\n  forking: 7\r\n");
	assert_int_equal(config_load(path, &c, &err), -1);
	assert_null(c);
	assert_string_equal(err.key, "server.forking");
	assert_int_equal(err.line, 4);
	assert_int_equal(err.column, 12);
	unlink(path);

	strcpy(path, "/tmp/test-config-XXXXXX");
	write_tmp(path, "server:\r\n  port: ${TEST_PORT}\r\n  serverKey: /k\r\n");
	c = load_ok(path);
	assert_int_equal(c->server.port, 2200);
	config_free(c);
	unlink(path);
}

/* ---- error classes ---- */

static void
test_error_unknown_key(void **state)
{
	(void)state;
	expect_parse_error(HEAD "  prot: 1\n", "server.prot", 4, 3,
	    "t.yaml:4:3: server.prot: unknown key (did you mean \"port\"?)");
	expect_parse_error(HEAD "  sshHandshakeTimeout: 5\n", "server.sshHandshakeTimeout", 4, 3,
	    "t.yaml:4:3: server.sshHandshakeTimeout: unknown key (did you mean \"SSHHandshakeTimeout\"?)");
	expect_parse_error(HEAD "bogus:\n  x: 1\n", "bogus", 4, 1, "t.yaml:4:1: bogus: unknown key");
	expect_parse_error("ssh:\n  port: 2022\n", "ssh", 1, 1,
	    "t.yaml:1:1: ssh: unknown key (the old ssh: block is gone: use server.port and server.serverKey)");
	expect_parse_error(HEAD "  recording:\n    shell:\n      vscode:\n        terminals: true\n",
	    "server.recording.shell.vscode", 6, 7,
	    "t.yaml:6:7: server.recording.shell.vscode: unknown key "
	    "(VS Code options are only valid under server.recording.directTCPIP)");
	expect_parse_error(HEAD "identity:\n  static:\n    users:\n      - name: a\n        keys: /x\n",
	    "identity.static.users[0].keys", 8, 9, "t.yaml:8:9: identity.static.users[0].keys: unknown key");
	expect_parse_error(HEAD "  port: 2\n", "server.port", 4, 3,
	    "t.yaml:4:3: server.port: duplicate key (first set at line 2)");
}

static void
test_error_wrong_type(void **state)
{
	(void)state;
	expect_parse_error("server:\n  port: twenty\n", "server.port", 2, 9,
	    "t.yaml:2:9: server.port: expected an integer, got \"twenty\"");
	expect_parse_error(HEAD "  SSHHandshakeTimeout: 1.5\n", "server.SSHHandshakeTimeout", 4, 24,
	    "t.yaml:4:24: server.SSHHandshakeTimeout: expected an integer, got \"1.5\"");
	expect_parse_error(HEAD "  maxAuthTries: 1_000\n", "server.maxAuthTries", 4, 17,
	    "t.yaml:4:17: server.maxAuthTries: expected an integer, got \"1_000\"");
	expect_parse_error(HEAD "  drainTimeout: 010\n", "server.drainTimeout", 4, 17,
	    "t.yaml:4:17: server.drainTimeout: expected an integer, got \"010\"");
	expect_parse_error(HEAD "  maxAuthTries: 99999999999\n", "server.maxAuthTries", 4, 17,
	    "t.yaml:4:17: server.maxAuthTries: integer \"99999999999\" is out of range");
	expect_parse_error(HEAD "  hostKeys: /k2\n", "server.hostKeys", 4, 13,
	    "t.yaml:4:13: server.hostKeys: expected a list, got \"/k2\"");
	expect_parse_error(HEAD "  serverKey2: x\n", "server.serverKey2", 4, 3,
	    "t.yaml:4:3: server.serverKey2: unknown key (did you mean \"serverKey\"?)");
	expect_parse_error("server:\n  port: 1\n  serverKey: [a]\n", "server.serverKey", 3, 14,
	    "t.yaml:3:14: server.serverKey: expected a string, got a list");
	expect_parse_error("server: 2022\n", "server", 1, 9, "t.yaml:1:9: server: expected a mapping, got \"2022\"");
	expect_parse_error("- a\n", "", 1, 1, "t.yaml:1:1: expected a mapping, got a list");
	expect_parse_error(HEAD "grpc:\n  allowed:\n    - k8shell\n", "grpc.allowed[0]", 6, 7,
	    "t.yaml:6:7: grpc.allowed[0]: expected a mapping, got \"k8shell\"");
	/* values in messages are escaped and cut at 40 characters */
	expect_parse_error("server:\n  port: \"a\\n\\\"b\"\n", "server.port", 2, 9,
	    "t.yaml:2:9: server.port: expected an integer, got \"a\\x0a\\\"b\"");
	expect_parse_error("server:\n  port: \u00e9123456789012345678901234567890123456789\u00e9\u00e9\n",
	    "server.port", 2, 9, "t.yaml:2:9: server.port: expected an integer, got "
	    "\"\u00e9123456789012345678901234567890123456789...\"");
	expect_parse_error(HEAD "nats:\n  password: \"a\\0b\"\n", "nats.password", 5, 13,
	    "t.yaml:5:13: nats.password: value contains a NUL byte");
}

static void
test_error_bad_bool(void **state)
{
	(void)state;
	expect_parse_error(HEAD "  forking: maybe\n", "server.forking", 4, 12,
	    "t.yaml:4:12: server.forking: expected a boolean (true/false), got \"maybe\"");
	expect_parse_error(HEAD "  writerOptions:\n    showPulse: 1.5\n", "server.writerOptions.showPulse", 5, 16,
	    "t.yaml:5:16: server.writerOptions.showPulse: expected a boolean (true/false), got \"1.5\"");
	expect_parse_error(HEAD "nats:\n  enabled: 2\n", "nats.enabled", 5, 12,
	    "t.yaml:5:12: nats.enabled: expected a boolean (true/false), got \"2\"");
	expect_parse_error(HEAD "  recording:\n    directTCPIP:\n      vscode:\n        terminals: y\n",
	    "server.recording.directTCPIP.vscode.terminals", 7, 20,
	    "t.yaml:7:20: server.recording.directTCPIP.vscode.terminals: expected a boolean (true/false), got \"y\"");
}

static void
test_error_bad_format(void **state)
{
	(void)state;
	expect_parse_error(HEAD "  recording:\n    shell:\n      format: mp4\n", "server.recording.shell.format", 6, 15,
	    "t.yaml:6:15: server.recording.shell.format: unknown format \"mp4\" (want asciinema, pcapng or none)");
	expect_parse_error(HEAD "  recording:\n    exec:\n      format: none\n", "server.recording.exec.format", 6, 15,
	    "t.yaml:6:15: server.recording.exec.format: none is only valid for directTCPIP with vscode.terminals enabled");
	expect_parse_error(HEAD "  recording:\n    directTCPIP:\n      format: none\n",
	    "server.recording.directTCPIP.format", 6, 15,
	    "t.yaml:6:15: server.recording.directTCPIP.format: none is only valid for directTCPIP with vscode.terminals enabled");
	expect_parse_error(HEAD "grpc:\n  certReloadDelay: 2 seconds\n", "grpc.certReloadDelay", 5, 20,
	    "t.yaml:5:20: grpc.certReloadDelay: expected a duration such as \"2s\", \"500ms\" or \"1m30s\", got \"2 seconds\"");
	expect_parse_error(HEAD "nats:\n  reconnectWait: 5\n", "nats.reconnectWait", 5, 18,
	    "t.yaml:5:18: nats.reconnectWait: expected a duration such as \"2s\", \"500ms\" or \"1m30s\", got \"5\"");
	expect_parse_error(HEAD "nats:\n  reconnectWait: -1s\n", "nats.reconnectWait", 5, 18,
	    "t.yaml:5:18: nats.reconnectWait: expected a duration such as \"2s\", \"500ms\" or \"1m30s\", got \"-1s\"");
	expect_parse_error(HEAD "  hostKeys:\n    - /a\n    -\n", "server.hostKeys[1]", 6, 6,
	    "t.yaml:6:6: server.hostKeys[1]: empty entry");

	/* none is fine where Go allows it, also via the session.address default */
	{
		struct config *c = parse_ok(HEAD "  recording:\n    directTCPIP:\n      format: none\n"
		    "session:\n  address: s:1\n");

		assert_string_equal(c->server.recording.direct_tcpip.format, "none");
		assert_int_equal(c->server.recording.direct_tcpip.vscode_terminals, 1);
		assert_int_equal(c->server.recording.direct_tcpip.vscode_record_input, 1);
		config_free(c);
	}
	{
		struct config *c = parse_ok(HEAD "grpc:\n  certReloadDelay: 1h2m3.5s\nnats:\n  reconnectWait: 250\xc2\xb5s\n");

		assert_string_equal(c->grpc.cert_reload_delay, "1h2m3.5s");
		assert_string_equal(c->nats.reconnect_wait, "250\xc2\xb5s");
		config_free(c);
	}
}

static void
test_error_missing_required(void **state)
{
	(void)state;
	expect_parse_error("server:\n  serverKey: /k\n", "server.port", 1, 1,
	    "t.yaml:1:1: server.port: required key is missing");
	expect_parse_error("", "server.port", 0, 0, "t.yaml: server.port: required key is missing");
	expect_parse_error("# only a comment\n", "server.port", 0, 0, "t.yaml: server.port: required key is missing");
	expect_parse_error("privsep:\n  user: x\nserver:\n  port: 22\n", "server.serverKey", 3, 1,
	    "t.yaml:3:1: server.serverKey: no host key configured (set server.serverKey or server.hostKeys)");
	expect_parse_error("server:\n  port: 22\n  serverKey: \"\"\n  hostKeys: []\n", "server.serverKey", 1, 1,
	    "t.yaml:1:1: server.serverKey: no host key configured (set server.serverKey or server.hostKeys)");
	expect_parse_error(HEAD "identity:\n  static:\n    users:\n      - authorizedKeys: /x\n",
	    "identity.static.users[0].name", 7, 9, "t.yaml:7:9: identity.static.users[0].name: required key is missing");
	expect_parse_error(HEAD "identity:\n  static:\n    users:\n      - name: a\n        authorizedKeys: /a\n"
	    "      - name: b\n", "identity.static.users[1].authorizedKeys", 9, 9,
	    "t.yaml:9:9: identity.static.users[1].authorizedKeys: required key is missing");
	expect_parse_error(HEAD "identity:\n  static:\n    users:\n      - {name: a, authorizedKeys: /a}\n"
	    "      - {name: a, authorizedKeys: /b}\n", "identity.static.users[1].name", 8, 16,
	    "t.yaml:8:16: identity.static.users[1].name: user \"a\" is already defined (users[0])");
	expect_parse_error(HEAD "grpc:\n  port: 9100\n  enableTLS: true\n  keyFile: /k\n", "grpc.certFile", 4, 1,
	    "t.yaml:4:1: grpc.certFile: required when grpc.enableTLS is true");
}

static void
test_error_out_of_range(void **state)
{
	(void)state;
	expect_parse_error("server:\n  port: 0\n  serverKey: /k\n", "server.port", 2, 9,
	    "t.yaml:2:9: server.port: must be between 1 and 65535, got 0");
	expect_parse_error("server:\n  port: 65536\n  serverKey: /k\n", "server.port", 2, 9,
	    "t.yaml:2:9: server.port: must be between 1 and 65535, got 65536");
	expect_parse_error(HEAD "  SSHHandshakeTimeout: -5\n", "server.SSHHandshakeTimeout", 4, 24,
	    "t.yaml:4:24: server.SSHHandshakeTimeout: must not be negative, got -5");
	expect_parse_error(HEAD "  maxDirectTCPIPConnections: -1\n", "server.maxDirectTCPIPConnections", 4, 30,
	    "t.yaml:4:30: server.maxDirectTCPIPConnections: must not be negative, got -1");
	expect_parse_error(HEAD "  maxAuthTries: 0\n", "server.maxAuthTries", 4, 17,
	    "t.yaml:4:17: server.maxAuthTries: must be at least 1, got 0");
	expect_parse_error(HEAD "  drainTimeout: -1\n", "server.drainTimeout", 4, 17,
	    "t.yaml:4:17: server.drainTimeout: must be at least 0, got -1");
	expect_parse_error(HEAD "  recording:\n    bufferBytes: -1\n", "server.recording.bufferBytes", 5, 18,
	    "t.yaml:5:18: server.recording.bufferBytes: must not be negative, got -1");
	expect_parse_error(HEAD "privsep:\n  maxSignatures: 0\n", "privsep.maxSignatures", 5, 18,
	    "t.yaml:5:18: privsep.maxSignatures: must be at least 1, got 0");
	expect_parse_error(HEAD "grpc:\n  port: 70000\n", "grpc.port", 5, 9,
	    "t.yaml:5:9: grpc.port: must be between 0 and 65535, got 70000");
}

static void
test_error_yaml(void **state)
{
	(void)state;
	expect_parse_error("server:\n  port: 2022\n   serverKey: /k\n", "", 3, 13,
	    "t.yaml:3:13: YAML syntax error: mapping values are not allowed in this context");
	expect_parse_error("server: {port: 22\n", "", 2, 1,
	    "t.yaml:2:1: YAML syntax error: did not find expected ',' or '}' "
	    "(while parsing a flow mapping at line 1, column 9)");
	expect_parse_error("server:\n  port: \"22\n", "", 3, 1,
	    "t.yaml:3:1: YAML syntax error: found unexpected end of stream "
	    "(while scanning a quoted scalar at line 2, column 9)");
	expect_parse_error("server:\n  port: 22\n  serverKey: \xff\n", "", 3, 14,
	    "t.yaml:3:14: YAML syntax error: invalid leading UTF-8 octet");
	expect_parse_error(HEAD "---\nserver: {}\n", "", 4, 1, "t.yaml:4:1: only one YAML document is allowed");
	expect_parse_error("server: &s\n  port: 22\n  serverKey: /k\nprivsep: *s\n", "privsep", 4, 10,
	    "t.yaml:4:10: privsep: YAML aliases are not supported");
	expect_parse_error("? [a]\n: b\n", "", 1, 3, "t.yaml:1:3: mapping keys must be strings");
	expect_load_error("bad-syntax.yaml", "", 3, 13, "YAML syntax error: mapping values are not allowed in this context");
}

static void
test_error_prepass(void **state)
{
	char path[] = "/tmp/test-config-XXXXXX";
	struct config_error err;
	struct config *c = NULL;

	(void)state;
	unsetenv("TEST_CONFIG_UNSET_VAR");
	expect_load_error("bad-env.yaml", "nats.url", 6, 8, "environment variable TEST_CONFIG_UNSET_VAR is not set");
	expect_load_error("bad-file.yaml", "nats.password", 6, 15,
	    "cannot read !file \"" CONFIG_TESTDIR "/secrets/missing\": No such file or directory");
	expect_load_error("no-such-file.yaml", "", 0, 0, "cannot open: No such file or directory");

	write_tmp(path, HEAD "nats:\n  url: !secret x\n");
	assert_int_equal(config_load(path, &c, &err), -1);
	assert_null(c);
	assert_string_equal(err.key, "nats.url");
	assert_int_equal(err.line, 5);
	assert_int_equal(err.column, 8);
	assert_non_null(strstr(err.message, ":5:8: nats.url: unknown tag \"!secret\" (only !file is supported)"));
	unlink(path);

	strcpy(path, "/tmp/test-config-XXXXXX");
	write_tmp(path, HEAD "nats:\n  token: \"${9X}\"\n");
	assert_int_equal(config_load(path, &c, &err), -1);
	assert_string_equal(err.key, "nats.token");
	assert_int_equal(err.line, 5);
	assert_int_equal(err.column, 10);
	assert_non_null(strstr(err.message, ":5:10: nats.token: malformed variable reference \"${9X}\" (want ${NAME})"));
	unlink(path);

	strcpy(path, "/tmp/test-config-XXXXXX");
	write_tmp(path, HEAD "nats:\n  token: !file\n    - a\n");
	assert_int_equal(config_load(path, &c, &err), -1);
	assert_string_equal(err.key, "nats.token");
	assert_int_equal(err.line, 5);
	assert_int_equal(err.column, 10);
	assert_non_null(strstr(err.message, ":5:10: nats.token: !file applies to scalar values only"));
	unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_go_layout),
		cmocka_unit_test(test_our_keys),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_samples),
		cmocka_unit_test(test_booleans),
		cmocka_unit_test(test_listen_address),
		cmocka_unit_test(test_max_startups),
		cmocka_unit_test(test_env_and_file),
		cmocka_unit_test(test_prepass_shapes),
		cmocka_unit_test(test_crlf),
		cmocka_unit_test(test_error_unknown_key),
		cmocka_unit_test(test_error_wrong_type),
		cmocka_unit_test(test_error_bad_bool),
		cmocka_unit_test(test_error_bad_format),
		cmocka_unit_test(test_error_missing_required),
		cmocka_unit_test(test_error_out_of_range),
		cmocka_unit_test(test_error_yaml),
		cmocka_unit_test(test_error_prepass),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
