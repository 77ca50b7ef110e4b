/*
 * What a program sees of the batched injection and send queue API on a
 * capture source plugin's handle (tests/plugin/t-tx-ops.sh):
 *
 *   plugin-tx DEVICE
 *	calls each function, the settings before pcap_activate() and the
 *	rest before and after it, and prints one line per call: its name,
 *	its result and, when it failed, pcap_geterr()
 *
 * The test plugin with tx ops (pcap-plugtest.c, PLUGTEST_TX_OPS) prints
 * its own line for each call that reaches it, in the same output.  Run
 * with the ring library only: the stock one has none of these functions.
 *
 * Exit status 0 when the device opened, 1 otherwise.
 */
#include <stdio.h>
#include <string.h>
/* The send queues are declared only on request. */
#define PCAP_WANT_SENDQUEUE
#include <pcap/pcap.h>

#include "../plugin/plugtest.h"

static void
report(pcap_t *p, const char *call, int status)
{
	if (status == 0)
		printf("%s 0\n", call);
	else
		printf("%s %d: %s\n", call, status, pcap_geterr(p));
}

static void
transmit(pcap_t *p, pcap_send_queue *queue)
{
	u_int sent = pcap_sendqueue_transmit(p, queue, 1);

	if (queue != NULL && sent == queue->len)
		printf("pcap_sendqueue_transmit: the whole queue\n");
	else
		printf("pcap_sendqueue_transmit %u: %s\n", sent, pcap_geterr(p));
}

int
main(int argc, char **argv)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	u_char packet[PLUGTEST_MAX_LEN];
	struct pcap_tx_stat ts;
	struct pcap_pkthdr h;
	pcap_send_queue *queue;
	pcap_t *p;
	int i, status;

	if (argc != 2) {
		fprintf(stderr, "usage: plugin-tx DEVICE\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	p = pcap_create(argv[1], errbuf);
	if (p == NULL) {
		printf("pcap_create %s: %s\n", argv[1], errbuf);
		return 1;
	}
	report(p, "pcap_set_tx_batch", pcap_set_tx_batch(p, 64));
	report(p, "pcap_set_tx_ring_size", pcap_set_tx_ring_size(p, 512));
	report(p, "pcap_set_tx_qdisc_bypass", pcap_set_tx_qdisc_bypass(p, 1));
	report(p, "pcap_inject_flush", pcap_inject_flush(p));
	report(p, "pcap_tx_stats", pcap_tx_stats(p, &ts));

	status = pcap_activate(p);
	if (status < 0) {
		printf("pcap_activate %s: %s\n", argv[1], pcap_geterr(p));
		pcap_close(p);
		return 1;
	}
	printf("activated\n");
	report(p, "pcap_set_tx_batch", pcap_set_tx_batch(p, 32));
	report(p, "pcap_inject_flush", pcap_inject_flush(p));
	memset(&ts, 0, sizeof(ts));
	status = pcap_tx_stats(p, &ts);
	report(p, "pcap_tx_stats", status);
	if (status == 0)
		printf("tx queued %llu pending %llu kicks %llu waits %llu\n",
		    (unsigned long long)ts.tx_queued,
		    (unsigned long long)ts.tx_pending,
		    (unsigned long long)ts.tx_kicks,
		    (unsigned long long)ts.tx_waits);
	report(p, "pcap_tx_stats(NULL)", pcap_tx_stats(p, NULL));

	/* The test plugin's first packets, time stamped 0 and 1 s. */
	queue = pcap_sendqueue_alloc(2 * (u_int)(sizeof(h) + PLUGTEST_MAX_LEN));
	if (queue == NULL) {
		printf("pcap_sendqueue_alloc: out of memory\n");
		pcap_close(p);
		return 1;
	}
	for (i = 0; i < 2; i++) {
		memset(&h, 0, sizeof(h));
		h.ts.tv_sec = i;
		h.caplen = h.len = plugtest_packet(i, packet);
		if (pcap_sendqueue_queue(queue, &h, packet) != 0)
			printf("pcap_sendqueue_queue %d: does not fit\n", i);
	}
	transmit(p, queue);
	transmit(p, NULL);
	pcap_sendqueue_destroy(queue);
	pcap_close(p);
	return 0;
}
