/*
 * ring-gen: inject deterministic test frames (frames.h) with libpcap.
 *
 * usage: ring-gen -i IFACE -n COUNT [-f FIRST] [-l MIN-MAX] [-m udp|all]
 *        ring-gen -w FILE -n COUNT [-f FIRST] [-l MIN-MAX] [-m udp|all]
 *
 * Prints "sent N frames B bytes" and exits non-zero, naming pcap_geterr(),
 * when a frame is not accepted.  With -w the same frames are written to a
 * pcap file instead, so that tests can work out offline what a capture of
 * them must contain.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <pcap/pcap.h>

#include "frames.h"
#include "must.h"

static void
usage(void)
{
	fprintf(stderr,
	    "usage: ring-gen -i IFACE|-w FILE -n COUNT [-f FIRST] [-l MIN-MAX] [-m udp|all]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *ifname = NULL, *file = NULL;
	char errbuf[PCAP_ERRBUF_SIZE];
	uint8_t frame[FRAME_MAX_LEN];
	unsigned long count = 0, first = 0, i;
	size_t min_len = FRAME_MIN_LEN, max_len = 1514, len;
	unsigned long long bytes = 0;
	enum frame_mix mix = MIX_ALL;
	pcap_dumper_t *d = NULL;
	pcap_t *p;
	int opt;

	while ((opt = getopt(argc, argv, "i:w:n:f:l:m:")) != -1) {
		switch (opt) {
		case 'i': ifname = optarg; break;
		case 'w': file = optarg; break;
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
	if ((ifname == NULL) == (file == NULL) || count == 0)
		usage();

	if (file != NULL) {
		p = pcap_open_dead(DLT_EN10MB, 262144);
		if (p == NULL || (d = pcap_dump_open(p, file)) == NULL) {
			fprintf(stderr, "ring-gen: %s: %s\n", file,
			    p == NULL ? "pcap_open_dead failed" : pcap_geterr(p));
			return 1;
		}
	} else {
		p = pcap_create(ifname, errbuf);
		if (p == NULL) {
			fprintf(stderr, "ring-gen: %s\n", errbuf);
			return 1;
		}
		/* Capture nothing: this handle only sends. */
		MUST(pcap_set_snaplen(p, 64));
		MUST(pcap_set_buffer_size(p, 256 * 1024));
		if (pcap_activate(p) < 0) {
			fprintf(stderr, "ring-gen: %s: %s\n", ifname,
			    pcap_geterr(p));
			return 1;
		}
	}
	for (i = first; i < first + count; i++) {
		len = frame_build(frame, (uint32_t)i,
		    frame_len((uint32_t)i, min_len, max_len), mix);
		if (d != NULL) {
			struct pcap_pkthdr h;

			memset(&h, 0, sizeof(h));
			h.caplen = h.len = (bpf_u_int32)len;
			pcap_dump((u_char *)d, &h, frame);
		} else if (pcap_inject(p, frame, len) != (int)len) {
			fprintf(stderr, "ring-gen: frame %lu: %s\n", i,
			    pcap_geterr(p));
			pcap_close(p);
			return 1;
		}
		bytes += len;
	}
	if (d != NULL && (pcap_dump_flush(d) == -1 || ferror(pcap_dump_file(d)))) {
		fprintf(stderr, "ring-gen: %s: write failed\n", file);
		return 1;
	}
	if (d != NULL)
		pcap_dump_close(d);
	pcap_close(p);
	printf("sent %lu frames %llu bytes\n", count, bytes);
	return 0;
}
