/*
 * pcap-ring: the handle's fanout group, and a capture ring that grows.
 *
 * A TPACKET_V3 handle starts with the ring the program asked for (stock's
 * 2 MiB when it asked for none), which keeps the cache footprint of slow
 * captures small.  When the reader finds three quarters of the ring full,
 * a socket opened at activation (programs drop privileges right after
 * pcap_activate(); only socket() needs CAP_NET_RAW, not the ring, mmap,
 * bind or fanout options) gets a ring four times as large, up to a cap,
 * and joins the handle's PACKET_FANOUT_CBPF group.  The group's program
 * then picks it: PACKET_FANOUT_DATA returns after synchronize_net() when
 * it replaces a program, so no packet goes to the old ring afterwards
 * (every group gets a program when it is formed for that reason).  The
 * reader empties the old ring, including the block the kernel had open,
 * and then the new socket takes the old one's descriptor number (dup3),
 * so pcap_fileno() never changes; the old ring is unmapped only after
 * pcap_next_ex()'s caller is done with its last packet.  The selectable
 * descriptor is an epoll set holding the capture socket, moved to the new
 * one: a program's own epoll set keys the file behind a number, and would
 * no longer hear a new socket on the old number.
 *
 * A step waits for the kernel several times: setting up the ring, the
 * program's replacement and the old socket's release each wait for a
 * grace period (synchronize_net(), 10-30 ms).  A reader that waited that
 * long would let a small ring overflow while it grows, worse than stock
 * when it shares the sender's CPU, so the waiting is done by a thread of
 * the handle's, the worker, one task at a time: a step up to the new
 * socket's being picked, and after the switch the old socket's release.
 * The reader reads on meanwhile and takes the worker's results at a read;
 * an eventfd in the selectable descriptor's set wakes a program's select()
 * (and a read's poll()) when a step's new socket is picked, since the old
 * socket is not readable for the block the kernel had open.  The worker
 * touches the group and the spares; the reader, the rings it reads.
 *
 * The kernel's array of members changes as sockets join (at the end),
 * leave (the last member moves into the hole) or are re-registered: an
 * interface going down and up re-links every member in the order of
 * net->packet.sklist, which is the order of creation on kernels that add
 * sockets at the tail and the reverse on those that add them at the head.
 * The program returns a number that the kernel takes modulo the member
 * count.  So that frames reach the capture socket whatever the kernel's
 * order:
 * - between steps, the capture socket is the middle member both in the
 *   array and in the order of creation: [TX socket, capture, dummy] for a
 *   batched handle (sockets opened in that order; the TX socket and the
 *   dummy drop everything), the capture socket alone otherwise.  Reversed
 *   or not, the middle stays the middle, and the program returns 1 (0);
 * - each join or leave changes the member count by one, and counts that
 *   differ by one are coprime, so one number picks the capture socket
 *   both before and after (Chinese remainder theorem): the program is set
 *   to it before each join, for a step's join at the end of the previous
 *   step, where the wait for the kernel does not hold up a small ring.
 * While a step is under way (the old ring draining), a down/up of the
 * interface re-links members in an order the number may not fit; frames
 * can then go to a member that drops them.
 *
 * A socket leaves the group only when its last reference goes: a copy of
 * the capture socket (a dup() of pcap_fileno(), a forked child such as
 * tcpdump -z's compressor) keeps the old one a member after the step, for
 * as long as the copy lives.  The number the step set picks the new
 * socket with the old one in the array and without it (n and n - 1
 * members), so it holds whenever the copy goes; but every later change of
 * the group would need a number for each combination, so a handle whose
 * old socket stayed grows no further and keeps its group as it is.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* dup3 */
#endif

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "pcap-ring-int.h"

#ifndef PACKET_FANOUT_CBPF
#define PACKET_FANOUT_CBPF	6
#endif
#ifndef PACKET_FANOUT_DATA
#define PACKET_FANOUT_DATA	22
#endif
#ifndef PACKET_FANOUT_FLAG_UNIQUEID
#define PACKET_FANOUT_FLAG_UNIQUEID	0x2000
#endif

#define GROW_FACTOR		4
/*
 * Descriptors the handle opens after the spares: the breakloop eventfd,
 * the epoll set and the worker's eventfd, a batched handle's eventfd and timerfd, and one to
 * read /proc/net/packet at a growth step.  And some the program itself
 * opens after activation (tcpdump -w its file): spares are taken only
 * from a process that can spare all of them.
 */
#define GROW_FD_AFTER(batched)	(4 + 2 * (batched))
#define GROW_FD_PROGRAM		8
#define GROW_FD_RESERVE_MAX	(GROW_FD_AFTER(1) + GROW_FD_PROGRAM)
#define GROW_ENV_MAX_MIB	2048	/* ring sizes are unsigned int */
/* The worker's calls are a few frames deep; 256 KiB also under ASan. */
#define WORKER_STACK_SIZE	(256 * 1024)

/* In member[]: a former capture socket that a copy outside the handle keeps. */
#define RETIRED_MEMBER		-1

/*
 * Growth is opt-in until the limits in README are lifted: a growing
 * handle's socket is in a fanout group a program cannot join.
 */
#ifndef PCAP_RING_BUFFER_MAX_MIB
#define PCAP_RING_BUFFER_MAX_MIB	0
#endif

/*
 * 1: the kernel gives each new fanout group an id of its own; -1: it does
 * not; 0: not known yet (__atomic).
 */
static int unique_group_ids;

/*
 * Kernels 4.3 to 4.11 take PACKET_FANOUT_FLAG_UNIQUEID without acting on
 * it: the group is then id 0, which any other socket asking for 0 on the
 * same interface and protocol joins, splitting the traffic, and it keeps
 * the flag among the group's flags, which later kernels clear.  Asked of
 * a throwaway socket created for a local experimental protocol (groups
 * match on it), once a process, by the first handle that forms a group,
 * where it may still open sockets (at activation, or as its late TX ring
 * opens one): its close() waits for a grace period, which handles without
 * a group do not pay.  EINVAL is an old kernel's answer too (no CBPF, or a
 * group 0 of another kind); a probe that gets no answer leaves that handle
 * without a group, and the next handle that needs one asks again.
 */
static int
probe_unique_group_ids(void)
{
	int fd, answer;
	int arg = (PACKET_FANOUT_CBPF | PACKET_FANOUT_FLAG_UNIQUEID) << 16;
	socklen_t len = sizeof(arg);

	answer = __atomic_load_n(&unique_group_ids, __ATOMIC_RELAXED);
	if (answer != 0)
		return answer;
	fd = socket(PF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_802_EX1));
	if (fd == -1)
		return 0;
	if (setsockopt(fd, SOL_PACKET, PACKET_FANOUT, &arg, sizeof(arg)) == -1)
		answer = errno == EINVAL ? -1 : 0;
	else if (getsockopt(fd, SOL_PACKET, PACKET_FANOUT, &arg, &len) == 0)
		answer = (arg >> 16) & PACKET_FANOUT_FLAG_UNIQUEID ? -1 : 1;
	close(fd);
	if (answer != 0)
		__atomic_store_n(&unique_group_ids, answer, __ATOMIC_RELAXED);
	return answer;
}

/*
 * Asked once a handle: a probe without an answer (its close() waits for
 * a grace period) is not made again at each of its transmits, and a
 * batched handle that started without a group (and its dummy) does not
 * form one later on.  A late TX ring takes another handle's answer since
 * (join_pending_tx()).
 */
static int
handle_group_ids(struct ring_grow *g)
{
	if (!g->group_ids_asked) {
		g->group_ids = probe_unique_group_ids();
		g->group_ids_asked = 1;
	}
	return g->group_ids;
}

static const char *
no_group_ids_reason(int answer)
{
	return answer == 0 ? "could not ask the kernel whether it gives fanout groups ids of their own" :
	    "the kernel gives no fanout group an id of its own (PACKET_FANOUT_FLAG_UNIQUEID)";
}

void
pcap_ring_grow_init(struct ring_grow *g)
{
	memset(g, 0, sizeof(*g));
	g->group_id = -1;
	g->route = -1;
	g->dummy = -1;
	g->next_fd = -1;
	g->worker_fd = -1;
}

/*
 * Called once the capture socket is open, before its ring is set up:
 * the start size, the cap, and the sockets growth will need, opened now
 * while the program still has the privilege to.
 */
int
pcap_ring_grow_open(pcap_t *p)
{
	struct pcap_ring *pr = libpcap_priv(p);
	struct ring_grow *g = &pr->grow;
	char errbuf[PCAP_ERRBUF_SIZE];
	unsigned int size;
	int buffer_size = libpcap_get_buffer_size(p);
	int batched = pr->tx.ring.fd != -1 ? 1 : 0;
	int mib, steps = 0, wanted, i, fd, reserve[GROW_FD_RESERVE_MAX];
	int group_ids;
	int nreserve = 0;
	unsigned int unasked = pcap_ring_unasked_buffer_size();
	int want_reserve = GROW_FD_AFTER(batched) + GROW_FD_PROGRAM;

	g->size = buffer_size != 0 ? (unsigned int)buffer_size :
	    RING_START_BUFFER_SIZE;
	mib = PCAP_RING_BUFFER_MAX_MIB;
	if (pcap_ring_env_number("PCAP_RING_BUFFER_MAX", GROW_ENV_MAX_MIB, &mib,
	    libpcap_errbuf(p)) != 0)
		return PCAP_ERROR;
	if (mib > GROW_ENV_MAX_MIB)
		mib = GROW_ENV_MAX_MIB;
	g->max = (unsigned int)mib * 1024 * 1024;
	if (libpcap_get_immediate(p))
		g->max = 0;
	for (size = g->size; size < g->max && steps < RING_GROW_MAX_STEPS;
	    steps++)
		size = size > g->max / GROW_FACTOR ? g->max : size * GROW_FACTOR;
	/*
	 * A batched handle's dummy, then a socket (and dummy) per step.  A
	 * process short of descriptors gets as many steps as it has spares
	 * for, none if it cannot also keep those held back above: stock would
	 * need no spares.  Growth is best effort, so any failure to open one
	 * ends it.  The dummy is part of batching, which needs descriptors of
	 * its own anyway.
	 */
	wanted = steps;
	/* Known before spares are opened (and a batched handle's dummy). */
	group_ids = steps > 0 || batched ? handle_group_ids(g) : 1;
	if (group_ids != 1) {
		if (steps > 0)
			pcap_ring_trace("no growth on %s: %s", pr->ifname,
			    no_group_ids_reason(group_ids));
		steps = 0;
		batched = 0;
	}
	while (steps > 0 && nreserve < want_reserve &&
	    (reserve[nreserve] = eventfd(0, EFD_CLOEXEC)) != -1)
		nreserve++;
	if (nreserve < want_reserve)
		steps = 0;
	while (g->spare_nr < steps * (1 + batched) + batched) {
		/* Ours alone: a program's exec'd child must not keep them. */
		fd = pcap_ring_open_socket(errbuf, SOCK_RAW | SOCK_CLOEXEC);
		if (fd < 0) {
			steps = (g->spare_nr - batched) / (1 + batched);
			if (g->spare_nr >= batched)
				break;
			while (nreserve > 0)
				close(reserve[--nreserve]);
			memcpy(libpcap_errbuf(p), errbuf, sizeof(errbuf));
			return fd;
		}
		g->spare[g->spare_nr++] = fd;
	}
	while (nreserve > 0)
		close(reserve[--nreserve]);
	for (size = g->size, i = 0; i < steps; i++)
		size = size > g->max / GROW_FACTOR ? g->max : size * GROW_FACTOR;
	/*
	 * Cut short by the descriptors, below the default a program that
	 * asked for nothing would get: no step, and that default (or the
	 * cap, below) from the start.
	 */
	if (steps < wanted && buffer_size == 0 && size < unasked)
		steps = 0;
	while (g->spare_nr > steps * (1 + batched) + batched)
		close(g->spare[--g->spare_nr]);
	g->max = steps > 0 ? size : 0;
	/*
	 * Without growth, a handle that asked for nothing gets the default
	 * (pcap_ring_unasked_buffer_size()), or the cap when that is smaller.
	 */
	if (g->max == 0 && buffer_size == 0 && !libpcap_get_immediate(p)) {
		if (mib == 0 || steps < wanted)
			g->size = unasked;
		if (mib != 0 && g->size > (unsigned int)mib * 1024 * 1024)
			g->size = (unsigned int)mib * 1024 * 1024;
	}
	if (steps < wanted && group_ids == 1)
		pcap_ring_trace("growth cut short on %s, short of descriptors: %d of %d steps, a ring of %u KiB at most, not %d MiB",
		    pr->ifname, steps, wanted,
		    (g->max > 0 ? g->max : g->size) / 1024, mib);
	g->group_wanted = g->spare_nr > 0;
	return 0;
}

/* Growth is over for this handle: its spares go back to the program. */
static void
stop_growing(struct ring_grow *g)
{
	/* The reader looks at it while the worker runs. */
	__atomic_store_n(&g->max, 0, __ATOMIC_RELAXED);
	while (g->spare_nr > g->spare_next)
		close(g->spare[--g->spare_nr]);
}

static int
take_spare(struct ring_grow *g)
{
	return g->spare_next < g->spare_nr ? g->spare[g->spare_next++] : -1;
}

static int
member_index(const int *member, int n, int fd)
{
	int i;

	for (i = 0; i < n; i++)
		if (member[i] == fd)
			return i;
	return -1;
}

/* The array after fd leaves: the last member moves into its place. */
static int
after_leave(const struct ring_grow *g, int fd, int *member)
{
	int i = member_index(g->member, g->member_nr, fd);

	memcpy(member, g->member, sizeof(g->member));
	member[i] = member[g->member_nr - 1];
	return g->member_nr - 1;
}

/*
 * Make the group's program pick capture both in the array as it is and
 * in next (next_nr members), the array one step will leave.
 */
static int
route(pcap_t *p, int capture, const int *next, int next_nr, char *errbuf)
{
	struct pcap_ring *pr = libpcap_priv(p);
	struct ring_grow *g = &pr->grow;
	struct sock_filter ret;
	struct sock_fprog prog;
	int a, b, n = g->member_nr, v;

	/* Where capture is not a member (yet), any number will do. */
	a = member_index(g->member, n, capture);
	b = member_index(next, next_nr, capture);
	for (v = 0; v < n * next_nr; v++)
		if ((a < 0 || v % n == a) && (b < 0 || v % next_nr == b))
			break;
	/*
	 * Replacing the program waits for a grace period (synchronize_net(),
	 * milliseconds), which a growth step's join would spend while the
	 * small ring overflows: the number in place often fits already.
	 */
	if (v == g->route)
		return 0;
	ret = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, (unsigned int)v);
	memset(&prog, 0, sizeof(prog));	/* no uninitialized padding to the kernel */
	prog.len = 1;
	prog.filter = &ret;
	if (setsockopt(g->member[0], SOL_PACKET, PACKET_FANOUT_DATA, &prog,
	    sizeof(prog)) == -1) {
		libpcap_fmt_errmsg_for_errno(errbuf, PCAP_ERRBUF_SIZE, errno,
		    "%s: setsockopt (PACKET_FANOUT_DATA)", pr->ifname);
		return -1;
	}
	g->route = v;
	return 0;
}

/* Make the program pick capture both now and once fd has joined. */
static int
route_for_join(pcap_t *p, int fd, int capture, char *errbuf)
{
	struct ring_grow *g = &((struct pcap_ring *)libpcap_priv(p))->grow;
	int next[RING_GROUP_MAX];

	memcpy(next, g->member, sizeof(next));
	next[g->member_nr] = fd;
	return route(p, capture, next, g->member_nr + 1, errbuf);
}

/*
 * fd, bound, joins the group (the first one creates it) with the program
 * picking capture before and after.
 */
static int
join(pcap_t *p, int fd, int capture, char *errbuf)
{
	struct pcap_ring *pr = libpcap_priv(p);
	struct ring_grow *g = &pr->grow;
	int arg, answer, refused;
	socklen_t len = sizeof(arg);

	if (g->member_nr == RING_GROUP_MAX)
		return -1;
	if (g->group_id == -1 && (answer = handle_group_ids(g)) != 1) {
		snprintf(errbuf, PCAP_ERRBUF_SIZE, "%s: %s", pr->ifname,
		    no_group_ids_reason(answer));
		return -1;
	}
	if (g->member_nr > 0 && route_for_join(p, fd, capture, errbuf) == -1)
		return -1;
	if (g->group_id == -1)
		arg = (PACKET_FANOUT_CBPF | PACKET_FANOUT_FLAG_UNIQUEID) << 16;
	else
		arg = g->group_id | PACKET_FANOUT_CBPF << 16;
	if (setsockopt(fd, SOL_PACKET, PACKET_FANOUT, &arg, sizeof(arg)) == -1) {
		refused = errno;
		libpcap_fmt_errmsg_for_errno(errbuf, PCAP_ERRBUF_SIZE, refused,
		    "%s: setsockopt (PACKET_FANOUT)", pr->ifname);
		/* The caller tells EALREADY (a group of the program's) apart. */
		errno = refused;
		return -1;
	}
	g->member[g->member_nr++] = fd;
	if (g->group_id == -1) {
		if (getsockopt(fd, SOL_PACKET, PACKET_FANOUT, &arg, &len) == -1)
			return -1;
		g->group_id = arg & 0xffff;
		/* A program from the start: only replacing one waits for readers. */
		if (route(p, capture, g->member, g->member_nr, errbuf) == -1)
			return -1;
	}
	return 0;
}

/* A dummy member: bound like the capture socket, dropping everything. */
static int
join_dummy(pcap_t *p, int fd, char *errbuf)
{
	struct pcap_ring *pr = libpcap_priv(p);

	if (ring_sock_drop_all(fd) == -1 || ring_sock_bind(fd, pr->ifindex,
	    pcap_ring_protocol(p), errbuf) != 0)
		return -1;
	return join(p, fd, libpcap_fd(p), errbuf);
}

/* fd has left the group (closed): member[] as the kernel has it now. */
static void
forget_member(struct ring_grow *g, int fd)
{
	int next[RING_GROUP_MAX];

	g->member_nr = after_leave(g, fd, next);
	memcpy(g->member, next, sizeof(next));
}

/* fd leaves the group when it closes; the program has picked capture for after. */
static int
leave(pcap_t *p, int fd, int capture, char *errbuf)
{
	struct ring_grow *g = &((struct pcap_ring *)libpcap_priv(p))->grow;
	int next[RING_GROUP_MAX], next_nr;

	next_nr = after_leave(g, fd, next);
	if (route(p, capture, next, next_nr, errbuf) == -1)
		return -1;
	close(fd);
	forget_member(g, fd);
	return 0;
}

/*
 * At the end of activation, every socket bound: the group of the TX
 * socket (if batched), the capture socket and a dummy, or of the capture
 * socket alone when it may grow.  Without the group (old kernels), a
 * batched handle captures its own frames and no handle grows.
 */
int
pcap_ring_group_form(pcap_t *p)
{
	struct pcap_ring *pr = libpcap_priv(p);
	struct ring_grow *g = &pr->grow;
	char unused[PCAP_ERRBUF_SIZE];	/* a group is best effort */
	int capture = libpcap_fd(p), ok = 1;

	if (!g->group_wanted && !pr->tx.hidden)
		return 0;
	if (pr->tx.hidden)
		ok = join(p, pr->tx.ring.fd, capture, unused) == 0;
	if (ok)
		ok = join(p, capture, capture, unused) == 0;
	if (ok && pr->tx.hidden) {
		g->dummy = take_spare(g);
		ok = g->dummy != -1 && join_dummy(p, g->dummy, unused) == 0;
	}
	/* The capture socket was bound dropping everything until it joined. */
	if (g->group_wanted && pcap_ring_set_kernel_filter(p, capture) == -1) {
		libpcap_fmt_errmsg_for_errno(libpcap_errbuf(p),
		    PCAP_ERRBUF_SIZE, errno, "%s: can't remove kernel filter",
		    pr->ifname);
		return PCAP_ERROR;
	}
	if (!ok || member_index(g->member, g->member_nr, capture) < 0)
		stop_growing(g);
	return 0;
}

/*
 * Sequentially consistent, as the flags read around them: a thread that
 * fails to hold the group and the thread that releases it then look at
 * tx_join_pending and draining, and one of them sees the other's change.
 */
static int
group_try_hold(struct ring_grow *g)
{
	return !__atomic_test_and_set(&g->changing, __ATOMIC_SEQ_CST);
}

static void
group_release(struct ring_grow *g)
{
	__atomic_clear(&g->changing, __ATOMIC_SEQ_CST);
}

/*
 * With the group held, the pending TX ring joins the group there is, or
 * one of its own with the capture socket.  Not while a larger ring takes
 * over (it stays pending: 1), nor while a retired capture socket may
 * leave at any time (never): the handle then merely sees the ring's
 * frames.  A join the kernel refuses (the interface down) stays pending
 * too, for the next transmit, but not a capture socket the program put in
 * a group of its own (EALREADY): that lasts.  Errors are not the
 * program's: it may be another thread's call.
 */
static int
join_pending_tx(pcap_t *p)
{
	struct pcap_ring *pr = libpcap_priv(p);
	struct ring_grow *g = &pr->grow;
	char unused[PCAP_ERRBUF_SIZE];
	int capture = libpcap_fd(p);

	/* A switch clears it last, once it has changed the group. */
	if (__atomic_load_n(&g->draining, __ATOMIC_SEQ_CST))
		return 1;
	/* The handle's probe got no answer: another handle's may have since. */
	if (g->group_ids_asked && g->group_ids == 0)
		g->group_ids = __atomic_load_n(&unique_group_ids,
		    __ATOMIC_RELAXED);
	errno = 0;
	if (member_index(g->member, g->member_nr, RETIRED_MEMBER) >= 0 ||
	    ((g->group_id != -1 || join(p, capture, capture, unused) == 0) &&
	    join(p, pr->tx.ring.fd, capture, unused) == 0))
		__atomic_store_n(&g->tx_join_pending, 0, __ATOMIC_SEQ_CST);
	else if (g->group_id == -1 && errno == EALREADY)
		__atomic_store_n(&g->tx_join_pending, 0, __ATOMIC_SEQ_CST);
	return 0;
}

/*
 * If the group is free, the pending TX ring joins it now.  Whoever holds
 * it tries again once done: the reader after a step, or at the end of a
 * switch; another thread if the switch ended while it held the group
 * (and found it held).  Also before each transmit on a TX ring set up
 * earlier, for a join the kernel refused.
 */
void
pcap_ring_group_join_tx(pcap_t *p)
{
	struct ring_grow *g = &((struct pcap_ring *)libpcap_priv(p))->grow;
	int draining;

	while (__atomic_load_n(&g->tx_join_pending, __ATOMIC_SEQ_CST) &&
	    group_try_hold(g)) {
		draining = join_pending_tx(p);
		group_release(g);
		if (!draining || __atomic_load_n(&g->draining, __ATOMIC_SEQ_CST))
			break;
	}
}

/*
 * A TX ring set up after activation (send queues), by whichever thread
 * transmits first: it joins now, or, while the reader changes the group,
 * once the reader's step has failed or its switch is done; a join the
 * kernel refused, at a later transmit.
 */
void
pcap_ring_group_add_tx(pcap_t *p)
{
	struct ring_grow *g = &((struct pcap_ring *)libpcap_priv(p))->grow;

	__atomic_store_n(&g->tx_join_pending, 1, __ATOMIC_SEQ_CST);
	pcap_ring_group_join_tx(p);
}

/* A step failed before its socket was picked (and published). */
static void
drop_next(struct ring_grow *g, int fd)
{
	ring_sock_unmap_ring(&g->next_map);
	if (fd != -1)
		close(fd);
	stop_growing(g);
}

/*
 * The numbers of former new sockets, once no pcap_stats() that may have
 * read one is still using it: closed earlier, a socket the program opened
 * meanwhile could take the number and have its counters read and reset.
 * The reader's alone, at a switch and at each read.
 */
static void
close_unread(struct ring_grow *g)
{
	if (g->unclosed_nr > 0 &&
	    __atomic_load_n(&g->stats_readers, __ATOMIC_SEQ_CST) == 0)
		while (g->unclosed_nr > 0)
			close(g->unclosed[--g->unclosed_nr]);
}

/* A larger ring on a spare socket, bound, not yet picked. */
static int
prepare_next(pcap_t *p, int fd, unsigned int size, char *errbuf)
{
	struct pcap_ring *pr = libpcap_priv(p);
	struct ring_grow *g = &pr->grow;
	struct ring_layout l;
	unsigned int hdrlen;

	/*
	 * Bound to the interface first, with protocol 0 (nothing comes in),
	 * as the capture socket: with a negative timeout the kernel derives
	 * a block's retire timer from the speed of the socket's interface as
	 * the ring is made, and takes 8 ms for a socket bound to none.
	 */
	if (ring_sock_bind(fd, pr->ifindex, 0, errbuf) != 0 ||
	    pcap_ring_set_capture_options(p, fd, TPACKET_V3, &hdrlen,
	    errbuf) == -1)
		return -1;
	if (g->tstamp_source != 0 && setsockopt(fd, SOL_PACKET,
	    PACKET_TIMESTAMP, &g->tstamp_source,
	    sizeof(g->tstamp_source)) == -1)
		return -1;
	if (libpcap_get_promisc(p) &&
	    pcap_ring_set_promiscuous(p, fd, errbuf) != 0)
		return -1;
	ring_sock_layout_v3(&l, size,
	    pcap_ring_stock_blocks(p, size, g->retire_tov));
	if (ring_sock_map_ring(fd, PACKET_RX_RING, TPACKET_V3, &l, g->retire_tov,
	    libpcap_mmap_flags(), pr->ifname, errbuf, &g->next_map) == -1)
		return -1;
	g->next_size = l.block_size * l.block_nr;
	memset(&g->next_rx, 0, sizeof(g->next_rx));
	ring_rx_init(&g->next_rx, TPACKET_V3, fd, g->next_map.frames,
	    l.frame_nr, l.block_size, hdrlen);
	return 0;
}

/*
 * The worker's step: a larger ring on a spare, picked by the group's
 * program.  A failure leaves the handle at its size.  The reader takes
 * the old ring's open block once the worker is done (pcap_ring_grow_check()).
 */
static void
grow_step(pcap_t *p)
{
	struct pcap_ring *pr = libpcap_priv(p);
	struct ring_grow *g = &pr->grow;
	char errbuf[PCAP_ERRBUF_SIZE];	/* growth is best effort */
	int capture = libpcap_fd(p), fd, next[RING_GROUP_MAX], next_nr;
	unsigned int size;

	size = g->size > g->max / GROW_FACTOR ? g->max : g->size * GROW_FACTOR;
	fd = take_spare(g);
	if (fd == -1 || prepare_next(p, fd, size, errbuf) == -1 ||
	    ring_sock_drop_all(fd) == -1 ||
	    ring_sock_bind(fd, pr->ifindex, pcap_ring_protocol(p),
	    errbuf) != 0 ||
	    join(p, fd, capture, errbuf) == -1) {
		drop_next(g, fd);
		goto out;
	}
	/*
	 * Not picked yet, it receives nothing until the program says so.
	 * The number picks it with the old socket a member and without it,
	 * so that it holds whether or not a copy keeps that one (see top).
	 * It always replaces the one in place, which picks capture, so the
	 * kernel returns only once no packet can still go to the old ring.
	 */
	next_nr = after_leave(g, capture, next);
	if (pcap_ring_set_kernel_filter(p, fd) == -1 ||
	    route(p, fd, next, next_nr, errbuf) == -1) {
		ring_sock_unmap_ring(&g->next_map);
		if (leave(p, fd, capture, errbuf) == -1) {
			/* The program its join set picks capture without it. */
			close(fd);
			forget_member(g, fd);
		}
		stop_growing(g);
		goto out;
	}
	/* Picked: it counts what it receives, for pcap_stats() too. */
	__atomic_store_n(&g->next_fd, fd, __ATOMIC_SEQ_CST);
	/* A thread's TX ring that finds the group free now stays pending. */
	__atomic_store_n(&g->draining, 1, __ATOMIC_SEQ_CST);
	/*
	 * Until the step ends, a read finds the packets of both rings.  The
	 * old socket is never readable for the block the kernel had open
	 * (packet_poll() looks at the block behind it), which the reader
	 * takes from now on: the selectable descriptor hears the new socket
	 * too, lest only the old ring's retire timer wake a program's select().
	 */
	(void)pcap_ring_epoll_add(p, fd, errbuf);
out:
	group_release(g);
	/* Unless the step failed, the TX ring waits for the switch. */
	pcap_ring_group_join_tx(p);
}

/*
 * Workers of this process still running (__atomic), which a fork() waits
 * for, so that a child finds each handle's group and rings as a worker
 * left them; and fork()s in the child: a worker started before them is
 * the parent's, not to be joined.
 */
static unsigned int workers_running;
static unsigned int fork_generation;

static void
wait_for_workers(void)
{
	const struct timespec tenth_ms = { 0, 100000 };
	int tries;

	/*
	 * A task's few grace periods.  Bounded all the same: a worker's
	 * fopen() would wait for a stdio lock that a fork() from a signal
	 * handler may have interrupted.
	 */
	for (tries = 0; tries < 10000 &&
	    __atomic_load_n(&workers_running, __ATOMIC_SEQ_CST) != 0; tries++)
		nanosleep(&tenth_ms, NULL);
}

static void
count_fork(void)
{
	fork_generation++;
}

static void
watch_forks(void)
{
	(void)pthread_atfork(wait_for_workers, NULL, count_fork);
}

static void *
worker_main(void *arg)
{
	pcap_t *p = arg;
	struct pcap_ring *pr = libpcap_priv(p);
	uint64_t one = 1;

	pr->grow.worker_task(p);
	__atomic_store_n(&pr->grow.worker_done, 1, __ATOMIC_SEQ_CST);
	/*
	 * A step's new socket is picked: a read waiting in poll(), or a
	 * program in select(), on the old socket takes it now, since that
	 * socket is not readable for the block the kernel had open.  Nothing
	 * else needs a wake-up (the selectable descriptor is readable only
	 * when a read may find a packet).
	 */
	if (__atomic_load_n(&pr->grow.next_fd, __ATOMIC_SEQ_CST) != -1 &&
	    write(pr->grow.worker_fd, &one, sizeof(one)) == -1) {
		/* Saturated: it is readable already. */
	}
	__atomic_sub_fetch(&workers_running, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

/*
 * Run task on the worker, a thread with every signal blocked (the
 * program's handlers run on its own threads), or, when no thread can be
 * had (RLIMIT_NPROC, memory, a seccomp filter that refuses it), here,
 * where the reader waits it out.
 */
static void
worker_start(pcap_t *p, void (*task)(pcap_t *))
{
	struct ring_grow *g = &((struct pcap_ring *)libpcap_priv(p))->grow;
	pthread_attr_t attr;
	sigset_t all, mask;
	int cancel_state;

	g->worker_task = task;
	g->worker_done = 0;
	g->worker_busy = 1;
	g->worker_threaded = 0;
	if (g->worker_fd != -1 && pthread_attr_init(&attr) == 0) {
		sigfillset(&all);
		(void)pthread_sigmask(SIG_SETMASK, &all, &mask);
		__atomic_add_fetch(&workers_running, 1, __ATOMIC_SEQ_CST);
		g->worker_threaded =
		    pthread_attr_setstacksize(&attr, WORKER_STACK_SIZE) == 0 &&
		    pthread_create(&g->worker, &attr, worker_main, p) == 0;
		if (!g->worker_threaded)
			__atomic_sub_fetch(&workers_running, 1,
			    __ATOMIC_SEQ_CST);
		(void)pthread_sigmask(SIG_SETMASK, &mask, NULL);
		(void)pthread_attr_destroy(&attr);
	}
	if (!g->worker_threaded) {
		/* Not cancelled halfway (see pcap_ring_grow_finish()). */
		(void)pthread_setcancelstate(PTHREAD_CANCEL_DISABLE,
		    &cancel_state);
		task(p);
		(void)pthread_setcancelstate(cancel_state, NULL);
		g->worker_done = 1;
	}
}

/*
 * The worker's results become the reader's once it is done (with wait,
 * after waiting for it): 1 if a step's new socket was picked, 0 if
 * nothing was, -1 while the worker runs.  In a child forked since, what
 * the worker did before the fork (which waited for it), not joining its
 * parent's thread.
 */
static int
worker_take(pcap_t *p, int wait)
{
	struct pcap_ring *pr = libpcap_priv(p);
	struct ring_grow *g = &pr->grow;
	int forked = g->generation != fork_generation;
	uint64_t count;
	int cancel_state;

	if (!g->worker_busy)
		return 0;
	if (!wait && !forked &&
	    !__atomic_load_n(&g->worker_done, __ATOMIC_SEQ_CST))
		return -1;
	/* A thread joined is not joined again. */
	(void)pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel_state);
	if (g->worker_threaded && !forked)
		(void)pthread_join(g->worker, NULL);
	/* The selectable descriptor is readable no longer for it. */
	if (g->worker_threaded &&
	    read(g->worker_fd, &count, sizeof(count)) == -1) {
		/* Not written: nothing to clear. */
	}
	g->worker_busy = 0;
	/* A step's new socket is picked: the old ring is final. */
	if (__atomic_load_n(&g->next_fd, __ATOMIC_SEQ_CST) != -1)
		pr->rx.final = 1;
	(void)pthread_setcancelstate(cancel_state, NULL);
	return pr->rx.final;
}

/*
 * In a child forked since activation, the group, the spares and the
 * worker's eventfd are its parent's too: the child grows no further, and
 * its copy of the eventfd goes (the parent's stays in the selectable set
 * they share).
 */
static void
leave_growth_to_parent(pcap_t *p)
{
	struct ring_grow *g = &((struct pcap_ring *)libpcap_priv(p))->grow;

	(void)worker_take(p, 1);
	if (g->worker_fd != -1) {
		close(g->worker_fd);
		g->worker_fd = -1;
	}
	stop_growing(g);
	g->generation = fork_generation;
}

/*
 * At each read: take what the worker has done, and when the ring is
 * nearly full, start a step; not while another thread's TX ring joins
 * the group (the next read tries again).  1 if a step's new socket was
 * picked (the old ring is final) since the last call.
 */
int
pcap_ring_grow_check(pcap_t *p)
{
	struct pcap_ring *pr = libpcap_priv(p);
	struct ring_grow *g = &pr->grow;
	int taken;

	close_unread(g);
	if (g->generation != fork_generation)
		leave_growth_to_parent(p);
	taken = worker_take(p, 0);
	if (taken != 0 || g->size >= g->max || pr->rx.final ||
	    !ring_rx_nearly_full(&pr->rx) || !group_try_hold(g))
		return taken == 1;
	worker_start(p, grow_step);
	return worker_take(p, 0) == 1;
}

/*
 * Once the selectable descriptor is the epoll set: the eventfd through
 * which the worker wakes a program's select() (and a read's poll()) when
 * a step's new socket is picked, since the old socket is not readable
 * for the block the kernel had open.  Without one, the reader does the
 * worker's tasks itself.
 */
void
pcap_ring_grow_wake_open(pcap_t *p)
{
	static pthread_once_t forks_watched = PTHREAD_ONCE_INIT;
	struct ring_grow *g = &((struct pcap_ring *)libpcap_priv(p))->grow;
	char unused[PCAP_ERRBUF_SIZE];

	(void)pthread_once(&forks_watched, watch_forks);
	g->generation = fork_generation;
	g->worker_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (g->worker_fd != -1 &&
	    pcap_ring_epoll_add(p, g->worker_fd, unused) != 0) {
		close(g->worker_fd);
		g->worker_fd = -1;
	}
}

/*
 * Before the handle's filter changes (a step gives it to the new socket)
 * or the handle closes: the worker's task is over.
 */
void
pcap_ring_grow_settle(pcap_t *p)
{
	(void)worker_take(p, 1);
}

/*
 * Whether the packet socket with inode old is still open: 1, 0, or -1
 * when /proc/net/packet cannot tell (unreadable, or of another network
 * namespace than the capture socket, inode capture, which it must list).
 * packet_release() takes a socket off that list first, then out of its
 * fanout group, and it runs before the close() or munmap() that dropped
 * the last reference returns (the file's release is task work, run on
 * the way back to user space).
 */
static int
still_open(ino_t old, ino_t capture)
{
	char line[256];
	unsigned long inode;
	int found = 0, capture_found = 0;
	FILE *f = fopen("/proc/net/packet", "re");

	if (f == NULL)
		return -1;
	/* sk RefCnt Type Proto Iface R Rmem User Inode; the header has no numbers. */
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "%*s %*d %*d %*x %*d %*d %*u %*u %lu",
		    &inode) != 1)
			continue;
		found |= inode == old;
		capture_found |= inode == capture;
	}
	fclose(f);
	return capture_found ? found : -1;
}

/*
 * After a step the group is the TX socket, the new capture socket and the
 * dummy, which is older than the capture socket: an interface going down
 * and up would re-link them with the dummy in the middle.  A spare newer
 * than the capture socket takes its place.  Should it fail to join (the
 * interface down at that moment), the old dummy leaves all the same: of
 * the two members left, the capture socket is the newer, where kernels
 * that add sockets at the tail of their list re-link it.
 */
static void
replace_dummy(pcap_t *p)
{
	struct ring_grow *g = &((struct pcap_ring *)libpcap_priv(p))->grow;
	char unused[PCAP_ERRBUF_SIZE];	/* the capture goes on */
	int capture = libpcap_fd(p), dummy;

	dummy = take_spare(g);
	if (dummy == -1 || join_dummy(p, dummy, unused) == -1) {
		if (dummy != -1)
			close(dummy);
		stop_growing(g);
		if (leave(p, g->dummy, capture, unused) == 0)
			g->dummy = -1;
	} else if (leave(p, g->dummy, capture, unused) == -1) {
		/*
		 * The program join_dummy() set picks the second member
		 * whatever their number: the capture socket, whether the old
		 * dummy is there or the new one takes its place.
		 */
		close(g->dummy);
		forget_member(g, g->dummy);
		g->dummy = dummy;
		stop_growing(g);
	} else
		g->dummy = dummy;
}

/*
 * The worker's end of a switch: the old socket's last reference (the
 * mapping) goes, which waits for grace periods, and it leaves the group
 * unless a copy of it outside the handle keeps it.
 */
static void
retire_old_socket(pcap_t *p)
{
	struct pcap_ring *pr = libpcap_priv(p);
	struct ring_grow *g = &pr->grow;
	char unused[PCAP_ERRBUF_SIZE];
	int capture = libpcap_fd(p), open_now, stayed, tries;
	const struct timespec half_ms = { 0, 500000 };

	ring_sock_unmap_ring(&g->retired_map);
	/* Our last references (number and mapping) are gone: did it leave? */
	open_now = g->retired_ino == 0 ? -1 :
	    still_open(g->retired_ino, g->capture_ino);
	/*
	 * A pcap_stats() on another thread, inside its read of the capture
	 * number as dup3() replaced the socket, holds the old one until it
	 * returns: such calls get a moment (10 ms at most) before the old
	 * socket is taken for one that a copy keeps.
	 */
	for (tries = 0; open_now == 1 && tries < 20 &&
	    __atomic_load_n(&g->stats_readers, __ATOMIC_SEQ_CST) != 0;
	    tries++) {
		nanosleep(&half_ms, NULL);
		open_now = still_open(g->retired_ino, g->capture_ino);
	}
	stayed = open_now != 0;
	if (!stayed)
		forget_member(g, RETIRED_MEMBER);
	else {
		/* The step's route holds whether it leaves or not; no other would. */
		stop_growing(g);
	}
	if (g->dummy != -1 && !stayed)
		replace_dummy(p);
	/*
	 * The program the next step's join needs, set now that a larger
	 * ring has room for the wait: that step then only switches.
	 */
	if (g->size < g->max && g->spare_next < g->spare_nr &&
	    g->member_nr < RING_GROUP_MAX)
		(void)route_for_join(p, g->spare[g->spare_next], capture,
		    unused);
	/* Another thread's TX ring may join once the group is as above. */
	__atomic_store_n(&g->draining, 0, __ATOMIC_SEQ_CST);
	pcap_ring_group_join_tx(p);
}

/*
 * The old ring is empty and nothing from it is held for the caller: the
 * new socket takes over the descriptor number, and the worker retires
 * the old one.
 */
static int
switch_rings(pcap_t *p)
{
	struct pcap_ring *pr = libpcap_priv(p);
	struct ring_grow *g = &pr->grow;
	struct stat old, new;
	int capture = libpcap_fd(p), flags, fdflags, i, fd, ret = 0;

	if (pcap_ring_add_stats(p, capture) == -1)
		return PCAP_ERROR;
	/* Their names in /proc/net/packet, once the old one has no number. */
	if (fstat(capture, &old) == -1 || fstat(g->next_fd, &new) == -1)
		old.st_ino = new.st_ino = 0;
	/*
	 * The set keys the old file, which a copy of the descriptor (a
	 * dup(), a forked child) may keep open after the dup3().
	 */
	(void)epoll_ctl(pr->epoll_fd, EPOLL_CTL_DEL, capture, NULL);
	flags = fcntl(capture, F_GETFL);
	fdflags = fcntl(capture, F_GETFD);
	if (flags == -1 || fdflags == -1 ||
	    fcntl(g->next_fd, F_SETFL, flags) == -1 ||
	    dup3(g->next_fd, capture, fdflags & FD_CLOEXEC ? O_CLOEXEC : 0) == -1) {
		libpcap_fmt_errmsg_for_errno(libpcap_errbuf(p),
		    PCAP_ERRBUF_SIZE, errno,
		    "%s: can't move the capture socket", pr->ifname);
		return PCAP_ERROR;
	}
	/* The new socket has the old one's number. */
	i = member_index(g->member, g->member_nr, capture);
	g->member[i] = RETIRED_MEMBER;
	i = member_index(g->member, g->member_nr, g->next_fd);
	g->member[i] = capture;
	/* The set hears it under its new number, below. */
	(void)epoll_ctl(pr->epoll_fd, EPOLL_CTL_DEL, g->next_fd, NULL);
	/* Off what pcap_stats() reads (tcpdump's SIGUSR1 handler) first. */
	fd = g->next_fd;
	__atomic_store_n(&g->next_fd, -1, __ATOMIC_SEQ_CST);
	/*
	 * Kept for a pcap_stats() that may read it, the number must not keep
	 * the socket too: at the next step, that would be the old socket a
	 * copy outlived, and growth would stop.  The epoll set's file is no
	 * socket (the read fails, and counts nothing).  Always: a call may
	 * come between a look at the count and the close.
	 */
	(void)dup3(pr->epoll_fd, fd, O_CLOEXEC);
	g->unclosed[g->unclosed_nr++] = fd;
	close_unread(g);

	/* Only now: on an error above, the reader still had the old ring. */
	g->retired_map = pr->rx_map;
	g->retired_ino = old.st_ino;
	g->capture_ino = new.st_ino;
	pr->rx_map = g->next_map;
	memset(&g->next_map, 0, sizeof(g->next_map));
	pr->rx = g->next_rx;
	pr->rx.fd = capture;
	/* Packets a previous filter passed may wait in the new ring. */
	if (g->refilter)
		pr->rx.filter_slots_left = pr->rx.slot_nr;
	g->refilter = 0;
	g->size = g->next_size;
	/* The selectable descriptor, that programs wait on, hears the new socket. */
	if (pcap_ring_epoll_add(p, capture, libpcap_errbuf(p)) != 0)
		ret = PCAP_ERROR;
	/* A child forked before the worker unmaps it must not keep it. */
	(void)madvise(g->retired_map.base, g->retired_map.len, MADV_DONTFORK);
	worker_start(p, retire_old_socket);
	(void)worker_take(p, 0);
	return ret;
}

/*
 * Its close() and reads of /proc are cancellation points, where the
 * reader's ring is already unmapped: a read cancelled there would leave
 * the next one reading freed memory.
 */
int
pcap_ring_grow_finish(pcap_t *p)
{
	int cancel_state, ret;

	(void)pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel_state);
	ret = switch_rings(p);
	(void)pthread_setcancelstate(cancel_state, NULL);
	return ret;
}

void
pcap_ring_grow_cleanup(pcap_t *p)
{
	struct ring_grow *g = &((struct pcap_ring *)libpcap_priv(p))->grow;
	int i;

	ring_sock_unmap_ring(&g->next_map);
	ring_sock_unmap_ring(&g->retired_map);
	if (g->next_fd != -1)
		close(g->next_fd);
	while (g->unclosed_nr > 0)
		close(g->unclosed[--g->unclosed_nr]);
	if (g->dummy != -1)
		close(g->dummy);
	if (g->worker_fd != -1)
		close(g->worker_fd);
	for (i = g->spare_next; i < g->spare_nr; i++)
		close(g->spare[i]);
	pcap_ring_grow_init(g);
}
