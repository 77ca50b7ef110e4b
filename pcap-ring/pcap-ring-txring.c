/*
 * pcap-ring: the TX ring (layer prefix ring_tx_), TPACKET_V2 frames that
 * a kick hands to the kernel.  The glue (pcap-ring-tx.c) decides when to
 * kick and wait, and what to tell the caller.
 *
 * The kernel's side, from net/packet/af_packet.c (tpacket_snd()): a kick
 * takes the frames marked TP_STATUS_SEND_REQUEST in ring order, from its
 * own position on, and stops at the first it cannot take; so what it took
 * is always a prefix of the waiting frames, and if it took the newest, it
 * took them all.  A frame it took stays its own (TP_STATUS_SENDING) until
 * the device is done with it; only a TP_STATUS_AVAILABLE frame may be
 * filled again.  A frame it refuses (without PACKET_LOSS, which this ring
 * does not set: nothing is counted as sent that was not) is marked
 * TP_STATUS_WRONG_FORMAT, and the kernel stays on that slot: it takes
 * nothing more until the slot holds a frame to send again.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "pcap-ring-layers.h"

static unsigned int
frame_len(const u_char *frame)
{
	return ((const struct tpacket2_hdr *)(const void *)frame)->tp_len;
}

/* The oldest frame the kernel has not taken yet. */
static unsigned int
first_unsent(const struct ring_tx *tx)
{
	return (tx->head + tx->frame_nr - tx->unsent) % tx->frame_nr;
}

/* Sequence number (frames this ring queued, from 0) of that frame. */
unsigned long long
ring_tx_first_unsent_seq(const struct ring_tx *tx)
{
	return (unsigned long long)(tx->stat.tx_queued - tx->unsent);
}

/* The kick of a real ring: one system call, which never blocks. */
static int
kick_kernel(struct ring_tx *tx)
{
	return send(tx->fd, NULL, 0, MSG_DONTWAIT) == -1 ? errno : 0;
}

/*
 * A ring just mapped in tx->map from socket tx->fd, with every frame
 * available; the counters go on from what they were.
 */
void
ring_tx_init(struct ring_tx *tx, unsigned int frame_nr,
    unsigned int frame_size, unsigned int data_offset)
{
	tx->frame_nr = frame_nr;
	tx->frame_size = frame_size;
	tx->data_offset = data_offset;
	tx->head = 0;
	tx->unsent = 0;
	tx->unsent_bytes = 0;
	tx->kick = kick_kernel;
}

/* Count the frames the kernel took: a prefix of the waiting ones. */
void
ring_tx_reap(struct ring_tx *tx)
{
	unsigned int i, status, len;

	if (tx->unsent == 0)
		return;
	i = tx->head == 0 ? tx->frame_nr - 1 : tx->head - 1;
	status = ring_tx_status(tx->map.frames[i]);
	if (status != TP_STATUS_SEND_REQUEST && status != TP_STATUS_WRONG_FORMAT) {
		tx->stat.tx_sent += tx->unsent;
		tx->stat.tx_bytes += tx->unsent_bytes;
		tx->unsent = 0;
		tx->unsent_bytes = 0;
		return;
	}
	for (i = first_unsent(tx); tx->unsent > 0; i = ring_tx_next(tx, i)) {
		status = ring_tx_status(tx->map.frames[i]);
		if (status == TP_STATUS_SEND_REQUEST ||
		    status == TP_STATUS_WRONG_FORMAT)
			break;
		len = frame_len(tx->map.frames[i]);
		tx->stat.tx_sent++;
		tx->stat.tx_bytes += len;
		tx->unsent--;
		tx->unsent_bytes -= len;
	}
}

/* Take the newest n waiting frames back out of the ring. */
static void
unqueue(struct ring_tx *tx, unsigned int n)
{
	while (n-- > 0) {
		tx->head = tx->head == 0 ? tx->frame_nr - 1 : tx->head - 1;
		tx->unsent_bytes -= frame_len(tx->map.frames[tx->head]);
		ring_tx_set_status(tx->map.frames[tx->head], TP_STATUS_AVAILABLE);
		tx->unsent--;
	}
}

/* The kernel can take none of the waiting frames: drop and count them. */
unsigned int
ring_tx_drop_waiting(struct ring_tx *tx)
{
	unsigned int n = tx->unsent;

	unqueue(tx, n);
	tx->stat.tx_dropped += n;
	return n;
}

/*
 * The kernel refused the oldest waiting frame and stays on its slot.
 * Count it, and move the frames behind it up one slot, so that the next
 * kick sends them; with drop_behind, take them out instead (and out of
 * tx_queued), so that nothing after it goes out.
 */
static void
reject_first(struct ring_tx *tx, int drop_behind)
{
	unsigned int i = first_unsent(tx), j, len = frame_len(tx->map.frames[i]);

	tx->stat.tx_rejected++;
	if (drop_behind) {
		unsigned int behind = tx->unsent - 1;

		unqueue(tx, behind);
		tx->stat.tx_queued -= behind;
		unqueue(tx, 1);
		return;
	}
	for (j = ring_tx_next(tx, i); j != tx->head; i = j, j = ring_tx_next(tx, j)) {
		struct tpacket2_hdr *to = (void *)tx->map.frames[i];

		to->tp_len = frame_len(tx->map.frames[j]);
		memcpy(tx->map.frames[i] + tx->data_offset,
		    tx->map.frames[j] + tx->data_offset, to->tp_len);
		ring_tx_set_status(tx->map.frames[i], TP_STATUS_SEND_REQUEST);
	}
	ring_tx_set_status(tx->map.frames[i], TP_STATUS_AVAILABLE);
	tx->head = i;
	tx->unsent--;
	tx->unsent_bytes -= len;
}

/*
 * Kick once and count what the kernel took.  The errno of the kick (0 if
 * none), or RING_TX_REJECTED when the kernel refused the oldest waiting
 * frame: it is counted, described in *rej, and gone from the ring
 * (reject_first()), and another kick sends what is left.
 */
int
ring_tx_kick(struct ring_tx *tx, int drop_behind, struct ring_tx_reject *rej)
{
	int err = tx->kick(tx);
	unsigned int first;

	tx->stat.tx_kicks++;
	ring_tx_reap(tx);
	if (tx->unsent == 0)
		return err;
	first = first_unsent(tx);
	if (ring_tx_status(tx->map.frames[first]) != TP_STATUS_WRONG_FORMAT)
		return err;
	rej->seq = ring_tx_first_unsent_seq(tx);
	rej->len = frame_len(tx->map.frames[first]);
	rej->err = err;
	reject_first(tx, drop_behind);
	return RING_TX_REJECTED;
}
