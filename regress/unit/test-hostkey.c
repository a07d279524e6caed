/* Unit tests of privsep/hostkey.c and the monitor's signing policy: keys made by
 * ssh-keygen, signatures verified independently, bad key files named in errors. */
#include "autoconf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "privsep/hostkey.h"
#include "privsep/monitor-policy.h"
#include "regress/sshsig-verify.h"

static char dir[64];

static void
path_of(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/%s", dir, name);
}

static int
sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

/* Creates every key the tests use, once. */
static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test-hostkey.XXXXXX");
	if (mkdtemp(dir) == NULL || sodium_init() < 0)
		return -1;
	if (sh("cd %s && ssh-keygen -q -t ed25519 -N '' -C test -f ed25519 && "
	    "ssh-keygen -q -t ecdsa -b 256 -N '' -f ecdsa256 && "
	    "ssh-keygen -q -t ecdsa -b 384 -N '' -f ecdsa384 && "
	    "ssh-keygen -q -t ecdsa -b 521 -N '' -f ecdsa521 && "
	    "ssh-keygen -q -t rsa -b 2048 -N '' -f rsa && "
	    "ssh-keygen -q -t ecdsa -b 256 -m PEM -N '' -f pem-ecdsa && "
	    "ssh-keygen -q -t rsa -b 2048 -m PEM -N '' -f pem-rsa && "
	    "ssh-keygen -q -t ed25519 -N secret -f encrypted && "
	    "ssh-keygen -q -t rsa -b 2048 -m PEM -N secret -f pem-encrypted && "
	    "openssl genpkey -algorithm ED25519 -out pem-ed25519 2>/dev/null && "
	    "head -c 300 /dev/urandom > garbage && : > empty && "
	    "cp ed25519 world && cp ed25519 notroot && "
	    "chmod 600 * && chmod 644 world", dir) != 0)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	return sh("rm -rf %s", dir) == 0 ? 0 : -1;
}

/* The public blob from NAME.pub, as ssh-keygen wrote it. */
static size_t
read_pub(const char *name, uint8_t *blob, size_t cap)
{
	char path[128], line[8192], *b64, *sp;
	size_t len = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.pub", dir, name);
	assert_non_null(f = fopen(path, "r"));
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	assert_non_null(b64 = strchr(line, ' '));
	b64++;
	if ((sp = strpbrk(b64, " \n")) != NULL)
		*sp = '\0';
	assert_int_equal(sodium_base642bin(blob, cap, b64, strlen(b64), NULL, &len, NULL,
	    sodium_base64_VARIANT_ORIGINAL), 0);
	return len;
}

static struct hostkeys *
load(const char *name)
{
	char path[128], err[512];
	const char *paths[1] = { path };
	struct hostkeys *hk = NULL;

	path_of(path, sizeof(path), name);
	if (hostkeys_load(&hk, paths, 1, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(hostkeys_count(hk), 1);
	return hk;
}

/* Loads NAME, checks type and public blob against NAME.pub (pubname), signs a
 * 32-byte hash with alg and verifies the signature independently. */
static void
check_key(const char *name, const char *pubname, const char *type, const char *alg)
{
	struct hostkeys *hk = load(name);
	uint8_t want[4096], data[32], *sig;
	const uint8_t *pub;
	size_t wantlen = read_pub(pubname, want, sizeof(want)), publen, siglen;

	assert_string_equal(hostkeys_type(hk, 0), type);
	assert_int_equal(hostkeys_pubblob(hk, 0, &pub, &publen), 0);
	assert_int_equal(publen, wantlen);
	assert_memory_equal(pub, want, publen);

	randombytes_buf(data, sizeof(data));
	assert_int_equal(hostkeys_sign(hk, 0, alg, data, sizeof(data), &sig, &siglen), 0);
	assert_int_equal(sshsig_verify(pub, publen, alg, sig, siglen, data, sizeof(data)), 0);
	/* The same signature must not verify for other data. */
	data[0] ^= 1;
	assert_int_equal(sshsig_verify(pub, publen, alg, sig, siglen, data, sizeof(data)), -1);
	free(sig);
	hostkeys_free(hk);
}

static void
test_ed25519(void **state)
{
	(void)state;
	check_key("ed25519", "ed25519", "ssh-ed25519", "ssh-ed25519");
}

static void
test_ecdsa(void **state)
{
	(void)state;
	check_key("ecdsa256", "ecdsa256", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp256");
	check_key("ecdsa384", "ecdsa384", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp384");
	check_key("ecdsa521", "ecdsa521", "ecdsa-sha2-nistp521", "ecdsa-sha2-nistp521");
}

static void
test_rsa(void **state)
{
	(void)state;
	check_key("rsa", "rsa", "ssh-rsa", "rsa-sha2-256");
	check_key("rsa", "rsa", "ssh-rsa", "rsa-sha2-512");
	/* hostkeys_sign can do SHA-1 when asked; the policy refuses it (below). */
	check_key("rsa", "rsa", "ssh-rsa", "ssh-rsa");
}

static void
test_pem(void **state)
{
	(void)state;
	check_key("pem-ecdsa", "pem-ecdsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp256");
	check_key("pem-rsa", "pem-rsa", "ssh-rsa", "rsa-sha2-512");
}

static void
test_several(void **state)
{
	char p[3][128], err[512];
	const char *paths[3] = { p[0], p[1], p[2] };
	struct hostkeys *hk;

	(void)state;
	path_of(p[0], sizeof(p[0]), "ed25519");
	path_of(p[1], sizeof(p[1]), "ecdsa384");
	path_of(p[2], sizeof(p[2]), "rsa");
	assert_int_equal(hostkeys_load(&hk, paths, 3, err, sizeof(err)), 0);
	assert_int_equal(hostkeys_count(hk), 3);
	assert_string_equal(hostkeys_type(hk, 0), "ssh-ed25519");
	assert_string_equal(hostkeys_type(hk, 1), "ecdsa-sha2-nistp384");
	assert_string_equal(hostkeys_type(hk, 2), "ssh-rsa");
	assert_null(hostkeys_type(hk, 3));
	hostkeys_free(hk);
}

static void
test_sign_errors(void **state)
{
	struct hostkeys *hk = load("ed25519");
	uint8_t data[32] = { 0 }, *sig = (uint8_t *)1;
	const uint8_t *pub;
	size_t siglen = 1, publen;

	(void)state;
	assert_int_equal(hostkeys_sign(hk, 1, "ssh-ed25519", data, 32, &sig, &siglen),
	    HOSTKEY_E_NOKEY);
	assert_null(sig);
	assert_int_equal(siglen, 0);
	assert_int_equal(hostkeys_sign(hk, 0, "rsa-sha2-256", data, 32, &sig, &siglen),
	    HOSTKEY_E_ALG);
	assert_int_equal(hostkeys_sign(hk, 0, "ecdsa-sha2-nistp256", data, 32, &sig, &siglen),
	    HOSTKEY_E_ALG);
	assert_int_equal(hostkeys_pubblob(hk, 1, &pub, &publen), HOSTKEY_E_NOKEY);
	assert_string_equal(hostkeys_strerror(HOSTKEY_E_ALG), "algorithm does not match the host key");
	hostkeys_free(hk);

	hk = load("ecdsa256");
	assert_int_equal(hostkeys_sign(hk, 0, "ecdsa-sha2-nistp384", data, 32, &sig, &siglen),
	    HOSTKEY_E_ALG);
	hostkeys_free(hk);
}

/* Loading name fails with a message that names the file and contains what. */
static void
check_bad(const char *name, const char *what)
{
	char path[128], err[512];
	const char *paths[1] = { path };
	struct hostkeys *hk = (struct hostkeys *)1;

	path_of(path, sizeof(path), name);
	assert_int_equal(hostkeys_load(&hk, paths, 1, err, sizeof(err)), -1);
	assert_null(hk);
	if (strstr(err, path) == NULL || strstr(err, what) == NULL)
		fail_msg("error \"%s\" should name %s and say \"%s\"", err, path, what);
}

static void
test_bad_files(void **state)
{
	(void)state;
	check_bad("encrypted", "encrypted");
	check_bad("pem-encrypted", "encrypted");
	check_bad("garbage", "not a");
	check_bad("empty", "empty");
	check_bad("missing", "cannot open: No such file or directory");
	check_bad("pem-ed25519", "unsupported PEM key type");
	check_bad(".", "not a regular file");
	/* The mode check applies to everyone, as in sshd. */
	check_bad("world", "permissions 0644 are too open");
}

static void
test_not_root_owned(void **state)
{
	char path[128];

	(void)state;
	if (geteuid() != 0)
		skip();
	path_of(path, sizeof(path), "notroot");
	assert_int_equal(chown(path, 65534, 65534), 0);
	check_bad("notroot", "must be owned by root (owner uid 65534)");
}

/* Rewrites name into out with one byte of the decoded file flipped at off
 * (negative: from the end of the outer public key). */
static void
tamper(const char *name, const char *out, size_t off)
{
	char path[128], text[8192], *b, *e, b64[8192];
	uint8_t bin[6144];
	size_t len, n;
	FILE *f;

	path_of(path, sizeof(path), name);
	assert_non_null(f = fopen(path, "r"));
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	assert_non_null(b = strstr(text, "-----\n"));
	b += 6;
	assert_non_null(e = strstr(b, "-----END"));
	assert_int_equal(sodium_base642bin(bin, sizeof(bin), b, (size_t)(e - b), "\n", &len, NULL,
	    sodium_base64_VARIANT_ORIGINAL), 0);
	assert_true(off < len);
	bin[off] ^= 0x01;
	sodium_bin2base64(b64, sizeof(b64), bin, len, sodium_base64_VARIANT_ORIGINAL);
	path_of(path, sizeof(path), out);
	assert_non_null(f = fopen(path, "w"));
	fprintf(f, "-----BEGIN OPENSSH PRIVATE KEY-----\n%s\n-----END OPENSSH PRIVATE KEY-----\n", b64);
	fclose(f);
	assert_int_equal(chmod(path, 0600), 0);
}

static void
test_tampered(void **state)
{
	/* openssh-key-v1 header: magic(15) + "none"(8) + "none"(8) + ""(4) + nkeys(4)
	 * + publen(4) + pub(51 for Ed25519): flip the pub key's last byte. */
	(void)state;
	tamper("ed25519", "bad-pub", 15 + 8 + 8 + 4 + 4 + 4 + 50);
	check_bad("bad-pub", "public key does not match the private key");
	/* The magic itself. */
	tamper("ed25519", "bad-magic", 3);
	check_bad("bad-magic", "not an openssh-key-v1 key");
	/* The first check word of the private section. */
	tamper("ed25519", "bad-check", 15 + 8 + 8 + 4 + 4 + 4 + 51 + 4);
	check_bad("bad-check", "malformed private key section");
}

static void
test_no_keys(void **state)
{
	struct hostkeys *hk;
	char err[128];

	(void)state;
	assert_int_equal(hostkeys_load(&hk, NULL, 0, err, sizeof(err)), -1);
	assert_string_equal(err, "no host key configured");
}

/* Policy: hash-sized data, the key's own algorithm, within the budget. */
static void
test_policy(void **state)
{
	char p[3][128], err[512];
	const char *paths[3] = { p[0], p[1], p[2] };
	const size_t bad_len[] = { 0, 1, 19, 21, 31, 33, 47, 63, 65, 1000 };
	struct hostkeys *hk;

	(void)state;
	path_of(p[0], sizeof(p[0]), "ed25519");
	path_of(p[1], sizeof(p[1]), "ecdsa256");
	path_of(p[2], sizeof(p[2]), "rsa");
	assert_int_equal(hostkeys_load(&hk, paths, 3, err, sizeof(err)), 0);

	assert_int_equal(monitor_sign_policy(hk, 0, "ssh-ed25519", 20, 0, 64), 0);
	assert_int_equal(monitor_sign_policy(hk, 0, "ssh-ed25519", 32, 0, 64), 0);
	assert_int_equal(monitor_sign_policy(hk, 1, "ecdsa-sha2-nistp256", 48, 0, 64), 0);
	assert_int_equal(monitor_sign_policy(hk, 2, "rsa-sha2-256", 64, 0, 64), 0);
	assert_int_equal(monitor_sign_policy(hk, 2, "rsa-sha2-512", 32, 63, 64), 0);

	for (size_t i = 0; i < sizeof(bad_len) / sizeof(bad_len[0]); i++)
		assert_int_equal(monitor_sign_policy(hk, 0, "ssh-ed25519", bad_len[i], 0, 64),
		    MONITOR_POLICY_E_LENGTH);

	assert_int_equal(monitor_sign_policy(hk, 2, "ssh-rsa", 32, 0, 64), MONITOR_POLICY_E_ALG);
	assert_int_equal(monitor_sign_policy(hk, 0, "ecdsa-sha2-nistp256", 32, 0, 64),
	    MONITOR_POLICY_E_ALG);
	assert_int_equal(monitor_sign_policy(hk, 1, "ecdsa-sha2-nistp384", 32, 0, 64),
	    MONITOR_POLICY_E_ALG);
	assert_int_equal(monitor_sign_policy(hk, 1, "ssh-ed25519", 32, 0, 64),
	    MONITOR_POLICY_E_ALG);
	assert_int_equal(monitor_sign_policy(hk, 2, "ssh-ed25519", 32, 0, 64),
	    MONITOR_POLICY_E_ALG);
	assert_int_equal(monitor_sign_policy(hk, 0, "", 32, 0, 64), MONITOR_POLICY_E_ALG);

	assert_int_equal(monitor_sign_policy(hk, 0, "ssh-ed25519", 32, 64, 64),
	    MONITOR_POLICY_E_BUDGET);
	assert_int_equal(monitor_sign_policy(hk, 0, "ssh-ed25519", 32, 0, 0),
	    MONITOR_POLICY_E_BUDGET);
	assert_int_equal(monitor_sign_policy(hk, 3, "ssh-ed25519", 32, 0, 64),
	    MONITOR_POLICY_E_KEY);
	assert_string_equal(monitor_policy_strerror(MONITOR_POLICY_E_LENGTH),
	    "data is not hash-sized");
	hostkeys_free(hk);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ed25519),
		cmocka_unit_test(test_ecdsa),
		cmocka_unit_test(test_rsa),
		cmocka_unit_test(test_pem),
		cmocka_unit_test(test_several),
		cmocka_unit_test(test_sign_errors),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_not_root_owned),
		cmocka_unit_test(test_tampered),
		cmocka_unit_test(test_no_keys),
		cmocka_unit_test(test_policy),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
