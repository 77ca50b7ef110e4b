/*
 * The event-loop API as dumpcap and pcap_next_ex() users drive it (stock
 * behaviour: run with both libraries, for the TPACKET_V3 ring and for
 * immediate mode):
 * - pcap_get_required_select_timeout() is NULL on a healthy interface;
 * - poll() or select() on pcap_get_selectable_fd(), then
 *   pcap_dispatch(cnt=1), delivers every frame of the traffic exactly
 *   once, in order, intact;
 * - pcap_next_ex() returns every frame, and the data it returns stays
 *   intact until the next call even while the ring overflows behind it.
 */
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>

#include "bed.h"

#define NFRAMES		1000

static int sender_fd;

static pcap_t *
open_capture(int immediate, int buffer_size)
{
	pcap_t *p = bed_create(bed.veth_b);

	MUST(pcap_set_immediate_mode(p, immediate));
	MUST(pcap_set_timeout(p, 100));
	if (buffer_size != 0)
		MUST(pcap_set_buffer_size(p, buffer_size));
	bed_activate(p);
	return p;
}

/* Small bursts, so that stock's immediate-mode ring of ~30 frames keeps up. */
static void *
send_frames(void *arg)
{
	uint32_t i;

	(void)arg;
	for (i = 0; i < NFRAMES; i += 10) {
		bed_send(sender_fd, i, 10, 60, 1514, MIX_ALL, NULL);
		bed_sleep(0.002);
	}
	return NULL;
}

/* Wait for the fd to be readable, with poll() or select(); 1 if it is. */
static int
wait_readable(int fd, int use_select)
{
	if (use_select) {
		struct timeval tv = { 1, 0 };
		fd_set rfds;

		FD_ZERO(&rfds);
		FD_SET(fd, &rfds);
		return select(fd + 1, &rfds, NULL, NULL, &tv) > 0;
	} else {
		struct pollfd pfd = { fd, POLLIN, 0 };

		return poll(&pfd, 1, 1000) > 0;
	}
}

static void
dispatch_one_at_a_time(int immediate, int use_select)
{
	char what[128];
	struct bed_tally t;
	struct pcap_stat ps;
	pthread_t tid;
	pcap_t *p;
	int fd, idle = 0, ret, bad_ret = 0;

	snprintf(what, sizeof(what), "immediate %d: %s + pcap_dispatch(cnt=1)",
	    immediate, use_select ? "select" : "poll");
	p = open_capture(immediate, 0);
	fd = pcap_get_selectable_fd(p);
	CHECK(fd >= 0, "pcap_get_selectable_fd: %d", fd);
	CHECK(pcap_get_required_select_timeout(p) == NULL,
	    "pcap_get_required_select_timeout is not NULL after activate");
	bed_tally_init(&t, 0, NFRAMES);
	pthread_create(&tid, NULL, send_frames, NULL);
	bed_deadline(60, what);
	while (t.frames < NFRAMES && idle < 3) {
		if (!wait_readable(fd, use_select)) {
			idle++;
			continue;
		}
		idle = 0;
		ret = pcap_dispatch(p, 1, bed_tally_cb, (u_char *)&t);
		if (ret < 0 || ret > 1) {
			bad_ret = ret;
			break;
		}
	}
	bed_deadline_clear();
	pthread_join(tid, NULL);
	CHECK(bad_ret == 0, "%s: pcap_dispatch returned %d (%s)", what, bad_ret,
	    pcap_geterr(p));
	bed_tally_check(&t, what);
	CHECK(pcap_stats(p, &ps) == 0 && ps.ps_drop == 0 &&
	    ps.ps_recv == NFRAMES, "%s: ps_recv %u ps_drop %u", what,
	    ps.ps_recv, ps.ps_drop);
	CHECK(pcap_get_required_select_timeout(p) == NULL,
	    "pcap_get_required_select_timeout is not NULL after the capture");
	bed_tally_free(&t);
	pcap_close(p);
}

/*
 * pcap_next_ex() (non-blocking: a blocking one waits for ever once the
 * traffic stops) until want frames have come or nothing came for 2 s;
 * before each call the previous packet must still hold what it held.
 */
static void
next_ex_until(pcap_t *p, struct bed_tally *t, unsigned long want,
    u_char *copy, const u_char **held, unsigned int *held_len,
    unsigned long *corrupted)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	double last = bed_now();
	int ret;

	while (t->frames + t->other < want && bed_now() - last < 2) {
		if (*held != NULL && memcmp(*held, copy, *held_len) != 0)
			(*corrupted)++;
		ret = pcap_next_ex(p, &h, &data);
		if (ret < 0) {
			CHECK(0, "pcap_next_ex: %d %s", ret, pcap_geterr(p));
			return;
		}
		if (ret == 0) {
			struct pollfd pfd = { pcap_get_selectable_fd(p), POLLIN, 0 };

			poll(&pfd, 1, 10);
			continue;
		}
		last = bed_now();
		bed_tally_packet(t, h, data);
		memcpy(copy, data, h->caplen);
		*held = data;
		*held_len = h->caplen;
	}
}

static void
next_ex_data_stays(int immediate)
{
	static u_char copy[262144];
	const u_char *held = NULL;
	unsigned int held_len = 0;
	unsigned long corrupted = 0;
	struct bed_tally t;
	struct pcap_stat ps;
	char what[PCAP_ERRBUF_SIZE];
	pcap_t *p;

	/* 1 MiB: four blocks of 256 KiB with either library. */
	p = open_capture(immediate, 1024 * 1024);
	if (pcap_setnonblock(p, 1, what) != 0)
		bed_fatal("pcap_setnonblock: %s", what);
	bed_tally_init(&t, 0, 10 + 3000);
	bed_deadline(60, "pcap_next_ex");
	/* Few enough for stock's immediate-mode ring of 16 frames. */
	bed_send(sender_fd, 0, 10, 60, 1514, MIX_ALL, NULL);
	next_ex_until(p, &t, 10, copy, &held, &held_len, &corrupted);
	snprintf(what, sizeof(what),
	    "immediate %d: pcap_next_ex returns every frame", immediate);
	CHECK(t.frames == 10 && t.last == 9 && t.dup == 0 &&
	    t.reorder == 0 && t.bad == 0 && t.other == 0,
	    "%s: frames %lu last %lld dup %lu reorder %lu bad %lu other %lu",
	    what, t.frames, (long long)t.last, t.dup, t.reorder, t.bad,
	    t.other);

	/* 4.5 MB behind the last packet read: the ring wraps if it can. */
	bed_send(sender_fd, 10, 3000, 1514, 1514, MIX_UDP, NULL);
	bed_sleep(0.5);
	CHECK(held != NULL && memcmp(held, copy, held_len) == 0,
	    "immediate %d: the last packet from pcap_next_ex changed before the next call",
	    immediate);
	next_ex_until(p, &t, 3010, copy, &held, &held_len, &corrupted);
	bed_deadline_clear();
	CHECK(corrupted == 0, "immediate %d: %lu packets changed before the next pcap_next_ex",
	    immediate, corrupted);
	CHECK(t.dup == 0 && t.reorder == 0 && t.bad == 0 && t.other == 0,
	    "immediate %d: after the overflow: dup %lu reorder %lu bad %lu other %lu",
	    immediate, t.dup, t.reorder, t.bad, t.other);
	CHECK(pcap_stats(p, &ps) == 0 && ps.ps_recv == 3010 &&
	    t.frames + ps.ps_drop == 3010,
	    "immediate %d: captured %lu + ps_drop %u != 3010 sent (ps_recv %u)",
	    immediate, t.frames, ps.ps_drop, ps.ps_recv);
	if (bed_failures == 0)
		bed_ok("immediate %d: pcap_next_ex: 10 frames, then the held packet intact while 3000 more overflowed the ring (%lu captured, %u dropped)",
		    immediate, t.frames - 10, ps.ps_drop);
	bed_tally_free(&t);
	pcap_close(p);
}

int
main(int argc, char **argv)
{
	int immediate;

	bed_enter(argc, argv, "ring stock");
	sender_fd = bed_sender(bed.ns_a, bed.veth_a);
	for (immediate = 0; immediate <= 1; immediate++) {
		dispatch_one_at_a_time(immediate, 0);
		dispatch_one_at_a_time(immediate, 1);
		next_ex_data_stays(immediate);
	}
	return bed_finish();
}
