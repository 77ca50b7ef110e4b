/*
 * The TX ring (pcap-ring-txring.c) on a ring in memory, with the test
 * playing the kernel at each kick, as net/packet/af_packet.c's
 * tpacket_snd() does: from its own position on it takes a prefix of the
 * frames marked TP_STATUS_SEND_REQUEST (possibly none, possibly all),
 * leaving each TP_STATUS_SENDING until "the device" is done with it and
 * then TP_STATUS_AVAILABLE (with a time stamp bit, as the kernel sets
 * one), or marks the frame it refuses TP_STATUS_WRONG_FORMAT and stays on
 * its slot.  It checks the ring's counters against what the kernel took
 * (tx_queued = tx_sent + tx_rejected + tx_dropped + pending, always),
 * that no frame the kernel owns is written, what happens to the frames
 * behind a refused one (moved up and sent by the next kick; with
 * drop_behind, as a send queue stops at a failed record, taken out), and
 * wrap-around.  No root, no socket.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <linux/if_packet.h>

#include "../../pcap-ring/pcap-ring-layers.h"
#include "layer-test.h"

#define FRAME_SIZE	256
#define MAX_FRAMES	8
#define DATA_OFFSET	TPACKET_ALIGN(sizeof(struct tpacket2_hdr))
#define MAX_SENT	64

/* The test's kernel; the ring comes first, so that kick finds it. */
struct kernel {
	struct ring_tx tx;
	unsigned int pos;		/* the slot it looks at next */
	int take;			/* frames it takes at the next kick; -1: all */
	int refuse;			/* then refuses the frame after them */
	int keep;			/* taken frames stay TP_STATUS_SENDING */
	int err;			/* what the kick returns */
	unsigned int kicks;
	unsigned int sent[MAX_SENT];	/* ids of the frames it took, in order */
	unsigned int sent_nr;
};

static u_char ring_mem[MAX_FRAMES * FRAME_SIZE] __attribute__((aligned(4096)));
static u_char *frames[MAX_FRAMES];
static struct kernel k;

static struct tpacket2_hdr *
frame(unsigned int f)
{
	return (struct tpacket2_hdr *)(void *)frames[f];
}

static unsigned int
frame_id(unsigned int f)
{
	return frames[f][DATA_OFFSET];
}

static int
kernel_kick(struct ring_tx *tx)
{
	struct kernel *kernel = (struct kernel *)tx;
	unsigned int n;

	kernel->kicks++;
	for (n = 0; kernel->take < 0 || n < (unsigned int)kernel->take; n++) {
		if (frame(kernel->pos)->tp_status != TP_STATUS_SEND_REQUEST)
			break;
		CHECK(kernel->sent_nr < MAX_SENT, "the kernel took too many");
		kernel->sent[kernel->sent_nr++] = frame_id(kernel->pos);
		frame(kernel->pos)->tp_status = kernel->keep ? TP_STATUS_SENDING :
		    TP_STATUS_AVAILABLE | TP_STATUS_TS_SOFTWARE;
		kernel->pos = (kernel->pos + 1) % tx->frame_nr;
	}
	if (kernel->refuse &&
	    frame(kernel->pos)->tp_status == TP_STATUS_SEND_REQUEST)
		frame(kernel->pos)->tp_status = TP_STATUS_WRONG_FORMAT;
	kernel->refuse = 0;
	kernel->take = -1;
	return kernel->err;
}

/* "The device" is done with frame f, which the kernel took. */
static void
transmitted(unsigned int f)
{
	CHECK(frame(f)->tp_status == TP_STATUS_SENDING,
	    "frame %u was not the kernel's (status %u)", f, frame(f)->tp_status);
	frame(f)->tp_status = TP_STATUS_AVAILABLE | TP_STATUS_TS_SOFTWARE;
}

static void
new_ring(unsigned int frame_nr)
{
	unsigned int i;

	memset(ring_mem, 0, sizeof(ring_mem));
	memset(&k, 0, sizeof(k));
	for (i = 0; i < frame_nr; i++)
		frames[i] = ring_mem + i * FRAME_SIZE;
	k.tx.fd = -1;
	k.tx.map.frames = frames;
	ring_tx_init(&k.tx, frame_nr, FRAME_SIZE, DATA_OFFSET);
	k.tx.kick = kernel_kick;
	k.take = -1;
}

/* The length of frame id: each is its own. */
static unsigned int
len_of(unsigned int id)
{
	return 60 + id;
}

static void
queue(unsigned int id)
{
	u_char buf[FRAME_SIZE];

	memset(buf, 0, sizeof(buf));
	buf[0] = (u_char)id;
	CHECK(ring_tx_queue(&k.tx, buf, len_of(id)) == 0,
	    "frame %u not queued, head %u (status %u)", id, k.tx.head,
	    frame(k.tx.head)->tp_status);
}

/* Kick with the kernel taking take frames (-1: all), then refusing one if refuse. */
static int
kick(int take, int refuse, int drop_behind, struct ring_tx_reject *rej)
{
	k.take = take;
	k.refuse = refuse;
	return ring_tx_kick(&k.tx, drop_behind, rej);
}

static void
check_counts(uint64_t sent, uint64_t rejected, uint64_t dropped,
    unsigned int pending)
{
	const struct pcap_tx_stat *s = &k.tx.stat;

	CHECK(s->tx_sent == sent, "tx_sent %llu, the kernel took %llu",
	    (unsigned long long)s->tx_sent, (unsigned long long)sent);
	CHECK(s->tx_rejected == rejected, "tx_rejected %llu, not %llu",
	    (unsigned long long)s->tx_rejected, (unsigned long long)rejected);
	CHECK(s->tx_dropped == dropped, "tx_dropped %llu, not %llu",
	    (unsigned long long)s->tx_dropped, (unsigned long long)dropped);
	CHECK(k.tx.unsent == pending, "%u frames pending, not %u", k.tx.unsent,
	    pending);
	CHECK(s->tx_queued == s->tx_sent + s->tx_rejected + s->tx_dropped +
	    k.tx.unsent, "tx_queued %llu is not sent+rejected+dropped+pending",
	    (unsigned long long)s->tx_queued);
}

/* The kernel's frames, in the order it took them, are ids from first. */
static void
check_sent_ids(const unsigned int *ids, unsigned int n)
{
	unsigned int i;

	CHECK(k.sent_nr == n, "the kernel took %u frames, not %u", k.sent_nr, n);
	for (i = 0; i < n; i++)
		CHECK(k.sent[i] == ids[i], "frame %u the kernel took is %u, not %u",
		    i, k.sent[i], ids[i]);
}

static uint64_t
bytes_of(const unsigned int *ids, unsigned int n)
{
	uint64_t b = 0;

	while (n-- > 0)
		b += len_of(ids[n]);
	return b;
}

/* What the kernel takes is counted as sent, no more: a prefix, none, all. */
static void
counts_the_prefix_the_kernel_took(void)
{
	static const unsigned int ids[] = { 0, 1, 2, 3, 4 };
	struct ring_tx_reject rej;
	unsigned int i;

	new_ring(8);
	for (i = 0; i < 5; i++)
		queue(i);
	check_counts(0, 0, 0, 5);
	CHECK(kick(2, 0, 0, &rej) == 0, "the kick failed");
	check_sent_ids(ids, 2);
	check_counts(2, 0, 0, 3);
	CHECK(k.tx.stat.tx_bytes == bytes_of(ids, 2), "tx_bytes %llu",
	    (unsigned long long)k.tx.stat.tx_bytes);
	CHECK(kick(0, 0, 0, &rej) == 0, "the kick failed");
	check_counts(2, 0, 0, 3);
	/* SO_SNDBUF full: the kick says EAGAIN, and took one. */
	k.err = EAGAIN;
	CHECK(kick(1, 0, 0, &rej) == EAGAIN, "the kick's errno was lost");
	k.err = 0;
	check_counts(3, 0, 0, 2);
	CHECK(kick(-1, 0, 0, &rej) == 0, "the kick failed");
	check_sent_ids(ids, 5);
	check_counts(5, 0, 0, 0);
	CHECK(k.tx.stat.tx_bytes == bytes_of(ids, 5), "tx_bytes %llu",
	    (unsigned long long)k.tx.stat.tx_bytes);
	CHECK(k.tx.stat.tx_kicks == 4 && k.kicks == 4, "%llu kicks counted, %u made",
	    (unsigned long long)k.tx.stat.tx_kicks, k.kicks);
}

/* A frame the kernel still sends is not written, however full the ring. */
static void
never_writes_a_frame_the_kernel_owns(void)
{
	struct ring_tx_reject rej;
	u_char buf[FRAME_SIZE];
	unsigned int i;

	new_ring(4);
	k.keep = 1;
	for (i = 0; i < 4; i++)
		queue(i);
	CHECK(!ring_tx_has_room(&k.tx), "room in a ring of 4 with 4 queued");
	memset(buf, 0xee, sizeof(buf));
	CHECK(ring_tx_queue(&k.tx, buf, 100) == -1,
	    "queued over a frame waiting to be sent");
	CHECK(kick(-1, 0, 0, &rej) == 0, "the kick failed");
	/* Taken, not done: the kernel's, and counted as sent. */
	check_counts(4, 0, 0, 0);
	CHECK(!ring_tx_has_room(&k.tx), "room while the kernel sends frame 0");
	CHECK(ring_tx_queue(&k.tx, buf, 100) == -1,
	    "queued over a frame the kernel sends");
	for (i = 0; i < 4; i++)
		CHECK(frame_id(i) == i && frame(i)->tp_len == len_of(i),
		    "frame %u was written while the kernel had it", i);
	transmitted(0);
	CHECK(ring_tx_has_room(&k.tx), "no room once frame 0 is done");
	queue(4);
	CHECK(ring_tx_queue(&k.tx, buf, 100) == -1,
	    "queued over frame 1, which the kernel sends");
	CHECK(frame_id(1) == 1, "frame 1 was written while the kernel had it");
	check_counts(4, 0, 0, 1);
}

/*
 * The kernel refuses a frame and stays on its slot: it is counted as
 * rejected, and the frames behind it move up one slot, so that the next
 * kick sends them, in order.
 */
static void
moves_up_the_frames_behind_a_rejected_one(void)
{
	static const unsigned int ids[] = { 0, 2, 3 };
	struct ring_tx_reject rej;
	unsigned int i;

	new_ring(8);
	for (i = 0; i < 4; i++)
		queue(i);
	k.err = EINVAL;
	CHECK(kick(1, 1, 0, &rej) == RING_TX_REJECTED, "the reject went unseen");
	CHECK(rej.seq == 1 && rej.len == len_of(1) && rej.err == EINVAL,
	    "rejected frame %llu of %u bytes (errno %d), not frame 1 of %u",
	    rej.seq, rej.len, rej.err, len_of(1));
	k.err = 0;
	check_counts(1, 1, 0, 2);
	/* Where the kernel waits, the next frame; the slot after is free. */
	CHECK(frame(1)->tp_status == TP_STATUS_SEND_REQUEST && frame_id(1) == 2 &&
	    frame(1)->tp_len == len_of(2), "frame 2 did not move up to slot 1");
	CHECK(frame(2)->tp_status == TP_STATUS_SEND_REQUEST && frame_id(2) == 3,
	    "frame 3 did not move up to slot 2");
	CHECK(frame(3)->tp_status == TP_STATUS_AVAILABLE && k.tx.head == 3,
	    "slot 3 not freed (status %u, head %u)", frame(3)->tp_status,
	    k.tx.head);
	CHECK(kick(-1, 0, 0, &rej) == 0, "the kick failed");
	check_sent_ids(ids, 3);
	check_counts(3, 1, 0, 0);
	CHECK(k.tx.stat.tx_bytes == bytes_of(ids, 3), "tx_bytes %llu",
	    (unsigned long long)k.tx.stat.tx_bytes);
	/* The last frame refused: nothing behind it. */
	queue(4);
	CHECK(kick(0, 1, 0, &rej) == RING_TX_REJECTED && rej.seq == 4,
	    "frame 4's reject went unseen");
	check_counts(3, 2, 0, 0);
	CHECK(k.tx.head == 3 && frame(3)->tp_status == TP_STATUS_AVAILABLE,
	    "the kernel's slot not free for the next frame");
	queue(5);
	CHECK(kick(-1, 0, 0, &rej) == 0 && k.sent[k.sent_nr - 1] == 5,
	    "frame 5, queued where the kernel waits, was not sent");
	check_counts(4, 2, 0, 0);
}

/*
 * A send queue stops at a refused record: the frames behind it are taken
 * out and no longer counted as queued; the kernel's slot is the next free.
 */
static void
drops_the_frames_behind_a_rejected_one_on_request(void)
{
	struct ring_tx_reject rej;
	unsigned int i;

	new_ring(8);
	for (i = 0; i < 5; i++)
		queue(i);
	CHECK(kick(2, 1, 1, &rej) == RING_TX_REJECTED && rej.seq == 2,
	    "the reject of frame 2 went unseen");
	check_counts(2, 1, 0, 0);
	CHECK(k.tx.stat.tx_queued == 3, "tx_queued %llu: frames 3 and 4 still count",
	    (unsigned long long)k.tx.stat.tx_queued);
	for (i = 0; i < 8; i++)
		CHECK((frame(i)->tp_status & ~TP_STATUS_TS_SOFTWARE) ==
		    TP_STATUS_AVAILABLE, "slot %u still waits (status %u)", i,
		    frame(i)->tp_status);
	CHECK(k.tx.head == 2, "head %u, not the kernel's slot 2", k.tx.head);
	queue(7);
	CHECK(kick(-1, 0, 0, &rej) == 0 && k.sent_nr == 3 && k.sent[2] == 7,
	    "the frame after the queue was not sent");
	check_counts(3, 1, 0, 0);
}

/* The kernel can take none: the waiting frames are dropped and counted. */
static void
drops_what_the_kernel_cannot_take(void)
{
	struct ring_tx_reject rej;
	unsigned int i;

	new_ring(4);
	queue(0);
	CHECK(kick(-1, 0, 0, &rej) == 0, "the kick failed");
	for (i = 1; i < 4; i++)
		queue(i);
	k.err = ENETDOWN;
	CHECK(kick(0, 0, 0, &rej) == ENETDOWN, "the kick's ENETDOWN was lost");
	CHECK(ring_tx_first_unsent_seq(&k.tx) == 1, "the first waiting frame is %llu",
	    ring_tx_first_unsent_seq(&k.tx));
	CHECK(ring_tx_drop_waiting(&k.tx) == 3, "not 3 frames dropped");
	check_counts(1, 0, 3, 0);
	CHECK(k.tx.head == 1, "head %u, not back at the first dropped frame",
	    k.tx.head);
	for (i = 1; i < 4; i++)
		CHECK(frame(i)->tp_status == TP_STATUS_AVAILABLE,
		    "dropped frame %u still waits", i);
}

/* Around a ring of 4, in rounds the kernel takes in pieces. */
static void
wraps_around(void)
{
	struct ring_tx_reject rej;
	unsigned int ids[MAX_SENT] = { 0 }, id = 0, round, i;

	new_ring(4);
	for (round = 0; round < 7; round++) {
		for (i = 0; i < 3; i++) {
			CHECK(ring_tx_has_room(&k.tx), "no room in round %u", round);
			queue(id++);
		}
		CHECK(kick((int)round % 3, 0, 0, &rej) == 0, "the kick failed");
		CHECK(kick(-1, 0, 0, &rej) == 0, "the kick failed");
		check_counts(id, 0, 0, 0);
		CHECK(k.tx.head == id % 4, "head %u after %u frames", k.tx.head, id);
	}
	for (i = 0; i < id; i++)
		ids[i] = i;
	check_sent_ids(ids, id);
	CHECK(k.tx.stat.tx_bytes == bytes_of(ids, id), "tx_bytes %llu",
	    (unsigned long long)k.tx.stat.tx_bytes);
}

static const struct layer_case cases[] = {
	{ "a prefix, none or all taken: counted as sent", counts_the_prefix_the_kernel_took },
	{ "a frame the kernel owns is never written", never_writes_a_frame_the_kernel_owns },
	{ "behind a rejected frame: moved up, sent next", moves_up_the_frames_behind_a_rejected_one },
	{ "behind a rejected record: taken out", drops_the_frames_behind_a_rejected_one_on_request },
	{ "nothing taken: dropped and counted", drops_what_the_kernel_cannot_take },
	{ "wrap-around", wraps_around },
};

int
main(void)
{
	return run_cases(cases, sizeof(cases) / sizeof(cases[0]));
}
