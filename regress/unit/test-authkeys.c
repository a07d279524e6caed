/* Unit tests of privsep/authkeys.c: which authorized_keys lines match a blob,
 * which are skipped, and the file checks. */
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

#include "privsep/authkeys.h"

/* An Ed25519 public blob with key bytes all equal to fill. */
static size_t
make_blob(uint8_t *blob, uint8_t fill)
{
	memcpy(blob, "\0\0\0\x0bssh-ed25519\0\0\0\x20", 19);
	memset(blob + 19, fill, 32);
	return 51;
}

static void
b64(char *out, size_t cap, const uint8_t *blob, size_t len)
{
	sodium_bin2base64(out, cap, blob, len, sodium_base64_VARIANT_ORIGINAL);
}

static int
match(const char *text, const uint8_t *blob, size_t len)
{
	return authkeys_match_text(text, strlen(text), blob, len);
}

static void
test_lines(void **state)
{
	uint8_t k1[64], k2[64];
	size_t l1 = make_blob(k1, 0x11), l2 = make_blob(k2, 0x22);
	char e1[128], e2[128], t[1024];

	(void)state;
	b64(e1, sizeof(e1), k1, l1);
	b64(e2, sizeof(e2), k2, l2);

	snprintf(t, sizeof(t), "ssh-ed25519 %s alice@laptop\n", e1);
	assert_int_equal(match(t, k1, l1), 1);
	assert_int_equal(match(t, k2, l2), 0);
	/* No comment, no final newline, CRLF, leading blanks, tabs. */
	snprintf(t, sizeof(t), "ssh-ed25519 %s", e1);
	assert_int_equal(match(t, k1, l1), 1);
	snprintf(t, sizeof(t), "ssh-ed25519 %s\r\n", e1);
	assert_int_equal(match(t, k1, l1), 1);
	snprintf(t, sizeof(t), "  \tssh-ed25519\t%s  comment with spaces\n", e1);
	assert_int_equal(match(t, k1, l1), 1);
	/* Second key after comments and blank lines. */
	snprintf(t, sizeof(t), "# keys\n\n   \nssh-ed25519 %s a\n#ssh-ed25519 %s b\nssh-ed25519 %s c\n",
	    e1, e2, e2);
	assert_int_equal(match(t, k2, l2), 1);
	snprintf(t, sizeof(t), "# keys\n#ssh-ed25519 %s b\n", e2);
	assert_int_equal(match(t, k2, l2), 0);
}

static void
test_skipped(void **state)
{
	uint8_t k1[64], rsa[64];
	size_t l1 = make_blob(k1, 0x11);
	char e1[128], t[1024];

	(void)state;
	b64(e1, sizeof(e1), k1, l1);
	/* Options are not enforced yet, so such lines never match. */
	snprintf(t, sizeof(t), "no-pty ssh-ed25519 %s\n", e1);
	assert_int_equal(match(t, k1, l1), 0);
	snprintf(t, sizeof(t), "from=\"10.0.0.1\",command=\"x y\" ssh-ed25519 %s\n", e1);
	assert_int_equal(match(t, k1, l1), 0);
	/* The line's type must be the blob's type. */
	snprintf(t, sizeof(t), "ssh-rsa %s\n", e1);
	assert_int_equal(match(t, k1, l1), 0);
	/* Unknown type, bad base64, truncated base64, no key. */
	snprintf(t, sizeof(t), "ssh-foo %s\n", e1);
	assert_int_equal(match(t, k1, l1), 0);
	snprintf(t, sizeof(t), "ssh-ed25519 !!%s\n", e1 + 2);
	assert_int_equal(match(t, k1, l1), 0);
	snprintf(t, sizeof(t), "ssh-ed25519 %.*s\n", (int)strlen(e1) - 4, e1);
	assert_int_equal(match(t, k1, l1), 0);
	assert_int_equal(match("ssh-ed25519\n", k1, l1), 0);
	assert_int_equal(match("ssh-ed25519 \n", k1, l1), 0);
	/* A NUL inside the line. */
	snprintf(t, sizeof(t), "ssh-ed25519 %s\n", e1);
	t[3] = '\0';
	assert_int_equal(authkeys_match_text(t, strlen(t + 4) + 4, k1, l1), 0);
	/* A prefix of the key is not the key. */
	assert_int_equal(match("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5\n", k1, l1), 0);
	snprintf(t, sizeof(t), "ssh-ed25519 %s\n", e1);
	assert_int_equal(match(t, k1, l1 - 1), 0);
	/* Empty inputs. */
	assert_int_equal(match("", k1, l1), 0);
	assert_int_equal(match(t, k1, 0), 0);
	memcpy(rsa, "\0\0\0\x07ssh-rsa", 11);
	assert_int_equal(match(t, rsa, 11), 0);
}

static void
test_file(void **state)
{
	char dir[] = "/tmp/test-authkeys.XXXXXX", path[128], e1[128];
	uint8_t k1[64];
	size_t l1 = make_blob(k1, 0x33);
	FILE *f;

	(void)state;
	b64(e1, sizeof(e1), k1, l1);
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/keys", dir);
	assert_non_null(f = fopen(path, "w"));
	fprintf(f, "# alice\nssh-ed25519 %s alice\n", e1);
	fclose(f);
	assert_int_equal(authkeys_match_file(path, k1, l1), 1);
	k1[30] ^= 1;
	assert_int_equal(authkeys_match_file(path, k1, l1), 0);
	assert_int_equal(authkeys_match_file(dir, k1, l1), AUTHKEYS_E_NOTFILE);
	unlink(path);
	assert_int_equal(authkeys_match_file(path, k1, l1), AUTHKEYS_E_OPEN);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(authkeys_match_file(path, k1, l1), AUTHKEYS_E_NOTFILE);
	unlink(path);
	rmdir(dir);
	assert_string_equal(authkeys_strerror(AUTHKEYS_E_NOTFILE), "not a regular file");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_skipped),
		cmocka_unit_test(test_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
