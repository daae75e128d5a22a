/* SPDX-License-Identifier: MIT */
/*
 * replay.c — runs a fuzz target's entry point over saved inputs, without libFuzzer: the
 * corpus as a deterministic regression test under ASan/UBSan (`make test`).
 *
 *   replay FILE|DIR...      every file given, and every file in each folder given
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define REPLAY_MAX_INPUT (16u << 20) /* larger than anything in a corpus */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
	uint8_t *buf = malloc(REPLAY_MAX_INPUT);
	FILE *f = fopen(path, "rb");
	size_t len;

	if (!buf || !f) {
		fprintf(stderr, "replay: cannot read %s\n", path);
		free(buf);
		if (f)
			fclose(f);
		return -1;
	}
	len = fread(buf, 1, REPLAY_MAX_INPUT, f);
	fclose(f);
	/* an exact-size copy, so ASan catches a read past the input's end */
	{
		uint8_t *exact = malloc(len ? len : 1);

		memcpy(exact, buf, len);
		free(buf);
		LLVMFuzzerTestOneInput(exact, len);
		free(exact);
	}
	return 0;
}

int main(int argc, char **argv)
{
	int inputs = 0, failed = 0;

	for (int i = 1; i < argc; i++) {
		struct dirent **names;
		struct stat st;
		int n;

		if (stat(argv[i], &st) || !S_ISDIR(st.st_mode)) {
			failed += replay_file(argv[i]) != 0;
			inputs++;
			continue;
		}
		n = scandir(argv[i], &names, NULL, alphasort);
		if (n < 0) {
			fprintf(stderr, "replay: cannot list %s\n", argv[i]);
			failed++;
			continue;
		}
		for (int k = 0; k < n; k++) {
			char path[4096];

			if (names[k]->d_name[0] != '.') {
				snprintf(path, sizeof(path), "%s/%s", argv[i], names[k]->d_name);
				failed += replay_file(path) != 0;
				inputs++;
			}
			free(names[k]);
		}
		free(names);
	}
	fprintf(stderr, "replayed %d inputs\n", inputs);
	/* the replay is one test: any crash has already ended the process */
	printf("%d passed, %d failed\n", failed || !inputs ? 0 : 1, failed || !inputs ? 1 : 0);
	return failed || !inputs;
}
