/*
 * The injection API on handles without a TX ring, and send queues in
 * memory.  Needs no privileges: nothing is activated or sent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* The send queues are declared only on request. */
#define PCAP_WANT_SENDQUEUE
#include <pcap/pcap.h>

static int failures;

#define CHECK(cond, ...) do { \
	if (!(cond)) { \
		failures++; \
		printf("FAIL %s:%d: ", __FILE__, __LINE__); \
		printf(__VA_ARGS__); \
		printf("\n"); \
	} \
} while (0)

static int
says(pcap_t *p, const char *what)
{
	return strstr(pcap_geterr(p), what) != NULL;
}

int
main(void)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_tx_stat ts;
	struct pcap_pkthdr h;
	u_char data[100];
	pcap_send_queue *q;
	pcap_t *p;

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
		CHECK(pcap_sendqueue_transmit(p, q, 0) == 0 &&
		    says(p, "pcap_sendqueue_transmit: not supported on this handle: the capture source of lo"),
		    "transmit on a stock handle: \"%s\"", pcap_geterr(p));
		pcap_sendqueue_destroy(q);
		/* Nothing waits there to be flushed. */
		CHECK(pcap_inject_flush(p) == 0, "pcap_inject_flush on a stock handle");
		pcap_close(p);
	}

	if (failures == 0)
		printf("ok\n");
	return failures != 0;
}
