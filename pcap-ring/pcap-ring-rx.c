/*
 * pcap-ring: the capture ring reader (layer prefix ring_rx_).
 *
 * TPACKET_V3 hands over whole blocks; the reader keeps its position inside
 * a partly read block, so that pcap_dispatch(cnt=1) (dumpcap's pattern)
 * costs no system call while the block lasts.  The version picks a walker
 * once, at ring_rx_init(), as psock_tpacket.c's ring->walk: the V3 one
 * takes a block and steps through its packets, the V2 one takes a frame
 * holding one packet; the rest of the reader is the same for both.
 *
 * A slot (V3 block, V2 frame) is handed back to the kernel as soon as its
 * last packet has been delivered, as stock does: the kernel's packet_poll()
 * reports the socket readable while the slot just behind its write
 * position is user-owned, so a slot kept longer makes select() on an idle
 * link return at once, and the read that follows wait for the next block
 * with no timeout (dumpcap's timers then never run).  pcap_next_ex() needs
 * its packet to stay valid until the next call: the slot is kept until
 * then if more slots are ready (the socket is readable anyway), and only
 * when the reader has caught up with the kernel is the packet copied, so
 * that is one copy per V3 block, never one per packet under load.
 *
 * What the kernel hands over is checked before it is read, as the kernel's
 * own psock_tpacket.c checks it: V3 blocks come numbered one after the
 * other, and every packet, and every tp_next_offset, stays inside the
 * bytes its block says it holds (blk_len).  A ring that breaks them is
 * out of step with the kernel or overwritten: the read fails rather than
 * hand over bytes of another packet, or of another block.
 *
 * Immediate mode needs a wake-up per packet, which only TPACKET_V2 gives.
 * Its frames are sized for the MTU rather than for 64 KiB offload packets,
 * so that the ring holds thousands of packets instead of a few hundred; a
 * packet too big for its frame is marked TP_STATUS_COPY and the kernel
 * queues the whole of it on the socket (PACKET_COPY_THRESH), where the
 * reader takes it with recv().
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/if_ether.h>
#include <linux/sockios.h>

#include "pcap-ring-layers.h"

/* Older kernel headers lack these; the values are ABI. */
#ifndef TP_STATUS_VLAN_VALID
#define TP_STATUS_VLAN_VALID		(1 << 4)
#endif
#ifndef TP_STATUS_VLAN_TPID_VALID
#define TP_STATUS_VLAN_TPID_VALID	(1 << 6)
#endif

/* How a TPACKET version lays out its slots. */
struct ring_rx_walker {
	size_t status_offset;		/* of the slot's status word */
	/* Describe the packet at the reader's position (ring_rx_next()). */
	int (*walk)(struct ring_rx *, struct ring_packet *, char *errbuf);
	int blocks;			/* a slot holds many packets */
};

_Static_assert(sizeof(((struct tpacket_block_desc *)0)->hdr.bh1.block_status) ==
    sizeof(uint32_t), "V3 block status is a 32-bit word");
_Static_assert(sizeof(((struct tpacket2_hdr *)0)->tp_status) == sizeof(uint32_t),
    "V2 frame status is a 32-bit word");

static unsigned int
slot_status(const struct ring_rx *rx, unsigned int slot)
{
	const uint32_t *status = (const void *)(rx->slots[slot] +
	    rx->walker->status_offset);

	return __atomic_load_n(status, __ATOMIC_ACQUIRE);
}

static void
slot_release(struct ring_rx *rx, unsigned int slot)
{
	uint32_t *status = (void *)(rx->slots[slot] + rx->walker->status_offset);

	__atomic_store_n(status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
	if (rx->filter_slots_left > 0)
		rx->filter_slots_left--;
}

static void
next_slot(struct ring_rx *rx)
{
	rx->slot = (rx->slot + 1) % rx->slot_nr;
}

/* What the walkers have in common, from the packet's tp_status on. */
static void
describe(const struct ring_rx *rx, struct ring_packet *pkt,
    unsigned int status, unsigned int mac)
{
	/* A stripped tag with TCI 0 is known only by the status bit. */
	pkt->vlan_valid = pkt->vlan_tci != 0 || (status & TP_STATUS_VLAN_VALID);
	if (pkt->vlan_tpid == 0 && !(status & TP_STATUS_VLAN_TPID_VALID))
		pkt->vlan_tpid = ETH_P_8021Q;
	pkt->data = rx->next_packet + mac;
	pkt->sll = (const struct sockaddr_ll *)(rx->next_packet +
	    rx->sll_offset);
}

/* Why the ring is refused, in errbuf: -1. */
static int
corrupt(char *errbuf, const char *fmt, unsigned int a, unsigned long long b,
    unsigned long long c)
{
	static const char what[] = "corrupted frame on kernel ring: ";
	const size_t len = sizeof(what) - 1;

	memcpy(errbuf, what, len);
	snprintf(errbuf + len, PCAP_ERRBUF_SIZE - len, fmt, a, b, c);
	return -1;
}

/* What the reader uses of a V3 block's header. */
struct v3_header {
	unsigned long long seq;
	unsigned int num_pkts, first, len;
};

static void
v3_read_header(const struct tpacket_hdr_v1 *h1, struct v3_header *h)
{
	h->seq = __atomic_load_n(&h1->seq_num, __ATOMIC_RELAXED);
	h->num_pkts = __atomic_load_n(&h1->num_pkts, __ATOMIC_RELAXED);
	h->first = __atomic_load_n(&h1->offset_to_first_pkt, __ATOMIC_RELAXED);
	h->len = __atomic_load_n(&h1->blk_len, __ATOMIC_RELAXED);
}

/*
 * The header of a block the kernel still has, once final.  The old ring's
 * retire timer may still close the open block and open the next, with
 * plain stores, its number first (prb_open_block()): a header read
 * meanwhile pairs the new number with the last lap's packets.  The timer
 * holds the socket's receive queue lock throughout, and packet_ioctl()'s
 * SIOCINQ takes it too (not a cancellation point, unlike poll()): a
 * header that reads the same before and after it was not read halfway.
 * The kernel changes it twice at most, since nothing more comes.
 */
static void
v3_settled_header(const struct ring_rx *rx, const struct tpacket_hdr_v1 *h1,
    struct v3_header *h)
{
	struct v3_header again;
	int queued;

	v3_read_header(h1, h);
	for (;;) {
		(void)ioctl(rx->fd, SIOCINQ, &queued);
		v3_read_header(h1, &again);
		if (again.seq == h->seq && again.num_pkts == h->num_pkts &&
		    again.first == h->first && again.len == h->len)
			return;
		*h = again;
	}
}

/*
 * Take the block at the reader's position, checking it as psock_tpacket.c
 * does: 1, 0 if the kernel still has it, or -1 if it is out of sequence or
 * its first packet lies outside it.
 */
static int
v3_take_block(struct ring_rx *rx, char *errbuf)
{
	const struct tpacket_block_desc *bd = (void *)rx->slots[rx->slot];
	const struct tpacket_hdr_v1 *h1 = &bd->hdr.bh1;
	struct v3_header h;

	if (slot_status(rx, rx->slot) != TP_STATUS_KERNEL) {
		/* Read only once the status said the block is ours. */
		v3_read_header(h1, &h);
	} else if (!rx->final) {
		return 0;
	} else {
		/*
		 * Once nothing more comes (a larger ring took over), the
		 * block the kernel had open is complete; it is the one
		 * numbered after the last block taken, where a block handed
		 * back earlier keeps an older number.
		 */
		v3_settled_header(rx, h1, &h);
		if (h.seq != rx->last_seq + 1)
			return 0;
	}
	if (h.seq != rx->last_seq + 1)
		return corrupt(errbuf,
		    "block %u is number %llu, where %llu comes next",
		    rx->slot, h.seq, (unsigned long long)rx->last_seq + 1);
	if (h.len > rx->slot_size)
		return corrupt(errbuf,
		    "block %u says it holds %llu bytes, more than its %llu",
		    rx->slot, h.len, rx->slot_size);
	if (h.num_pkts != 0 && (h.first < sizeof(*bd) ||
	    h.first + sizeof(struct tpacket3_hdr) > h.len))
		return corrupt(errbuf,
		    "block %u has its first packet at %llu, outside its %llu bytes",
		    rx->slot, h.first, h.len);
	rx->last_seq = h.seq;
	rx->next_packet = rx->slots[rx->slot] + h.first;
	rx->slot_end = rx->slots[rx->slot] + h.len;
	rx->packets_left = h.num_pkts;
	return 1;
}

/*
 * Take blocks, handing empty ones back, until one holds packets: 1, or 0
 * or -1 as v3_take_block().  Out of line: inlined into v3_walk(), its
 * checks made every packet pay for saving six registers.
 */
static int __attribute__((noinline))
v3_take_nonempty_block(struct ring_rx *rx, char *errbuf)
{
	int ret;

	while ((ret = v3_take_block(rx, errbuf)) == 1 && rx->packets_left == 0) {
		rx->next_packet = NULL;
		slot_release(rx, rx->slot);
		next_slot(rx);
	}
	return ret;
}

/* TPACKET_V3: the next packet of the block, or of the next block. */
static int
v3_walk(struct ring_rx *rx, struct ring_packet *pkt, char *errbuf)
{
	const struct tpacket3_hdr *h3;
	size_t room;
	int ret;

	if (rx->next_packet == NULL &&
	    (ret = v3_take_nonempty_block(rx, errbuf)) <= 0)
		return ret;
	h3 = (const void *)rx->next_packet;
	room = (size_t)(rx->slot_end - rx->next_packet);
	if ((size_t)h3->tp_mac + h3->tp_snaplen > room)
		return corrupt(errbuf,
		    "a packet of block %u runs %llu bytes past the block's %llu",
		    rx->slot, (size_t)h3->tp_mac + h3->tp_snaplen - room,
		    (unsigned long long)(rx->slot_end - rx->slots[rx->slot]));
	if (rx->packets_left > 1 && (h3->tp_next_offset < sizeof(*h3) ||
	    (size_t)h3->tp_next_offset + sizeof(*h3) > room))
		return corrupt(errbuf,
		    "a packet of block %u puts the next one at %llu, outside the block's %llu bytes",
		    rx->slot, (unsigned long long)(rx->next_packet +
		    h3->tp_next_offset - rx->slots[rx->slot]),
		    (unsigned long long)(rx->slot_end - rx->slots[rx->slot]));
	pkt->len = h3->tp_len;
	pkt->caplen = h3->tp_snaplen;
	pkt->sec = h3->tp_sec;
	pkt->nsec = h3->tp_nsec;
	pkt->vlan_tci = h3->hv1.tp_vlan_tci;
	pkt->vlan_tpid = h3->hv1.tp_vlan_tpid;
	describe(rx, pkt, h3->tp_status, h3->tp_mac);
	return 1;
}

/*
 * Whether a V2 frame gives the whole packet, up to the snapshot.  One that
 * did not fit its frame is marked TP_STATUS_COPY, and the kernel queued
 * the whole of it on the socket, in ring order.  When the socket's receive
 * buffer has no room, it queues nothing and cuts the packet to the frame
 * without counting a drop; such a packet is dropped and counted here, as
 * stock's ring (frames of the snapshot's size) drops what it has no room
 * for.
 */
static int
whole_packet(struct ring_rx *rx, struct ring_packet *pkt, unsigned int status,
    unsigned int mac)
{
	unsigned int want = pkt->len < rx->copy_len ? pkt->len : rx->copy_len;
	ssize_t n;

	if (!(status & TP_STATUS_COPY))
		return pkt->caplen >= want || mac + pkt->caplen < rx->slot_size;
	n = recv(rx->fd, rx->copy_buf + RING_VLAN_TAG_LEN, rx->copy_len,
	    MSG_DONTWAIT | MSG_TRUNC);
	if (n == -1 && errno != EAGAIN) {
		/*
		 * A pending socket error (ENETDOWN when the device went down)
		 * comes first and is cleared; the copy is still queued.
		 */
		rx->socket_error = errno;
		n = recv(rx->fd, rx->copy_buf + RING_VLAN_TAG_LEN, rx->copy_len,
		    MSG_DONTWAIT | MSG_TRUNC);
	}
	if (n <= 0)
		return 0;
	pkt->data = rx->copy_buf + RING_VLAN_TAG_LEN;
	pkt->caplen = (unsigned int)n < rx->copy_len ? (unsigned int)n : rx->copy_len;
	return 1;
}

/* TPACKET_V2: the packet of the frame at the reader's position. */
static int
v2_walk(struct ring_rx *rx, struct ring_packet *pkt, char *errbuf)
{
	const struct tpacket2_hdr *h2;
	unsigned int status;

	for (;;) {
		status = slot_status(rx, rx->slot);
		if (status == TP_STATUS_KERNEL)
			return 0;
		h2 = (const void *)rx->slots[rx->slot];
		if ((uint64_t)h2->tp_mac + h2->tp_snaplen > rx->slot_size)
			return corrupt(errbuf,
			    "the packet of frame %u runs %llu bytes past its %llu-byte slot",
			    rx->slot, (uint64_t)h2->tp_mac + h2->tp_snaplen -
			    rx->slot_size, rx->slot_size);
		rx->next_packet = rx->slots[rx->slot];
		rx->packets_left = 1;
		pkt->len = h2->tp_len;
		pkt->caplen = h2->tp_snaplen;
		pkt->sec = h2->tp_sec;
		pkt->nsec = h2->tp_nsec;
		pkt->vlan_tci = h2->tp_vlan_tci;
		pkt->vlan_tpid = h2->tp_vlan_tpid;
		describe(rx, pkt, status, h2->tp_mac);
		if (rx->copy_len == 0 || whole_packet(rx, pkt, status, h2->tp_mac))
			return 1;
		__atomic_fetch_add(&rx->cut_drops, 1, __ATOMIC_RELAXED);
		rx->next_packet = NULL;
		slot_release(rx, rx->slot);
		next_slot(rx);
	}
}

static const struct ring_rx_walker v3_walker = {
	offsetof(struct tpacket_block_desc, hdr.bh1.block_status), v3_walk, 1
};

static const struct ring_rx_walker v2_walker = {
	offsetof(struct tpacket2_hdr, tp_status), v2_walk, 0
};

/*
 * A reader at the start of a ring whose slots are listed in slots; any
 * copy buffer is set up by the caller.
 */
void
ring_rx_init(struct ring_rx *rx, int version, int fd, u_char **slots,
    unsigned int slot_nr, unsigned int slot_size, unsigned int hdrlen)
{
	rx->version = version;
	rx->walker = version == TPACKET_V3 ? &v3_walker : &v2_walker;
	rx->fd = fd;
	rx->slots = slots;
	rx->slot_nr = slot_nr;
	rx->slot_size = slot_size;
	rx->sll_offset = TPACKET_ALIGN(hdrlen);
	rx->slot = 0;
	rx->next_packet = NULL;
	rx->packets_left = 0;
	rx->release_pending = 0;
	rx->final = 0;
	/* The kernel numbers the blocks it opens from 1. */
	rx->last_seq = 0;
}

/*
 * Describe the next packet without consuming it: 1, or 0 if the kernel has
 * not handed one over yet, or -1 (errbuf set) if what it handed over is
 * corrupt; the reader then stays where it is.
 */
int
ring_rx_next(struct ring_rx *rx, struct ring_packet *pkt, char *errbuf)
{
	if (rx->release_pending) {
		slot_release(rx, rx->release_slot);
		rx->release_pending = 0;
	}
	return rx->walker->walk(rx, pkt, errbuf);
}

/*
 * Whether the packet ring_rx_next() described is the last the kernel has
 * handed over: the last of its slot, with the next slot still the kernel's.
 */
int
ring_rx_caught_up(const struct ring_rx *rx)
{
	if (rx->packets_left > 1)
		return 0;
	return slot_status(rx, (rx->slot + 1) % rx->slot_nr) == TP_STATUS_KERNEL;
}

/*
 * Move past the packet ring_rx_next() described.  The slot it ends goes
 * back to the kernel now, or with hold at the next ring_rx_next(), for a
 * caller that uses the packet until then.
 */
void
ring_rx_consume(struct ring_rx *rx, int hold)
{
	const struct tpacket3_hdr *h3 = (const void *)rx->next_packet;

	/* Only V3 slots hold more than one; ring_rx_next() checked the offset. */
	if (--rx->packets_left > 0) {
		rx->next_packet += h3->tp_next_offset;
		return;
	}
	rx->next_packet = NULL;
	if (hold) {
		rx->release_pending = 1;
		rx->release_slot = rx->slot;
	} else {
		slot_release(rx, rx->slot);
	}
	next_slot(rx);
}

/*
 * How many slots, from the reader's position on, may hold packets that the
 * kernel filtered before the filter just installed: everything but the run
 * of free slots behind the reader, less one for a slot the kernel may be
 * filling (stock libpcap's reckoning).
 */
unsigned int
ring_rx_slots_in_use(const struct ring_rx *rx)
{
	unsigned int slot = rx->slot, n;

	/* The slot just behind the reader may still be held for the caller. */
	slot = (slot + rx->slot_nr - 1) % rx->slot_nr;
	for (n = 0; n < rx->slot_nr; n++) {
		slot = (slot + rx->slot_nr - 1) % rx->slot_nr;
		if (slot_status(rx, slot) != TP_STATUS_KERNEL)
			break;
	}
	if (n != 0)
		n--;
	/* A slot held for pcap_next_ex() was read, yet its release counts. */
	return rx->slot_nr - n + (rx->release_pending ? 1 : 0);
}

/*
 * Whether ring_rx_next() would find nothing and nothing is held for the
 * caller (V3).
 */
int
ring_rx_drained(const struct ring_rx *rx)
{
	const struct tpacket_block_desc *bd = (void *)rx->slots[rx->slot];

	if (rx->next_packet != NULL || rx->release_pending ||
	    slot_status(rx, rx->slot) != TP_STATUS_KERNEL)
		return 0;
	return !(rx->final && bd->hdr.bh1.seq_num == rx->last_seq + 1 &&
	    bd->hdr.bh1.num_pkts != 0);
}

/*
 * Whether the kernel has filled three quarters of a V3 ring or more: the
 * blocks from the reader's on are all the reader's.
 */
int
ring_rx_nearly_full(const struct ring_rx *rx)
{
	unsigned int ahead = rx->slot_nr * 3 / 4;

	if (!rx->walker->blocks)
		return 0;
	if (ahead == 0)
		ahead = 1;
	return slot_status(rx, (rx->slot + ahead - 1) % rx->slot_nr) !=
	    TP_STATUS_KERNEL;
}
