/* Host keys as the child holds them: public keys from the monitor imported into
 * the libssh bind, and the signing callback that asks the monitor for every KEX signature. */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "child/child.h"
#include "daemon/config.h"
#include "daemon/log.h"
#include "privsep/monitor-wrap.h"

#define KEXSIGN_MAX_KEYS	16
#define KEXSIGN_MAX_TYPE	64	/* longest key type name we accept in a blob */

struct kexsign {
	size_t n;
	uint8_t *blob[KEXSIGN_MAX_KEYS];	/* index = the monitor's key index */
	size_t len[KEXSIGN_MAX_KEYS];
	int monitor_fd;
};

void
kexsign_free(struct kexsign *k)
{
	if (k == NULL)
		return;
	for (size_t i = 0; i < k->n; i++)
		free(k->blob[i]);
	free(k);
}

/* The key type name is the first SSH string of the blob. */
static int
blob_type(const uint8_t *blob, size_t len, char *type, size_t typelen)
{
	uint32_t n;

	if (len < 4)
		return -1;
	n = (uint32_t)blob[0] << 24 | (uint32_t)blob[1] << 16 | (uint32_t)blob[2] << 8 | blob[3];
	if (n == 0 || n >= typelen || n > len - 4)
		return -1;
	memcpy(type, blob + 4, n);
	type[n] = '\0';
	return 0;
}

/* libssh 0.10 has no public blob import; the base64 form is the same bytes. */
static int
key_from_blob(const uint8_t *blob, size_t len, ssh_key *key)
{
	char type[KEXSIGN_MAX_TYPE], *b64;
	size_t b64len = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
	enum ssh_keytypes_e kt;
	int rc;

	if (blob_type(blob, len, type, sizeof(type)) != 0)
		return -1;
	kt = ssh_key_type_from_name(type);
	if (kt == SSH_KEYTYPE_UNKNOWN)
		return -1;
	if ((b64 = malloc(b64len)) == NULL)
		return -1;
	sodium_bin2base64(b64, b64len, blob, len, sodium_base64_VARIANT_ORIGINAL);
	rc = ssh_pki_import_pubkey_base64(b64, kt, key);
	free(b64);
	return rc == SSH_OK ? 0 : -1;
}

/* The bind keeps one key per type; a second key of a type replaces the first. */
static int
bind_import(ssh_bind bind, ssh_key key, const char *what, bool *seen_types)
{
	int kt = (int)ssh_key_type(key);

	if (kt >= 0 && kt < 32) {
		if (seen_types[kt])
			log_warn("host key %s: only one %s key is offered, the later one wins",
			    what, ssh_key_type_to_char((enum ssh_keytypes_e)kt));
		seen_types[kt] = true;
	}
	/* The bind takes ownership of the key on success. */
	if (ssh_bind_options_set(bind, SSH_BIND_OPTIONS_IMPORT_KEY, key) != SSH_OK) {
		log_error("host key %s: libssh refused it: %s", what, ssh_get_error(bind));
		ssh_key_free(key);
		return -1;
	}
	return 0;
}

int
kexsign_load_monitor(struct kexsign **out, int monitor_fd, ssh_bind bind)
{
	struct kexsign *k;
	bool seen[32] = { false };
	size_t n;
	int rc;

	*out = NULL;
	if ((rc = mm_hostkeys_count(monitor_fd, &n)) != 0) {
		log_error("monitor: host key count failed (%d)", rc);
		return -1;
	}
	if (n == 0 || n > KEXSIGN_MAX_KEYS) {
		log_error("monitor offers %zu host keys (1..%d expected)", n, KEXSIGN_MAX_KEYS);
		return -1;
	}
	if ((k = calloc(1, sizeof(*k))) == NULL)
		return -1;
	k->monitor_fd = monitor_fd;
	for (size_t i = 0; i < n; i++) {
		char what[32];
		ssh_key key = NULL;

		snprintf(what, sizeof(what), "#%zu", i);
		if ((rc = mm_hostkeys_pubblob(monitor_fd, i, &k->blob[i], &k->len[i])) != 0) {
			log_error("monitor: host key %zu: public key request failed (%d)", i, rc);
			goto fail;
		}
		k->n = i + 1;
		if (key_from_blob(k->blob[i], k->len[i], &key) != 0) {
			log_error("monitor: host key %zu: unusable public key blob", i);
			goto fail;
		}
		if (bind_import(bind, key, what, seen) != 0)
			goto fail;
	}
	*out = k;
	return 0;
fail:
	kexsign_free(k);
	return -1;
}

int
kexsign_load_files(struct kexsign **out, const struct config *cfg, ssh_bind bind)
{
	const char *paths[KEXSIGN_MAX_KEYS];
	bool seen[32] = { false };
	size_t n;

	*out = NULL;
	n = config_host_key_paths(cfg, paths, KEXSIGN_MAX_KEYS);
	if (n == 0) {
		log_error("no host key configured (server.serverKey or server.hostKeys)");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		ssh_key key = NULL;

		if (ssh_pki_import_privkey_file(paths[i], NULL, NULL, NULL, &key) != SSH_OK) {
			log_error("host key %s: cannot load it (OpenSSH private key format, readable by this user)",
			    paths[i]);
			return -1;
		}
		if (bind_import(bind, key, paths[i], seen) != 0)
			return -1;
	}
	/* No kexsign state: libssh signs with the private keys itself. */
	return 0;
}

int
kexsign_sign(ssh_session session, ssh_key hostkey, const char *sig_alg,
    const unsigned char *data, size_t datalen, ssh_string *signature, void *userdata)
{
	struct child *c = userdata;
	struct kexsign *k = c->keys;
	uint8_t *blob = NULL, *sig = NULL;
	size_t len, siglen, idx;
	int rc;

	(void)session;
	*signature = NULL;
	if (k == NULL || child_key_blob(hostkey, &blob, &len) != 0) {
		log_error("host key signature requested for an unknown key");
		return SSH_ERROR;
	}
	for (idx = 0; idx < k->n; idx++)
		if (k->len[idx] == len && memcmp(k->blob[idx], blob, len) == 0)
			break;
	free(blob);
	if (idx == k->n) {
		log_error("host key signature requested for a key the monitor does not hold");
		return SSH_ERROR;
	}
	rc = mm_hostkeys_sign(k->monitor_fd, idx, sig_alg, data, datalen, &sig, &siglen);
	if (rc != 0) {
		log_error("monitor refused to sign with host key %zu (%s): %d", idx, sig_alg, rc);
		return SSH_ERROR;
	}
	if ((*signature = ssh_string_new(siglen)) == NULL ||
	    ssh_string_fill(*signature, sig, siglen) != 0) {
		ssh_string_free(*signature);
		*signature = NULL;
		free(sig);
		return SSH_ERROR;
	}
	free(sig);
	log_debug("host key %zu signed the exchange hash (%s)", idx, sig_alg);
	return SSH_OK;
}
