/*
 * cap-bench: capture the way dumpcap does, for the capture benchmark:
 * wait in select() on the selectable fd, then pcap_dispatch(cnt=1), one
 * packet per wake-up.  Runs until SIGINT/SIGTERM and prints
 *
 *   captured N bytes B drops D cpu_ns C
 *
 * where D is pcap_stats' ps_drop and C the process's user+system CPU time.
 *
 * usage: cap-bench -i IFACE [-I] [-B BUFFER_BYTES]
 *   -I  immediate mode
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <pcap/pcap.h>

#include "must.h"

static volatile sig_atomic_t stop;
static pcap_t *handle;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
	pcap_breakloop(handle);
}

struct counts {
	unsigned long long packets;
	unsigned long long bytes;
};

static void
count_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *data)
{
	struct counts *c = (struct counts *)user;

	(void)data;
	c->bytes += h->caplen;
	c->packets++;
}

static unsigned long long
cpu_ns(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (unsigned long long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000ULL +
	    (unsigned long long)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000ULL;
}

int
main(int argc, char **argv)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	const char *ifname = NULL;
	int immediate = 0, buffer = 0, opt, fd, r;
	struct counts c = { 0, 0 };
	struct pcap_stat ps;
	struct sigaction sa;
	fd_set rfds;
	struct timeval tv;

	while ((opt = getopt(argc, argv, "i:IB:")) != -1) {
		switch (opt) {
		case 'i': ifname = optarg; break;
		case 'I': immediate = 1; break;
		case 'B': buffer = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: cap-bench -i IFACE [-I] [-B BUFFER_BYTES]\n");
			return 2;
		}
	}
	if (ifname == NULL) {
		fprintf(stderr, "usage: cap-bench -i IFACE [-I] [-B BUFFER_BYTES]\n");
		return 2;
	}

	handle = pcap_create(ifname, errbuf);
	if (handle == NULL) {
		fprintf(stderr, "cap-bench: %s\n", errbuf);
		return 1;
	}
	/* dumpcap's defaults: promiscuous, whole packets, 1 s timeout. */
	MUST(pcap_set_promisc(handle, 1));
	MUST(pcap_set_snaplen(handle, 262144));
	MUST(pcap_set_timeout(handle, 1000));
	if (immediate)
		MUST(pcap_set_immediate_mode(handle, 1));
	if (buffer > 0)
		MUST(pcap_set_buffer_size(handle, buffer));
	if (pcap_activate(handle) < 0) {
		fprintf(stderr, "cap-bench: %s: %s\n", ifname, pcap_geterr(handle));
		return 1;
	}
	fd = pcap_get_selectable_fd(handle);
	if (fd < 0) {
		fprintf(stderr, "cap-bench: %s: no selectable fd\n", ifname);
		return 1;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	fprintf(stderr, "listening on %s\n", ifname);

	while (!stop) {
		FD_ZERO(&rfds);
		FD_SET(fd, &rfds);
		tv.tv_sec = 1;
		tv.tv_usec = 0;
		r = select(fd + 1, &rfds, NULL, NULL, &tv);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			perror("cap-bench: select");
			return 1;
		}
		if (r == 0)
			continue;
		r = pcap_dispatch(handle, 1, count_packet, (u_char *)&c);
		if (r == PCAP_ERROR) {
			fprintf(stderr, "cap-bench: %s\n", pcap_geterr(handle));
			return 1;
		}
	}

	if (pcap_stats(handle, &ps) < 0) {
		fprintf(stderr, "cap-bench: pcap_stats: %s\n", pcap_geterr(handle));
		return 1;
	}
	printf("captured %llu bytes %llu drops %u cpu_ns %llu\n",
	    c.packets, c.bytes, ps.ps_drop, cpu_ns());
	pcap_close(handle);
	return 0;
}
