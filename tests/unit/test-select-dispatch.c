/*
 * The event-loop API as dumpcap and pcap_next_ex() users drive it (stock
 * behaviour: run with both libraries, for the TPACKET_V3 ring and for
 * immediate mode):
 * - pcap_get_required_select_timeout() is NULL on a healthy interface;
 * - poll() or select() on pcap_get_selectable_fd(), then
 *   pcap_dispatch(cnt=1), delivers every frame of the traffic exactly
 *   once, in order, intact;
 * - pcap_next_ex() returns every frame, and the data it returns stays
 *   intact until the next call even while the ring overflows behind it
 *   (it must overflow: packets are dropped);
 * - after a burst, on a link that then goes idle, select() then
 *   pcap_dispatch(cnt=1) or pcap_next_ex() (dumpcap's and scapy's loops):
 *   no read after a readable select() takes longer than the timeout, and
 *   once the burst is read select() does not report the fd readable; the
 *   same after frames a batched handle queued (PCAP_RING_TX_BATCH, which
 *   stock ignores) made the fd readable, whether the program took the fd
 *   before or after injecting.
 */
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/select.h>

#include "bed.h"

#define NFRAMES		1000

static int sender_fd;

/* Small bursts, paced, as traffic a select() loop keeps up with. */
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
	/*
	 * Stock's immediate-mode ring holds few frames of the default
	 * snapshot at its default size, and dropped 8 of these 1000 frames
	 * on a loaded machine: room for the bursts in both libraries.
	 */
	p = bed_open(immediate, immediate ? 64 * 1024 * 1024 : 0, 100);
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
 * traffic stops) until want frames have come or nothing came for 2 s,
 * as an event loop calls it: while it returns packets, and otherwise
 * only once poll() says the descriptor is readable.  Before each call
 * the previous packet must still hold what it held.
 */
static void
next_ex_until(pcap_t *p, struct bed_tally *t, unsigned long want,
    u_char *copy, const u_char **held, unsigned int *held_len,
    unsigned long *corrupted)
{
	struct pollfd pfd = { pcap_get_selectable_fd(p), POLLIN, 0 };
	struct pcap_pkthdr *h;
	const u_char *data;
	double last = bed_now();
	int ret, readable = 0;

	while (t->frames + t->other < want && bed_now() - last < 2) {
		if (!readable && poll(&pfd, 1, 10) <= 0)
			continue;
		if (*held != NULL && memcmp(*held, copy, *held_len) != 0)
			(*corrupted)++;
		ret = pcap_next_ex(p, &h, &data);
		if (ret < 0) {
			CHECK(0, "pcap_next_ex: %d %s", ret, pcap_geterr(p));
			return;
		}
		readable = ret > 0;
		if (ret == 0)
			continue;
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
	p = bed_open(immediate, 1024 * 1024, 100);
	bed_setnonblock(p);
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
	CHECK(ps.ps_drop > 0,
	    "immediate %d: the ring did not overflow (nothing dropped), so the held packet was never at risk",
	    immediate);
	if (bed_failures == 0)
		bed_ok("immediate %d: pcap_next_ex: 10 frames, then the held packet intact while 3000 more overflowed the ring (%lu captured, %u dropped)",
		    immediate, t.frames - 10, ps.ps_drop);
	bed_tally_free(&t);
	pcap_close(p);
}

#define IDLE_TIMEOUT_MS	100
#define IDLE_BURST	20

/*
 * Wait for the fd as an event loop does, with the timeout libpcap
 * requires if any (at most secs); 1 if it is readable.
 */
static int
select_readable(pcap_t *p, double secs)
{
	const struct timeval *required = pcap_get_required_select_timeout(p);
	struct timeval tv;
	int fd = pcap_get_selectable_fd(p);
	fd_set rfds;

	tv.tv_sec = (time_t)secs;
	tv.tv_usec = (suseconds_t)((secs - (time_t)secs) * 1e6);
	if (required != NULL && timercmp(required, &tv, <))
		tv = *required;
	FD_ZERO(&rfds);
	FD_SET(fd, &rfds);
	return select(fd + 1, &rfds, NULL, NULL, &tv) > 0;
}

/* One read as the loop under test makes it: 1 with a packet, 0, or < 0. */
static int
read_one(pcap_t *p, int next_ex, struct bed_tally *t)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	int ret;

	if (!next_ex)
		return pcap_dispatch(p, 1, bed_tally_cb, (u_char *)t);
	ret = pcap_next_ex(p, &h, &data);
	if (ret == 1)
		bed_tally_packet(t, h, data);
	return ret;
}

/*
 * Read what a readable fd offers until the burst is in and the fd is no
 * longer readable (the last V3 block retires on the timeout: give it
 * that long); every read must return within the timeout (plus slack for
 * a loaded machine).  The slowest read, in seconds.
 */
static double
read_while_readable(pcap_t *p, int next_ex, struct bed_tally *t,
    unsigned long want, const char *what)
{
	double start, took, slowest = 0;
	int ret;

	while (select_readable(p, t->frames < want ? 2 : 0.5)) {
		start = bed_now();
		ret = read_one(p, next_ex, t);
		took = bed_now() - start;
		if (took > slowest)
			slowest = took;
		if (ret < 0) {
			CHECK(0, "%s: read returned %d (%s)", what, ret,
			    pcap_geterr(p));
			break;
		}
	}
	return slowest;
}

static void
idle_after_burst(int immediate, int next_ex)
{
	const double slack = IDLE_TIMEOUT_MS / 1000.0 + 0.4;
	char what[128];
	struct bed_tally t;
	double slowest;
	pcap_t *p;
	int readable;

	snprintf(what, sizeof(what), "immediate %d: select + %s after a burst",
	    immediate, next_ex ? "pcap_next_ex" : "pcap_dispatch(cnt=1)");
	p = bed_open(immediate, 0, IDLE_TIMEOUT_MS);
	bed_tally_init(&t, 0, IDLE_BURST);
	bed_deadline(30, what);
	bed_send(sender_fd, 0, IDLE_BURST, 60, 1514, MIX_ALL, NULL);
	slowest = read_while_readable(p, next_ex, &t, IDLE_BURST, what);
	readable = select_readable(p, 0.5);
	bed_deadline_clear();
	bed_tally_check(&t, what);
	CHECK(slowest <= slack, "%s: a read took %.2f s", what, slowest);
	CHECK(!readable, "%s: the fd is readable with nothing waiting", what);
	if (bed_failures == 0)
		bed_ok("%s: %d frames, slowest read %.3f s, then not readable",
		    what, IDLE_BURST, slowest);
	bed_tally_free(&t);
	pcap_close(p);
}

#define GROWTH_BURST	3000	/* 1514 B frames: more than a 2 MiB ring holds */

/*
 * The same on a handle that may grow (PCAP_RING_BUFFER_MAX, which stock
 * ignores), asking for 2 MiB: a burst fills the ring while the loop is
 * away, the first read starts a step, and the step's worker, in the
 * background, has the new socket picked, drained and retired while the
 * loop reads.  No read may block once the fd was readable (a blocking
 * read waits for a packet without end on an idle link), and after the
 * burst the fd is not readable.  Frames that did not fit are dropped,
 * counted; none is captured twice.
 */
static void
idle_after_growth(int next_ex)
{
	const double slack = IDLE_TIMEOUT_MS / 1000.0 + 0.4;
	char what[128];
	struct pcap_stat ps;
	struct bed_tally t;
	double slowest;
	unsigned long grown;
	pcap_t *p;
	int readable;

	snprintf(what, sizeof(what), "growing: select + %s after a burst",
	    next_ex ? "pcap_next_ex" : "pcap_dispatch(cnt=1)");
	setenv("PCAP_RING_BUFFER_MAX", "64", 1);
	p = bed_open(0, 2 * 1024 * 1024, IDLE_TIMEOUT_MS);
	unsetenv("PCAP_RING_BUFFER_MAX");
	bed_tally_init(&t, 0, GROWTH_BURST);
	bed_deadline(30, what);
	bed_send(sender_fd, 0, GROWTH_BURST, 1514, 1514, MIX_UDP, NULL);
	bed_sleep(0.2);
	slowest = read_while_readable(p, next_ex, &t, 1, what);
	grown = bed_ring_mapping_bytes();
	readable = select_readable(p, 0.5);
	bed_deadline_clear();
	CHECK(pcap_stats(p, &ps) == 0, "%s: pcap_stats: %s", what,
	    pcap_geterr(p));
	CHECK(t.dup == 0 && t.bad == 0 &&
	    t.frames + ps.ps_drop == GROWTH_BURST,
	    "%s: %lu captured + %u dropped of %d, dup %lu, bad %lu", what,
	    t.frames, ps.ps_drop, GROWTH_BURST, t.dup, t.bad);
	CHECK(!bed.ring || grown > 2 * 1024 * 1024,
	    "%s: the ring did not grow: %lu bytes mapped", what, grown);
	CHECK(slowest <= slack, "%s: a read took %.2f s", what, slowest);
	CHECK(!readable, "%s: the fd is readable with nothing waiting", what);
	if (bed_failures == 0)
		bed_ok("%s: %lu of %d frames (%u dropped), %lu KiB mapped, slowest read %.3f s, then not readable",
		    what, t.frames, GROWTH_BURST, ps.ps_drop, grown / 1024,
		    slowest);
	bed_tally_free(&t);
	pcap_close(p);
}

/*
 * Frames from GROWTH_BURST on, a second after the burst: enough to fill
 * a 256 KiB block, which without a timeout is when the kernel hands it
 * over.
 */
#define LATE_FRAMES	400

static void *
send_after_burst(void *arg)
{
	(void)arg;
	bed_sleep(1.0);
	bed_send(sender_fd, GROWTH_BURST, LATE_FRAMES, 1514, 1514, MIX_UDP,
	    NULL);
	return NULL;
}

/*
 * A growing blocking handle without a timeout, read with pcap_next_ex()
 * alone: as with stock, no call returns 0 (pcap_next() would say the
 * capture ended), through the step a burst starts, until frames sent a
 * second later.
 */
static void
no_timeout_through_growth(void)
{
	const char *what = "growing, no timeout: pcap_next_ex through a step";
	struct pcap_pkthdr *h;
	const u_char *data;
	struct bed_tally t;
	unsigned long zeros = 0;
	pthread_t tid;
	pcap_t *p;
	int ret;

	setenv("PCAP_RING_BUFFER_MAX", "64", 1);
	p = bed_open(0, 2 * 1024 * 1024, 0);
	unsetenv("PCAP_RING_BUFFER_MAX");
	bed_tally_init(&t, 0, GROWTH_BURST + LATE_FRAMES);
	bed_send(sender_fd, 0, GROWTH_BURST, 1514, 1514, MIX_UDP, NULL);
	bed_sleep(0.2);
	if (pthread_create(&tid, NULL, send_after_burst, NULL) != 0)
		bed_fatal("pthread_create");
	bed_deadline(30, what);
	while (t.seen[GROWTH_BURST] == 0) {
		ret = pcap_next_ex(p, &h, &data);
		if (ret == 1)
			bed_tally_packet(&t, h, data);
		else if (ret == 0)
			zeros++;
		else {
			CHECK(0, "%s: %d (%s)", what, ret, pcap_geterr(p));
			break;
		}
	}
	bed_deadline_clear();
	pthread_join(tid, NULL);
	CHECK(zeros == 0 && t.dup == 0,
	    "%s: %lu calls returned 0, %lu frames captured, dup %lu", what,
	    zeros, t.frames, t.dup);
	if (bed_failures == 0)
		bed_ok("%s: %lu frames, the late ones among them, no call returned 0",
		    what, t.frames);
	bed_tally_free(&t);
	pcap_close(p);
}

/*
 * Frames a batched handle queued: a readable fd leads to one read that
 * returns within the timeout (at once without one: stock's read after a
 * readable select() never blocks), after which the fd is not readable,
 * and the peer has every frame.  Frames waiting make the fd readable whether
 * the program took it before injecting (scapy) or only after (the ring
 * shows it from pcap_get_selectable_fd() on); when a whole batch went out
 * inside pcap_inject(), the fd is not readable.
 */
static void
idle_after_batched_inject(int next_ex, int frames, int timeout_ms,
    int fd_first)
{
	const double slack = timeout_ms / 1000.0 + 0.4;
	char what[160];
	u_char frame[60];
	struct bed_tally t, peer_seen;
	double slowest;
	pcap_t *p;
	int i, rx, ring, readable, waiting_shown;

	snprintf(what, sizeof(what),
	    "batched inject of %d, timeout %d ms, fd taken %s, then select + %s",
	    frames, timeout_ms, fd_first ? "first" : "after",
	    next_ex ? "pcap_next_ex" : "pcap_dispatch(cnt=1)");
	rx = bed_receiver(bed.ns_a, bed.veth_a);
	setenv("PCAP_RING_TX_BATCH", "64", 1);
	p = bed_create(bed.veth_b);
	MUST(pcap_set_timeout(p, timeout_ms));
	bed_activate(p);
	unsetenv("PCAP_RING_TX_BATCH");
	ring = bed_ring_handle(p);	/* pcap_tx_stats() sends what waits */
	if (fd_first)
		(void)pcap_get_selectable_fd(p);
	for (i = 0; i < frames; i++) {
		frame_build(frame, (uint32_t)i, sizeof(frame), MIX_UDP);
		CHECK(pcap_inject(p, frame, sizeof(frame)) == sizeof(frame),
		    "%s: pcap_inject: %s", what, pcap_geterr(p));
	}
	waiting_shown = select_readable(p, 0);
	CHECK(waiting_shown == (ring && frames % 64 != 0),
	    "%s: the fd is %sreadable right after the injections",
	    what, waiting_shown ? "" : "not ");
	bed_tally_init(&t, 0, 0);
	bed_deadline(30, what);
	slowest = read_while_readable(p, next_ex, &t, 0, what);
	readable = select_readable(p, 0.3);
	bed_deadline_clear();
	CHECK(slowest <= slack, "%s: a read took %.2f s", what, slowest);
	CHECK(!readable, "%s: the fd is readable with nothing waiting", what);
	CHECK(t.frames == 0 && t.other == 0,
	    "%s: the handle captured %lu frames", what, t.frames + t.other);
	bed_tally_init(&peer_seen, 0, (uint32_t)frames);
	bed_receive(rx, &peer_seen, 1.0);
	bed_tally_check(&peer_seen, what);
	if (bed_failures == 0)
		bed_ok("%s: %sreadable at first, slowest read %.3f s, then not readable; the peer has all",
		    what, waiting_shown ? "" : "not ", slowest);
	bed_tally_free(&peer_seen);
	bed_tally_free(&t);
	pcap_close(p);
	close(rx);
}

static void *
send_one_later(void *arg)
{
	(void)arg;
	bed_sleep(0.5);
	bed_send(sender_fd, 0, 1, 60, 60, MIX_UDP, NULL);
	return NULL;
}

/*
 * A program that took the descriptor but reads without select(), with no
 * timeout, in immediate mode (so that one packet ends a stock read): when
 * no frame waits (a whole batch went out inside pcap_inject(), or
 * pcap_inject_flush() sent them), its read blocks until a packet comes,
 * as stock's does, although frames were injected since the last read.
 */
static void
blocking_read_after_inject(int next_ex, int frames)
{
	char what[160];
	u_char frame[60];
	struct bed_tally t;
	pthread_t tid;
	double start, took;
	pcap_t *p;
	int i, ret;

	snprintf(what, sizeof(what),
	    "fd taken, no timeout, %d frames injected%s, then a blocking %s",
	    frames, frames % 64 != 0 ? " and flushed" : "",
	    next_ex ? "pcap_next_ex" : "pcap_dispatch(cnt=1)");
	setenv("PCAP_RING_TX_BATCH", "64", 1);
	p = bed_open(1, 0, 0);
	unsetenv("PCAP_RING_TX_BATCH");
	(void)pcap_get_selectable_fd(p);
	for (i = 0; i < frames; i++) {
		frame_build(frame, (uint32_t)i, sizeof(frame), MIX_UDP);
		CHECK(pcap_inject(p, frame, sizeof(frame)) == sizeof(frame),
		    "%s: pcap_inject: %s", what, pcap_geterr(p));
	}
	if (frames % 64 != 0)
		CHECK(bed_inject_flush(p) == 0, "%s: pcap_inject_flush: %s",
		    what, pcap_geterr(p));
	bed_tally_init(&t, 0, 1);
	bed_deadline(30, what);
	if (pthread_create(&tid, NULL, send_one_later, NULL) != 0)
		bed_fatal("pthread_create");
	start = bed_now();
	ret = read_one(p, next_ex, &t);
	took = bed_now() - start;
	pthread_join(tid, NULL);
	bed_deadline_clear();
	CHECK(ret == 1 && took >= 0.4,
	    "%s: returned %d after %.3f s, before the peer's frame came at 0.5 s",
	    what, ret, took);
	if (bed_failures == 0)
		bed_ok("%s: blocked %.2f s, until the peer's frame", what, took);
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
		idle_after_burst(immediate, 0);
		idle_after_burst(immediate, 1);
	}
	idle_after_growth(0);
	idle_after_growth(1);
	no_timeout_through_growth();
	idle_after_batched_inject(0, 3, IDLE_TIMEOUT_MS, 0);
	idle_after_batched_inject(1, 3, IDLE_TIMEOUT_MS, 1);
	idle_after_batched_inject(0, 64, IDLE_TIMEOUT_MS, 1);
	idle_after_batched_inject(1, 64, IDLE_TIMEOUT_MS, 0);
	/* No timeout (pcap_create()'s default): the read only looks. */
	idle_after_batched_inject(0, 3, 0, 1);
	idle_after_batched_inject(1, 3, 0, 0);
	blocking_read_after_inject(0, 64);
	blocking_read_after_inject(1, 3);
	return bed_finish();
}
