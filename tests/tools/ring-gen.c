/*
 * ring-gen: inject deterministic test frames (frames.h) with libpcap.
 *
 * usage: ring-gen -i IFACE -n COUNT [-f FIRST] [-l MIN-MAX] [-m udp|all]
 *
 * Prints "sent N frames B bytes" and exits non-zero, naming pcap_geterr(),
 * when a frame is not accepted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <pcap/pcap.h>

#include "frames.h"

static void
usage(void)
{
	fprintf(stderr,
	    "usage: ring-gen -i IFACE -n COUNT [-f FIRST] [-l MIN-MAX] [-m udp|all]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *ifname = NULL;
	char errbuf[PCAP_ERRBUF_SIZE];
	uint8_t frame[FRAME_MAX_LEN];
	unsigned long count = 0, first = 0, i;
	size_t min_len = FRAME_MIN_LEN, max_len = 1514, len;
	unsigned long long bytes = 0;
	enum frame_mix mix = MIX_ALL;
	pcap_t *p;
	int opt;

	while ((opt = getopt(argc, argv, "i:n:f:l:m:")) != -1) {
		switch (opt) {
		case 'i': ifname = optarg; break;
		case 'n': count = strtoul(optarg, NULL, 0); break;
		case 'f': first = strtoul(optarg, NULL, 0); break;
		case 'l':
			if (sscanf(optarg, "%zu-%zu", &min_len, &max_len) != 2 ||
			    min_len > max_len || max_len > FRAME_MAX_LEN)
				usage();
			break;
		case 'm':
			if (strcmp(optarg, "udp") == 0)
				mix = MIX_UDP;
			else if (strcmp(optarg, "all") == 0)
				mix = MIX_ALL;
			else
				usage();
			break;
		default: usage();
		}
	}
	if (ifname == NULL || count == 0)
		usage();

	p = pcap_create(ifname, errbuf);
	if (p == NULL) {
		fprintf(stderr, "ring-gen: %s\n", errbuf);
		return 1;
	}
	/* Capture nothing: this handle only sends. */
	pcap_set_snaplen(p, 64);
	pcap_set_buffer_size(p, 256 * 1024);
	if (pcap_activate(p) < 0) {
		fprintf(stderr, "ring-gen: %s: %s\n", ifname, pcap_geterr(p));
		return 1;
	}
	for (i = first; i < first + count; i++) {
		len = frame_build(frame, (uint32_t)i,
		    frame_len((uint32_t)i, min_len, max_len), mix);
		if (pcap_inject(p, frame, len) != (int)len) {
			fprintf(stderr, "ring-gen: frame %lu: %s\n", i,
			    pcap_geterr(p));
			pcap_close(p);
			return 1;
		}
		bytes += len;
	}
	pcap_close(p);
	printf("sent %lu frames %llu bytes\n", count, bytes);
	return 0;
}
