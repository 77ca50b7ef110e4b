/*
 * pcap_setfilter() in the middle of traffic (stock behaviour: run with
 * both libraries, for the TPACKET_V3 ring and immediate mode, read with
 * pcap_dispatch() and with pcap_next_ex()).  With "dst host .2" in the
 * kernel, 400 frames go by (100 of them to .2) and only 10 are read; then
 * the filter becomes "dst host .3" and 400 more go by.  Of the 90 frames
 * to .2 still in the ring, which the old filter passed, none may be
 * delivered; the 100 frames to .3 sent after the change are delivered
 * once each, in order, and nothing else.
 *
 * The frames in the ring are filtered again in userland, where the VLAN
 * tag the kernel took out of a frame is metadata that "vlan" must see:
 * with no filter, 400 frames go by, 50 802.1Q-tagged and 50 802.1ad+Q;
 * then "vlan" must deliver those 100 and nothing else.
 *
 * Filters swapped again and again during a flood lose no frame (pcap-ring;
 * stock loses some, reported).
 */
#include <pthread.h>
#include <string.h>

#include "bed.h"

#define BURST	400

static int sender_fd;

struct seen {
	unsigned long to_2, to_3, other, reorder;
	int64_t last;
};

/* bed_send()'s MIX_UDP frame i goes to 198.51.100.(2 + i % 4). */
static void
count(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct seen *s = (struct seen *)user;
	int intact;
	int64_t seq = frame_seq(bytes, h->caplen, h->len, &intact);

	if (seq < 0 || !intact || h->caplen != h->len) {
		s->other++;
		return;
	}
	if (seq <= s->last)
		s->reorder++;
	s->last = seq;
	if (seq % 4 == 0)
		s->to_2++;
	else if (seq % 4 == 1)
		s->to_3++;
	else
		s->other++;
}

static void
set_filter(pcap_t *p, const char *expr)
{
	struct bpf_program fp;

	if (pcap_compile(p, &fp, expr, 1, PCAP_NETMASK_UNKNOWN) != 0 ||
	    pcap_setfilter(p, &fp) != 0)
		bed_fatal("filter \"%s\": %s", expr, pcap_geterr(p));
	pcap_freecode(&fp);
}

/* Read up to n packets, stopping when none came for 0.5 s. */
static void
read_packets(pcap_t *p, int next_ex, unsigned long n, struct seen *s)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	unsigned long got = 0;
	double last = bed_now();
	int ret;

	while (got < n && bed_now() - last < 0.5) {
		if (next_ex) {
			ret = pcap_next_ex(p, &h, &data);
			if (ret == 1)
				count((u_char *)s, h, data);
		} else {
			ret = pcap_dispatch(p, 1, count, (u_char *)s);
		}
		if (ret < 0)
			bed_fatal("read: %d %s", ret, pcap_geterr(p));
		if (ret > 0) {
			got++;
			last = bed_now();
		}
	}
}

/*
 * A non-blocking handle on the bed's receiving end (reads that find nothing
 * return at once) with room for a burst, also in stock's immediate-mode
 * ring.
 */
static pcap_t *
open_for_burst(int immediate)
{
	pcap_t *p = bed_open(immediate, 64 * 1024 * 1024, 100);

	bed_setnonblock(p);
	return p;
}

static void
change_during_traffic(int immediate, int next_ex)
{
	char what[128];
	struct seen before, after;
	pcap_t *p;

	snprintf(what, sizeof(what), "immediate %d, %s: filter changed with 90 passed frames in the ring",
	    immediate, next_ex ? "pcap_next_ex" : "pcap_dispatch");
	memset(&before, 0, sizeof(before));
	memset(&after, 0, sizeof(after));
	before.last = after.last = -1;
	p = open_for_burst(immediate);
	set_filter(p, "dst host 198.51.100.2");
	bed_deadline(30, what);
	bed_send(sender_fd, 0, BURST, 60, 1514, MIX_UDP, NULL);
	/* The V3 block retires on the timeout. */
	bed_sleep(0.3);
	read_packets(p, next_ex, 10, &before);
	set_filter(p, "dst host 198.51.100.3");
	bed_send(sender_fd, BURST, BURST, 60, 1514, MIX_UDP, NULL);
	bed_sleep(0.3);
	read_packets(p, next_ex, 2 * BURST, &after);
	bed_deadline_clear();
	CHECK(before.to_2 == 10 && before.to_3 == 0 && before.other == 0,
	    "%s: before the change: %lu to .2, %lu to .3, %lu other", what,
	    before.to_2, before.to_3, before.other);
	CHECK(after.to_2 == 0 && after.to_3 == BURST / 4 && after.other == 0 &&
	    after.reorder == 0,
	    "%s: after the change: %lu to .2 (none), %lu to .3 (%d), %lu other, %lu out of order",
	    what, after.to_2, after.to_3, BURST / 4, after.other, after.reorder);
	if (bed_failures == 0)
		bed_ok("%s: none delivered, then the %d frames to .3", what, BURST / 4);
	pcap_close(p);
}

struct tagged {
	unsigned long tagged, other;
};

/* MIX_ALL's frame i is tagged when i % 8 is 5 (802.1Q) or 6 (802.1ad). */
static void
count_tagged(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct tagged *t = (struct tagged *)user;
	int intact;
	int64_t seq = frame_seq(bytes, h->caplen, h->len, &intact);

	if (seq >= 0 && intact && (seq % 8 == 5 || seq % 8 == 6))
		t->tagged++;
	else
		t->other++;
}

static void
vlan_in_the_ring(int immediate)
{
	char what[128];
	struct tagged t = { 0, 0 };
	pcap_t *p;

	snprintf(what, sizeof(what), "immediate %d: \"vlan\" set with %d frames in the ring",
	    immediate, BURST);
	p = open_for_burst(immediate);
	bed_deadline(30, what);
	bed_send(sender_fd, 0, BURST, 60, 1514, MIX_ALL, NULL);
	bed_sleep(0.3);
	set_filter(p, "vlan");
	bed_drain(p, count_tagged, (u_char *)&t, NULL, 0, 0.5);
	bed_deadline_clear();
	CHECK(t.tagged == BURST / 4 && t.other == 0,
	    "%s: %lu tagged frames (want %d), %lu other", what, t.tagged,
	    BURST / 4, t.other);
	if (t.tagged == BURST / 4 && t.other == 0)
		bed_ok("%s: the %lu tagged ones delivered", what, t.tagged);
	pcap_close(p);
}

#define FLOOD	20000

static void *
flood(void *arg)
{
	bed_send(sender_fd, 0, FLOOD, 100, 100, MIX_UDP, NULL);
	__atomic_store_n((int *)arg, 1, __ATOMIC_RELEASE);
	return NULL;
}

/*
 * Filters that pass every frame, swapped for one another while a flood
 * comes in: pcap-ring replaces the kernel's filter in one step and loses
 * nothing.  Stock puts a filter that rejects everything in place while it
 * empties the socket's queue, and loses what comes meanwhile, counted
 * nowhere (a documented difference; reported here, not checked).
 */
static void
swaps_during_flood(void)
{
	static const char *const exprs[2] = { "ip", "udp" };
	struct bpf_program fp[2];
	struct pcap_stat ps;
	struct bed_tally t;
	unsigned long swaps = 0;
	pthread_t tid;
	int done = 0, i;
	pcap_t *p;

	p = bed_open_nonblocking(64 * 1024 * 1024, 50);
	for (i = 0; i < 2; i++)
		if (pcap_compile(p, &fp[i], exprs[i], 1,
		    PCAP_NETMASK_UNKNOWN) != 0)
			bed_fatal("filter \"%s\": %s", exprs[i], pcap_geterr(p));
	bed_tally_init(&t, 0, FLOOD);
	pthread_create(&tid, NULL, flood, &done);
	while (!__atomic_load_n(&done, __ATOMIC_ACQUIRE)) {
		if (pcap_setfilter(p, &fp[swaps++ % 2]) != 0 ||
		    pcap_dispatch(p, -1, bed_tally_cb, (u_char *)&t) < 0)
			bed_fatal("swapping filters: %s", pcap_geterr(p));
	}
	pthread_join(tid, NULL);
	bed_drain(p, bed_tally_cb, (u_char *)&t, &t.frames, FLOOD, 1.0);
	CHECK(pcap_stats(p, &ps) == 0, "pcap_stats: %s", pcap_geterr(p));
	if (bed.ring) {
		CHECK(t.frames == FLOOD && t.dup == 0 && ps.ps_drop == 0,
		    "%lu filter swaps during a flood: %lu of %d frames captured, %lu twice, %u dropped",
		    swaps, t.frames, FLOOD, t.dup, ps.ps_drop);
		if (t.frames == FLOOD && t.dup == 0 && ps.ps_drop == 0)
			bed_ok("%lu filter swaps during a flood: all %d frames captured once",
			    swaps, FLOOD);
	} else {
		bed_ok("%lu filter swaps during a flood: %lu of %d frames captured, %u dropped",
		    swaps, t.frames, FLOOD, ps.ps_drop);
	}
	for (i = 0; i < 2; i++)
		pcap_freecode(&fp[i]);
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
		change_during_traffic(immediate, 0);
		change_during_traffic(immediate, 1);
		vlan_in_the_ring(immediate);
	}
	swaps_during_flood();
	return bed_finish();
}
