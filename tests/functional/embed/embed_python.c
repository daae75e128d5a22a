// SPDX-License-Identifier: MIT
/* embed_python.c — a program that embeds CPython through the shared libpython, as
 * applications do: test_embedded.py builds it inside the sid root (-lpython3.15, which
 * picks libpython3.15.so) and records it running a workload. Its thread states live in
 * libpython's TLS block, found through each thread's DTV, not in the executable's. */
#include <Python.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s SCRIPT.py\n", argv[0]);
		return 2;
	}
	FILE *script = fopen(argv[1], "r");
	if (!script) {
		perror(argv[1]);
		return 2;
	}
	Py_Initialize();
	/* runs as __main__, with __file__ set, as `python3 SCRIPT.py` would */
	int failed = PyRun_SimpleFileEx(script, argv[1], 1);
	if (Py_FinalizeEx() < 0)
		failed = 1;
	return failed ? 1 : 0;
}
