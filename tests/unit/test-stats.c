/*
 * pcap_stats() with stock's semantics (run with both libraries, for the
 * TPACKET_V3 ring and for immediate mode):
 * - ps_recv counts the packets that passed the filter, ps_drop is 0 at a
 *   low rate;
 * - with the smallest buffer and a burst nobody reads, the ring drops,
 *   ps_drop says how many, and captured + dropped = sent = ps_recv;
 * - the counters are running totals across calls;
 * - on a promiscuous handle (which reads the interface's drop counters),
 *   pcap_stats() allocates no memory: tcpdump calls it from its SIGUSR1
 *   handler, which may interrupt malloc() holding its lock.
 */
#include <stdlib.h>

#include "bed.h"

static int sender_fd;

#ifndef __SANITIZE_ADDRESS__
/* glibc's allocator, under the names it keeps for those who replace it. */
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);

/* This thread's allocations only: the bed's watchdog thread has its own. */
static __thread int counting;
static __thread unsigned long allocations;

void *
malloc(size_t size)
{
	allocations += counting;
	return __libc_malloc(size);
}

void *
calloc(size_t n, size_t size)
{
	allocations += counting;
	return __libc_calloc(n, size);
}

void *
realloc(void *ptr, size_t size)
{
	allocations += counting;
	return __libc_realloc(ptr, size);
}
#endif

/* Read as the descriptor says until want packets came or none for 1 s. */
static void
drain(pcap_t *p, struct bed_tally *t, unsigned long want)
{
	bed_drain(p, bed_tally_cb, (u_char *)t, &t->packets, want, 1.0);
}

static void
filtered_low_rate(int immediate)
{
	struct bpf_program prog;
	struct pcap_stat ps;
	struct bed_tally t;
	uint32_t i;
	pcap_t *p;

	p = bed_open(immediate, 0, 50);
	bed_setnonblock(p);
	/* One frame in five: MIX_UDP frames go to ports 5000..5004. */
	if (pcap_compile(p, &prog, "udp dst port 5000", 1,
	    PCAP_NETMASK_UNKNOWN) != 0 || pcap_setfilter(p, &prog) != 0)
		bed_fatal("filter: %s", pcap_geterr(p));
	pcap_freecode(&prog);
	bed_tally_init(&t, 0, 1000);
	/* Read as it comes: stock's immediate-mode ring holds ~30 frames. */
	for (i = 0; i < 1000; i += 100) {
		bed_send(sender_fd, i, 100, 60, 1514, MIX_UDP, NULL);
		drain(p, &t, (i + 100) / 5);
	}
	CHECK(t.frames == 200 && t.dup == 0 && t.reorder == 0 && t.bad == 0 &&
	    t.other == 0, "immediate %d: filter: frames %lu dup %lu reorder %lu bad %lu other %lu",
	    immediate, t.frames, t.dup, t.reorder, t.bad, t.other);
	CHECK(pcap_stats(p, &ps) == 0, "pcap_stats: %s", pcap_geterr(p));
	CHECK(ps.ps_recv == 200 && ps.ps_drop == 0 && ps.ps_ifdrop == 0,
	    "immediate %d: 200 of 1000 frames pass: ps_recv %u ps_drop %u ps_ifdrop %u",
	    immediate, ps.ps_recv, ps.ps_drop, ps.ps_ifdrop);
	if (bed_failures == 0)
		bed_ok("immediate %d: filter passing 200 of 1000 frames: 200 captured, ps_recv %u, ps_drop %u",
		    immediate, ps.ps_recv, ps.ps_drop);
	bed_tally_free(&t);
	pcap_close(p);
}

static void
tiny_buffer_burst(int immediate)
{
	struct pcap_stat ps, ps2;
	struct bed_tally t;
	uint32_t i;
	pcap_t *p;

	/* One byte: the smallest ring either library makes. */
	p = bed_open(immediate, 1, 50);
	bed_setnonblock(p);
	bed_tally_init(&t, 0, 2100);
	bed_send(sender_fd, 0, 2000, 1514, 1514, MIX_UDP, NULL);
	bed_sleep(0.2);
	drain(p, &t, 2000);
	CHECK(pcap_stats(p, &ps) == 0, "pcap_stats: %s", pcap_geterr(p));
	CHECK(t.dup == 0 && t.reorder == 0 && t.bad == 0 && t.other == 0,
	    "immediate %d: dup %lu reorder %lu bad %lu other %lu", immediate,
	    t.dup, t.reorder, t.bad, t.other);
	CHECK(ps.ps_drop > 0 && t.frames + ps.ps_drop == 2000 &&
	    ps.ps_recv == 2000,
	    "immediate %d: unread burst of 2000 into a 1-byte buffer: captured %lu, ps_drop %u, ps_recv %u",
	    immediate, t.frames, ps.ps_drop, ps.ps_recv);
	if (bed_failures == 0)
		bed_ok("immediate %d: unread burst of 2000 into a 1-byte buffer: %lu captured + %u dropped = 2000 = ps_recv",
		    immediate, t.frames, ps.ps_drop);

	/* Running totals: 20 more, read one by one, add 20 and no drops. */
	for (i = 2000; i < 2020; i++) {
		bed_send(sender_fd, i, 1, 60, 60, MIX_UDP, NULL);
		drain(p, &t, t.frames + 1);
	}
	CHECK(pcap_stats(p, &ps2) == 0, "pcap_stats: %s", pcap_geterr(p));
	CHECK(ps2.ps_recv == ps.ps_recv + 20 && ps2.ps_drop == ps.ps_drop,
	    "immediate %d: after 20 more: ps_recv %u -> %u, ps_drop %u -> %u",
	    immediate, ps.ps_recv, ps2.ps_recv, ps.ps_drop, ps2.ps_drop);
	if (bed_failures == 0)
		bed_ok("immediate %d: pcap_stats keeps running totals (ps_recv %u -> %u)",
		    immediate, ps.ps_recv, ps2.ps_recv);
	bed_tally_free(&t);
	pcap_close(p);
}

static void
stats_allocate_nothing(int immediate)
{
#ifdef __SANITIZE_ADDRESS__
	(void)immediate;
	bed_skip_case("pcap_stats() allocations: not in a sanitizer build (ASan has its own malloc())");
#else
	struct pcap_stat ps;
	pcap_t *p = bed_create(bed.veth_b);
	int i, failed = 0;

	MUST(pcap_set_immediate_mode(p, immediate));
	MUST(pcap_set_promisc(p, 1));
	MUST(pcap_set_timeout(p, 50));
	bed_activate(p);
	bed_send(sender_fd, 0, 10, 60, 1514, MIX_UDP, NULL);
	allocations = 0;
	counting = 1;
	for (i = 0; i < 10; i++)
		failed += pcap_stats(p, &ps) != 0;
	counting = 0;
	CHECK(failed == 0 && allocations == 0,
	    "immediate %d, promiscuous: 10 pcap_stats() calls, %d failed, %lu allocations",
	    immediate, failed, allocations);
	if (bed_failures == 0)
		bed_ok("immediate %d, promiscuous: pcap_stats() allocates nothing (ps_recv %u)",
		    immediate, ps.ps_recv);
	pcap_close(p);
#endif
}

int
main(int argc, char **argv)
{
	int immediate;

	bed_enter(argc, argv, "ring stock");
	sender_fd = bed_sender(bed.ns_a, bed.veth_a);
	/* First: no earlier pcap_stats() in the process. */
	for (immediate = 0; immediate <= 1; immediate++)
		stats_allocate_nothing(immediate);
	for (immediate = 0; immediate <= 1; immediate++) {
		filtered_low_rate(immediate);
		tiny_buffer_burst(immediate);
	}
	return bed_finish();
}
