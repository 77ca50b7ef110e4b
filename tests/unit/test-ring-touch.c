/*
 * pcap_activate() writes every page of pcap-ring's capture ring once,
 * while the socket receives nothing, for the TPACKET_V3 ring and for
 * immediate mode's V2 one (README, Immediate mode); stock writes none of
 * its ring's.  Under shadow page tables the first access to each page of
 * a new mapping traps to the hypervisor: left to the ring's first lap, it
 * cost an immediate-mode reader a ring's worth of packets.  The handle
 * then captures every frame sent, whatever the touch wrote.
 */
#include "bed.h"

#define RING_BYTES	(4 * 1024 * 1024)
#define FRAMES		2000
#define BATCH		40

static int sender_fd;

static void
activation_writes_every_page(int immediate)
{
	struct bed_ring_writes w;
	struct bed_tally tally;
	uint32_t sent;
	pcap_t *p;

	bed_ring_writes_watch();
	p = bed_open(immediate, RING_BYTES, 100);
	bed_ring_writes_stop(&w);
	CHECK(w.mappings == 1, "immediate %d: %u packet-socket mappings, not one",
	    immediate, w.mappings);
	if (bed.ring)
		CHECK(w.pages > 0 && w.written == w.pages,
		    "immediate %d: activation wrote %lu of the ring's %lu pages (%lu only read)",
		    immediate, w.written, w.pages, w.read);
	else
		CHECK(w.written == 0 && w.read == 0,
		    "immediate %d: stock's activation wrote %lu and read %lu of its ring's %lu pages",
		    immediate, w.written, w.read, w.pages);
	if (bed_failures == 0)
		bed_ok("immediate %d: activation wrote %lu of the ring's %lu pages",
		    immediate, w.written, w.pages);

	/* In batches that stock's immediate-mode ring (64 frames) holds. */
	bed_tally_init(&tally, 0, FRAMES);
	bed_setnonblock(p);
	for (sent = 0; sent < FRAMES; sent += BATCH) {
		bed_send(sender_fd, sent, BATCH, 60, 1500, MIX_ALL, NULL);
		bed_drain(p, bed_tally_cb, (u_char *)&tally, &tally.frames,
		    sent + BATCH, 1.0);
	}
	bed_tally_check(&tally, immediate ? "immediate mode after activation" :
	    "V3 ring after activation");
	bed_tally_free(&tally);
	pcap_close(p);
}

int
main(int argc, char **argv)
{
	int immediate;

	bed_enter(argc, argv, "ring stock");
	sender_fd = bed_sender(bed.ns_a, bed.veth_a);
	for (immediate = 0; immediate <= 1; immediate++)
		activation_writes_every_page(immediate);
	return bed_finish();
}
