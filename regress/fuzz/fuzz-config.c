/* Fuzz target for the config loader: config_parse on arbitrary bytes, as the
 * child parses what its monitor sends. It must fail cleanly, never crash or leak. */
#include "autoconf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *cfg = NULL;
	struct config_error err;
	const char *paths[8];

	if (config_parse((const char *)data, size, "fuzz.yaml", &cfg, &err) == 0) {
		/* A loaded config has every string set and a host key. */
		if (cfg == NULL || cfg->server.port < 1 || cfg->server.port > 65535 ||
		    config_host_key_paths(cfg, paths, 8) == 0 || cfg->privsep.user == NULL ||
		    cfg->nats.password == NULL || cfg->server.max_startups_begin > cfg->server.max_startups_full)
			abort();
		config_free(cfg);
		return 0;
	}
	/* Every error names the file and is a complete message. */
	if (cfg != NULL || strncmp(err.message, "fuzz.yaml", 9) != 0 || strcmp(err.file, "fuzz.yaml") != 0 ||
	    memchr(err.message, '\0', sizeof(err.message)) == NULL)
		abort();
	return 0;
}
