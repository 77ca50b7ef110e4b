/*
 * 1,000 pcap_create/pcap_activate/pcap_close cycles on a veth, taking
 * turns: the TPACKET_V3 ring, immediate mode, a batched handle (TX
 * socket and ring, epoll set, eventfd), an activation that fails on a bad
 * PCAP_RING_TX_BATCH before anything is opened, and one that fails for
 * want of a file descriptor after the capture ring is set up; they leak
 * no file descriptor and no mapping.  One cycle of each, with traffic,
 * is clean under valgrind (unless the build has sanitizers, which
 * valgrind cannot host).  A pcap-ring property: ring library only.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>

#include "bed.h"

#define CYCLES	1000

enum kind { V3, IMMEDIATE, BATCHED, BAD_ENVIRONMENT, NO_FD_LEFT, KINDS };

static const char *const kind_names[KINDS] = {
	"V3", "immediate", "batched", "bad PCAP_RING_TX_BATCH",
	"no fd left after the ring"
};

static int sender_fd = -1;
static unsigned long bad_environment_accepted, no_fd_left_accepted;

/* Lines of /proc/self/maps, and of them the packet socket mappings. */
static void
count_maps(int *all, int *sockets)
{
	char line[1024];
	FILE *f = fopen("/proc/self/maps", "r");

	if (f == NULL)
		bed_fatal("fopen /proc/self/maps");
	*all = *sockets = 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		(*all)++;
		if (strstr(line, "socket:") != NULL)
			(*sockets)++;
	}
	fclose(f);
}

/* An activation that must fail on the environment, before it opens anything. */
static void
fail_on_environment(pcap_t *p)
{
	int status;

	setenv("PCAP_RING_TX_BATCH", "lots", 1);
	status = pcap_activate(p);
	unsetenv("PCAP_RING_TX_BATCH");
	if (status != PCAP_ERROR ||
	    strstr(pcap_geterr(p), "PCAP_RING_TX_BATCH=\"lots\"") == NULL)
		bad_environment_accepted++;
	bed_check_claimed(p, "PCAP_RING_TX_BATCH=lots");
}

/*
 * An activation that must fail after the capture ring is set up: the
 * file descriptor limit leaves room for the capture socket alone, so
 * that the eventfd made after the ring fails with EMFILE, and says so
 * as stock 1.10.5 does (1.10.6 fails earlier, on its DSA check).
 * (Immediate mode: no spare sockets for ring growth are opened before
 * the ring.)
 */
static void
fail_for_want_of_fd(pcap_t *p)
{
	struct rlimit old, tight;
	char want[PCAP_ERRBUF_SIZE];
	int lowest, status;

	/* The capture socket gets the lowest free descriptor. */
	lowest = open("/dev/null", O_RDONLY);
	if (lowest == -1 || getrlimit(RLIMIT_NOFILE, &old) != 0)
		bed_fatal("open /dev/null, getrlimit");
	close(lowest);
	tight = old;
	tight.rlim_cur = (rlim_t)lowest + 1;
	if (setrlimit(RLIMIT_NOFILE, &tight) != 0)
		bed_fatal("setrlimit");
	status = pcap_activate(p);
	if (setrlimit(RLIMIT_NOFILE, &old) != 0)
		bed_fatal("setrlimit");
	snprintf(want, sizeof(want), "could not open eventfd: %s",
	    strerror(EMFILE));
	if (status != PCAP_ERROR || strcmp(pcap_geterr(p), want) != 0)
		no_fd_left_accepted++;
	bed_check_claimed(p, "no fd left after the ring");
}

/*
 * One cycle; with traffic, one frame is captured through it, and a
 * batched handle sends one through its TX ring.
 */
static void
cycle(enum kind kind, int traffic)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	static uint8_t frame[FRAME_MAX_LEN];
	struct bed_tally t;
	pcap_t *p = bed_create(bed.veth_b);
	int len;

	MUST(pcap_set_immediate_mode(p, kind == IMMEDIATE || kind == NO_FD_LEFT));
	MUST(pcap_set_timeout(p, 20));
	/* Allocating and freeing the default 32 MiB ring a thousand times
	 * takes minutes; cycles without traffic use a small ring, which
	 * goes through the same code. */
	if (!traffic)
		MUST(pcap_set_buffer_size(p, 1024 * 1024));
	if (kind == BATCHED)
		MUST(pcap_set_tx_batch(p, 64));
	if (kind == BAD_ENVIRONMENT || kind == NO_FD_LEFT) {
		if (kind == BAD_ENVIRONMENT)
			fail_on_environment(p);
		else
			fail_for_want_of_fd(p);
		pcap_close(p);
		return;
	}
	bed_activate(p);
	if (traffic) {
		MUST(pcap_setnonblock(p, 1, errbuf));
		bed_tally_init(&t, 0, 1);
		bed_send(sender_fd, 0, 1, 60, 1514, MIX_ALL, NULL);
		bed_drain(p, bed_tally_cb, (u_char *)&t, &t.frames, 1, 5.0);
		CHECK(t.frames == 1 && t.bad == 0,
		    "%s: the frame was not captured", kind_names[kind]);
		bed_tally_free(&t);
		if (kind == BATCHED) {
			len = (int)frame_build(frame, 1, 100, MIX_UDP);
			CHECK(pcap_inject(p, frame, (size_t)len) == len &&
			    pcap_inject_flush(p) == 0,
			    "batched: injection: %s", pcap_geterr(p));
		}
	}
	pcap_close(p);
}

static void
cycles(void)
{
	int fds0, fds1, maps0, maps1, socks0, socks1, i;
	double start;

	/* Warm up lazily allocated library state first. */
	for (i = 0; i < 2 * KINDS; i++)
		cycle(i % KINDS, 1);
	fds0 = bed_count_fds();
	count_maps(&maps0, &socks0);
	start = bed_now();
	/* Each close waits for the kernel's synchronize_net(); 1,000 is enough. */
	for (i = 0; i < CYCLES; i++)
		cycle(i % KINDS, i % 100 < KINDS);
	CHECK(bad_environment_accepted == 0,
	    "%lu activations with PCAP_RING_TX_BATCH=lots did not fail naming it",
	    bad_environment_accepted);
	CHECK(no_fd_left_accepted == 0,
	    "%lu activations with no fd left did not fail with stock's \"could not open eventfd: %s\"",
	    no_fd_left_accepted, strerror(EMFILE));
	fds1 = bed_count_fds();
	count_maps(&maps1, &socks1);
	CHECK(fds1 == fds0, "%d fds before %d cycles, %d after", fds0, CYCLES,
	    fds1);
	CHECK(socks0 == 0 && socks1 == 0,
	    "packet socket mappings left: %d before, %d after", socks0, socks1);
#ifndef __SANITIZE_ADDRESS__
	/* ASan's allocator maps memory of its own as it goes. */
	CHECK(maps1 == maps0, "%d mappings before, %d after", maps0, maps1);
#endif
	if (fds1 == fds0 && socks1 == 0)
		bed_ok("%d create/activate/close cycles (V3, immediate, batched, failing on the environment, failing for want of an fd) in %.1f s: fds %d -> %d, mappings %d -> %d, ring mappings %d",
		    CYCLES, bed_now() - start, fds0, fds1, maps0, maps1, socks1);
}

static void
valgrind_cycle(void)
{
	int status;

#ifdef __SANITIZE_ADDRESS__
	bed_skip_case("valgrind cycle: not in a sanitizer build (ASan and valgrind exclude each other)");
	return;
#endif
	if (!bed_have("valgrind", "valgrind", "valgrind --version")) {
		bed_skip_case("valgrind cycle: valgrind is not installed");
		return;
	}
	status = bed_sh("valgrind -q --error-exitcode=99 --leak-check=full "
	    "--errors-for-leak-kinds=definite,indirect "
	    "--show-leak-kinds=definite,indirect %s --one-cycle 2>&1",
	    bed.self);
	CHECK(status == 0, "valgrind: exit %d", status);
	if (status == 0)
		bed_ok("valgrind: a cycle of each kind, with traffic, is clean");
}

int
main(int argc, char **argv)
{
	int kind;

	bed_enter(argc, argv, "ring");
	sender_fd = bed_sender(bed.ns_a, bed.veth_a);
	if (argc > 1 && strcmp(argv[1], "--one-cycle") == 0) {
		for (kind = 0; kind < KINDS; kind++)
			cycle(kind, 1);
		CHECK(bad_environment_accepted == 0,
		    "PCAP_RING_TX_BATCH=lots did not fail the activation");
		CHECK(no_fd_left_accepted == 0,
		    "with no fd left the activation did not fail with stock's \"could not open eventfd: %s\"",
		    strerror(EMFILE));
		return bed_finish();
	}
	cycles();
	valgrind_cycle();
	return bed_finish();
}
