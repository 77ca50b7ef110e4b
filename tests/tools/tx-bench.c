/*
 * tx-bench: inject SIZE-byte UDP frames as fast as possible for SECS
 * seconds, for bench/tx.sh.
 *
 * usage: tx-bench -i IFACE -s SIZE -t SECS [-b BATCH] [-B] [-Q]
 *   -b BATCH  pcap_set_tx_batch() (pcap-ring builds only)
 *   -B        pcap_set_tx_qdisc_bypass()
 *   -Q        pcap_sendqueue_transmit() of 1024-frame queues
 *
 * Prints "sent N ns T cpu_ns C": frames the library accepted (with a TX
 * ring: the kernel took, after pcap_inject_flush()), wall time, and the
 * process's user+system CPU time.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
/* The send queues are declared only on request. */
#define PCAP_WANT_SENDQUEUE
#include <pcap/pcap.h>

#include "frames.h"
#include "must.h"

#define QUEUE_FRAMES	1024

static long long
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long long
cpu_ns(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000LL +
	    (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000LL;
}

/* The ring build's API, looked up so that the stock library loads too. */
static void *
api(const char *name)
{
	void *f = dlsym(RTLD_DEFAULT, name);

	if (f == NULL) {
		fprintf(stderr, "tx-bench: %s: not in this libpcap\n", name);
		exit(1);
	}
	return f;
}

int
main(int argc, char **argv)
{
	const char *ifname = NULL;
	uint8_t frame[FRAME_MAX_LEN];
	int size = 64, secs = 2, batch = -1, sendqueue = 0, bypass = 0, opt, len;
	unsigned long long sent = 0;
	long long t0, t1, c0, deadline;
	pcap_t *p;

	while ((opt = getopt(argc, argv, "i:s:t:b:BQ")) != -1) {
		switch (opt) {
		case 'i': ifname = optarg; break;
		case 's': size = atoi(optarg); break;
		case 't': secs = atoi(optarg); break;
		case 'b': batch = atoi(optarg); break;
		case 'B': bypass = 1; break;
		case 'Q': sendqueue = 1; break;
		default:
			fprintf(stderr, "usage: tx-bench -i IFACE -s SIZE -t SECS [-b BATCH] [-B] [-Q]\n");
			return 2;
		}
	}
	if (ifname == NULL || size < FRAME_MIN_LEN || size > FRAME_MAX_LEN)
		return 2;
	p = frame_sender_create("tx-bench", ifname);
	if (batch >= 0 &&
	    ((int (*)(pcap_t *, int))api("pcap_set_tx_batch"))(p, batch) != 0) {
		fprintf(stderr, "tx-bench: %s\n", pcap_geterr(p));
		return 1;
	}
	if (bypass &&
	    ((int (*)(pcap_t *, int))api("pcap_set_tx_qdisc_bypass"))(p, 1) != 0) {
		fprintf(stderr, "tx-bench: %s\n", pcap_geterr(p));
		return 1;
	}
	if (pcap_activate(p) < 0) {
		fprintf(stderr, "tx-bench: %s: %s\n", ifname, pcap_geterr(p));
		return 1;
	}
	/* Capture nothing, as an injector that does not read. */
	MUST(pcap_setdirection(p, PCAP_D_IN));
	len = (int)frame_build(frame, 0, (size_t)size, MIX_UDP);

	c0 = cpu_ns();
	t0 = now_ns();
	deadline = t0 + secs * 1000000000LL;
	if (sendqueue) {
		u_int (*transmit)(pcap_t *, pcap_send_queue *, int) =
		    (u_int (*)(pcap_t *, pcap_send_queue *, int))api("pcap_sendqueue_transmit");
		pcap_send_queue *(*alloc)(u_int) =
		    (pcap_send_queue *(*)(u_int))api("pcap_sendqueue_alloc");
		int (*queue)(pcap_send_queue *, const struct pcap_pkthdr *,
		    const u_char *) = (int (*)(pcap_send_queue *,
		    const struct pcap_pkthdr *, const u_char *))api("pcap_sendqueue_queue");
		pcap_send_queue *q = alloc(QUEUE_FRAMES *
		    (u_int)(sizeof(struct pcap_pkthdr) + (size_t)len));
		struct pcap_pkthdr h;
		int i;

		memset(&h, 0, sizeof(h));
		h.caplen = h.len = (bpf_u_int32)len;
		for (i = 0; i < QUEUE_FRAMES; i++)
			queue(q, &h, frame);
		while (now_ns() < deadline) {
			if (transmit(p, q, 0) != q->len) {
				fprintf(stderr, "tx-bench: %s\n", pcap_geterr(p));
				return 1;
			}
			sent += QUEUE_FRAMES;
		}
	} else {
		unsigned int n = 0;

		for (;;) {
			if (pcap_inject(p, frame, (size_t)len) != len) {
				fprintf(stderr, "tx-bench: %s\n", pcap_geterr(p));
				return 1;
			}
			sent++;
			/* The clock is read every 256 frames. */
			if (++n == 256) {
				n = 0;
				if (now_ns() >= deadline)
					break;
			}
		}
		if (batch > 0 &&
		    ((int (*)(pcap_t *))api("pcap_inject_flush"))(p) != 0) {
			fprintf(stderr, "tx-bench: %s\n", pcap_geterr(p));
			return 1;
		}
	}
	t1 = now_ns();
	printf("sent %llu ns %lld cpu_ns %lld\n", sent, t1 - t0, cpu_ns() - c0);
	pcap_close(p);
	return 0;
}
