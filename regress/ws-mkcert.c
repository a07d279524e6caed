/* ws-mkcert CERT KEY NAME: a self-signed certificate for NAME (and its key),
 * for workspaced --tls-cert in the regress scenarios (ws-tls.sh). */
#include "autoconf.h"

#include <stdio.h>

#include "regress/unit/test-cert.h"

int
main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: ws-mkcert CERT KEY NAME\n");
		return 2;
	}
	if (test_cert_make(argv[1], argv[2], argv[3]) != 0) {
		fprintf(stderr, "ws-mkcert: cannot write %s and %s\n", argv[1], argv[2]);
		return 1;
	}
	return 0;
}
