/* regress/memscan: searches another process's memory (/proc/PID/maps and
 * /proc/PID/mem) for byte patterns; the privsep scenario's key-leak probe. */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Larger mappings are sanitizer shadow or reservations: reading them would
 * fault in terabytes of zero pages, and they never hold heap data. */
#define MEMSCAN_MAX_MAPPING	(1ULL << 30)
#define MEMSCAN_CHUNK		(1U << 20)
#define MEMSCAN_MAX_PATTERNS	32

struct pattern {
	const char *hex;
	uint8_t *bytes;
	size_t len;
	unsigned long hits;
};

static void
usage(void)
{
	fprintf(stderr, "usage: memscan PID HEX [HEX ...]\n"
	    "exit 0: some pattern found, 1: none found, 2: error\n");
	exit(2);
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int
pattern_parse(struct pattern *p, const char *hex)
{
	size_t n = strlen(hex), i;

	if (n == 0 || n % 2 != 0)
		return -1;
	if ((p->bytes = malloc(n / 2)) == NULL)
		return -1;
	for (i = 0; i < n / 2; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			free(p->bytes);
			return -1;
		}
		p->bytes[i] = (uint8_t)(hi << 4 | lo);
	}
	p->hex = hex;
	p->len = n / 2;
	p->hits = 0;
	return 0;
}

/* Scans [start, end) of the target; a match may straddle chunk boundaries,
 * so each chunk after the first starts overlap bytes early. */
static void
scan_range(int memfd, uint64_t start, uint64_t end, const char *name,
    struct pattern *pats, size_t npats, size_t overlap, uint8_t *buf)
{
	uint64_t off = start;

	while (off < end) {
		size_t want = end - off > MEMSCAN_CHUNK ? MEMSCAN_CHUNK : (size_t)(end - off);
		ssize_t got = pread(memfd, buf, want, (off_t)off);
		size_t i;

		if (got <= 0)
			return;	/* guard pages, [vvar]: not readable, nothing to find */
		for (i = 0; i < npats; i++) {
			const uint8_t *hay = buf, *hit;
			size_t left = (size_t)got;

			while ((hit = memmem(hay, left, pats[i].bytes, pats[i].len)) != NULL) {
				printf("pattern %zu found at 0x%" PRIx64 " %s\n", i,
				    off + (uint64_t)(hit - buf), name);
				pats[i].hits++;
				left -= (size_t)(hit - hay) + 1;
				hay = hit + 1;
			}
		}
		if ((size_t)got < want || off + (uint64_t)got >= end)
			return;
		off += (uint64_t)got - (overlap < (size_t)got ? overlap : 0);
	}
}

int
main(int argc, char **argv)
{
	struct pattern pats[MEMSCAN_MAX_PATTERNS];
	char path[64], line[4096];
	size_t npats, i, overlap = 0;
	unsigned long found = 0;
	uint8_t *buf;
	FILE *maps;
	int memfd;

	if (argc < 3 || argc - 2 > MEMSCAN_MAX_PATTERNS)
		usage();
	npats = (size_t)argc - 2;
	for (i = 0; i < npats; i++) {
		if (pattern_parse(&pats[i], argv[i + 2]) != 0) {
			fprintf(stderr, "memscan: bad hex pattern '%s'\n", argv[i + 2]);
			return 2;
		}
		if (pats[i].len - 1 > overlap)
			overlap = pats[i].len - 1;
	}
	snprintf(path, sizeof(path), "/proc/%s/maps", argv[1]);
	if ((maps = fopen(path, "r")) == NULL) {
		fprintf(stderr, "memscan: %s: %s\n", path, strerror(errno));
		return 2;
	}
	snprintf(path, sizeof(path), "/proc/%s/mem", argv[1]);
	if ((memfd = open(path, O_RDONLY)) < 0) {
		fprintf(stderr, "memscan: %s: %s\n", path, strerror(errno));
		fclose(maps);
		return 2;
	}
	if ((buf = malloc(MEMSCAN_CHUNK)) == NULL) {
		fprintf(stderr, "memscan: out of memory\n");
		return 2;
	}
	while (fgets(line, sizeof(line), maps) != NULL) {
		uint64_t start, end;
		char perms[8], *name;
		int used = 0;

		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %*s %*s %*s%n",
		    &start, &end, perms, &used) != 3)
			continue;
		name = line + used;
		name += strspn(name, " ");
		name[strcspn(name, "\n")] = '\0';
		if (perms[0] != 'r')
			continue;
		if (end - start > MEMSCAN_MAX_MAPPING) {
			fprintf(stderr, "memscan: skipped %" PRIu64 " MiB mapping at 0x%" PRIx64 " %s\n",
			    (end - start) >> 20, start, name);
			continue;
		}
		scan_range(memfd, start, end, name, pats, npats, overlap, buf);
	}
	for (i = 0; i < npats; i++) {
		printf("pattern %zu (%zu bytes): %lu hits\n", i, pats[i].len, pats[i].hits);
		found += pats[i].hits;
		free(pats[i].bytes);
	}
	free(buf);
	close(memfd);
	fclose(maps);
	return found > 0 ? 0 : 1;
}
