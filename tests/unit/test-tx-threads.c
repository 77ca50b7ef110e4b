/*
 * One thread injects while another reads the same handle, as scapy's
 * threaded sniffers do next to sendp(): with stock that is send() next to
 * the read, and with batching (PCAP_RING_TX_BATCH) the read's flush and
 * the injection change the same TX ring.  The peer must receive every
 * injected frame once, intact, and the counters must account for each.
 * The peer sends traffic meanwhile, so that the reader's calls return
 * (and flush) all the time.  Run with both libraries.
 */
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

int
main(int argc, char **argv)
{
	int round;

	bed_enter(argc, argv, "ring stock");
	/* Small batches: the reader's flushes meet the injection often. */
	setenv("PCAP_RING_TX_BATCH", "4", 1);
	for (round = 0; round < ROUNDS; round++)
		inject_while_reading(round);
	return bed_finish();
}
