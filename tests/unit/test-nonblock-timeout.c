/*
 * Non-blocking mode and the packet buffer timeout, as stock libpcap on
 * Linux has them (run with both libraries, for the TPACKET_V3 ring and
 * for immediate mode):
 * - non-blocking with no traffic, pcap_dispatch() and pcap_next_ex()
 *   return 0 at once; pcap_getnonblock() says so, set before or after
 *   activation; back in blocking mode pcap_dispatch() waits again;
 * - pcap_dispatch(cnt=0), as cnt=-1, delivers every packet waiting;
 * - with a timeout and no traffic a blocking pcap_dispatch() does not
 *   return (the timer starts with the first packet), and once a single
 *   packet arrives it is delivered within the timeout, without filling a
 *   buffer block;
 * - with timeout 0, immediate mode delivers each packet as it comes (a
 *   packet it rejects, an outgoing one with PCAP_D_IN, ends the read with
 *   0, as stock's TPACKET_V2 reader does), and otherwise a dispatch returns once a buffer block is full, and not
 *   before, however slowly the traffic comes, with as many packets as
 *   stock's 256 KiB block holds, whatever the buffer size (a program
 *   with timeout 0 waits as long as with stock); so does a dispatch with
 *   a timeout longer than the block takes to fill, from a buffer of the
 *   size the program asked for;
 * - the capture ring asked of the kernel has stock's 256 KiB blocks and
 *   retire timer, except the 32 MiB ring in 1 MiB blocks that pcap-ring
 *   gives a program asking for no size, with a positive timeout; its
 *   socket is bound to the interface then, whose speed the kernel derives
 *   the timer from when the timeout is negative.
 */
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>

#include "bed.h"

/*
 * The lone packet goes out at 0.3 s; it must come within the 200 ms
 * timeout (at once in immediate mode), with slack for a busy machine.
 */
#define LONE_SENT	0.3
#define LONE_LATEST	(LONE_SENT + 0.2 + 0.7)

static pcap_t *handle;
static int sender_fd;
static volatile int dispatch_done;

/* A blocking pcap_dispatch() with no traffic: still waiting after secs. */
static void
check_blocks(const char *what, double secs)
{
	struct bed_tally t;
	struct bed_break b;
	double start, took;
	int ret;

	bed_tally_init(&t, 0, 1);
	bed_break_later(&b, handle, secs);
	start = bed_now();
	bed_deadline(secs + 5, what);
	ret = pcap_dispatch(handle, -1, bed_tally_cb, (u_char *)&t);
	bed_deadline_clear();
	took = bed_now() - start;
	bed_break_join(&b);
	if (ret == PCAP_ERROR_BREAK && took >= secs - 0.05)
		bed_ok("%s: blocked until pcap_breakloop at %.1f s", what, secs);
	else
		CHECK(0, "%s: pcap_dispatch returned %d after %.2f s, not blocked until pcap_breakloop at %.2f s",
		    what, ret, took, secs);
	bed_tally_free(&t);
}

static void
nonblocking(int immediate)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	struct pollfd pfd = { -1, POLLIN, 0 };
	const u_char *data;
	struct bed_tally t;
	double start, took;
	int ret;

	handle = bed_open(immediate, 0, 1000);
	CHECK(pcap_getnonblock(handle, errbuf) == 0, "blocking after activate");
	CHECK(pcap_setnonblock(handle, 1, errbuf) == 0, "pcap_setnonblock: %s",
	    errbuf);
	CHECK(pcap_getnonblock(handle, errbuf) == 1,
	    "pcap_getnonblock after pcap_setnonblock(1)");

	bed_tally_init(&t, 0, 20);
	start = bed_now();
	bed_deadline(5, "non-blocking pcap_dispatch");
	ret = pcap_dispatch(handle, -1, bed_tally_cb, (u_char *)&t);
	CHECK(ret == 0, "non-blocking pcap_dispatch, no traffic: %d", ret);
	ret = pcap_next_ex(handle, &h, &data);
	CHECK(ret == 0, "non-blocking pcap_next_ex, no traffic: %d", ret);
	bed_deadline_clear();
	took = bed_now() - start;
	/* The 1 s timeout did not come into it. */
	CHECK(took < 0.5, "non-blocking reads took %.2f s", took);
	bed_ok("immediate %d: non-blocking, no traffic: pcap_dispatch and pcap_next_ex return 0 in %.3f s",
	    immediate, took);

	/* Packets are read in non-blocking mode as the fd says. */
	bed_send(sender_fd, 0, 20, 60, 1514, MIX_ALL, NULL);
	bed_drain(handle, bed_tally_cb, (u_char *)&t, &t.packets, 20, 2.0);
	bed_tally_check(&t, immediate ?
	    "immediate mode, non-blocking: 20 frames" : "non-blocking: 20 frames");
	bed_tally_free(&t);

	/* Once the fd is readable all 20 are in the ring (or its block). */
	bed_tally_init(&t, 20, 20);
	bed_send(sender_fd, 20, 20, 60, 1514, MIX_ALL, NULL);
	bed_sleep(0.3);
	pfd.fd = pcap_get_selectable_fd(handle);
	CHECK(poll(&pfd, 1, 3000) == 1, "cnt=0: the fd did not become readable");
	ret = pcap_dispatch(handle, 0, bed_tally_cb, (u_char *)&t);
	CHECK(ret == 20 && t.packets == 20,
	    "pcap_dispatch(cnt=0) returned %d, %lu packets, want 20", ret,
	    t.packets);
	bed_tally_check(&t, immediate ?
	    "immediate mode, one pcap_dispatch(cnt=0)" : "one pcap_dispatch(cnt=0)");
	bed_tally_free(&t);

	CHECK(pcap_setnonblock(handle, 0, errbuf) == 0, "pcap_setnonblock(0): %s",
	    errbuf);
	CHECK(pcap_getnonblock(handle, errbuf) == 0,
	    "pcap_getnonblock after pcap_setnonblock(0)");
	check_blocks(immediate ? "immediate mode, back to blocking" :
	    "back to blocking", 0.5);
	pcap_close(handle);

	/* Set before activation, it holds after. */
	handle = bed_create(bed.veth_b);
	MUST(pcap_set_immediate_mode(handle, immediate));
	CHECK(pcap_setnonblock(handle, 1, errbuf) == 0,
	    "pcap_setnonblock before activate: %s", errbuf);
	bed_activate(handle);
	CHECK(pcap_getnonblock(handle, errbuf) == 1,
	    "non-blocking set before activate is lost");
	bed_tally_init(&t, 0, 1);
	bed_deadline(5, "non-blocking pcap_dispatch");
	ret = pcap_dispatch(handle, -1, bed_tally_cb, (u_char *)&t);
	bed_deadline_clear();
	CHECK(ret == 0, "non-blocking (set before activate) pcap_dispatch: %d",
	    ret);
	bed_ok("immediate %d: non-blocking set before pcap_activate holds",
	    immediate);
	bed_tally_free(&t);
	pcap_close(handle);
}

static void *
send_one_later(void *arg)
{
	(void)arg;
	bed_sleep(LONE_SENT);
	bed_send(sender_fd, 0, 1, 100, 100, MIX_UDP, NULL);
	return NULL;
}

static void
timeout_single_packet(int immediate)
{
	struct bed_tally t;
	pthread_t tid;
	double start, took;
	int ret;

	handle = bed_open(immediate, 0, 200);
	check_blocks(immediate ? "immediate mode, timeout 200 ms, no traffic" :
	    "timeout 200 ms, no traffic", 1.0);

	bed_tally_init(&t, 0, 1);
	pthread_create(&tid, NULL, send_one_later, NULL);
	start = bed_now();
	bed_deadline(10, "pcap_dispatch of a single packet");
	ret = pcap_dispatch(handle, -1, bed_tally_cb, (u_char *)&t);
	bed_deadline_clear();
	took = bed_now() - start;
	pthread_join(tid, NULL);
	CHECK(ret == 1, "timeout 200 ms: a lone packet: pcap_dispatch returned %d", ret);
	bed_tally_check(&t, immediate ?
	    "immediate mode, timeout 200 ms: a lone packet is delivered" :
	    "timeout 200 ms: a lone packet is delivered when its block times out");
	CHECK(took >= LONE_SENT - 0.01 && took < LONE_LATEST,
	    "the lone packet sent at %.1f s came at %.2f s, not within the 200 ms timeout (%.1f s with slack)",
	    LONE_SENT, took, LONE_LATEST);
	bed_tally_free(&t);
	pcap_close(handle);
}

/* Immediate mode, timeout 0: each packet as it arrives. */
static void
timeout_zero_immediate(void)
{
	struct bed_tally t;
	int i, ret;

	handle = bed_open(1, 0, 0);
	bed_tally_init(&t, 0, 20);
	bed_deadline(20, "immediate mode, timeout 0: pcap_dispatch");
	for (i = 0; i < 20; i++) {
		bed_send(sender_fd, i, 1, 60, 1514, MIX_ALL, NULL);
		ret = pcap_dispatch(handle, -1, bed_tally_cb, (u_char *)&t);
		CHECK(ret == 1, "frame %d: pcap_dispatch returned %d", i, ret);
	}
	bed_deadline_clear();
	bed_tally_check(&t, "immediate mode, timeout 0: each frame by its own pcap_dispatch");
	bed_tally_free(&t);
	pcap_close(handle);
}

/*
 * handle: timeout 0, incoming packets only (PCAP_D_IN).  Returns a socket
 * that sends outgoing ones on its interface, for it to reject.
 */
static int
open_incoming_only(int immediate)
{
	handle = bed_open(immediate, 0, 0);
	MUST(pcap_setdirection(handle, PCAP_D_IN));
	return bed_sender(NULL, bed.veth_b);
}

/* The outgoing frame goes out at 0.2 s, the incoming one at 1.2 s. */
#define REJECTED_SENT	0.2
#define WANTED_SENT	1.2

static void *
send_rejected_then_wanted(void *arg)
{
	int outgoing_fd = *(int *)arg;

	bed_sleep(REJECTED_SENT);
	bed_send(outgoing_fd, 0, 1, 60, 60, MIX_UDP, NULL);
	bed_sleep(WANTED_SENT - REJECTED_SENT);
	bed_send(sender_fd, 1, 1, 60, 60, MIX_UDP, NULL);
	return NULL;
}

/*
 * Immediate mode, timeout 0: a packet the handle rejects after the
 * kernel gave it (an outgoing one, with PCAP_D_IN) ends the read with 0,
 * as stock's TPACKET_V2 reader returns what it delivered once the ring
 * is empty; only its TPACKET_V3 reader waits on for a packet.  A program
 * looping on pcap_next_ex() sees that 0.
 */
static void
immediate_rejected_packet(void)
{
	struct bed_tally t;
	pthread_t tid;
	double start, took;
	int outgoing_fd, ret;

	outgoing_fd = open_incoming_only(1);
	bed_tally_init(&t, 1, 1);
	pthread_create(&tid, NULL, send_rejected_then_wanted, &outgoing_fd);
	start = bed_now();
	bed_deadline(10, "immediate mode, timeout 0: pcap_dispatch after a rejected packet");
	ret = pcap_dispatch(handle, -1, bed_tally_cb, (u_char *)&t);
	took = bed_now() - start;
	CHECK(ret == 0 && took >= REJECTED_SENT - 0.01 && took < WANTED_SENT - 0.3,
	    "immediate mode, timeout 0, PCAP_D_IN: an outgoing frame at %.1f s: pcap_dispatch returned %d at %.2f s, not 0 at once",
	    REJECTED_SENT, ret, took);
	ret = pcap_dispatch(handle, -1, bed_tally_cb, (u_char *)&t);
	bed_deadline_clear();
	took = bed_now() - start;
	pthread_join(tid, NULL);
	CHECK(ret == 1 && took >= WANTED_SENT - 0.01,
	    "immediate mode, timeout 0: the incoming frame sent at %.1f s: pcap_dispatch returned %d at %.2f s",
	    WANTED_SENT, ret, took);
	bed_tally_check(&t, "immediate mode, timeout 0, PCAP_D_IN: the next dispatch delivers the incoming frame");
	bed_tally_free(&t);
	close(outgoing_fd);
	pcap_close(handle);
}

/*
 * Without immediate mode, timeout 0: a read that finds only blocks of
 * rejected packets (outgoing ones, with PCAP_D_IN) does not end; stock's
 * TPACKET_V3 reader waits on for the block that has incoming ones.  Each
 * block holds some 160 full-size frames, so the outgoing ones fill two.
 */
#define REJECTED_BLOCK_FRAMES	400
#define INCOMING_SENT		0.5

static void *
send_incoming_later(void *arg)
{
	(void)arg;
	bed_sleep(INCOMING_SENT);
	bed_send(sender_fd, REJECTED_BLOCK_FRAMES, REJECTED_BLOCK_FRAMES, 1514,
	    1514, MIX_UDP, NULL);
	return NULL;
}

static void
rejected_blocks(void)
{
	struct bed_tally t;
	pthread_t tid;
	double start, took;
	int outgoing_fd, ret;

	outgoing_fd = open_incoming_only(0);
	bed_send(outgoing_fd, 0, REJECTED_BLOCK_FRAMES, 1514, 1514, MIX_UDP,
	    NULL);
	bed_tally_init(&t, REJECTED_BLOCK_FRAMES, REJECTED_BLOCK_FRAMES);
	start = bed_now();
	pthread_create(&tid, NULL, send_incoming_later, NULL);
	bed_deadline(10, "timeout 0, PCAP_D_IN: pcap_dispatch after blocks of outgoing frames");
	ret = pcap_dispatch(handle, -1, bed_tally_cb, (u_char *)&t);
	took = bed_now() - start;
	bed_deadline_clear();
	pthread_join(tid, NULL);
	CHECK(ret > 0 && t.frames == (unsigned long)ret && t.other == 0 &&
	    took >= INCOMING_SENT - 0.01,
	    "timeout 0, PCAP_D_IN: %d outgoing frames, then %d incoming at %.1f s: pcap_dispatch returned %d at %.2f s with %lu incoming frames, %lu other packets",
	    REJECTED_BLOCK_FRAMES, REJECTED_BLOCK_FRAMES, INCOMING_SENT, ret,
	    took, t.frames, t.other);
	if (ret > 0)
		bed_ok("timeout 0, PCAP_D_IN: the first pcap_dispatch waited past the outgoing frames' blocks for %d incoming frames (%.2f s)",
		    ret, took);
	bed_tally_free(&t);
	close(outgoing_fd);
	pcap_close(handle);
}

/*
 * Both libraries make blocks of 256 KiB, whatever the buffer size.  Each
 * 1514-byte frame takes 1600 bytes of one (its header, the room for a
 * VLAN tag, alignment) after the block's 48-byte header, so a full block
 * holds 163 of them; 157 allows for a header 64 bytes longer.
 */
#define FULL_BLOCK_FRAMES	157
#define FULL_BLOCK_FRAMES_MAX	163

/*
 * Sends full-size frames, 10 every 10 ms, until the dispatch returns: a
 * block takes some 160 ms to fill, far longer than a block that retired
 * on a timer (the kernel's default on veth is 1 ms) would hold.
 */
static void *
send_until_dispatched(void *arg)
{
	uint32_t *sent = arg;

	while (!__atomic_load_n(&dispatch_done, __ATOMIC_ACQUIRE) &&
	    *sent < 60000) {
		bed_send(sender_fd, *sent, 10, 1514, 1514, MIX_UDP, NULL);
		*sent += 10;
		bed_sleep(0.01);
	}
	return NULL;
}

/*
 * Without immediate mode a blocking dispatch during traffic returns when a
 * block fills (with timeout 0, and before a longer timeout), with that
 * block's frames: as many as with stock, whatever the buffer size the
 * program asked for (0: none; pcap-ring's default ring is larger than
 * stock's, in stock's blocks only with timeout 0).
 */
static void
dispatch_one_block(int buffer_size, int timeout)
{
	struct bed_tally t;
	struct pcap_stat ps;
	uint32_t sent = 0;
	pthread_t tid;
	int ret;

	handle = bed_create(bed.veth_b);
	MUST(pcap_set_timeout(handle, timeout));
	if (buffer_size != 0)
		MUST(pcap_set_buffer_size(handle, buffer_size));
	bed_activate(handle);
	bed_tally_init(&t, 0, 60000);
	dispatch_done = 0;
	pthread_create(&tid, NULL, send_until_dispatched, &sent);
	bed_deadline(30, "pcap_dispatch while traffic flows");
	ret = pcap_dispatch(handle, -1, bed_tally_cb, (u_char *)&t);
	__atomic_store_n(&dispatch_done, 1, __ATOMIC_RELEASE);
	pthread_join(tid, NULL);
	bed_deadline_clear();
	CHECK(ret >= FULL_BLOCK_FRAMES && ret <= FULL_BLOCK_FRAMES_MAX &&
	    (unsigned long)ret == t.frames &&
	    t.dup == 0 && t.reorder == 0 && t.bad == 0 && t.last == ret - 1,
	    "timeout %d, buffer %d: pcap_dispatch returned %d (a full block is %d to %d): frames %lu last %lld dup %lu reorder %lu bad %lu",
	    timeout, buffer_size, ret, FULL_BLOCK_FRAMES, FULL_BLOCK_FRAMES_MAX,
	    t.frames, (long long)t.last, t.dup, t.reorder, t.bad);
	CHECK(pcap_stats(handle, &ps) == 0 && ps.ps_drop == 0,
	    "timeout %d, buffer %d: %u dropped", timeout, buffer_size,
	    ps.ps_drop);
	if (ret >= FULL_BLOCK_FRAMES && ret <= FULL_BLOCK_FRAMES_MAX)
		bed_ok("timeout %d, buffer %d: a blocking pcap_dispatch returned frames 0..%d in order once a 256 KiB block filled (%u sent)",
		    timeout, buffer_size, ret - 1, sent);
	bed_tally_free(&t);
	pcap_close(handle);
}

/*
 * The capture ring of a handle with this buffer size (0: none asked) and
 * timeout: stock's 256 KiB blocks, whose retire timer the kernel derives
 * from their size and the link speed when the timeout is negative, except where pcap-ring
 * chose the ring's size and the timeout is positive.
 */
static void
ring_geometry(int buffer_size, int timeout)
{
	const struct tpacket_req3 *r = &bed_last_rx_ring.req;
	int ifindex = (int)if_nametoindex(bed.veth_b);
	unsigned int size, block, tov;
	int as_expected;

	if (buffer_size != 0)
		size = (unsigned int)buffer_size;
	else
		size = bed.ring ? 32 * 1024 * 1024 : 2 * 1024 * 1024;
	block = bed.ring && buffer_size == 0 && timeout > 0 ?
	    1024 * 1024 : 256 * 1024;
	tov = timeout > 0 ? (unsigned int)timeout : timeout == 0 ? UINT_MAX : 0;
	memset(&bed_last_rx_ring, 0, sizeof(bed_last_rx_ring));
	handle = bed_create(bed.veth_b);
	MUST(pcap_set_timeout(handle, timeout));
	if (buffer_size != 0)
		MUST(pcap_set_buffer_size(handle, buffer_size));
	bed_activate(handle);
	as_expected = r->tp_block_size == block &&
	    (uint64_t)r->tp_block_size * r->tp_block_nr == size &&
	    r->tp_retire_blk_tov == tov && bed_last_rx_ring.ifindex == ifindex;
	CHECK(as_expected,
	    "timeout %d, buffer %d: ring of %u blocks of %u bytes retiring after %u ms on interface %d, expected %u bytes in blocks of %u retiring after %u on %d",
	    timeout, buffer_size, r->tp_block_nr, r->tp_block_size,
	    r->tp_retire_blk_tov, bed_last_rx_ring.ifindex, size, block, tov,
	    ifindex);
	if (as_expected)
		bed_ok("timeout %d, buffer %d: ring of %u blocks of %u bytes, retire timer %u",
		    timeout, buffer_size, r->tp_block_nr, block, tov);
	pcap_close(handle);
}

int
main(int argc, char **argv)
{
	int immediate;

	bed_enter(argc, argv, "ring stock");
	sender_fd = bed_sender(bed.ns_a, bed.veth_a);
	for (immediate = 0; immediate <= 1; immediate++) {
		nonblocking(immediate);
		timeout_single_packet(immediate);
	}
	timeout_zero_immediate();
	immediate_rejected_packet();
	rejected_blocks();
	dispatch_one_block(2 * 1024 * 1024, 0);
	dispatch_one_block(8 * 1024 * 1024, 0);
	dispatch_one_block(0, 0);
	dispatch_one_block(8 * 1024 * 1024, 1000);
	ring_geometry(0, -1);
	ring_geometry(0, 0);
	ring_geometry(0, 1000);
	ring_geometry(64 * 1024 * 1024, -1);
	ring_geometry(64 * 1024 * 1024, 1000);
	return bed_finish();
}
