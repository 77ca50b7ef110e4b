/*
 * The injection API on handles without a TX ring, and send queues in
 * memory; on the bed (ring library only: stock has no send queues), a
 * send queue on a handle stock pcap-linux has goes through pcap_inject().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
/* The send queues are declared only on request. */
#define PCAP_WANT_SENDQUEUE
#include <pcap/pcap.h>

#include "bed.h"

static int
says(pcap_t *p, const char *what)
{
	return strstr(pcap_geterr(p), what) != NULL;
}

/*
 * A handle without a capture source's send queues (the module disabled)
 * sends each record with pcap_inject(): with sync=0 the whole queue
 * reaches the peer, sync is refused, and pcap_inject()'s own error stops
 * the queue.
 */
static void
stock_transmit(void)
{
	static u_char frame[FRAME_MAX_LEN];
	struct pcap_pkthdr h;
	struct bed_tally t;
	pcap_send_queue *q;
	pcap_t *p;
	uint32_t i;
	u_int ret;
	int fd;

	setenv("PCAP_RING_DISABLE", "1", 1);
	q = pcap_sendqueue_alloc(10 * (u_int)(sizeof(h) + 60));
	if (q == NULL)
		bed_fatal("pcap_sendqueue_alloc");
	memset(&h, 0, sizeof(h));
	for (i = 0; i < 10; i++) {
		h.caplen = h.len = (bpf_u_int32)frame_build(frame, i, 60, MIX_UDP);
		if (h.caplen != 60 || pcap_sendqueue_queue(q, &h, frame) != 0)
			bed_fatal("queueing frame %u", i);
	}

	p = bed_create(bed.veth_b);
	if (pcap_activate(p) != 0)
		bed_fatal("pcap_activate(%s): %s", bed.veth_b, pcap_geterr(p));
	CHECK(!bed_ring_handle(p), "PCAP_RING_DISABLE=1: the module took %s",
	    bed.veth_b);
	fd = bed_receiver(bed.ns_a, bed.veth_a);
	bed_tally_init(&t, 0, 10);
	ret = pcap_sendqueue_transmit(p, q, 0);
	CHECK(ret == q->len, "stock handle, sync=0: returned %u of %u: \"%s\"",
	    ret, q->len, pcap_geterr(p));
	bed_receive(fd, &t, 2.0);
	/* Intact frames of 60 B: 600 B in all. */
	bed_tally_check(&t, "stock handle, sync=0: 10 records of 60 B on the peer");
	bed_tally_free(&t);

	bed_tally_init(&t, 0, 10);
	ret = pcap_sendqueue_transmit(p, q, 1);
	CHECK(ret == 0 && says(p, "sync needs a capture source that supports send queues") &&
	    says(p, bed.veth_b), "stock handle, sync=1: returned %u: \"%s\"",
	    ret, pcap_geterr(p));
	bed_receive(fd, &t, 0.5);
	CHECK(t.frames == 0, "stock handle, sync=1: %lu frames sent", t.frames);
	bed_tally_free(&t);
	close(fd);
	pcap_close(p);

	p = bed_create("any");
	if (pcap_activate(p) != 0)
		bed_fatal("pcap_activate(any): %s", pcap_geterr(p));
	ret = pcap_sendqueue_transmit(p, q, 0);
	CHECK(ret == 0 && says(p, "Sending packets isn't supported on the \"any\" device"),
	    "\"any\", sync=0: returned %u: \"%s\"", ret, pcap_geterr(p));
	pcap_close(p);
	pcap_sendqueue_destroy(q);
	unsetenv("PCAP_RING_DISABLE");
	if (bed_failures == 0)
		bed_ok("a stock handle sends a queue with pcap_inject(), refuses sync, keeps pcap_inject()'s error");
}

int
main(int argc, char **argv)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_tx_stat ts;
	struct pcap_pkthdr h;
	u_char data[100];
	pcap_send_queue *q;
	pcap_t *p;

	bed_enter(argc, argv, "ring");
	unsetenv("PCAP_RING_DISABLE");

	/* pcap_open_dead(): no capture, no TX ring. */
	p = pcap_open_dead(DLT_EN10MB, 65535);
	CHECK(p != NULL, "pcap_open_dead");
	CHECK(pcap_set_tx_batch(p, 64) == PCAP_ERROR && says(p, "not supported"),
	    "pcap_set_tx_batch on a dead handle: \"%s\"", pcap_geterr(p));
	CHECK(pcap_set_tx_ring_size(p, 64) == PCAP_ERROR && says(p, "not supported"),
	    "pcap_set_tx_ring_size on a dead handle: \"%s\"", pcap_geterr(p));
	CHECK(pcap_set_tx_qdisc_bypass(p, 1) == PCAP_ERROR && says(p, "not supported"),
	    "pcap_set_tx_qdisc_bypass on a dead handle: \"%s\"", pcap_geterr(p));
	CHECK(pcap_tx_stats(p, &ts) == PCAP_ERROR && says(p, "pcap_tx_stats"),
	    "pcap_tx_stats on a dead handle: \"%s\"", pcap_geterr(p));
	CHECK(pcap_inject_flush(p) == 0, "pcap_inject_flush on a dead handle");

	/* Send queues: Npcap's record layout and overflow rule. */
	q = pcap_sendqueue_alloc(2 * sizeof(h) + 150);
	CHECK(q != NULL && q->maxlen == 2 * sizeof(h) + 150 && q->len == 0,
	    "pcap_sendqueue_alloc");
	memset(&h, 0, sizeof(h));
	memset(data, 0xab, sizeof(data));
	h.ts.tv_sec = 7;
	h.caplen = h.len = 100;
	CHECK(pcap_sendqueue_queue(q, &h, data) == 0, "first record");
	CHECK(q->len == sizeof(h) + 100 &&
	    memcmp(q->buffer, &h, sizeof(h)) == 0 &&
	    memcmp(q->buffer + sizeof(h), data, 100) == 0,
	    "record = header + data (len %u)", q->len);
	CHECK(pcap_sendqueue_queue(q, &h, data) == -1 && q->len == sizeof(h) + 100,
	    "a record that does not fit is refused");
	h.caplen = 50;
	CHECK(pcap_sendqueue_queue(q, &h, data) == 0 && q->len == q->maxlen,
	    "a record that fits exactly");
	h.caplen = 0;
	CHECK(pcap_sendqueue_queue(q, &h, data) == -1, "full queue");
	CHECK(pcap_sendqueue_queue(NULL, &h, data) == -1, "NULL queue");
	CHECK(pcap_sendqueue_queue(q, NULL, data) == -1, "NULL header");

	/* Transmit on a capture-only handle is an error, not a crash. */
	CHECK(pcap_sendqueue_transmit(p, q, 0) == 0 && says(p, "pcap_open_dead"),
	    "transmit on a dead handle: \"%s\"", pcap_geterr(p));
	CHECK(pcap_sendqueue_transmit(p, NULL, 0) == 0 && says(p, "NULL"),
	    "transmit of NULL: \"%s\"", pcap_geterr(p));
	pcap_sendqueue_destroy(q);
	pcap_sendqueue_destroy(NULL);
	pcap_close(p);

	/* A pcap-ring handle before activation takes the settings... */
	p = pcap_create("ring:lo", errbuf);
	CHECK(p != NULL, "ring:lo: %s", errbuf);
	if (p != NULL) {
		CHECK(pcap_set_tx_batch(p, 64) == 0, "pcap_set_tx_batch");
		CHECK(pcap_set_tx_ring_size(p, 512) == 0, "pcap_set_tx_ring_size");
		CHECK(pcap_set_tx_qdisc_bypass(p, 1) == 0, "pcap_set_tx_qdisc_bypass");
		CHECK(pcap_set_tx_batch(p, -1) == PCAP_ERROR && says(p, "out of range"),
		    "pcap_set_tx_batch(-1): \"%s\"", pcap_geterr(p));
		CHECK(pcap_set_tx_ring_size(p, 1 << 20) == PCAP_ERROR &&
		    says(p, "out of range"), "pcap_set_tx_ring_size(1<<20): \"%s\"",
		    pcap_geterr(p));
		/* ...and has nothing to report yet. */
		CHECK(pcap_tx_stats(p, &ts) == PCAP_ERROR_NOT_ACTIVATED &&
		    says(p, "activated"), "pcap_tx_stats before activation: \"%s\"",
		    pcap_geterr(p));
		CHECK(pcap_inject_flush(p) == PCAP_ERROR_NOT_ACTIVATED,
		    "pcap_inject_flush before activation");
		q = pcap_sendqueue_alloc(100);
		CHECK(pcap_sendqueue_transmit(p, q, 0) == 0 && says(p, "activated"),
		    "transmit before activation: \"%s\"", pcap_geterr(p));
		pcap_sendqueue_destroy(q);
		pcap_close(p);
	}

	/*
	 * A handle stock pcap-linux has (the module disabled) is not ours:
	 * libpcap says its capture source has no batched injection, and
	 * names the device.
	 */
	setenv("PCAP_RING_DISABLE", "1", 1);
	p = pcap_create("lo", errbuf);
	CHECK(p != NULL, "lo: %s", errbuf);
	if (p != NULL) {
		CHECK(pcap_set_tx_batch(p, 64) == PCAP_ERROR &&
		    says(p, "not supported on this handle"),
		    "pcap_set_tx_batch on a stock handle: \"%s\"", pcap_geterr(p));
		CHECK(says(p, "the capture source of lo has no batched injection"),
		    "pcap_set_tx_batch on a stock handle names lo: \"%s\"",
		    pcap_geterr(p));
		CHECK(pcap_tx_stats(p, &ts) == PCAP_ERROR &&
		    says(p, "pcap_tx_stats: not supported on this handle: the capture source of lo"),
		    "pcap_tx_stats on a stock handle: \"%s\"", pcap_geterr(p));
		q = pcap_sendqueue_alloc(sizeof(h) + 100);
		h.caplen = h.len = 100;
		CHECK(q != NULL && pcap_sendqueue_queue(q, &h, data) == 0,
		    "a queue of one record");
		CHECK(pcap_sendqueue_transmit(p, q, 0) == 0 && says(p, "activated"),
		    "transmit on a stock handle before activation: \"%s\"",
		    pcap_geterr(p));
		pcap_sendqueue_destroy(q);
		/* Nothing waits there to be flushed. */
		CHECK(pcap_inject_flush(p) == 0, "pcap_inject_flush on a stock handle");
		pcap_close(p);
	}


	stock_transmit();
	return bed_finish();
}
