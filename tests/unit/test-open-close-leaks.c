/*
 * 1,000 pcap_create/pcap_activate/pcap_close cycles on a veth, alternating
 * the TPACKET_V3 ring and immediate mode, leak no file descriptor and no
 * mapping; and one open/capture/close cycle is clean under valgrind (when it
 * runs here, and the build has no sanitizers, which valgrind cannot host).
 * A pcap-ring property: ring library only.
 */
#include <dirent.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bed.h"

#define CYCLES	1000

static int sender_fd = -1;

static int
count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		bed_fatal("opendir /proc/self/fd");
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;	/* the directory's own */
}

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

/* One cycle; with traffic, one frame is captured through it. */
static void
cycle(int immediate, int traffic)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct bed_tally t;
	pcap_t *p = bed_create(bed.veth_b);
	struct pollfd pfd;
	double end;

	MUST(pcap_set_immediate_mode(p, immediate));
	MUST(pcap_set_timeout(p, 20));
	/* Allocating and freeing the default 32 MiB ring a thousand times
	 * takes minutes; cycles without traffic use a small ring, which
	 * goes through the same code. */
	if (!traffic)
		MUST(pcap_set_buffer_size(p, 1024 * 1024));
	bed_activate(p);
	if (traffic) {
		MUST(pcap_setnonblock(p, 1, errbuf));
		bed_tally_init(&t, 0, 1);
		bed_send(sender_fd, 0, 1, 60, 1514, MIX_ALL, NULL);
		pfd.fd = pcap_get_selectable_fd(p);
		pfd.events = POLLIN;
		end = bed_now() + 5;
		while (t.frames == 0 && bed_now() < end) {
			poll(&pfd, 1, 10);
			if (pcap_dispatch(p, -1, bed_tally_cb, (u_char *)&t) < 0)
				break;
		}
		CHECK(t.frames == 1 && t.bad == 0,
		    "immediate %d: the frame was not captured", immediate);
		bed_tally_free(&t);
	}
	pcap_close(p);
}

static void
cycles(void)
{
	int fds0, fds1, maps0, maps1, socks0, socks1, i;
	double start;

	/* Warm up lazily allocated library state first. */
	for (i = 0; i < 6; i++)
		cycle(i % 2, 1);
	fds0 = count_fds();
	count_maps(&maps0, &socks0);
	start = bed_now();
	/* Each close waits for the kernel's synchronize_net(); 1,000 is enough. */
	for (i = 0; i < CYCLES; i++)
		cycle(i % 2, i % 100 < 2);
	fds1 = count_fds();
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
		bed_ok("%d create/activate/close cycles (half immediate) in %.1f s: fds %d -> %d, mappings %d -> %d, ring mappings %d",
		    CYCLES, bed_now() - start, fds0, fds1, maps0, maps1, socks1);
}

static void
valgrind_cycle(void)
{
	int status;

#ifdef __SANITIZE_ADDRESS__
	printf("skip [%s]: valgrind: not with a sanitizer build (ASan and valgrind exclude each other)\n",
	    bed.lib);
	return;
#endif
	if (bed_sh("valgrind --version >/dev/null 2>&1") != 0) {
		printf("skip [%s]: valgrind: not installed\n", bed.lib);
		return;
	}
	status = bed_sh("valgrind -q --error-exitcode=99 --leak-check=full "
	    "--errors-for-leak-kinds=definite,indirect "
	    "--show-leak-kinds=definite,indirect %s --one-cycle 2>&1",
	    bed.self);
	CHECK(status == 0, "valgrind: exit %d", status);
	if (status == 0)
		bed_ok("valgrind: an open/capture/close cycle, V3 and immediate, is clean");
}

int
main(int argc, char **argv)
{
	bed_enter(argc, argv, "ring");
	sender_fd = bed_sender(bed.ns_a, bed.veth_a);
	if (argc > 1 && strcmp(argv[1], "--one-cycle") == 0) {
		cycle(0, 1);
		cycle(1, 1);
		return bed_finish();
	}
	cycles();
	valgrind_cycle();
	return bed_finish();
}
