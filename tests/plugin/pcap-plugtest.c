/*
 * A capture source plugin for the loader tests (tests/plugin/t-*.sh):
 * its one device delivers PLUGTEST_PACKETS synthetic packets from memory
 * (plugtest.h), then fails every read with "all N packets delivered".
 * It uses only the public headers and pcap/pcap-plugin.h, as a plugin
 * built outside libpcap does.
 *
 * The build compiles it several times: PLUGTEST_DEVICE names the device,
 * PLUGTEST_ABI is its abi_version and PLUGTEST_SIZE its entry's size
 * (for PCAP_PLUGIN_ABI_EXTENDED); PLUGTEST_FAIL_FINDALLDEVS makes its
 * findalldevs fail, PLUGTEST_NO_ACTIVATE its create set no activate
 * function, as broken plugins do.  PLUGTEST_TX_OPS installs batched
 * injection operations (pcap_plugin_set_tx_ops()) that print each call
 * with its arguments on the standard output and hand back what they
 * were given, so that a test sees what reached the plugin;
 * PLUGTEST_TX_SIZE is that table's size, as a plugin built before
 * members were added would have it.
 */
#include <stdio.h>
#include <string.h>

/* The send queues are declared only on request. */
#define PCAP_WANT_SENDQUEUE

#include <pcap/pcap.h>
#include <pcap/pcap-plugin.h>

#include "plugtest.h"

#ifndef PLUGTEST_DEVICE
#define PLUGTEST_DEVICE		"plugtest0"
#endif
#ifndef PLUGTEST_ABI
#define PLUGTEST_ABI		PCAP_PLUGIN_ABI_VERSION
#endif
#ifndef PLUGTEST_SIZE
#define PLUGTEST_SIZE		sizeof (struct pcap_plugin)
#endif
#ifndef PLUGTEST_FAIL_FINDALLDEVS
#define PLUGTEST_FAIL_FINDALLDEVS	0
#endif
#ifndef PLUGTEST_NO_ACTIVATE
#define PLUGTEST_NO_ACTIVATE	0
#endif
#ifndef PLUGTEST_TX_OPS
#define PLUGTEST_TX_OPS		0
#endif
#ifndef PLUGTEST_TX_SIZE
#define PLUGTEST_TX_SIZE	sizeof (struct pcap_plugin_tx_ops)
#endif

struct plugtest {
	int delivered;
	u_char packet[PLUGTEST_MAX_LEN];
	/* What the tx ops were given, for tx_stats to hand back. */
	int tx_batch, tx_ring_size, tx_qdisc_bypass, tx_flushes;
};

static int
plugtest_read(pcap_t *p, int max_packets, pcap_handler callback, u_char *user)
{
	struct plugtest *pt = pcap_plugin_priv(p);
	const struct bpf_insn *filter = pcap_plugin_get_filter(p);
	u_int snaplen = (u_int)pcap_plugin_get_snapshot(p);
	struct pcap_pkthdr h;
	int n = 0;

	if (pt->delivered == PLUGTEST_PACKETS) {
		pcap_plugin_set_errbuf(p, "%s: all %d packets delivered",
		    pcap_plugin_get_device(p), PLUGTEST_PACKETS);
		return PCAP_ERROR;
	}
	while (pt->delivered < PLUGTEST_PACKETS &&
	    (max_packets <= 0 || n < max_packets)) {
		if (pcap_plugin_check_break_loop(p))
			return n > 0 ? n : PCAP_ERROR_BREAK;
		memset(&h, 0, sizeof h);
		h.ts.tv_sec = pt->delivered;
		h.len = plugtest_packet(pt->delivered, pt->packet);
		h.caplen = h.len < snaplen ? h.len : snaplen;
		pt->delivered++;
		if (filter != NULL &&
		    pcap_plugin_filter(filter, pt->packet, h.len, h.caplen) == 0)
			continue;
		callback(user, &h, pt->packet);
		n++;
	}
	return n;
}

static int
plugtest_stats(pcap_t *p, struct pcap_stat *ps)
{
	struct plugtest *pt = pcap_plugin_priv(p);

	memset(ps, 0, sizeof *ps);
	ps->ps_recv = (u_int)pt->delivered;
	return 0;
}

static const struct pcap_plugin_ops plugtest_ops = {
	.read = plugtest_read,
	.setfilter = pcap_plugin_install_bpf,
	.stats = plugtest_stats,
	.cleanup = pcap_plugin_cleanup_live,
	.breakloop_func = pcap_plugin_breakloop,
};

static int
plugtest_activate(pcap_t *p)
{
	static const int dlts[] = { DLT_EN10MB };
	int snaplen = pcap_plugin_get_snapshot(p);

	if (snaplen <= 0 || snaplen > PCAP_PLUGIN_SNAPLEN_MAX)
		pcap_plugin_set_snapshot(p, PCAP_PLUGIN_SNAPLEN_MAX);
	pcap_plugin_set_linktype(p, DLT_EN10MB);
	if (pcap_plugin_set_datalink_list(p, dlts, 1) == -1)
		return PCAP_ERROR;
	pcap_plugin_set_ops(p, &plugtest_ops);
	return 0;
}

#if PLUGTEST_TX_OPS
static int
plugtest_set_tx_batch(pcap_t *p, int frames)
{
	struct plugtest *pt = pcap_plugin_priv(p);

	printf("plugtest tx: set_tx_batch(%s, %d)\n",
	    pcap_plugin_get_device(p), frames);
	pt->tx_batch = frames;
	return 0;
}

static int
plugtest_set_tx_ring_size(pcap_t *p, int frames)
{
	struct plugtest *pt = pcap_plugin_priv(p);

	printf("plugtest tx: set_tx_ring_size(%s, %d)\n",
	    pcap_plugin_get_device(p), frames);
	pt->tx_ring_size = frames;
	return 0;
}

static int
plugtest_set_tx_qdisc_bypass(pcap_t *p, int bypass)
{
	struct plugtest *pt = pcap_plugin_priv(p);

	printf("plugtest tx: set_tx_qdisc_bypass(%s, %d)\n",
	    pcap_plugin_get_device(p), bypass);
	pt->tx_qdisc_bypass = bypass;
	return 0;
}

/* Fails, so that a test sees the plugin's status and text come back. */
static int
plugtest_inject_flush(pcap_t *p)
{
	struct plugtest *pt = pcap_plugin_priv(p);

	printf("plugtest tx: inject_flush(%s)\n", pcap_plugin_get_device(p));
	pt->tx_flushes++;
	pcap_plugin_set_errbuf(p, "%s: flush %d lost nothing, but says so",
	    pcap_plugin_get_device(p), pt->tx_flushes);
	return PCAP_ERROR;
}

static int
plugtest_tx_stats(pcap_t *p, struct pcap_tx_stat *ts)
{
	struct plugtest *pt = pcap_plugin_priv(p);

	printf("plugtest tx: tx_stats(%s)\n", pcap_plugin_get_device(p));
	memset(ts, 0, sizeof *ts);
	ts->tx_queued = (uint64_t)pt->tx_batch;
	ts->tx_pending = (uint64_t)pt->tx_ring_size;
	ts->tx_kicks = (uint64_t)pt->tx_qdisc_bypass;
	ts->tx_waits = (uint64_t)pt->tx_flushes;
	return 0;
}

/* Says which records the queue holds, and that it sent them all. */
static u_int
plugtest_sendqueue_transmit(pcap_t *p, pcap_send_queue *queue, int sync)
{
	struct pcap_pkthdr h;
	u_int off;

	printf("plugtest tx: sendqueue_transmit(%s, sync %d) caplens",
	    pcap_plugin_get_device(p), sync);
	for (off = 0; queue->len - off >= sizeof h; off += sizeof h + h.caplen) {
		memcpy(&h, queue->buffer + off, sizeof h);
		if (h.caplen > queue->len - off - sizeof h)
			break;
		printf(" %u", h.caplen);
	}
	printf("\n");
	return queue->len;
}

static const struct pcap_plugin_tx_ops plugtest_tx_ops = {
	.size = PLUGTEST_TX_SIZE,
	.set_tx_batch = plugtest_set_tx_batch,
	.set_tx_ring_size = plugtest_set_tx_ring_size,
	.set_tx_qdisc_bypass = plugtest_set_tx_qdisc_bypass,
	.inject_flush = plugtest_inject_flush,
	.tx_stats = plugtest_tx_stats,
	.sendqueue_transmit = plugtest_sendqueue_transmit,
};
#endif

static pcap_t *
plugtest_create(const char *device, char *errbuf, int *is_ours)
{
	pcap_t *p;

	*is_ours = strcmp(device, PLUGTEST_DEVICE) == 0;
	if (!*is_ours)
		return NULL;
	p = pcap_plugin_create_handle(errbuf, sizeof (struct plugtest));
	if (p != NULL && !PLUGTEST_NO_ACTIVATE)
		pcap_plugin_set_activate(p, plugtest_activate);
#if PLUGTEST_TX_OPS
	if (p != NULL)
		pcap_plugin_set_tx_ops(p, &plugtest_tx_ops);
#endif
	return p;
}

static int
plugtest_findalldevs(pcap_if_list_t *devlist, char *errbuf)
{
	if (PLUGTEST_FAIL_FINDALLDEVS) {
		snprintf(errbuf, PCAP_ERRBUF_SIZE, "%s: no such test device",
		    PLUGTEST_DEVICE);
		return -1;
	}
	return pcap_plugin_add_dev(devlist, PLUGTEST_DEVICE, 0,
	    "pcap-plugtest synthetic packets", errbuf) == NULL ? -1 : 0;
}

struct pcap_plugin pcap_plugin_entry = {
	.abi_version = PLUGTEST_ABI,
	.name = "plugtest",
	.findalldevs = plugtest_findalldevs,
	.create = plugtest_create,
	.size = PLUGTEST_SIZE,
};
