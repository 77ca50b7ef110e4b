/*
 * ring-cap: capture test frames (frames.h) and check them.
 *
 * usage: ring-cap -i IFACE -n EXPECTED [-t IDLE_MS] [-B BYTES] [-s SNAPLEN]
 *                 [-I] [-N] [-F FILTER] [-f FIRST] [-r READYFILE]
 *        ring-cap -R FILE -n EXPECTED [-f FIRST]
 *
 * Runs until EXPECTED test frames have arrived or nothing has arrived for
 * IDLE_MS (default 2000), then prints one line:
 *   frames N bytes B first F last L dup D reorder R bad P other X
 * and exits 0 only if exactly frames 0..EXPECTED-1 (from -f FIRST) arrived
 * in order and intact: the bytes and length sent, captured up to the
 * snapshot length asked for (-s, or libpcap's default 262144; a frame cut
 * shorter is bad).  With -N the handle is
 * read only when poll() says it is readable.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <pcap/pcap.h>

#include "frames.h"
#include "must.h"

struct tally {
	unsigned long frames, dup, reorder, bad, other;
	unsigned long long bytes;
	int64_t first, last;
	unsigned char *seen;
	unsigned long expected, base;
	unsigned int snaplen;
};

static void
count_frame(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct tally *t = (struct tally *)user;
	int intact;
	int64_t seq = frame_seq(bytes, h->caplen, h->len, &intact);

	if (seq < 0 || (uint64_t)seq < t->base ||
	    (uint64_t)seq >= t->base + t->expected) {
		t->other++;
		return;
	}
	if (!intact || h->caplen != (h->len < t->snaplen ? h->len : t->snaplen))
		t->bad++;
	if (t->seen[seq - t->base]++) {
		t->dup++;
		return;
	}
	if (t->frames == 0)
		t->first = seq;
	else if (seq < t->last)
		t->reorder++;
	t->last = seq;
	t->frames++;
	t->bytes += h->len;
}

int
main(int argc, char **argv)
{
	const char *ifname = NULL, *filter = NULL, *ready = NULL, *file = NULL;
	char errbuf[PCAP_ERRBUF_SIZE];
	struct tally t = { 0 };
	int idle_ms = 2000, buffer = 0, snaplen = 0, immediate = 0, nonblock = 0;
	struct bpf_program prog;
	long long last_frame;
	pcap_t *p;
	int opt, ret;

	while ((opt = getopt(argc, argv, "i:n:f:t:B:s:INF:r:R:")) != -1) {
		switch (opt) {
		case 'i': ifname = optarg; break;
		case 'n': t.expected = strtoul(optarg, NULL, 0); break;
		case 'f': t.base = strtoul(optarg, NULL, 0); break;
		case 't': idle_ms = atoi(optarg); break;
		case 'B': buffer = atoi(optarg); break;
		case 's': snaplen = atoi(optarg); break;
		case 'I': immediate = 1; break;
		case 'N': nonblock = 1; break;
		case 'F': filter = optarg; break;
		case 'r': ready = optarg; break;
		case 'R': file = optarg; break;
		default:
			fprintf(stderr, "usage: ring-cap -i IFACE -n EXPECTED [options]\n");
			return 2;
		}
	}
	if ((ifname == NULL && file == NULL) || t.expected == 0) {
		fprintf(stderr, "usage: ring-cap -i IFACE -n EXPECTED [options]\n");
		return 2;
	}
	/*
	 * The snapshot length asked for, or libpcap's default: not what the
	 * library under test reports, which a library that cut frames short
	 * would report consistently.
	 */
	t.snaplen = snaplen > 0 ? (unsigned int)snaplen : 262144;
	t.seen = calloc(t.expected, 1);
	if (t.seen == NULL)
		return 2;

	if (file != NULL) {
		p = pcap_open_offline(file, errbuf);
		if (p == NULL) {
			fprintf(stderr, "ring-cap: %s\n", errbuf);
			return 2;
		}
		if (pcap_loop(p, -1, count_frame, (u_char *)&t) == -1)
			fprintf(stderr, "ring-cap: %s\n", pcap_geterr(p));
		goto report;
	}
	p = pcap_create(ifname, errbuf);
	if (p == NULL) {
		fprintf(stderr, "ring-cap: %s\n", errbuf);
		return 2;
	}
	if (snaplen)
		MUST(pcap_set_snaplen(p, snaplen));
	if (buffer)
		MUST(pcap_set_buffer_size(p, buffer));
	MUST(pcap_set_immediate_mode(p, immediate));
	MUST(pcap_set_timeout(p, 50));
	if (pcap_activate(p) < 0) {
		fprintf(stderr, "ring-cap: %s: %s\n", ifname, pcap_geterr(p));
		return 2;
	}
	if (filter != NULL && (pcap_compile(p, &prog, filter, 1,
	    PCAP_NETMASK_UNKNOWN) < 0 || pcap_setfilter(p, &prog) < 0)) {
		fprintf(stderr, "ring-cap: %s\n", pcap_geterr(p));
		return 2;
	}
	if (nonblock && pcap_setnonblock(p, 1, errbuf) < 0) {
		fprintf(stderr, "ring-cap: %s\n", errbuf);
		return 2;
	}
	if (ready != NULL) {
		FILE *f = fopen(ready, "w");

		if (f != NULL)
			fclose(f);
	}
	last_frame = clock_ms(CLOCK_MONOTONIC);
	while (t.frames < t.expected &&
	    clock_ms(CLOCK_MONOTONIC) - last_frame < idle_ms) {
		unsigned long before = t.frames + t.other + t.dup;

		if (nonblock) {
			struct pollfd pfd = { pcap_get_selectable_fd(p), POLLIN, 0 };

			if (poll(&pfd, 1, 10) <= 0)
				continue;
		}
		ret = pcap_dispatch(p, -1, count_frame, (u_char *)&t);
		if (ret < 0) {
			fprintf(stderr, "ring-cap: %s\n", pcap_geterr(p));
			break;
		}
		if (t.frames + t.other + t.dup != before)
			last_frame = clock_ms(CLOCK_MONOTONIC);
	}
report:
	printf("frames %lu bytes %llu first %lld last %lld dup %lu reorder %lu bad %lu other %lu\n",
	    t.frames, t.bytes, (long long)(t.frames ? t.first : -1),
	    (long long)(t.frames ? t.last : -1), t.dup, t.reorder, t.bad,
	    t.other);
	pcap_close(p);
	free(t.seen);
	return !(t.frames == t.expected && t.dup == 0 && t.reorder == 0 &&
	    t.bad == 0);
}
