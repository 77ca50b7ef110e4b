/*
 * What programs do with a default handle's descriptors works as with
 * stock (ring growth is opt-in):
 * - pcap_fileno() has the options stock sets: PACKET_AUXDATA, also in
 *   immediate mode and after a growth step;
 * - their own PACKET_FANOUT group on pcap_fileno() (load balancing
 *   across processes);
 * - their own epoll set on pcap_get_selectable_fd() (libuv, asyncio,
 *   libevent) still wakes after a burst larger than the ring asked for,
 *   also while a forked child (tcpdump -z) holds the socket, and is not
 *   readable once every packet is read; with growth opted into (pcap-ring
 *   only), also after the burst made the ring grow, which replaces the
 *   capture socket;
 * - activation in a process with two descriptors left, also with growth
 *   opted into (its spare sockets are then not to be had: no growth).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <linux/if_packet.h>

#include "bed.h"

#define MIB		(1024UL * 1024)
#define BURST		3000	/* 1514-byte frames: 4.5 MB, twice 2 MiB */

static int sender_fd;

static void
own_fanout_group(void)
{
	/* An id no other test is likely to use at the same time. */
	int arg = ((int)getpid() % 30000 + 1000) | PACKET_FANOUT_HASH << 16;
	pcap_t *p = bed_open_nonblocking(2 * MIB, 50);

	if (setsockopt(pcap_fileno(p), SOL_PACKET, PACKET_FANOUT, &arg,
	    sizeof(arg)) == -1)
		CHECK(0, "PACKET_FANOUT on pcap_fileno(): %s", strerror(errno));
	else
		bed_ok("a program's own fanout group takes the capture socket");
	pcap_close(p);
}

/* CHECK that pcap_fileno() has PACKET_AUXDATA on, as stock sets it. */
static int
auxdata_on(pcap_t *p, const char *how)
{
	int val = 0;
	socklen_t len = sizeof(val);

	if (getsockopt(pcap_fileno(p), SOL_PACKET, PACKET_AUXDATA, &val,
	    &len) == -1)
		bed_fatal("getsockopt PACKET_AUXDATA: %s", strerror(errno));
	CHECK(val == 1, "%s: PACKET_AUXDATA %d on pcap_fileno()", how, val);
	return val == 1;
}

static void
socket_options(int immediate)
{
	const char *how = immediate ? "immediate mode" : "default";
	pcap_t *p = bed_create(bed.veth_b);

	MUST(pcap_set_immediate_mode(p, immediate));
	bed_activate(p);
	if (auxdata_on(p, how))
		bed_ok("%s: PACKET_AUXDATA on pcap_fileno(), as stock sets it",
		    how);
	pcap_close(p);
}

static void
own_epoll_after_burst(int grow)
{
	const char *how = grow ? "growing" : "default";
	struct epoll_event ev, out;
	struct bed_tally t;
	unsigned long ring;
	int ep, woken, idle, held;
	pcap_t *p;

	if (grow)
		setenv("PCAP_RING_BUFFER_MAX", "64", 1);
	p = bed_open_nonblocking(2 * MIB, 50);
	unsetenv("PCAP_RING_BUFFER_MAX");
	ep = epoll_create1(EPOLL_CLOEXEC);
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	if (ep == -1 ||
	    epoll_ctl(ep, EPOLL_CTL_ADD, pcap_get_selectable_fd(p), &ev) == -1)
		bed_fatal("epoll: %s", strerror(errno));
	/* What a forked child that did not close it would hold. */
	held = dup(pcap_fileno(p));

	bed_tally_init(&t, 0, BURST);
	bed_send(sender_fd, 0, BURST, 1514, 1514, MIX_UDP, NULL);
	bed_sleep(0.3);
	bed_drain(p, bed_tally_cb, (u_char *)&t, &t.packets, BURST, 1.0);
	bed_tally_free(&t);
	ring = bed_ring_mapping_bytes();
	if (grow)
		CHECK(ring > 2 * MIB, "%s: the ring did not grow (%lu bytes)",
		    how, ring);
	/* After a growth step pcap_fileno() is the larger ring's socket. */
	auxdata_on(p, how);

	bed_tally_init(&t, 50000, 10);
	bed_send(sender_fd, 50000, 10, 60, 60, MIX_UDP, NULL);
	woken = epoll_wait(ep, &out, 1, 2000);
	bed_drain(p, bed_tally_cb, (u_char *)&t, &t.frames, 10, 1.0);
	/* The last block went back with its last packet: nothing waits. */
	bed_sleep(0.2);
	idle = epoll_wait(ep, &out, 1, 0);
	CHECK(woken == 1 && t.frames == 10 && idle == 0,
	    "%s, after a burst: epoll_wait returned %d, %lu of 10 frames captured, then %d with nothing to read",
	    how, woken, t.frames, idle);
	if (woken == 1 && t.frames == 10 && idle == 0)
		bed_ok("%s, after a burst (ring of %lu MiB): the program's epoll set wakes, 10 of 10 frames, then not readable",
		    how, ring / MIB);
	bed_tally_free(&t);
	close(held);
	close(ep);
	pcap_close(p);
}

static void
two_descriptors_left(int grow)
{
	const char *how = grow ? "growing" : "default";
	struct bed_fd_limit lim;
	int status;
	pcap_t *p;

	bed_descriptors_leave(&lim, 2);
	if (grow)
		setenv("PCAP_RING_BUFFER_MAX", "64", 1);
	p = bed_create(bed.veth_b);
	status = pcap_activate(p);
	unsetenv("PCAP_RING_BUFFER_MAX");
	CHECK(status == 0, "%s, with 2 descriptors left: pcap_activate %d: %s",
	    how, status, pcap_geterr(p));
	/* Growth is off: the selectable descriptor is the socket itself. */
	if (status == 0)
		CHECK(pcap_get_selectable_fd(p) == pcap_fileno(p),
		    "%s, with 2 descriptors left: selectable %d, socket %d", how,
		    pcap_get_selectable_fd(p), pcap_fileno(p));
	if (bed_failures == 0)
		bed_ok("%s, with 2 descriptors left: activated, not growing", how);
	pcap_close(p);
	bed_descriptors_restore(&lim);
}

int
main(int argc, char **argv)
{
	bed_enter(argc, argv, "ring stock");
	sender_fd = bed_sender(bed.ns_a, bed.veth_a);
	socket_options(0);
	socket_options(1);
	own_fanout_group();
	own_epoll_after_burst(0);
	/* Growth is pcap-ring's: stock ignores the variable. */
	if (bed.ring)
		own_epoll_after_burst(1);
	two_descriptors_left(0);
	if (bed.ring)
		two_descriptors_left(1);
	return bed_finish();
}
