/*
 * tx-errors: bad input to the injection API on a live interface gives a
 * clear error, counts nothing as sent, and leaves the handle working.
 *
 * usage: tx-errors -i IFACE -M MTU [-b BATCH]
 *
 * Prints "ok: ..." per check, "FAIL: ..." per failed check, and exits
 * non-zero if any failed.  The valid frames it sends are test frames 0-3
 * (frames.h), once each, so that a capture on the peer can count them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <pcap/pcap.h>

#include "frames.h"

static int failures;

#define CHECK(cond, ...) do { \
	if (cond) { \
		printf("ok: "); \
	} else { \
		failures++; \
		printf("FAIL %s:%d: ", __FILE__, __LINE__); \
	} \
	printf(__VA_ARGS__); \
	printf("\n"); \
} while (0)

static struct pcap_tx_stat
stats(pcap_t *p)
{
	struct pcap_tx_stat ts;

	memset(&ts, 0xff, sizeof(ts));
	if (pcap_tx_stats(p, &ts) != 0)
		printf("pcap_tx_stats: %s\n", pcap_geterr(p));
	return ts;
}

/*
 * inject must fail with an error containing what, and naming the device
 * unless ifname is NULL (libpcap's own checks of the size come first).
 */
static void
inject_fails(pcap_t *p, const char *ifname, const void *buf, int size,
    const char *what)
{
	int ret = pcap_inject(p, buf, (size_t)size);
	const char *err = pcap_geterr(p);

	CHECK(ret == PCAP_ERROR && (ifname == NULL || strstr(err, ifname) != NULL) &&
	    strstr(err, what) != NULL,
	    "inject of %d bytes%s: %d \"%s\"", size,
	    buf == NULL ? " from NULL" : "", ret, err);
}

int
main(int argc, char **argv)
{
	const char *ifname = NULL, *dev;
	char errbuf[PCAP_ERRBUF_SIZE];
	static uint8_t frame[FRAME_MAX_LEN + 64];
	struct pcap_tx_stat ts;
	struct pcap_pkthdr h;
	pcap_send_queue *q;
	int mtu = 0, batch = 0, opt, len;
	u_int ret;
	pcap_t *p;

	while ((opt = getopt(argc, argv, "i:M:b:")) != -1) {
		switch (opt) {
		case 'i': ifname = optarg; break;
		case 'M': mtu = atoi(optarg); break;
		case 'b': batch = atoi(optarg); break;
		default: return 2;
		}
	}
	if (ifname == NULL || mtu == 0)
		return 2;
	p = pcap_create(ifname, errbuf);
	if (p == NULL) {
		printf("FAIL: %s\n", errbuf);
		return 1;
	}
	CHECK(pcap_set_tx_batch(p, -1) == PCAP_ERROR &&
	    strstr(pcap_geterr(p), "out of range") != NULL,
	    "pcap_set_tx_batch(-1): \"%s\"", pcap_geterr(p));
	CHECK(pcap_set_tx_batch(p, batch) == 0, "pcap_set_tx_batch(%d)", batch);
	CHECK(pcap_inject_flush(p) == PCAP_ERROR_NOT_ACTIVATED,
	    "flush before activation: \"%s\"", pcap_geterr(p));
	if (pcap_activate(p) < 0) {
		printf("FAIL: activate: %s\n", pcap_geterr(p));
		return 1;
	}
	CHECK(pcap_set_tx_batch(p, 8) == PCAP_ERROR_ACTIVATED,
	    "pcap_set_tx_batch after activation");
	CHECK(pcap_set_tx_ring_size(p, 8) == PCAP_ERROR_ACTIVATED,
	    "pcap_set_tx_ring_size after activation");
	CHECK(pcap_set_tx_qdisc_bypass(p, 1) == PCAP_ERROR_ACTIVATED,
	    "pcap_set_tx_qdisc_bypass after activation");
	CHECK(pcap_tx_stats(p, NULL) == PCAP_ERROR, "pcap_tx_stats(NULL): \"%s\"",
	    pcap_geterr(p));

	/* Unbatched, the errors are stock's send() errors, without the device. */
	dev = batch ? ifname : NULL;
	len = (int)frame_build(frame, 0, 60, MIX_UDP);
	inject_fails(p, NULL, frame, 0, "zero");
	inject_fails(p, dev, frame, 10, batch ? "header" : "send: Invalid argument");
	inject_fails(p, NULL, frame, -5, "cannot be injected");
	CHECK(pcap_sendpacket(p, frame, -5) == PCAP_ERROR,
	    "pcap_sendpacket of -5 bytes: \"%s\"", pcap_geterr(p));
	inject_fails(p, dev, NULL, 60, batch ? "NULL buffer" : "send: Bad address");
	inject_fails(p, dev, frame, mtu + 14 + 1, "Message too long");
	/* An 802.1Q tag may come on top, as send() allows. */
	frame_build(frame, 0, (size_t)mtu + 18, MIX_UDP);
	frame[12] = 0x81;
	frame[13] = 0x00;
	inject_fails(p, dev, frame, mtu + 18 + 1, "Message too long");
	ts = stats(p);
	CHECK(ts.tx_queued == 0 && ts.tx_sent == 0,
	    "nothing counted: queued %llu sent %llu",
	    (unsigned long long)ts.tx_queued, (unsigned long long)ts.tx_sent);

	/* The handle still works: frames 0 and 1. */
	len = (int)frame_build(frame, 0, 60, MIX_UDP);
	CHECK(pcap_inject(p, frame, len) == len, "frame 0 after the errors");
	len = (int)frame_build(frame, 1, (size_t)mtu + 14, MIX_UDP);
	CHECK(pcap_inject(p, frame, len) == len, "frame 1 of %d bytes (MTU)", len);
	CHECK(pcap_inject_flush(p) == 0, "flush: %s", pcap_geterr(p));
	ts = stats(p);
	CHECK(ts.tx_queued == 2 && ts.tx_sent == 2 && ts.tx_pending == 0 &&
	    ts.tx_rejected == 0 && ts.tx_dropped == 0,
	    "counted: queued %llu sent %llu pending %llu",
	    (unsigned long long)ts.tx_queued, (unsigned long long)ts.tx_sent,
	    (unsigned long long)ts.tx_pending);

	/* Send queues: overflow, a record the MTU does not allow, time going back. */
	q = pcap_sendqueue_alloc((u_int)(2 * sizeof(h) + 120));
	CHECK(q != NULL, "pcap_sendqueue_alloc");
	if (q == NULL)
		return 1;
	memset(&h, 0, sizeof(h));
	h.caplen = h.len = 60;
	CHECK(pcap_sendqueue_queue(q, &h, frame) == 0, "first record");
	CHECK(pcap_sendqueue_queue(q, &h, frame) == 0, "second record");
	CHECK(pcap_sendqueue_queue(q, &h, frame) == -1 && q->len == 2 * (sizeof(h) + 60),
	    "overflow refused, queue unchanged (%u bytes)", q->len);
	pcap_sendqueue_destroy(q);

	q = pcap_sendqueue_alloc(4 * (u_int)(sizeof(h) + FRAME_MAX_LEN));
	len = (int)frame_build(frame, 2, 60, MIX_UDP);
	h.caplen = h.len = (bpf_u_int32)len;
	pcap_sendqueue_queue(q, &h, frame);
	h.caplen = h.len = (bpf_u_int32)mtu + 15;
	pcap_sendqueue_queue(q, &h, frame);
	ret = pcap_sendqueue_transmit(p, q, 0);
	CHECK(ret == sizeof(h) + (u_int)len &&
	    strstr(pcap_geterr(p), "Message too long") != NULL,
	    "transmit stops at the oversized record: %u of %u bytes, \"%s\"",
	    ret, q->len, pcap_geterr(p));

	q->len = 0;
	len = (int)frame_build(frame, 3, 60, MIX_UDP);
	h.caplen = h.len = (bpf_u_int32)len;
	h.ts.tv_sec = 10;
	pcap_sendqueue_queue(q, &h, frame);
	h.ts.tv_sec = 9;
	pcap_sendqueue_queue(q, &h, frame);
	ret = pcap_sendqueue_transmit(p, q, 1);
	CHECK(ret == sizeof(h) + (u_int)len &&
	    strstr(pcap_geterr(p), "before the previous record") != NULL,
	    "sync transmit refuses time going back: %u bytes, \"%s\"", ret,
	    pcap_geterr(p));
	ret = pcap_sendqueue_transmit(p, NULL, 0);
	CHECK(ret == 0 && strstr(pcap_geterr(p), "NULL") != NULL,
	    "transmit of a NULL queue: \"%s\"", pcap_geterr(p));
	pcap_sendqueue_destroy(q);

	ts = stats(p);
	CHECK(ts.tx_queued == 4 && ts.tx_sent == 4 && ts.tx_pending == 0,
	    "frames 2 and 3 of the queues sent: queued %llu sent %llu",
	    (unsigned long long)ts.tx_queued, (unsigned long long)ts.tx_sent);
	pcap_close(p);
	printf("%s\n", failures ? "failed" : "all ok");
	return failures != 0;
}
