/*
 * The capture ring reader (pcap-ring-rx.c) on rings built in memory, with
 * the test playing the kernel: TPACKET_V3 blocks and TPACKET_V2 frames
 * handed over with TP_STATUS_USER.  It checks what the reader delivers
 * (count, order, lengths, bytes), that each slot goes back to the kernel
 * (TP_STATUS_KERNEL) as soon as its last packet is read and not before,
 * and that it checks what it is handed as the kernel's psock_tpacket.c
 * does: block sequence numbers, packets and tp_next_offset inside the
 * block's blk_len, frames inside their slot; a ring that breaks them is
 * an error, and nothing of it is delivered.  No root, no socket.
 */
#include <stdint.h>
#include <string.h>
#include <linux/if_packet.h>

#include "../../pcap-ring/pcap-ring-layers.h"
#include "layer-test.h"

#define BLOCK_SIZE	4096
#define FRAME_SIZE	512
#define MAX_SLOTS	8
/* Where the kernel puts the link-layer header: after the header, sockaddr_ll and PACKET_RESERVE. */
#define MAC_V3	(TPACKET_ALIGN(sizeof(struct tpacket3_hdr) + sizeof(struct sockaddr_ll)) + RING_VLAN_TAG_LEN)
#define MAC_V2	(TPACKET_ALIGN(sizeof(struct tpacket2_hdr) + sizeof(struct sockaddr_ll)) + RING_VLAN_TAG_LEN)
#define FIRST_PACKET	TPACKET_ALIGN(sizeof(struct tpacket_block_desc))
#define ALIGN8(n)	(((n) + 7u) & ~7u)

static u_char ring_mem[MAX_SLOTS * BLOCK_SIZE] __attribute__((aligned(4096)));
static u_char *slots[MAX_SLOTS];
static struct ring_rx rx;
static char errbuf[PCAP_ERRBUF_SIZE];

/* The byte at offset i of packet id: each packet's bytes are its own. */
static u_char
pattern(unsigned int id, unsigned int i)
{
	return (u_char)(id * 31 + i);
}

static void
new_ring(int version, unsigned int slot_nr, unsigned int slot_size)
{
	unsigned int i;

	memset(ring_mem, 0, sizeof(ring_mem));
	memset(&rx, 0, sizeof(rx));
	for (i = 0; i < slot_nr; i++)
		slots[i] = ring_mem + (size_t)i * slot_size;
	ring_rx_init(&rx, version, -1, slots, slot_nr, slot_size,
	    version == TPACKET_V3 ? sizeof(struct tpacket3_hdr) :
	    sizeof(struct tpacket2_hdr));
	errbuf[0] = '\0';
}

static unsigned int
block_status(unsigned int b)
{
	return ((struct tpacket_block_desc *)(void *)slots[b])->hdr.bh1.block_status;
}

static struct tpacket_block_desc *
block(unsigned int b)
{
	return (struct tpacket_block_desc *)(void *)slots[b];
}

static struct tpacket3_hdr *
packet_at(unsigned int b, unsigned int offset)
{
	return (struct tpacket3_hdr *)(void *)(slots[b] + offset);
}

/*
 * What the kernel adds to TP_STATUS_USER when it closes a block:
 * prb_retire_current_block() passes TP_STATUS_BLK_TMO when the timer
 * closed it, prb_close_block() adds TP_STATUS_LOSING after drops.
 */
static const unsigned int closed_by[] = {
	0, TP_STATUS_BLK_TMO, TP_STATUS_BLK_TMO | TP_STATUS_LOSING
};

/*
 * The kernel closes block b, numbered seq, holding n packets with ids
 * from id0 and the snapshot lengths caplen[] (wire length + 100), laid
 * out as prb_fill_curr_block() lays them out.
 */
static void
hand_over_block(unsigned int b, uint64_t seq, unsigned int n,
    unsigned int id0, const unsigned int *caplen)
{
	struct tpacket_hdr_v1 *h1 = &block(b)->hdr.bh1;
	unsigned int off = FIRST_PACKET, i, j;

	memset(slots[b], 0, BLOCK_SIZE);
	block(b)->version = TPACKET_V3;
	h1->offset_to_first_pkt = FIRST_PACKET;
	h1->num_pkts = n;
	h1->seq_num = seq;
	for (i = 0; i < n; i++) {
		struct tpacket3_hdr *h3 = packet_at(b, off);
		unsigned int step = ALIGN8(MAC_V3 + caplen[i]);

		h3->tp_status = TP_STATUS_USER;
		h3->tp_mac = MAC_V3;
		h3->tp_snaplen = caplen[i];
		h3->tp_len = caplen[i] + 100;
		h3->tp_sec = id0 + i;
		h3->tp_nsec = 1000 * (id0 + i);
		for (j = 0; j < caplen[i]; j++)
			slots[b][off + MAC_V3 + j] = pattern(id0 + i, j);
		/* The last packet of a closed block points nowhere. */
		h3->tp_next_offset = i + 1 < n ? step : 0;
		off += step;
	}
	h1->blk_len = off;
	__atomic_store_n(&h1->block_status, TP_STATUS_USER | closed_by[seq % 3],
	    __ATOMIC_RELEASE);
}

/* Packet id with caplen bytes: its lengths, time stamp and bytes. */
static void
check_packet(const struct ring_packet *pkt, unsigned int id,
    unsigned int caplen)
{
	unsigned int j;

	CHECK(pkt->caplen == caplen, "packet %u: caplen %u, not %u", id,
	    pkt->caplen, caplen);
	CHECK(pkt->len == caplen + 100, "packet %u: len %u, not %u", id,
	    pkt->len, caplen + 100);
	CHECK(pkt->sec == id, "packet %u came in place of packet %u", pkt->sec,
	    id);
	for (j = 0; j < caplen; j++)
		CHECK(pkt->data[j] == pattern(id, j),
		    "packet %u: byte %u is %u, not %u", id, j, pkt->data[j],
		    pattern(id, j));
}

/* Read the next packet, which must be id with caplen bytes. */
static void
read_packet(unsigned int id, unsigned int caplen)
{
	struct ring_packet pkt;
	int ret;

	ret = ring_rx_next(&rx, &pkt, errbuf);
	CHECK(ret == 1, "packet %u: ring_rx_next() returned %d (%s)", id, ret,
	    errbuf);
	check_packet(&pkt, id, caplen);
	ring_rx_consume(&rx, 0);
}

static void
check_nothing_ready(void)
{
	struct ring_packet pkt;
	int ret = ring_rx_next(&rx, &pkt, errbuf);

	CHECK(ret == 0, "ring_rx_next() returned %d with nothing handed over (%s)",
	    ret, errbuf);
}

/* The ring is refused with an error naming why; nothing is delivered. */
static void
check_corrupt(const char *why)
{
	struct ring_packet pkt;
	int ret = ring_rx_next(&rx, &pkt, errbuf);

	CHECK(ret == -1, "ring_rx_next() returned %d on a ring with %s", ret,
	    why);
	CHECK(strstr(errbuf, "corrupted frame on kernel ring") != NULL,
	    "the error says \"%s\"", errbuf);
	/* The reader stays put: it says so again, and reads nothing. */
	ret = ring_rx_next(&rx, &pkt, errbuf);
	CHECK(ret == -1, "a second ring_rx_next() returned %d", ret);
}

/*
 * Once nothing more comes (a larger ring took over: final), the block the
 * kernel had open is complete and is read although the kernel still has
 * it, but only the one numbered after the last block taken; until then it
 * is not touched.
 */
static void
v3_reads_the_open_block_only_once_final(void)
{
	static const unsigned int len0[] = { 100 }, len1[] = { 200 };

	new_ring(TPACKET_V3, 4, BLOCK_SIZE);
	hand_over_block(0, 1, 1, 0, len0);
	read_packet(0, 100);
	/* Block 1 is still open in the kernel: number 2, one packet so far. */
	hand_over_block(1, 2, 1, 1, len1);
	__atomic_store_n(&block(1)->hdr.bh1.block_status, TP_STATUS_KERNEL,
	    __ATOMIC_RELEASE);
	check_nothing_ready();
	CHECK(ring_rx_drained(&rx), "an open block counts as waiting before the switch");
	rx.final = 1;
	CHECK(!ring_rx_drained(&rx), "the open block is not waiting once final");
	read_packet(1, 200);
	/* Block 2 keeps number 0 from the start: not the next, not read. */
	check_nothing_ready();
	CHECK(ring_rx_drained(&rx), "not drained after the open block was read");
}

/*
 * The block the kernel is opening when the reader's ioctl(SIOCINQ) runs:
 * it waits for the kernel's receive queue lock, which the retire timer
 * holds while it opens a block, so the test finishes the opening there.
 */
static int opening_block = -1;

int
ioctl(int fd, unsigned long request, ...)
{
	struct tpacket_hdr_v1 *h1;

	(void)fd;
	(void)request;
	if (opening_block >= 0) {
		h1 = &block((unsigned int)opening_block)->hdr.bh1;
		h1->num_pkts = 0;
		h1->blk_len = FIRST_PACKET;
		h1->offset_to_first_pkt = FIRST_PACKET;
		opening_block = -1;
	}
	return 0;
}

/*
 * Once final, the old ring's retire timer may still close the open block
 * and open the next, with plain stores, its number first
 * (prb_open_block()).  A header read halfway pairs the new number with
 * the last lap's packets: they must not be delivered again.
 */
static void
v3_final_block_opened_halfway(void)
{
	static const unsigned int len0[] = { 100 }, len1[] = { 200, 300 },
	    len2[] = { 400 };

	new_ring(TPACKET_V3, 2, BLOCK_SIZE);
	hand_over_block(0, 1, 1, 0, len0);
	hand_over_block(1, 2, 2, 1, len1);
	read_packet(0, 100);
	read_packet(1, 200);
	read_packet(2, 300);
	/* Block 0, number 3, is open when the larger ring takes over. */
	hand_over_block(0, 3, 1, 3, len2);
	__atomic_store_n(&block(0)->hdr.bh1.block_status, TP_STATUS_KERNEL,
	    __ATOMIC_RELEASE);
	rx.final = 1;
	read_packet(3, 400);
	/* The timer closed it and is opening block 1: the number is new. */
	block(1)->hdr.bh1.seq_num = 4;
	opening_block = 1;
	check_nothing_ready();
	CHECK(opening_block == -1, "the reader took a block the kernel still had without waiting for it");
	CHECK(ring_rx_drained(&rx), "not drained once the open block was read");
}

/* Three blocks of 3, 1 and 2 packets: every one, in order, exactly. */
static void
v3_delivers_every_packet_in_order(void)
{
	static const unsigned int len0[] = { 60, 1500, 1 }, len1[] = { 1000 },
	    len2[] = { 64, 65 };

	new_ring(TPACKET_V3, 4, BLOCK_SIZE);
	hand_over_block(0, 1, 3, 0, len0);
	hand_over_block(1, 2, 1, 3, len1);
	hand_over_block(2, 3, 2, 4, len2);
	read_packet(0, 60);
	read_packet(1, 1500);
	read_packet(2, 1);
	read_packet(3, 1000);
	read_packet(4, 64);
	read_packet(5, 65);
	check_nothing_ready();
}

/*
 * A block goes back when its last packet is consumed, not before; the
 * next is not touched.  With hold, it goes back at the next call.
 */
static void
v3_hands_each_block_back_after_its_last_packet(void)
{
	static const unsigned int len[] = { 100, 200 };
	struct ring_packet pkt;

	new_ring(TPACKET_V3, 4, BLOCK_SIZE);
	hand_over_block(0, 1, 2, 0, len);
	hand_over_block(1, 2, 2, 2, len);
	read_packet(0, 100);
	CHECK((block_status(0) & TP_STATUS_USER),
	    "block 0 went back (status %u) with a packet still unread",
	    block_status(0));
	CHECK(ring_rx_next(&rx, &pkt, errbuf) == 1, "packet 1: %s", errbuf);
	CHECK(!ring_rx_caught_up(&rx),
	    "caught up, with block 1 handed over and unread");
	ring_rx_consume(&rx, 0);
	CHECK(block_status(0) == TP_STATUS_KERNEL,
	    "block 0 kept (status %u) after its last packet", block_status(0));
	CHECK((block_status(1) & TP_STATUS_USER), "block 1 went back unread");

	/* pcap_next_ex(): the block is kept until the next call. */
	CHECK(ring_rx_next(&rx, &pkt, errbuf) == 1, "packet 2: %s", errbuf);
	check_packet(&pkt, 2, 100);
	CHECK(!ring_rx_caught_up(&rx),
	    "caught up, with a packet of the block still unread");
	ring_rx_consume(&rx, 0);
	CHECK(ring_rx_next(&rx, &pkt, errbuf) == 1, "packet 3: %s", errbuf);
	check_packet(&pkt, 3, 200);
	CHECK(ring_rx_caught_up(&rx), "not caught up on the last packet");
	ring_rx_consume(&rx, 1);
	CHECK((block_status(1) & TP_STATUS_USER),
	    "block 1 went back while its packet was held");
	check_nothing_ready();
	CHECK(block_status(1) == TP_STATUS_KERNEL,
	    "block 1 still held after the next call");
}

/* A block retired empty is handed back and skipped. */
static void
v3_skips_an_empty_block(void)
{
	static const unsigned int len[] = { 300 };

	new_ring(TPACKET_V3, 4, BLOCK_SIZE);
	hand_over_block(0, 1, 0, 0, NULL);
	hand_over_block(1, 2, 1, 0, len);
	read_packet(0, 300);
	CHECK(block_status(0) == TP_STATUS_KERNEL, "the empty block was kept");
	check_nothing_ready();
}

/*
 * The kernel numbers blocks from 1, one after the other, around the ring:
 * __v3_test_block_seq_num() of psock_tpacket.c.
 */
static void
v3_checks_block_sequence_numbers(void)
{
	static const unsigned int len[] = { 80 };
	unsigned int i;

	/* Around a ring of 2 blocks, three times. */
	new_ring(TPACKET_V3, 2, BLOCK_SIZE);
	for (i = 0; i < 6; i++) {
		hand_over_block(i % 2, i + 1, 1, i, len);
		read_packet(i, 80);
	}
	check_nothing_ready();

	/* A block skipped: the reader is out of step with the kernel. */
	new_ring(TPACKET_V3, 4, BLOCK_SIZE);
	hand_over_block(0, 1, 1, 0, len);
	hand_over_block(1, 3, 1, 1, len);
	read_packet(0, 80);
	check_corrupt("block 3 after block 1");
	CHECK(strstr(errbuf, "number 3, where 2 comes next") != NULL,
	    "the error says \"%s\"", errbuf);
	CHECK((block_status(1) & TP_STATUS_USER), "the bad block went back");

	/* A block of an earlier round, still marked the user's. */
	new_ring(TPACKET_V3, 2, BLOCK_SIZE);
	hand_over_block(0, 1, 1, 0, len);
	hand_over_block(1, 2, 1, 1, len);
	read_packet(0, 80);
	read_packet(1, 80);
	hand_over_block(0, 1, 1, 2, len);
	check_corrupt("block 1 again after block 2");

	/* The first block is number 1. */
	new_ring(TPACKET_V3, 2, BLOCK_SIZE);
	hand_over_block(0, 0, 1, 0, len);
	check_corrupt("a first block numbered 0");
}

/* tp_next_offset outside the block (__v3_walk_block() sums them to blk_len). */
static void
v3_checks_next_offset_inside_block(void)
{
	static const unsigned int len[] = { 100, 100, 100 };
	struct tpacket3_hdr *h3;

	new_ring(TPACKET_V3, 2, BLOCK_SIZE);
	hand_over_block(0, 1, 3, 0, len);
	h3 = packet_at(0, FIRST_PACKET);
	/* Past the bytes the block holds, though inside its slot. */
	h3->tp_next_offset = block(0)->hdr.bh1.blk_len;
	check_corrupt("a next packet past blk_len");
	CHECK(strstr(errbuf, "puts the next one at") != NULL,
	    "the error says \"%s\"", errbuf);

	/* An offset that would read the same packet again. */
	new_ring(TPACKET_V3, 2, BLOCK_SIZE);
	hand_over_block(0, 1, 3, 0, len);
	packet_at(0, FIRST_PACKET)->tp_next_offset = 0;
	check_corrupt("a next offset of 0 before the last packet");

	/* The second packet points outside; the first is read, not the second. */
	new_ring(TPACKET_V3, 2, BLOCK_SIZE);
	hand_over_block(0, 1, 3, 0, len);
	h3 = packet_at(0, FIRST_PACKET + packet_at(0, FIRST_PACKET)->tp_next_offset);
	h3->tp_next_offset = 0x7ffffff0;
	read_packet(0, 100);
	check_corrupt("a second packet pointing 2 GiB away");
}

/* A packet, or the first packet's place, running past blk_len or the slot. */
static void
v3_checks_packets_inside_block(void)
{
	static const unsigned int len[] = { 100, 100 };

	new_ring(TPACKET_V3, 2, BLOCK_SIZE);
	hand_over_block(0, 1, 2, 0, len);
	packet_at(0, FIRST_PACKET + packet_at(0, FIRST_PACKET)->tp_next_offset)
	    ->tp_snaplen = BLOCK_SIZE;
	read_packet(0, 100);
	check_corrupt("a last packet longer than its block");
	CHECK(strstr(errbuf, "runs") != NULL, "the error says \"%s\"", errbuf);

	/* blk_len itself beyond the block. */
	new_ring(TPACKET_V3, 2, BLOCK_SIZE);
	hand_over_block(0, 1, 2, 0, len);
	block(0)->hdr.bh1.blk_len = BLOCK_SIZE + 8;
	check_corrupt("blk_len beyond the block");

	/*
	 * The first packet beyond the block's bytes, whole and plausible
	 * there: only the block's own length tells that it is not its own.
	 */
	new_ring(TPACKET_V3, 2, BLOCK_SIZE);
	hand_over_block(0, 1, 1, 0, len);
	memmove(slots[0] + block(0)->hdr.bh1.blk_len + 64, slots[0] + FIRST_PACKET,
	    block(0)->hdr.bh1.blk_len - FIRST_PACKET);
	block(0)->hdr.bh1.offset_to_first_pkt = block(0)->hdr.bh1.blk_len + 64;
	check_corrupt("a first packet beyond blk_len");
	CHECK(strstr(errbuf, "has its first packet at") != NULL,
	    "the error says \"%s\"", errbuf);
}

static struct tpacket2_hdr *
frame(unsigned int f)
{
	return (struct tpacket2_hdr *)(void *)slots[f];
}

/* The kernel fills V2 frame f with packet id of caplen bytes. */
static void
hand_over_frame(unsigned int f, unsigned int id, unsigned int caplen)
{
	struct tpacket2_hdr *h2 = frame(f);
	unsigned int j;

	memset(slots[f], 0, FRAME_SIZE);
	h2->tp_mac = MAC_V2;
	h2->tp_snaplen = caplen;
	h2->tp_len = caplen + 100;
	h2->tp_sec = id;
	for (j = 0; j < caplen; j++)
		slots[f][MAC_V2 + j] = pattern(id, j);
	/* With the bits tpacket_rcv() adds: a time stamp, and an unchecked sum. */
	__atomic_store_n(&h2->tp_status, TP_STATUS_USER | TP_STATUS_TS_SOFTWARE |
	    (id % 2 ? TP_STATUS_CSUMNOTREADY : 0), __ATOMIC_RELEASE);
}

/* V2: one packet a frame, each frame back as it is read, around the ring. */
static void
v2_delivers_and_hands_back_each_frame(void)
{
	unsigned int i, f, max = FRAME_SIZE - MAC_V2;

	new_ring(TPACKET_V2, 4, FRAME_SIZE);
	for (i = 0; i < 3; i++)
		hand_over_frame(i, i, 10 + i);
	for (i = 0; i < 3; i++) {
		CHECK((frame(i)->tp_status & TP_STATUS_USER),
		    "frame %u went back unread", i);
		read_packet(i, 10 + i);
		CHECK(frame(i)->tp_status == TP_STATUS_KERNEL,
		    "frame %u kept (status %u) after it was read", i,
		    frame(i)->tp_status);
	}
	check_nothing_ready();
	/* Frames 3, 0, 1, 2, 3, 0: around the ring twice over. */
	for (i = 3; i < 9; i++) {
		f = i % 4;
		hand_over_frame(f, i, i == 8 ? max : 40);
		read_packet(i, i == 8 ? max : 40);
		CHECK(frame(f)->tp_status == TP_STATUS_KERNEL,
		    "frame %u kept after it was read", f);
	}
	check_nothing_ready();
}

/* V2: a packet running past its frame is an error, and is not read. */
static void
v2_checks_packet_inside_frame(void)
{
	new_ring(TPACKET_V2, 4, FRAME_SIZE);
	hand_over_frame(0, 0, 50);
	hand_over_frame(1, 1, FRAME_SIZE - MAC_V2 + 1);
	read_packet(0, 50);
	check_corrupt("a frame one byte too long");
	CHECK(strstr(errbuf, "runs 1 bytes past its 512-byte slot") != NULL,
	    "the error says \"%s\"", errbuf);
	CHECK((frame(1)->tp_status & TP_STATUS_USER), "the bad frame went back");
}

static const struct layer_case cases[] = {
	{ "V3: every packet, in order, exactly", v3_delivers_every_packet_in_order },
	{ "V3: a block goes back after its last packet", v3_hands_each_block_back_after_its_last_packet },
	{ "V3: an empty block is skipped", v3_skips_an_empty_block },
	{ "V3: block sequence numbers", v3_checks_block_sequence_numbers },
	{ "V3: tp_next_offset inside the block", v3_checks_next_offset_inside_block },
	{ "V3: packets inside the block", v3_checks_packets_inside_block },
	{ "V3: the open block, only once final", v3_reads_the_open_block_only_once_final },
	{ "V3: a block opened halfway, once final", v3_final_block_opened_halfway },
	{ "V2: each frame, back as it is read", v2_delivers_and_hands_back_each_frame },
	{ "V2: packets inside their frame", v2_checks_packet_inside_frame },
};

int
main(void)
{
	return run_cases(cases, sizeof(cases) / sizeof(cases[0]));
}
