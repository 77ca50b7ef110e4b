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
	uint8_t frame[FRAME_MAX_LEN];
	struct frame_run run = FRAME_RUN_DEFAULT;
	unsigned long i;
	size_t len;
	unsigned long long bytes = 0;
	pcap_dumper_t *d = NULL;
	pcap_t *p;
	int opt;

	while ((opt = getopt(argc, argv, "i:w:" FRAME_RUN_OPTIONS)) != -1) {
		switch (opt) {
		case 'i': ifname = optarg; break;
		case 'w': file = optarg; break;
		default:
			if (frame_run_option(&run, opt, optarg) != 0)
				usage();
		}
	}
	if ((ifname == NULL) == (file == NULL) || run.count == 0)
		usage();

	if (file != NULL) {
		p = pcap_open_dead(DLT_EN10MB, 262144);
		if (p == NULL || (d = pcap_dump_open(p, file)) == NULL) {
			fprintf(stderr, "ring-gen: %s: %s\n", file,
			    p == NULL ? "pcap_open_dead failed" : pcap_geterr(p));
			return 1;
		}
	} else {
		p = frame_sender_create("ring-gen", ifname);
		if (pcap_activate(p) < 0) {
			fprintf(stderr, "ring-gen: %s: %s\n", ifname,
			    pcap_geterr(p));
			return 1;
		}
	}
	for (i = run.first; i < run.first + run.count; i++) {
		len = frame_run_build(&run, frame, i);
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
	printf("sent %lu frames %llu bytes\n", run.count, bytes);
	return 0;
}
