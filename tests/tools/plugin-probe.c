/*
 * What a program sees of capture source plugins (tests/plugin/t-*.sh):
 *
 *   plugin-probe list [TIMES]
 *	the names pcap_findalldevs() returns, one a line, TIMES times
 *	(default once) in the same process
 *   plugin-probe open DEVICE
 *	"opened DEVICE datalink N", or pcap_activate()'s status and error
 *   plugin-probe capture DEVICE SNAPLEN [FILTER]
 *	pcap_loop() until it returns; each packet is checked against the
 *	test plugin's (tests/plugin/plugtest.h, found by its time stamp)
 *	and the summary gives the count, the caplens and how the loop ended
 *
 * Exit status 0 when the call succeeded (for capture: the loop ended
 * and every packet had the expected bytes), 1 otherwise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pcap/pcap.h>

#include "must.h"
#include "../plugin/plugtest.h"

struct capture {
	int count, bad;
	char caplens[256];
};

static int
list_devices(void)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_if_t *devs, *d;

	if (pcap_findalldevs(&devs, errbuf) == -1) {
		printf("pcap_findalldevs: %s\n", errbuf);
		return 1;
	}
	for (d = devs; d != NULL; d = d->next)
		printf("%s\n", d->name);
	pcap_freealldevs(devs);
	return 0;
}

/* A created and activated handle, or NULL after saying why. */
static pcap_t *
open_device(const char *device, int snaplen)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *p;
	int status;

	p = pcap_create(device, errbuf);
	if (p == NULL) {
		printf("pcap_create %s: %s\n", device, errbuf);
		return NULL;
	}
	MUST(pcap_set_snaplen(p, snaplen));
	MUST(pcap_set_timeout(p, 100));
	status = pcap_activate(p);
	if (status < 0) {
		printf("pcap_activate %s: %s: %s\n", device,
		    pcap_statustostr(status), pcap_geterr(p));
		pcap_close(p);
		return NULL;
	}
	return p;
}

static void
check_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct capture *c = (struct capture *)user;
	u_char expected[PLUGTEST_MAX_LEN];
	size_t used = strlen(c->caplens);
	int index = (int)h->ts.tv_sec;

	if (index < 0 || index >= PLUGTEST_PACKETS ||
	    plugtest_packet(index, expected) != h->len ||
	    h->caplen > h->len ||
	    memcmp(expected, bytes, h->caplen) != 0)
		c->bad++;
	c->count++;
	snprintf(c->caplens + used, sizeof c->caplens - used, "%s%u/%u",
	    used > 0 ? "," : "", h->caplen, h->len);
}

static int
capture(const char *device, int snaplen, const char *filter)
{
	struct capture c = { 0, 0, "" };
	struct bpf_program prog;
	pcap_t *p;
	int status;

	p = open_device(device, snaplen);
	if (p == NULL)
		return 1;
	if (filter != NULL) {
		if (pcap_compile(p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) == -1 ||
		    pcap_setfilter(p, &prog) == -1) {
			printf("filter %s: %s\n", filter, pcap_geterr(p));
			pcap_close(p);
			return 1;
		}
		pcap_freecode(&prog);
	}
	status = pcap_loop(p, -1, check_packet, (u_char *)&c);
	printf("%d packets, %d unexpected, caplen/len %s; pcap_loop %d: %s\n",
	    c.count, c.bad, c.caplens, status, pcap_geterr(p));
	pcap_close(p);
	return c.bad == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	pcap_t *p;
	int times;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if ((argc == 2 || argc == 3) && strcmp(argv[1], "list") == 0) {
		for (times = argc == 3 ? atoi(argv[2]) : 1; times > 0; times--)
			if (list_devices() != 0)
				return 1;
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "open") == 0) {
		p = open_device(argv[2], 65535);
		if (p == NULL)
			return 1;
		printf("opened %s datalink %d\n", argv[2], pcap_datalink(p));
		pcap_close(p);
		return 0;
	}
	if ((argc == 4 || argc == 5) && strcmp(argv[1], "capture") == 0)
		return capture(argv[2], atoi(argv[3]), argc == 5 ? argv[4] : NULL);
	fprintf(stderr, "usage: plugin-probe list [TIMES] | open DEVICE | capture DEVICE SNAPLEN [FILTER]\n");
	return 2;
}
