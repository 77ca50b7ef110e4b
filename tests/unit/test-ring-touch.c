/*
 * pcap_activate() writes every page of pcap-ring's immediate-mode ring
 * (TPACKET_V2) once, while the socket receives nothing (README, Immediate
 * mode), and none of its TPACKET_V3 ring's; stock writes none of its
 * ring's.  Under shadow page tables the first write to each page of a new
 * mapping traps to the hypervisor: left to the ring's first lap, it cost
 * an immediate-mode reader, woken for every packet, a ring's worth of
 * packets.  A V3 reader writes one word a block.  The handle then
 * captures every frame sent, whatever the touch wrote.
 */
#include "bed.h"
#include "page-watch.h"

#define RING_BYTES	(4 * 1024 * 1024)
#define FRAMES		2000
/* What stock's immediate-mode ring (64 frames) holds. */
#define IMMEDIATE_BATCH	40

static int sender_fd;

static void
activation_writes(int immediate)
{
	struct page_watch w;
	struct bed_tally tally;
	uint32_t sent, batch = immediate ? IMMEDIATE_BATCH : FRAMES;
	unsigned long want;
	pcap_t *p;

	page_watch_start();
	p = bed_open(immediate, RING_BYTES, 100);
	page_watch_stop(&w);
	want = bed.ring && immediate ? w.pages : 0;
	CHECK(w.mappings == 1, "immediate %d: %u packet-socket mappings, not one",
	    immediate, w.mappings);
	CHECK(w.pages > 0 && w.written == want,
	    "immediate %d: activation wrote %lu of the ring's %lu pages (%lu only read), not %lu",
	    immediate, w.written, w.pages, w.read, want);
	if (bed_failures == 0)
		bed_ok("immediate %d: activation wrote %lu of the ring's %lu pages",
		    immediate, w.written, w.pages);

	bed_tally_init(&tally, 0, FRAMES);
	bed_setnonblock(p);
	for (sent = 0; sent < FRAMES; sent += batch) {
		bed_send(sender_fd, sent, batch, 60, 1500, MIX_ALL, NULL);
		bed_drain(p, bed_tally_cb, (u_char *)&tally, &tally.frames,
		    sent + batch, 1.0);
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
		activation_writes(immediate);
	return bed_finish();
}
