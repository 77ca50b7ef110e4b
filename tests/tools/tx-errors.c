/*
 * tx-errors: bad input to the injection API on a live interface gives a
 * clear error, counts nothing as sent, and leaves the handle working.
 *
 * usage: tx-errors -i IFACE -M MTU [-b BATCH] [-n]
 *   -n  a nanosecond-precision handle (send queue time stamps in ns)
 *
 * Prints "ok: ..." per check, "FAIL: ..." per failed check, and exits
 * non-zero if any failed.  The valid frames it sends are test frames 0-11
 * (frames.h), once each and in order, so that a capture on the peer can
 * count them.  It lowers the MTU of IFACE for a while (root, in a test
 * namespace), and gives up after 60 s (a sync wait gone wrong).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
/* The send queues are declared only on request. */
#define PCAP_WANT_SENDQUEUE
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

/* Change the MTU behind the handle's back, as an administrator would. */
static void
set_mtu(const char *ifname, int mtu)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_mtu = mtu;
	CHECK(fd != -1 && ioctl(fd, SIOCSIFMTU, &ifr) == 0, "MTU of %s set to %d",
	    ifname, mtu);
	if (fd != -1)
		close(fd);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Queue test frame i, of len bytes, time stamped sec + frac (us or ns). */
static void
queue_frame(pcap_send_queue *q, uint32_t i, size_t len, long long sec,
    long frac)
{
	static uint8_t frame[FRAME_MAX_LEN];
	struct pcap_pkthdr h;

	memset(&h, 0, sizeof(h));
	h.ts.tv_sec = (time_t)sec;
	h.ts.tv_usec = (suseconds_t)frac;
	h.caplen = h.len = (bpf_u_int32)frame_build(frame, i, len, MIX_UDP);
	CHECK(pcap_sendqueue_queue(q, &h, frame) == 0, "queue frame %u", i);
}

#define DIFF(a, b, field)	((unsigned long long)((a).field - (b).field))

/*
 * Record 3 of 10 (frames 4-13) is too long: the MTU was lowered after
 * activation.  Frames 4-6 go out and nothing after them; the return
 * value, the error and the counters say so.  Without a batch, the kernel
 * rejects the record.  With a batch, a frame injected before and rejected
 * by transmit's first flush is reported by pcap_inject_flush(), not by
 * transmit, and not forgotten; that rejection made the handle read the
 * MTU again, so record 3 is refused before it is queued, as stock's
 * send() refuses it.
 */
static void
rejected_record(pcap_t *p, const char *ifname, int mtu, int batch)
{
	static uint8_t frame[FRAME_MAX_LEN];
	struct pcap_tx_stat before, after;
	char name[64];
	pcap_send_queue *q;
	u_int ret, off3 = 0, i;
	int len;

	q = pcap_sendqueue_alloc(10 * (u_int)(sizeof(struct pcap_pkthdr) + FRAME_MAX_LEN));
	for (i = 0; i < 10; i++) {
		if (i == 3)
			off3 = q->len;
		queue_frame(q, 4 + i, i == 3 ? (size_t)mtu + 14 : 60, 0, 0);
	}
	before = stats(p);
	if (batch) {
		len = (int)frame_build(frame, 7, (size_t)mtu + 14, MIX_UDP);
		CHECK(pcap_inject(p, frame, len) == len, "a long frame waits");
	}
	set_mtu(ifname, mtu - 200);
	ret = pcap_sendqueue_transmit(p, q, 0);
	set_mtu(ifname, mtu);
	CHECK(ret == off3 && strstr(pcap_geterr(p), batch ?
	    "longer than the MTU allows" : "rejected frame") != NULL,
	    "transmit returns the offset of the rejected record 3: %u (expected %u), \"%s\"",
	    ret, off3, pcap_geterr(p));
	/* Frames are numbered from 0 in the order the handle queued them. */
	if (batch)
		snprintf(name, sizeof(name), "a frame of %d bytes", mtu + 14);
	else
		snprintf(name, sizeof(name), "frame %llu of",
		    (unsigned long long)before.tx_queued + 3);
	CHECK(strstr(pcap_geterr(p), name) != NULL,
	    "the error names record 3 (%s): \"%s\"", name, pcap_geterr(p));
	after = stats(p);
	CHECK(DIFF(after, before, tx_queued) == 4 &&
	    DIFF(after, before, tx_sent) == 3 &&
	    DIFF(after, before, tx_rejected) == 1 &&
	    DIFF(after, before, tx_dropped) == 0 && after.tx_pending == 0,
	    "counted: queued %llu sent %llu rejected %llu dropped %llu pending %llu",
	    DIFF(after, before, tx_queued), DIFF(after, before, tx_sent),
	    DIFF(after, before, tx_rejected), DIFF(after, before, tx_dropped),
	    (unsigned long long)after.tx_pending);
	snprintf(name, sizeof(name), "frame %llu of",
	    (unsigned long long)before.tx_queued);
	if (batch)
		CHECK(pcap_inject_flush(p) == PCAP_ERROR &&
		    strstr(pcap_geterr(p), name) != NULL,
		    "flush reports the frame injected before (%s): \"%s\"",
		    name, pcap_geterr(p));
	CHECK(pcap_inject_flush(p) == 0, "nothing else to report: \"%s\"",
	    pcap_geterr(p));
	pcap_sendqueue_destroy(q);

	/* Frame 7 again: the peer sees whether any later record went out. */
	len = (int)frame_build(frame, 7, 60, MIX_UDP);
	CHECK(pcap_inject(p, frame, len) == len && pcap_inject_flush(p) == 0,
	    "frame 7, short: \"%s\"", pcap_geterr(p));
}

/*
 * With sync: time stamps that overflow and gaps too long to wait for are
 * errors, and tv_usec is read in the handle's precision (frames 8-11).
 */
static void
sync_time_stamps(pcap_t *p, int nano)
{
	long unit = nano ? 1000000000L : 1000000L;
	pcap_send_queue *q;
	double start, secs;
	u_int ret, off1;

	q = pcap_sendqueue_alloc(4 * (u_int)(sizeof(struct pcap_pkthdr) + 60));
	queue_frame(q, 8, 60, 9223372036LL, 0);
	ret = pcap_sendqueue_transmit(p, q, 1);
	CHECK(ret == 0 && strstr(pcap_geterr(p), "cannot use") != NULL,
	    "a time stamp that overflows: %u, \"%s\"", ret, pcap_geterr(p));
	q->len = 0;
	queue_frame(q, 8, 60, 0, unit);
	ret = pcap_sendqueue_transmit(p, q, 1);
	CHECK(ret == 0 && strstr(pcap_geterr(p), "cannot use") != NULL,
	    "a fraction of a whole second: %u, \"%s\"", ret, pcap_geterr(p));

	q->len = 0;
	queue_frame(q, 8, 60, 1000, 0);
	off1 = q->len;
	queue_frame(q, 9, 60, 1000 + 3601, 0);
	ret = pcap_sendqueue_transmit(p, q, 1);
	CHECK(ret == off1 && strstr(pcap_geterr(p), "gaps of more than 3600 s") != NULL,
	    "a gap of 3601 s: %u, \"%s\"", ret, pcap_geterr(p));

	/* Frames 9-11, 0.15 s apart. */
	q->len = 0;
	queue_frame(q, 9, 60, 5, unit / 2);
	queue_frame(q, 10, 60, 5, unit / 2 + unit * 15 / 100);
	queue_frame(q, 11, 60, 5, unit / 2 + unit * 30 / 100);
	start = now();
	ret = pcap_sendqueue_transmit(p, q, 1);
	secs = now() - start;
	CHECK(ret == q->len && secs >= 0.29 && secs < 5,
	    "sync with %s time stamps: %u of %u bytes in %.3f s (0.3 s): \"%s\"",
	    nano ? "ns" : "us", ret, q->len, secs, pcap_geterr(p));
	pcap_sendqueue_destroy(q);
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
	int mtu = 0, batch = 0, nano = 0, opt, len;
	u_int ret;
	pcap_t *p;

	/* Checks printed so far stay visible if the alarm ends the program. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((opt = getopt(argc, argv, "i:M:b:n")) != -1) {
		switch (opt) {
		case 'i': ifname = optarg; break;
		case 'M': mtu = atoi(optarg); break;
		case 'b': batch = atoi(optarg); break;
		case 'n': nano = 1; break;
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
	if (nano)
		CHECK(pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO) == 0,
		    "nanosecond precision");
	alarm(60);
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

	rejected_record(p, ifname, mtu, batch);
	sync_time_stamps(p, nano);
	pcap_close(p);
	printf("%s\n", failures ? "failed" : "all ok");
	return failures != 0;
}
