/*
 * One thread injects while another reads the same handle, as scapy's
 * threaded sniffers do next to sendp(): with stock that is send() next to
 * the read, and with batching (PCAP_RING_TX_BATCH) the read's flush and
 * the injection change the same TX ring.  The peer must receive every
 * injected frame once, intact, and the counters must account for each.
 * The peer sends traffic meanwhile, so that the reader's calls return
 * (and flush) all the time.  Run with both libraries.
 *
 * Also (ring only: stock's selectable descriptor is not readable for
 * frames to send): a reader woken by the selectable descriptor for frames
 * that the injecting thread then flushed itself must not block on an idle
 * link; its read returns after the handle's timeout, as stock's does when
 * it was woken.
 */
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bed.h"

#define INJECTED	20000
#define ROUNDS		6
#define PEER_BASE	1000000

struct reader {
	pcap_t *p;
	int next_ex;		/* read with pcap_next_ex(), else pcap_dispatch() */
	unsigned long packets;
	int error;
	pthread_t tid;
};

static void
count_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	(void)h;
	(void)bytes;
	((struct reader *)user)->packets++;
}

static void *
read_until_break(void *arg)
{
	struct reader *r = arg;
	struct pcap_pkthdr *h;
	const u_char *bytes;
	int ret;

	for (;;) {
		if (r->next_ex) {
			ret = pcap_next_ex(r->p, &h, &bytes);
			if (ret == 1)
				r->packets++;
		} else {
			ret = pcap_dispatch(r->p, -1, count_packet, (u_char *)r);
		}
		if (ret == PCAP_ERROR_BREAK || ret == PCAP_ERROR) {
			r->error = ret == PCAP_ERROR;
			return NULL;
		}
	}
}

struct peer {
	int fd;
	volatile int stop;
	pthread_t tid;
};

/* Frames to the handle's side, one every 20 us, until told to stop. */
static void *
send_until_stopped(void *arg)
{
	struct peer *peer = arg;
	const struct timespec gap = { 0, 20000 };
	uint32_t i = PEER_BASE;

	while (!__atomic_load_n(&peer->stop, __ATOMIC_ACQUIRE)) {
		bed_send(peer->fd, i++, 1, 60, 200, MIX_UDP, NULL);
		nanosleep(&gap, NULL);
	}
	return NULL;
}

static void
inject_while_reading(int round)
{
	static u_char frame[FRAME_MAX_LEN];
	struct bed_tally peer_seen;
	struct pcap_tx_stat ts;
	struct reader r;
	struct peer peer;
	uint32_t base = (uint32_t)round * INJECTED, i;
	size_t len;
	int rx, ret;

	rx = bed_receiver(bed.ns_a, bed.veth_a);
	memset(&r, 0, sizeof(r));
	r.p = bed_create(bed.veth_b);
	r.next_ex = round % 2;
	if (pcap_set_immediate_mode(r.p, 1) != 0 ||
	    pcap_set_timeout(r.p, 100) != 0)
		bed_fatal("pcap_set_*: %s", pcap_geterr(r.p));
	bed_activate(r.p);
	memset(&peer, 0, sizeof(peer));
	peer.fd = bed_sender(bed.ns_a, bed.veth_a);
	if (pthread_create(&peer.tid, NULL, send_until_stopped, &peer) != 0 ||
	    pthread_create(&r.tid, NULL, read_until_break, &r) != 0)
		bed_fatal("pthread_create");

	bed_deadline(120, "injecting next to a reading thread");
	for (i = base; i < base + INJECTED; i++) {
		len = frame_build(frame, i, frame_len(i, 60, 1514), MIX_UDP);
		ret = pcap_inject(r.p, frame, (int)len);
		if (ret != (int)len) {
			CHECK(0, "round %d: pcap_inject of frame %u returned %d: %s",
			    round, i, ret, pcap_geterr(r.p));
			break;
		}
	}
	CHECK(bed_inject_flush(r.p) == 0, "round %d: pcap_inject_flush: %s",
	    round, pcap_geterr(r.p));
	__atomic_store_n(&peer.stop, 1, __ATOMIC_RELEASE);
	pthread_join(peer.tid, NULL);
	pcap_breakloop(r.p);
	pthread_join(r.tid, NULL);
	bed_deadline_clear();
	CHECK(!r.error, "round %d: the reader failed: %s", round,
	    pcap_geterr(r.p));
	CHECK(r.packets > 100, "round %d: the reader read %lu packets, the peer sent it more",
	    round, r.packets);

	bed_tally_init(&peer_seen, base, INJECTED);
	bed_receive(rx, &peer_seen, 2.0);
	bed_tally_check(&peer_seen, r.next_ex ?
	    "frames injected next to pcap_next_ex()" :
	    "frames injected next to pcap_dispatch()");
	bed_tally_free(&peer_seen);
	if (bed_tx_stats(r.p, &ts) == 0)
		CHECK(ts.tx_queued == INJECTED && ts.tx_sent == INJECTED &&
		    ts.tx_rejected == 0 && ts.tx_dropped == 0 &&
		    ts.tx_pending == 0,
		    "round %d: counters: queued %llu sent %llu rejected %llu dropped %llu pending %llu",
		    round, (unsigned long long)ts.tx_queued,
		    (unsigned long long)ts.tx_sent,
		    (unsigned long long)ts.tx_rejected,
		    (unsigned long long)ts.tx_dropped,
		    (unsigned long long)ts.tx_pending);
	pcap_close(r.p);
	close(peer.fd);
	close(rx);
}

struct woken_reader {
	pcap_t *p;
	volatile int flushed;
	int readable, read_ret;
	double read_secs;
	pthread_t tid;
};

static void *
wait_then_read(void *arg)
{
	struct woken_reader *w = arg;
	struct pollfd pfd = { pcap_get_selectable_fd(w->p), POLLIN, 0 };
	struct reader others;	/* packets the link happens to carry */
	double start;

	memset(&others, 0, sizeof(others));
	w->readable = poll(&pfd, 1, 5000) == 1;
	while (!__atomic_load_n(&w->flushed, __ATOMIC_ACQUIRE))
		bed_sleep(0.001);
	start = bed_now();
	w->read_ret = pcap_dispatch(w->p, -1, count_packet, (u_char *)&others);
	w->read_secs = bed_now() - start;
	return NULL;
}

static void
read_woken_for_flushed_frames(void)
{
	static u_char frame[60];
	struct woken_reader w;

	if (!bed.ring)
		return;
	memset(&w, 0, sizeof(w));
	w.p = bed_create(bed.veth_b);
	if (pcap_set_timeout(w.p, 100) != 0)
		bed_fatal("pcap_set_timeout: %s", pcap_geterr(w.p));
	bed_activate(w.p);
	frame_build(frame, 0, sizeof(frame), MIX_UDP);
	if (pthread_create(&w.tid, NULL, wait_then_read, &w) != 0)
		bed_fatal("pthread_create");
	bed_deadline(20, "a read woken for frames another thread flushed");
	CHECK(pcap_inject(w.p, frame, sizeof(frame)) == sizeof(frame),
	    "pcap_inject: %s", pcap_geterr(w.p));
	bed_sleep(0.2);
	CHECK(bed_inject_flush(w.p) == 0, "pcap_inject_flush: %s",
	    pcap_geterr(w.p));
	__atomic_store_n(&w.flushed, 1, __ATOMIC_RELEASE);
	pthread_join(w.tid, NULL);
	bed_deadline_clear();
	CHECK(w.readable, "the selectable descriptor was not readable with a frame waiting");
	CHECK(w.read_ret >= 0 && w.read_secs < 2.0,
	    "the woken read returned %d after %.2f s (expected at most the 0.1 s timeout)",
	    w.read_ret, w.read_secs);
	if (bed_failures == 0)
		bed_ok("a read woken for frames flushed meanwhile returned after %.2f s",
		    w.read_secs);
	pcap_close(w.p);
}

int
main(int argc, char **argv)
{
	int round;

	bed_enter(argc, argv, "ring stock");
	/* Small batches: the reader's flushes meet the injection often. */
	setenv("PCAP_RING_TX_BATCH", "4", 1);
	for (round = 0; round < ROUNDS; round++)
		inject_while_reading(round);
	read_woken_for_flushed_frames();
	return bed_finish();
}
