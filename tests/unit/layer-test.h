/*
 * For the ring layers' unit tests (test-rx-layer.c, test-tx-layer.c),
 * which build the layers' sources into themselves and need no root, no
 * network and no libpcap: one check that names what failed, and a table
 * of cases run in order, as psock_tpacket.c runs its tests.
 */
#ifndef layer_test_h
#define layer_test_h

#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond, ...) do {						\
	if (!(cond)) {							\
		printf("FAIL: %s:%d: %s: ", __func__, __LINE__, #cond);	\
		printf(__VA_ARGS__);					\
		printf("\n");						\
		fflush(stdout);						\
		exit(1);						\
	}								\
} while (0)

struct layer_case {
	const char *name;
	void (*run)(void);
};

static inline int
run_cases(const struct layer_case *cases, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		cases[i].run();
		printf("ok: %s\n", cases[i].name);
	}
	return 0;
}

#endif
