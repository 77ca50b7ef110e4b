/*
 * A capture ring that grows with the traffic (pcap-ring only):
 * - a handle asking for 2 MiB starts with 2 MiB; when a burst the reader
 *   did not keep up with fills it, the ring grows, every frame sent after
 *   the reader came back arrives once and in order, and ps_drop is
 *   exactly the frames that did not arrive; read with pcap_dispatch() and
 *   with pcap_next_ex(), whose packets must stay valid across the switch;
 * - a step while the kernel still fills a block loses none of its packets,
 *   and dumpcap's loop (poll(), then one packet) is woken for the new
 *   ring's packets while that block, never readable, is being read;
 * - a step sets the group's fanout program once, to switch rings: the
 *   program its join needs is in place already (setting one waits for a
 *   grace period while the small ring overflows); two steps, plain and
 *   batched handles;
 * - pcap_stats() in the middle of a switch, as a signal handler may call
 *   it, succeeds, and so does one on another thread that read the new
 *   socket's number before the switch, which neither closes that number
 *   under it nor leaves the socket on it (growth goes on); while the old
 *   ring drains, it counts the frames the new socket receives;
 * - a send queue's first transmit, from another thread while the reader
 *   is in the middle of a step, or from the reader's callback while the
 *   old ring drains, neither waits for the step nor joins its TX ring to
 *   the group before the switch; the reader joins it once the step has
 *   switched rings, or failed, and the handle then captures none of the
 *   queues' frames; a first transmit while the interface is down fails
 *   with the device's name and why, and the next one sets the ring up and
 *   joins it; a TX ring whose join the kernel refused joins at the next
 *   transmit, also when the capture socket's join before it had formed
 *   the group; one the program's own group on the capture socket refuses
 *   is asked once;
 * - a nanosecond handle's stamps come from the kernel's stamp of the
 *   packet as it entered the stack, as stock's, also after a step;
 * - with a negative timeout a grown ring has stock's blocks and the
 *   kernel's retire timer for the interface, as the first;
 * - slow traffic, read as it comes, leaves the ring at 2 MiB;
 * - where the kernel ignores PACKET_FANOUT_FLAG_UNIQUEID (4.3 to 4.11, as
 *   getsockopt() makes it seem) or refuses CBPF groups, no handle forms a
 *   fanout group: no growth; a probe without an answer is made again; a
 *   handle that needs no group does not probe;
 * - growth is opted into with PCAP_RING_BUFFER_MAX (64 here): 0, or no
 *   variable, keeps the ring at the size asked for;
 * - a batched handle (PCAP_RING_TX_BATCH) captures the peer's frames and
 *   never its own, through interface down/up cycles before and after a
 *   growth step (its fanout group's member order changes on each);
 * - a copy of the capture socket held across a growth step (a dup() of
 *   pcap_fileno(), a forked child as tcpdump -z's compressor) keeps the
 *   old socket in the fanout group: every frame sent after the step, while
 *   the copy lives and after it is gone, arrives once and in order, and
 *   the frames captured and ps_drop add up to the frames sent; plain and
 *   batched handles (whose group has more members);
 * - where /proc/net/packet cannot say whether the old socket left, the
 *   handle takes that step and no other, and loses no frame to it;
 * - a reader cancelled while it empties the old ring leaves the step
 *   complete, and the next read gets the rest;
 * - short of descriptors, growth stops where the spares run out, and the
 *   trace says so; a cap below the 32 MiB default, and one at or below the
 *   start, bounds the ring;
 * - the spare sockets and a batched handle's TX socket are close-on-exec,
 *   the capture socket is not (as stock's);
 * - a batched handle whose new dummy cannot join the group after a step
 *   stops growing, loses no frame (also after a down/up), and leaves no
 *   descriptor behind.
 * The ring's size is the size of the handle's packet-socket mappings in
 * /proc/self/maps.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <linux/filter.h>
#include <linux/kcmp.h>
#include <linux/if_packet.h>
#include <linux/seccomp.h>

#define PCAP_WANT_SENDQUEUE
#include <pcap/pcap.h>

#include "bed.h"

/* The low 32 bits of a system call's argument, for a seccomp filter. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SECCOMP_ARG_LOW(i)	offsetof(struct seccomp_data, args[i])
#else
#define SECCOMP_ARG_LOW(i)	(offsetof(struct seccomp_data, args[i]) + 4)
#endif

#define MIB		(1024UL * 1024)
#define BURST		3000	/* 1514-byte frames: 4.5 MB, twice 2 MiB */
#define OWN_BASE	1000000	/* numbers of the frames the handle injects */

static int sender_fd;

/* How many of frames first..first+n-1 the tally saw. */
static unsigned long
seen(const struct bed_tally *t, uint32_t first, uint32_t n)
{
	unsigned long count = 0;
	uint32_t i;

	for (i = first; i < first + n; i++)
		count += t->seen[i - t->base] != 0;
	return count;
}

/*
 * After the read that starts a growth step (the log cleared before it):
 * its worker has the new socket picked (R, then P) some grace periods
 * later, while the reader is away.
 */
static void
wait_for_step_picked(void)
{
	const char *step = NULL;
	double deadline = bed_now() + 5;

	while (bed_now() < deadline &&
	    ((step = strchr(bed_fanout_log.calls, 'R')) == NULL ||
	    strchr(step, 'P') == NULL))
		bed_sleep(0.001);
	CHECK(step != NULL && strchr(step, 'P') != NULL,
	    "no step picked its new socket within 5 s: %s (R ring, P program)",
	    bed_fanout_log.calls);
}

/*
 * The bed holds the next join of any thread (a growth step's worker's)
 * for secs, then lets it through or fails it with err; and lets go.
 */
static void
hold_step_join(double secs, int err)
{
	bed_join_pause.any_thread = 1;
	bed_join_pause.secs = secs;
	bed_join_pause.fail_errno = err;
	__atomic_store_n(&bed_join_pause.paused, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&bed_join_pause.armed, 1, __ATOMIC_RELEASE);
}

static void
release_step_join(void)
{
	__atomic_store_n(&bed_join_pause.armed, 0, __ATOMIC_RELEASE);
	bed_join_pause.fail_errno = 0;
	bed_join_pause.any_thread = 0;
}

/*
 * Read with pcap_next_ex(), checking each packet after the call returned
 * (it must stay valid until the next call), until want packets came or
 * none for idle seconds.
 */
static void
drain_next_ex(pcap_t *p, struct bed_tally *t, unsigned long want, double idle)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	double last = bed_now();
	int r;

	bed_deadline(60, "reading with pcap_next_ex");
	while (t->packets < want && bed_now() - last < idle) {
		r = pcap_next_ex(p, &h, &data);
		if (r == 1) {
			bed_tally_packet(t, h, data);
			last = bed_now();
		} else if (r != 0) {
			CHECK(0, "pcap_next_ex: %d %s", r, pcap_geterr(p));
			break;
		} else {
			bed_sleep(0.001);
		}
	}
	bed_deadline_clear();
}

/*
 * A burst twice the ring while the reader is away, one read (the reader
 * is back), a second burst while it is away again, then everything.
 */
static void
burst_while_stalled(pcap_t *p, struct bed_tally *t, struct pcap_stat *ps,
    int next_ex, int grows)
{
	bed_tally_init(t, 0, 2 * BURST);
	bed_send(sender_fd, 0, BURST, 1514, 1514, MIX_UDP, NULL);
	bed_sleep(0.2);
	memset(&bed_fanout_log, 0, sizeof(bed_fanout_log));
	if (next_ex)
		drain_next_ex(p, t, 1, 1.0);
	else if (pcap_dispatch(p, 1, bed_tally_cb, (u_char *)t) != 1)
		CHECK(0, "the first read found nothing: %s", pcap_geterr(p));
	if (grows)
		wait_for_step_picked();
	bed_send(sender_fd, BURST, BURST, 1514, 1514, MIX_UDP, NULL);
	bed_sleep(0.2);
	if (next_ex)
		drain_next_ex(p, t, 2 * BURST, 1.0);
	else
		bed_drain(p, bed_tally_cb, (u_char *)t, &t->packets, 2 * BURST,
		    1.0);
	CHECK(pcap_stats(p, ps) == 0, "pcap_stats: %s", pcap_geterr(p));
	CHECK(t->dup == 0 && t->reorder == 0 && t->bad == 0 && t->other == 0,
	    "dup %lu reorder %lu bad %lu other %lu", t->dup, t->reorder,
	    t->bad, t->other);
	CHECK(ps->ps_recv == 2 * BURST && t->frames + ps->ps_drop == 2 * BURST,
	    "%d sent: %lu captured, ps_drop %u, ps_recv %u", 2 * BURST,
	    t->frames, ps->ps_drop, ps->ps_recv);
}

static void
grows_on_burst(int next_ex)
{
	const char *how = next_ex ? "pcap_next_ex" : "pcap_dispatch";
	struct pcap_stat ps;
	struct bed_tally t;
	unsigned long before, after, second;
	pcap_t *p;

	p = bed_open_nonblocking(2 * MIB, 50);
	before = bed_ring_mapping_bytes();
	burst_while_stalled(p, &t, &ps, next_ex, 1);
	after = bed_ring_mapping_bytes();
	second = seen(&t, BURST, BURST);
	CHECK(before == 2 * MIB && after > 2 * MIB,
	    "%s: ring of %lu bytes at the start, %lu after the burst", how,
	    before, after);
	CHECK(second == BURST,
	    "%s: %lu of the %d frames sent after the reader came back arrived",
	    how, second, BURST);
	if (bed_failures == 0)
		bed_ok("%s: 2 MiB grew to %lu MiB; %lu + %u dropped = %d, all %d frames of the second burst in order",
		    how, after / MIB, t.frames, ps.ps_drop, 2 * BURST, BURST);
	bed_tally_free(&t);
	pcap_close(p);
}

/*
 * Once set to a handle, the close() of a second descriptor of its
 * selectable descriptor's file (the switch to a larger ring parks the new
 * socket's own number there once the socket has taken the capture number,
 * and closes it) is followed by pcap_stats() on the handle, as a signal
 * handler may call it there (tcpdump's SIGUSR1 does); stats_at_close_ret
 * gets its result.
 */
/* How many calls of a kind (bed_fanout_log's letter) the log holds. */
static int
calls_logged(char kind)
{
	const char *c;
	int n = 0;

	for (c = bed_fanout_log.calls; (c = strchr(c, kind)) != NULL; c++)
		n++;
	return n;
}

static pcap_t *stats_at_close;
static int stats_at_close_ret = 1;
static char stats_at_close_err[PCAP_ERRBUF_SIZE];

/*
 * Once set to a handle, the first PACKET_STATISTICS read on thread
 * stats_thread of another socket than the capture number (the new
 * socket's, during the first step) waits until the third step has switched
 * rings (the log's third 'S') and 0.1 s more, as a thread preempted
 * there would.  spare_held is that number, spare_parked whether it then
 * was still open, on the file of the handle's selectable descriptor.
 */
static pcap_t *spare_read_watched;
static pthread_t stats_thread;
static int spare_held = -1, spare_parked, spare_hold_entered;	/* __atomic */
static int spare_hold_release;	/* __atomic */

/*
 * Whether descriptors a and b, both open, are of the same open file
 * (kcmp(); epoll sets and eventfds share one inode).
 */
static int
same_file(int a, int b)
{
	pid_t pid = getpid();

	return syscall(SYS_kcmp, pid, pid, KCMP_FILE, a, b) == 0;
}

int
close(int fd)
{
	static int (*next_close)(int);
	struct pcap_stat ps;
	pcap_t *p = stats_at_close;
	int ret, saved_errno;

	if (next_close == NULL)
		next_close = (int (*)(int))dlsym(RTLD_NEXT, "close");
	if (p == NULL || fd == pcap_get_selectable_fd(p) ||
	    !same_file(fd, pcap_get_selectable_fd(p)))
		return next_close(fd);
	stats_at_close = NULL;
	ret = next_close(fd);
	saved_errno = errno;
	stats_at_close_ret = pcap_stats(p, &ps);
	snprintf(stats_at_close_err, sizeof(stats_at_close_err), "%s",
	    pcap_geterr(p));
	errno = saved_errno;
	return ret;
}

/*
 * Once set, getsockopt(PACKET_FANOUT) answers as kernels 4.3 to 4.11 do
 * for a group asked for with PACKET_FANOUT_FLAG_UNIQUEID: the flag stays
 * among the group's flags.
 */
static int fake_old_group_ids;

int
getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	static int (*next_getsockopt)(int, int, int, void *, socklen_t *);
	pcap_t *watched = spare_read_watched;
	double deadline;
	int ret;

	if (next_getsockopt == NULL)
		next_getsockopt = (int (*)(int, int, int, void *,
		    socklen_t *))dlsym(RTLD_NEXT, "getsockopt");
	if (fake_old_group_ids && level == SOL_PACKET && name == PACKET_FANOUT) {
		ret = next_getsockopt(fd, level, name, val, len);
		if (ret == 0 && *(int *)val != 0)
			*(int *)val |= PACKET_FANOUT_FLAG_UNIQUEID << 16;
		return ret;
	}
	if (watched != NULL && level == SOL_PACKET &&
	    name == PACKET_STATISTICS && fd != pcap_fileno(watched) &&
	    pthread_equal(pthread_self(), stats_thread) &&
	    __atomic_load_n(&spare_held, __ATOMIC_RELAXED) == -1) {
		__atomic_store_n(&spare_hold_entered, 1, __ATOMIC_RELEASE);
		deadline = bed_now() + 10;
		while ((calls_logged('S') < 3 ||
		    !__atomic_load_n(&spare_hold_release, __ATOMIC_ACQUIRE)) &&
		    bed_now() < deadline)
			bed_sleep(0.001);
		__atomic_store_n(&spare_parked,
		    same_file(fd, pcap_get_selectable_fd(watched)),
		    __ATOMIC_RELAXED);
		__atomic_store_n(&spare_held, fd, __ATOMIC_RELEASE);
	}
	return next_getsockopt(fd, level, name, val, len);
}

/*
 * bed_tally_cb(), and while the first step's old ring drains (the log
 * shows a step's program set and no switch yet), a wait of up to 2 s for
 * the statistics thread to read the new socket's number there.
 */
static void
tally_until_spare_read(u_char *user, const struct pcap_pkthdr *h,
    const u_char *bytes)
{
	const char *step = strchr(bed_fanout_log.calls, 'R');
	double deadline = bed_now() + 2;

	bed_tally_packet((struct bed_tally *)user, h, bytes);
	if (step == NULL || strchr(step, 'P') == NULL ||
	    strchr(step, 'S') != NULL)
		return;
	while (!__atomic_load_n(&spare_hold_entered, __ATOMIC_ACQUIRE) &&
	    bed_now() < deadline)
		bed_sleep(0.001);
}

struct stats_loop {
	pcap_t *p;
	int stop;		/* __atomic */
	unsigned long calls, failed;
	char error[PCAP_ERRBUF_SIZE];
};

static void *
stats_until_stopped(void *arg)
{
	struct stats_loop *l = arg;
	struct pcap_stat ps;

	while (!__atomic_load_n(&l->stop, __ATOMIC_ACQUIRE)) {
		l->calls++;
		if (pcap_stats(l->p, &ps) != 0 && l->failed++ == 0)
			snprintf(l->error, sizeof(l->error), "%s",
			    pcap_geterr(l->p));
	}
	return NULL;
}

struct transmit {
	pcap_t *p;
	uint32_t first, n;	/* frames OWN_BASE + first... */
	u_int sent, queued;	/* bytes */
	double secs;		/* in pcap_sendqueue_transmit() */
};

static void
transmit_queue(struct transmit *t)
{
	uint8_t frame[FRAME_MAX_LEN];
	struct pcap_pkthdr h;
	pcap_send_queue *q;
	double start;
	uint32_t i;

	q = pcap_sendqueue_alloc(t->n * (u_int)(sizeof(h) + 200));
	if (q == NULL)
		bed_fatal("pcap_sendqueue_alloc");
	memset(&h, 0, sizeof(h));
	for (i = 0; i < t->n; i++) {
		h.caplen = h.len = (bpf_u_int32)frame_build(frame,
		    OWN_BASE + t->first + i, 200, MIX_UDP);
		if (pcap_sendqueue_queue(q, &h, frame) != 0)
			bed_fatal("pcap_sendqueue_queue");
	}
	t->queued = q->len;
	start = bed_now();
	t->sent = pcap_sendqueue_transmit(t->p, q, 0);
	t->secs = bed_now() - start;
	pcap_sendqueue_destroy(q);
}

/* The fanout group p's capture socket is in (its getsockopt() word), 0: none. */
static int
capture_group(pcap_t *p)
{
	int arg = 0;
	socklen_t len = sizeof(arg);

	if (getsockopt(pcap_fileno(p), SOL_PACKET, PACKET_FANOUT, &arg,
	    &len) == -1)
		bed_fatal("getsockopt PACKET_FANOUT: %s", strerror(errno));
	return arg;
}


/*
 * What the module learns of the kernel's fanout group ids, before the
 * first group of a process (its probe: a throwaway socket's join):
 * - OLD_KERNEL: the group asked for with PACKET_FANOUT_FLAG_UNIQUEID is
 *   the shared group 0 (4.3 to 4.11; getsockopt() is made to answer so),
 *   which another handle on the interface would join, splitting the
 *   traffic; KERNEL_REFUSES: the join fails with EINVAL (below 4.3).  No
 *   handle forms a group then: growing or batched, its capture socket is
 *   in none, its ring stays at the 2 MiB asked for, every frame of a
 *   burst that fills it is captured or counted dropped, and the kernel is
 *   asked once (one join, the probe's, or none);
 * - NO_ANSWER: the join fails with ENOMEM: that handle forms no group (a
 *   batched one's TX ring does not ask again), nor does a handle whose
 *   send queue's first transmit got no answer (later transmits do not ask
 *   again), and the next handle that needs one asks again and forms it,
 *   after which the send queue's handle takes that answer;
 * - NOT_NEEDED: a handle that neither grows nor batches does not ask (the
 *   probe's close waits for a grace period).
 * Each in a child forked before this process opened a handle: the module
 * keeps the answer for the process.
 */
enum probe_case { OLD_KERNEL, KERNEL_REFUSES, NO_ANSWER, NOT_NEEDED };
static enum probe_case probe_case;

static void
refuse_first_join(int err)
{
	bed_join_pause.thread = pthread_self();
	bed_join_pause.secs = 0;
	bed_join_pause.fail_errno = err;
	bed_join_pause.skip = 0;
	__atomic_store_n(&bed_join_pause.armed, 1, __ATOMIC_RELEASE);
}

static void
group_ids_probe(void)
{
	static const char *const name[] = { "old kernel", "kernel refuses CBPF",
	    "probe unanswered", "no group needed" };
	struct transmit q = { NULL, 600, 5, 0, 0, 0 };
	struct pcap_stat ps;
	struct bed_tally t;
	unsigned long mapped;
	int batched, group, i;
	pcap_t *p;

	memset(&bed_fanout_log, 0, sizeof(bed_fanout_log));
	if (probe_case == OLD_KERNEL)
		fake_old_group_ids = 1;
	else if (probe_case == KERNEL_REFUSES)
		refuse_first_join(EINVAL);
	else if (probe_case == NO_ANSWER)
		refuse_first_join(ENOMEM);
	if (probe_case == NOT_NEEDED) {
		unsetenv("PCAP_RING_BUFFER_MAX");
		p = bed_open_nonblocking(2 * MIB, 50);
		group = capture_group(p);
		pcap_close(p);
		CHECK(calls_logged('J') == 0 && group == 0,
		    "%s: fanout calls \"%s\", group %#x (want no join: no probe)",
		    name[probe_case], bed_fanout_log.calls, (unsigned int)group);
	}
	if (probe_case == NO_ANSWER) {
		/* Batched: its TX ring's join does not ask again. */
		setenv("PCAP_RING_TX_BATCH", "8", 1);
		p = bed_open_nonblocking(2 * MIB, 50);
		unsetenv("PCAP_RING_TX_BATCH");
		group = capture_group(p);
		pcap_close(p);
		CHECK(group == 0 && calls_logged('J') == 0,
		    "%s: the first handle, batched, is in group %#x, fanout calls \"%s\"",
		    name[probe_case], (unsigned int)group, bed_fanout_log.calls);
		/* A send queue's TX ring asks at its first transmit only. */
		unsetenv("PCAP_RING_BUFFER_MAX");
		q.p = bed_open_nonblocking(2 * MIB, 50);
		setenv("PCAP_RING_BUFFER_MAX", "64", 1);
		refuse_first_join(ENOMEM);
		for (i = 0; i < 3; i++)
			transmit_queue(&q);
		group = capture_group(q.p);
		CHECK(q.sent == q.queued && group == 0 && calls_logged('J') == 0,
		    "%s: three send queues on a handle that does not grow: %u of %u bytes sent, group %#x, fanout calls \"%s\" (want no group, and one probe, refused)",
		    name[probe_case], q.sent, q.queued, (unsigned int)group,
		    bed_fanout_log.calls);
		p = bed_open_nonblocking(2 * MIB, 50);
		group = capture_group(p);
		pcap_close(p);
		CHECK(group != 0 && calls_logged('J') == 2,
		    "%s: the next handle: group %#x, fanout calls \"%s\" (want the probe's join and its own)",
		    name[probe_case], (unsigned int)group, bed_fanout_log.calls);
		/* That answer is the send queue's handle's too, at no cost. */
		transmit_queue(&q);
		group = capture_group(q.p);
		pcap_close(q.p);
		CHECK(group != 0 && calls_logged('J') == 4,
		    "%s: a send queue after another handle's probe answered: group %#x, fanout calls \"%s\" (want its capture socket's join and its TX ring's, no probe)",
		    name[probe_case], (unsigned int)group, bed_fanout_log.calls);
	}
	for (batched = 0; batched < 2 && probe_case <= KERNEL_REFUSES;
	    batched++) {
		if (batched)
			setenv("PCAP_RING_TX_BATCH", "8", 1);
		p = bed_open_nonblocking(2 * MIB, 50);
		unsetenv("PCAP_RING_TX_BATCH");
		group = capture_group(p);
		CHECK(group == 0, "%s%s: the capture socket is in fanout group %#x",
		    batched ? "batched, " : "", name[probe_case],
		    (unsigned int)group);
		bed_tally_init(&t, 0, BURST);
		bed_send(sender_fd, 0, BURST, 1514, 1514, MIX_UDP, NULL);
		bed_sleep(0.2);
		bed_drain(p, bed_tally_cb, (u_char *)&t, &t.packets, BURST,
		    1.0);
		mapped = bed_ring_mapping_bytes();
		CHECK(pcap_stats(p, &ps) == 0, "pcap_stats: %s",
		    pcap_geterr(p));
		CHECK(mapped >= 2 * MIB && mapped <= 3 * MIB && t.dup == 0 &&
		    t.frames + ps.ps_drop == BURST,
		    "%s%s: %lu KiB of rings mapped (want the 2 MiB asked for%s), %lu captured + %u dropped of %d, dup %lu",
		    batched ? "batched, " : "", name[probe_case],
		    mapped / 1024, batched ? " and the TX ring" : "",
		    t.frames, ps.ps_drop, BURST, t.dup);
		bed_tally_free(&t);
		pcap_close(p);
	}
	if (probe_case <= KERNEL_REFUSES)
		CHECK(calls_logged('J') == (probe_case == OLD_KERNEL),
		    "%s: fanout calls \"%s\" (want the probe's join alone, J, or none)",
		    name[probe_case], bed_fanout_log.calls);
	if (bed_failures == 0)
		bed_ok("%s: %s", name[probe_case], probe_case == NO_ANSWER ?
		    "no group for a batched handle, nor through three transmits of a send queue, each asking once; the next handle asked again and formed its group, and the send queue's next transmit took that answer" :
		    probe_case == NOT_NEEDED ? "a handle that neither grows nor batches did not probe" :
		    "asked once, no group: growing and batched handles keep 2 MiB and count every frame");
}

/*
 * pcap_stats() on another thread than the reader's (a program's
 * statistics thread) through three steps: a call that read the new
 * socket's number during the first step, and reads its counters only
 * after the third, finds the number still open, no longer on that socket
 * (which would have kept it alive past the second step, where the handle
 * would then stop growing) but on the selectable descriptor's file, so
 * that no socket opened meanwhile can take it and have its counters read
 * and reset; the read after closes it, though the ring is then as large
 * as it gets; no call fails, and the counts add up.
 */
static void
stats_from_another_thread(void)
{
	static const uint32_t burst[] = { BURST, 4 * BURST, 14 * BURST };
	struct stats_loop l;
	struct pcap_stat ps;
	struct bed_tally t;
	uint32_t base = 450000, sent = 0;
	unsigned long mapped;
	double deadline;
	size_t i;

	memset(&l, 0, sizeof(l));
	l.p = bed_open_nonblocking(2 * MIB, 50);
	memset(&bed_fanout_log, 0, sizeof(bed_fanout_log));
	__atomic_store_n(&spare_held, -1, __ATOMIC_RELAXED);
	__atomic_store_n(&spare_hold_entered, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&spare_hold_release, 0, __ATOMIC_RELAXED);
	if (pthread_create(&stats_thread, NULL, stats_until_stopped, &l) != 0)
		bed_fatal("pthread_create");
	__atomic_store_n(&spare_read_watched, l.p, __ATOMIC_RELEASE);
	bed_tally_init(&t, base, burst[0] + burst[1] + burst[2]);
	for (i = 0; i < sizeof(burst) / sizeof(burst[0]); i++) {
		bed_send(sender_fd, base + sent, burst[i], 1514, 1514,
		    MIX_UDP, NULL);
		sent += burst[i];
		bed_sleep(0.2);
		bed_drain(l.p, tally_until_spare_read, (u_char *)&t,
		    &t.packets, sent, 1.0);
	}
	/*
	 * The held read goes on after the third step's switch, and after a
	 * read that took the switch's worker (done by now): growth is over,
	 * and only a later read can close the number.
	 */
	if (pcap_dispatch(l.p, -1, tally_until_spare_read, (u_char *)&t) < 0)
		CHECK(0, "a read while the call is held: %s", pcap_geterr(l.p));
	__atomic_store_n(&spare_hold_release, 1, __ATOMIC_RELEASE);
	deadline = bed_now() + 2;
	while (__atomic_load_n(&spare_held, __ATOMIC_ACQUIRE) == -1 &&
	    bed_now() < deadline)
		bed_sleep(0.01);
	__atomic_store_n(&l.stop, 1, __ATOMIC_RELEASE);
	pthread_join(stats_thread, NULL);
	__atomic_store_n(&spare_read_watched, NULL, __ATOMIC_RELEASE);
	CHECK(spare_held != -1 && spare_parked && l.failed == 0,
	    "a statistics thread through steps: %s; %lu of %lu calls failed: %s (R ring, J join, P program, S switch: %s)",
	    spare_held == -1 ? "it never read the new socket's number" :
	    spare_parked ? "the number it read was parked" :
	    "the number it read was closed, or kept on a socket",
	    l.failed, l.calls, l.error, bed_fanout_log.calls);
	CHECK(pcap_dispatch(l.p, -1, bed_tally_cb, (u_char *)&t) >= 0,
	    "a statistics thread through steps: the next read: %s",
	    pcap_geterr(l.p));
	CHECK(spare_held == -1 || fcntl(spare_held, F_GETFD) == -1,
	    "a statistics thread through steps: the new socket's number %d is still open after the reads",
	    spare_held);
	mapped = bed_ring_mapping_bytes();
	CHECK(mapped == 64 * MIB,
	    "a statistics thread through steps: %lu KiB mapped (want the 64 MiB cap after three steps): %s",
	    mapped / 1024, bed_fanout_log.calls);
	CHECK(pcap_stats(l.p, &ps) == 0 && ps.ps_recv == sent &&
	    t.frames + ps.ps_drop == sent,
	    "a statistics thread through steps: %u sent, %lu captured, ps_drop %u, ps_recv %u",
	    sent, t.frames, ps.ps_drop, ps.ps_recv);
	if (bed_failures == 0)
		bed_ok("a statistics thread through three steps (%lu MiB): %lu calls, none failed, one reading the first new socket's number after the third switch, parked until then, closed at the next read; %lu captured + %u dropped = %u",
		    mapped / MIB, l.calls, t.frames, ps.ps_drop, sent);
	bed_tally_free(&t);
	pcap_close(l.p);
}

/* The descriptors that are the file of p's selectable descriptor. */
static int
selectable_copies(pcap_t *p)
{
	int fd, n = 0;

	for (fd = 0; fd < 1024; fd++)
		n += same_file(fd, pcap_get_selectable_fd(p));
	return n;
}

static void *
stats_cancelled(void *arg)
{
	struct pcap_stat ps;

	pthread_cancel(pthread_self());
	/* Not reached: cancelled inside. */
	return pcap_stats((pcap_t *)arg, &ps) == 0 ? NULL : arg;
}

/*
 * A statistics thread cancelled in pcap_stats() on a promiscuous handle,
 * at its read of the interface's drop counter in sysfs (a cancellation
 * point), leaves nothing behind: the new socket's number of a growth step
 * afterwards is closed at the read after the switch (a call counted as
 * under way for ever would keep it, parked on the selectable descriptor's
 * file, until pcap_close()).
 */
static void
stats_cancelled_promiscuous(void)
{
	pthread_t thread;
	struct bed_tally t;
	uint32_t base = 480000;
	int copies;
	pcap_t *p = bed_create(bed.veth_b);

	MUST(pcap_set_buffer_size(p, 2 * MIB));
	MUST(pcap_set_timeout(p, 50));
	MUST(pcap_set_promisc(p, 1));
	bed_activate(p);
	bed_setnonblock(p);
	if (pthread_create(&thread, NULL, stats_cancelled, p) != 0)
		bed_fatal("pthread_create");
	pthread_join(thread, NULL);
	bed_tally_init(&t, base, BURST);
	bed_send(sender_fd, base, BURST, 1514, 1514, MIX_UDP, NULL);
	bed_sleep(0.2);
	bed_drain(p, bed_tally_cb, (u_char *)&t, &t.packets, BURST, 1.0);
	CHECK(pcap_dispatch(p, -1, bed_tally_cb, (u_char *)&t) >= 0,
	    "a cancelled statistics call: the last read: %s", pcap_geterr(p));
	copies = selectable_copies(p);
	CHECK(bed_ring_mapping_bytes() > 2 * MIB && copies == 1,
	    "a cancelled statistics call, then a step to %lu KiB: %d descriptors of the selectable descriptor's file (want it alone)",
	    bed_ring_mapping_bytes() / 1024, copies);
	if (bed_failures == 0)
		bed_ok("a statistics thread cancelled in a promiscuous handle's pcap_stats(): the step after it closed the new socket's number");
	bed_tally_free(&t);
	pcap_close(p);
}

struct stats_draining {
	struct bed_tally *t;
	pcap_t *p;
	int done, ret1, ret2;
	u_int recv1, recv2;
};

/*
 * bed_tally_cb(), and once the log shows a step but no switch (the old
 * ring draining, the new socket picked): pcap_stats(), 100 frames that
 * go to the new ring, and pcap_stats() again.
 */
static void
tally_stats_draining(u_char *user, const struct pcap_pkthdr *h,
    const u_char *bytes)
{
	struct stats_draining *sd = (struct stats_draining *)user;
	const char *step = strchr(bed_fanout_log.calls, 'R');
	struct pcap_stat ps;

	bed_tally_packet(sd->t, h, bytes);
	if (sd->done || step == NULL || strchr(step, 'P') == NULL ||
	    strchr(step, 'S') != NULL)
		return;
	sd->done = 1;
	sd->ret1 = pcap_stats(sd->p, &ps);
	sd->recv1 = ps.ps_recv;
	bed_send(sender_fd, 470000, 100, 60, 60, MIX_UDP, NULL);
	bed_sleep(0.05);
	sd->ret2 = pcap_stats(sd->p, &ps);
	sd->recv2 = ps.ps_recv;
}

/*
 * While the old ring drains, pcap_stats() counts what the new socket
 * received too: 100 frames sent then raise ps_recv by 100 (the old
 * socket gets none once the step's program picks the new one).
 */
static void
stats_while_draining(void)
{
	struct stats_draining sd;
	struct bed_tally t;
	uint32_t base = 460000;

	memset(&sd, 0, sizeof(sd));
	sd.t = &t;
	sd.p = bed_open_nonblocking(2 * MIB, 50);
	memset(&bed_fanout_log, 0, sizeof(bed_fanout_log));
	bed_tally_init(&t, base, BURST);
	bed_send(sender_fd, base, BURST, 1514, 1514, MIX_UDP, NULL);
	bed_sleep(0.2);
	/* The read that starts the step finds it under way, not yet picked. */
	if (pcap_dispatch(sd.p, 1, tally_stats_draining, (u_char *)&sd) != 1)
		CHECK(0, "the first read found nothing: %s", pcap_geterr(sd.p));
	wait_for_step_picked();
	bed_drain(sd.p, tally_stats_draining, (u_char *)&sd, &t.packets,
	    BURST + 100, 1.0);
	CHECK(sd.done && sd.ret1 == 0 && sd.ret2 == 0 &&
	    sd.recv2 - sd.recv1 == 100,
	    "pcap_stats() while the old ring drains: %s, ps_recv %u, then %u after 100 frames to the new ring: %s (R ring, J join, P program, S switch)",
	    sd.done ? "called" : "never called", sd.recv1, sd.recv2,
	    bed_fanout_log.calls);
	if (bed_failures == 0)
		bed_ok("pcap_stats() while the old ring drains counts the new socket's frames: ps_recv %u, then %u after 100 more",
		    sd.recv1, sd.recv2);
	bed_tally_free(&t);
	pcap_close(sd.p);
}

/*
 * pcap_stats() in the middle of the switch to a larger ring, right after
 * the spare's descriptor is closed, succeeds: the handle no longer reads
 * the closed descriptor's counters.
 */
static void
stats_in_the_switch(void)
{
	struct pcap_stat ps;
	struct bed_tally t;
	uint32_t base = 400000;
	pcap_t *p;

	p = bed_open_nonblocking(2 * MIB, 50);
	stats_at_close_ret = 1;
	stats_at_close = p;
	bed_tally_init(&t, base, BURST);
	bed_send(sender_fd, base, BURST, 1514, 1514, MIX_UDP, NULL);
	bed_sleep(0.2);
	bed_drain(p, bed_tally_cb, (u_char *)&t, &t.packets, BURST, 1.0);
	stats_at_close = NULL;
	CHECK(stats_at_close_ret == 0 && bed_ring_mapping_bytes() > 2 * MIB,
	    "pcap_stats() as the switch closed the spare's descriptor: %s (ring of %lu bytes): %s",
	    stats_at_close_ret == 1 ? "never called" : "failed",
	    bed_ring_mapping_bytes(), stats_at_close_err);
	CHECK(pcap_stats(p, &ps) == 0 && ps.ps_recv == BURST &&
	    t.frames + ps.ps_drop == BURST,
	    "after the switch: %d sent, %lu captured, ps_drop %u, ps_recv %u",
	    BURST, t.frames, ps.ps_drop, ps.ps_recv);
	if (bed_failures == 0)
		bed_ok("pcap_stats() in the middle of the switch to %lu MiB succeeds; %lu captured + %u dropped = %d",
		    bed_ring_mapping_bytes() / MIB, t.frames, ps.ps_drop, BURST);
	bed_tally_free(&t);
	pcap_close(p);
}

/*
 * Two steps, 2 -> 8 -> 32 MiB: 3000 frames fill 2 MiB, then 5000 (7.5 MB)
 * fill the three quarters of 8 MiB that start the next, whose worker
 * is done after the reader has read them all: a read after it switches.
 * In the log, each step's ring ('R') must be followed by its join ('J')
 * with no program set ('P') in between, then by the switch ('P') before
 * the next step.
 */
static void
steps_set_the_program_once(int batched)
{
	const char *how = batched ? "batched" : "plain", *c, *ring;
	static const uint32_t burst[] = { BURST, 5000 };
	struct bed_tally t;
	unsigned long after;
	uint32_t base = 200000;
	unsigned int i, steps = 0, right = 0;
	size_t join, set, next;
	pcap_t *p;

	if (batched)
		setenv("PCAP_RING_TX_BATCH", "8", 1);
	p = bed_open_nonblocking(2 * MIB, 50);
	unsetenv("PCAP_RING_TX_BATCH");
	memset(&bed_fanout_log, 0, sizeof(bed_fanout_log));
	for (i = 0; i < sizeof(burst) / sizeof(burst[0]); i++) {
		bed_tally_init(&t, base, burst[i]);
		bed_send(sender_fd, base, burst[i], 1514, 1514, MIX_UDP, NULL);
		bed_sleep(0.2);
		bed_drain(p, bed_tally_cb, (u_char *)&t, &t.packets, burst[i],
		    1.0);
		bed_tally_free(&t);
		base += burst[i];
	}
	bed_sleep(0.2);
	bed_tally_init(&t, base, 1);
	bed_drain(p, bed_tally_cb, (u_char *)&t, NULL, 0, 0.3);
	bed_tally_free(&t);
	after = bed_ring_mapping_bytes();
	for (c = bed_fanout_log.calls; (ring = strchr(c, 'R')) != NULL;
	    c = ring + 1) {
		join = strcspn(ring, "J");
		set = strcspn(ring, "P");
		next = 1 + strcspn(ring + 1, "R");
		steps++;
		right += join < set && set < next;
	}
	CHECK(steps == 2 && right == 2,
	    "%s: %u steps (%lu bytes mapped), %u of them a ring, a join, then a program set: %s",
	    how, steps, after, right, bed_fanout_log.calls);
	if (bed_failures == 0)
		bed_ok("%s: two steps (%lu MiB mapped), each ring joining under the program set before it, then switched to: %s (R ring, J join, P program)",
		    how, after / MIB, bed_fanout_log.calls);
	pcap_close(p);
}

/*
 * A nanosecond handle's larger ring has the kernel stamp packets as they
 * enter the stack too, after the step closed the socket that first asked
 * for it: a microsecond handle opened beside it stamps alike.
 */
static void
nanosecond_stamps_after_step(void)
{
	struct pcap_stat ps;
	struct bed_tally t;
	unsigned long after;
	unsigned int alike;
	pcap_t *nano, *micro;

	if (!bed_stamps_per_socket(sender_fd))
		return;
	nano = bed_create(bed.veth_b);
	MUST(pcap_set_tstamp_precision(nano, PCAP_TSTAMP_PRECISION_NANO));
	MUST(pcap_set_buffer_size(nano, 2 * MIB));
	MUST(pcap_set_timeout(nano, 50));
	bed_activate(nano);
	bed_setnonblock(nano);
	burst_while_stalled(nano, &t, &ps, 0, 1);
	after = bed_ring_mapping_bytes();
	micro = bed_open_nonblocking(2 * MIB, 50);
	alike = bed_stamps_alike(nano, micro, sender_fd);
	CHECK(after > 2 * MIB && alike == BED_STAMPED_FRAMES,
	    "nanosecond handle grown to %lu bytes: %u of %d frames stamped alike with a microsecond handle",
	    after, alike, BED_STAMPED_FRAMES);
	if (after > 2 * MIB && alike == BED_STAMPED_FRAMES)
		bed_ok("nanosecond handle grown to %lu MiB: all %u frames stamped alike with a microsecond handle",
		    after / MIB, alike);
	pcap_close(micro);
	bed_tally_free(&t);
	pcap_close(nano);
}

/*
 * With a negative timeout the kernel derives a block's retire timer from
 * the speed of the interface the socket is bound to as its ring is made
 * (8 ms if none): a grown ring is asked for as the first, on a socket
 * bound to the interface, in stock's blocks, the timer left to the kernel.
 */
static void
negative_timeout_step(void)
{
	const struct tpacket_req3 *r = &bed_last_rx_ring.req;
	int ifindex = (int)if_nametoindex(bed.veth_b), as_expected;
	struct pcap_stat ps;
	struct bed_tally t;
	unsigned long after;
	pcap_t *p;

	p = bed_open_nonblocking(2 * MIB, -1);
	burst_while_stalled(p, &t, &ps, 0, 1);
	after = bed_ring_mapping_bytes();
	as_expected = after > 2 * MIB &&
	    (uint64_t)r->tp_block_size * r->tp_block_nr == after &&
	    r->tp_block_size == 256 * 1024 && r->tp_retire_blk_tov == 0 &&
	    bed_last_rx_ring.ifindex == ifindex;
	CHECK(as_expected,
	    "timeout -1: ring of %lu bytes after the bursts, last asked for %u blocks of %u retiring after %u ms on interface %d (%s is %d)",
	    after, r->tp_block_nr, r->tp_block_size, r->tp_retire_blk_tov,
	    bed_last_rx_ring.ifindex, bed.veth_b, ifindex);
	if (as_expected)
		bed_ok("timeout -1: grown to %lu MiB in 256 KiB blocks, the kernel's retire timer for %s",
		    after / MIB, bed.veth_b);
	bed_tally_free(&t);
	pcap_close(p);
}

static void
pinned(const char *max)
{
	struct pcap_stat ps;
	struct bed_tally t;
	unsigned long after;
	pcap_t *p;

	if (max != NULL)
		setenv("PCAP_RING_BUFFER_MAX", max, 1);
	else
		unsetenv("PCAP_RING_BUFFER_MAX");
	p = bed_open_nonblocking(2 * MIB, 50);
	setenv("PCAP_RING_BUFFER_MAX", "64", 1);
	burst_while_stalled(p, &t, &ps, 0, 0);
	after = bed_ring_mapping_bytes();
	CHECK(after == 2 * MIB && ps.ps_drop > 0,
	    "PCAP_RING_BUFFER_MAX %s: ring of %lu bytes after the bursts, ps_drop %u",
	    max != NULL ? max : "unset", after, ps.ps_drop);
	if (bed_failures == 0)
		bed_ok("PCAP_RING_BUFFER_MAX %s: the ring stays at 2 MiB (%u dropped)",
		    max != NULL ? max : "unset", ps.ps_drop);
	bed_tally_free(&t);
	pcap_close(p);
}

static void
slow_traffic(void)
{
	struct pcap_stat ps;
	struct bed_tally t;
	unsigned long after;
	uint32_t i;
	pcap_t *p;

	p = bed_open_nonblocking(2 * MIB, 50);
	bed_tally_init(&t, 0, 400);
	for (i = 0; i < 400; i += 20) {
		bed_send(sender_fd, i, 20, 60, 1514, MIX_UDP, NULL);
		bed_drain(p, bed_tally_cb, (u_char *)&t, &t.frames, i + 20, 1.0);
	}
	bed_sleep(0.3);
	after = bed_ring_mapping_bytes();
	CHECK(pcap_stats(p, &ps) == 0, "pcap_stats: %s", pcap_geterr(p));
	bed_tally_check(&t, "slow traffic");
	CHECK(after == 2 * MIB && ps.ps_drop == 0,
	    "slow traffic: ring of %lu bytes, ps_drop %u", after, ps.ps_drop);
	if (bed_failures == 0)
		bed_ok("slow traffic and idle: the ring stays at 2 MiB");
	bed_tally_free(&t);
	pcap_close(p);
}

/* The peer's frames go to the tally; the handle's own are counted. */
struct own_count {
	struct bed_tally *t;
	unsigned long own;
};

static void
count_own(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct own_count *c = (struct own_count *)user;
	int intact;

	if (frame_seq(bytes, h->caplen, h->len, &intact) >= OWN_BASE)
		c->own++;
	else
		bed_tally_packet(c->t, h, bytes);
}

/* The handle injects n frames while the peer sends n; read them all. */
static void
both_ways(pcap_t *p, uint32_t first, uint32_t n, const char *when)
{
	struct bed_tally t;
	struct own_count c = { &t, 0 };
	uint8_t frame[FRAME_MAX_LEN];
	size_t len;
	uint32_t i;

	bed_tally_init(&t, first, n);
	for (i = 0; i < n; i++) {
		len = frame_build(frame, OWN_BASE + first + i, 200, MIX_UDP);
		if (pcap_inject(p, frame, len) != (int)len)
			CHECK(0, "%s: pcap_inject: %s", when, pcap_geterr(p));
	}
	bed_send(sender_fd, first, n, 60, 1514, MIX_UDP, NULL);
	bed_drain(p, count_own, (u_char *)&c, &t.frames, n, 1.0);
	/* Anything the handle would capture of its own is there by now. */
	bed_drain(p, count_own, (u_char *)&c, NULL, 0, 0.3);
	CHECK(t.frames == n && t.dup == 0 && t.reorder == 0 && c.own == 0,
	    "%s: %lu of the peer's %u frames (dup %lu reorder %lu), %lu of its own",
	    when, t.frames, n, t.dup, t.reorder, c.own);
	bed_tally_free(&t);
}

static void
down_up(pcap_t *p, int cycle)
{
	uint8_t frame[FRAME_MAX_LEN];
	size_t len;

	if (bed_sh("ip link set %s down", bed.veth_b) != 0 ||
	    bed_sh("ip link set %s up", bed.veth_b) != 0 ||
	    !bed_wait_link_up(5))
		bed_fatal("cycle %d: the link did not come up again", cycle);
	len = frame_build(frame, OWN_BASE, 200, MIX_UDP);
	if (pcap_inject(p, frame, len) == -1 || pcap_inject_flush(p) == -1) {
		/*
		 * The first send reports the ENETDOWN pending on the socket,
		 * as stock's does; whether this frame goes out does not matter.
		 */
	}
}

static void
batched_down_up(void)
{
	struct pcap_stat ps;
	struct bed_tally t;
	char when[64];
	unsigned long after;
	int cycle;
	pcap_t *p;

	setenv("PCAP_RING_TX_BATCH", "8", 1);
	p = bed_open_nonblocking(2 * MIB, 50);
	unsetenv("PCAP_RING_TX_BATCH");
	both_ways(p, 0, 50, "before any down/up");
	for (cycle = 1; cycle <= 6; cycle++) {
		if (cycle == 4) {
			/* Grow: the group's members change. */
			bed_tally_init(&t, 100000, BURST);
			bed_send(sender_fd, 100000, BURST, 1514, 1514, MIX_UDP,
			    NULL);
			bed_sleep(0.2);
			bed_drain(p, bed_tally_cb, (u_char *)&t, &t.packets,
			    BURST, 1.0);
			bed_tally_free(&t);
			both_ways(p, cycle * 1000 - 500, 50, "after growing");
		}
		down_up(p, cycle);
		snprintf(when, sizeof(when), "after down/up %d", cycle);
		both_ways(p, cycle * 1000, 50, when);
	}
	after = bed_ring_mapping_bytes();
	/* The TX ring is mapped too (512 KiB at MTU 1500). */
	CHECK(after >= 8 * MIB, "the batched handle did not grow: %lu bytes mapped",
	    after);
	CHECK(pcap_stats(p, &ps) == 0, "pcap_stats: %s", pcap_geterr(p));
	if (bed_failures == 0)
		bed_ok("batched: 6 down/up cycles, one growth step (%lu bytes mapped): the peer's frames all captured, none of its own",
		    after);
	pcap_close(p);
}

/* The first transmit, once the bed holds the reader's step. */
static void *
transmit_in_step(void *arg)
{
	double deadline = bed_now() + 20;

	while (!__atomic_load_n(&bed_join_pause.paused, __ATOMIC_ACQUIRE) &&
	    bed_now() < deadline)
		bed_sleep(0.001);
	if (__atomic_load_n(&bed_join_pause.paused, __ATOMIC_ACQUIRE))
		transmit_queue(arg);
	return NULL;
}

/* When a send queue's first transmit sets up the TX ring. */
enum first_transmit {
	IN_STEP_JOIN,		/* another thread, while the step's join is held */
	IN_FAILED_STEP,		/* the same, and the join then fails */
	WHILE_DRAINING		/* the reader's callback, the old ring draining */
};

struct own_count_transmit {
	struct own_count c;
	struct transmit *t;
	int done;
};

/* count_own(), and the first transmit once the log shows a step but no switch. */
static void
count_own_transmit_draining(u_char *user, const struct pcap_pkthdr *h,
    const u_char *bytes)
{
	struct own_count_transmit *ct = (struct own_count_transmit *)user;
	const char *step = strchr(bed_fanout_log.calls, 'R');

	count_own((u_char *)&ct->c, h, bytes);
	if (!ct->done && step != NULL && strchr(step, 'P') != NULL &&
	    strchr(step, 'S') == NULL) {
		ct->done = 1;
		transmit_queue(ct->t);
	}
}

/*
 * A send queue's first pcap_sendqueue_transmit() sets up a TX ring,
 * which joins the handle's fanout group: not while the reader's growth
 * step changes the group (its numbers count the members), nor while the
 * old ring drains (the group's program then picks the new socket, which
 * the reader has not taken over), and without waiting for either (a
 * signal handler may interrupt the reader).  The bed holds the step's
 * join for 0.5 s while another thread transmits, then lets the join
 * through or fails it; or the reader's callback transmits while the old
 * ring drains.  Its frame may be captured.  The log must show the
 * step's R, J, P with nothing of the transmit between them, or R alone
 * when the step failed, and the TX ring's join after the switch (S) or
 * the failed step, before the reader reads again: a later queue's frames
 * are not captured.
 */
static void
tx_ring_joins_after_step(enum first_transmit when)
{
	static const char *const what[] = {
		"in a step's join", "in a failing step's join",
		"while the old ring drains"
	};
	struct transmit first = { NULL, 0, 1, 0, 0, 0 };
	struct transmit later = { NULL, 100, 20, 0, 0, 0 };
	struct bed_tally tally;
	struct own_count_transmit in_step = { { &tally, 0 }, &first, 0 };
	struct own_count after = { &tally, 0 };
	const char *step, *joined_after;
	pthread_t thread;
	uint32_t base = 300000;

	first.p = later.p = bed_open_nonblocking(2 * MIB, 50);
	memset(&bed_fanout_log, 0, sizeof(bed_fanout_log));
	in_step.done = when != WHILE_DRAINING;
	if (when != WHILE_DRAINING) {
		hold_step_join(0.5, when == IN_FAILED_STEP ? EINVAL : 0);
		if (pthread_create(&thread, NULL, transmit_in_step, &first) != 0)
			bed_fatal("pthread_create");
	}
	bed_tally_init(&tally, base, BURST);
	bed_send(sender_fd, base, BURST, 1514, 1514, MIX_UDP, NULL);
	bed_sleep(0.2);
	if (when == WHILE_DRAINING) {
		/* The read that starts the step, before its new socket is picked. */
		if (pcap_dispatch(first.p, 1, count_own_transmit_draining,
		    (u_char *)&in_step) != 1)
			CHECK(0, "the first read found nothing: %s",
			    pcap_geterr(first.p));
		wait_for_step_picked();
	}
	bed_drain(first.p, count_own_transmit_draining, (u_char *)&in_step,
	    &tally.packets, BURST, 1.0);
	if (when != WHILE_DRAINING) {
		pthread_join(thread, NULL);
		release_step_join();
	}
	step = strchr(bed_fanout_log.calls, 'R');
	joined_after = step == NULL ? NULL :
	    strchr(step, when == IN_FAILED_STEP ? 'R' : 'S');
	CHECK(first.queued != 0 && first.sent == first.queued &&
	    first.secs < 0.25,
	    "the transmit %s sent %u of %u bytes in %.3f s (a step's join is held 0.5 s): %s",
	    what[when], first.sent, first.queued, first.secs,
	    pcap_geterr(first.p));
	CHECK(step != NULL && strncmp(step, when == IN_FAILED_STEP ? "R" :
	    "RJP", when == IN_FAILED_STEP ? 1 : 3) == 0 &&
	    joined_after != NULL && strchr(joined_after, 'J') != NULL,
	    "a transmit %s: a step with nothing between its calls, then the TX ring's join after the %s: %s (R ring, J join, P program, S switch)",
	    what[when], when == IN_FAILED_STEP ? "failure" : "switch",
	    bed_fanout_log.calls);
	CHECK((bed_ring_mapping_bytes() > 4 * MIB) == (when != IN_FAILED_STEP),
	    "a transmit %s: %lu bytes mapped", what[when],
	    bed_ring_mapping_bytes());

	transmit_queue(&later);
	bed_drain(later.p, count_own, (u_char *)&after, NULL, 0, 0.3);
	CHECK(later.sent == later.queued && after.own == 0,
	    "a transmit %s, then a queue: %u of %u bytes sent, %lu of its %u frames captured",
	    what[when], later.sent, later.queued, after.own, later.n);
	if (bed_failures == 0)
		bed_ok("a send queue's first transmit %s took %.3f s and joined after it: %s (R ring, J join, P program, S switch); %lu of its frame captured, none of a later queue's %u",
		    what[when], first.secs, bed_fanout_log.calls,
		    in_step.c.own, later.n);
	bed_tally_free(&tally);
	pcap_close(first.p);
}

/*
 * A send queue's first transmit sets up the TX ring.  While the interface
 * is down that fails, naming the device and saying why; once it is up,
 * the next transmit sets the ring up and joins it.  When the kernel
 * refuses the join itself (the bed fails the transmitting thread's
 * PACKET_FANOUT number `refused`), the queue goes out and is seen, and the
 * next transmit joins.  Either way the handle then captures the peer's
 * frames and none of a later queue's.  On a handle that grows (its group
 * formed at activation: the TX ring's is the one join) and on one that
 * does not (the capture socket's join forms it, then the TX ring's: the
 * second refused leaves a group of the capture socket alone).
 */
static void
tx_join_later(int growing, int refused)
{
	const char *how = growing ? "growing" : "not growing";
	const char *what = refused == 0 ? "interface down" : refused == 1 ?
	    "refused join" : "refused second join";
	struct transmit first = { NULL, 200, 5, 0, 0, 0 };
	struct transmit later = { NULL, 300, 20, 0, 0, 0 };
	char first_error[PCAP_ERRBUF_SIZE];
	struct bed_tally t;
	struct own_count c = { &t, 0 };

	if (!growing)
		unsetenv("PCAP_RING_BUFFER_MAX");
	first.p = later.p = bed_open_nonblocking(2 * MIB, 50);
	setenv("PCAP_RING_BUFFER_MAX", "64", 1);
	if (refused) {
		bed_join_pause.thread = pthread_self();
		bed_join_pause.secs = 0;
		bed_join_pause.fail_errno = EINVAL;
		bed_join_pause.skip = refused - 1;
		__atomic_store_n(&bed_join_pause.armed, 1, __ATOMIC_RELEASE);
	} else if (bed_sh("ip link set %s down", bed.veth_b) != 0)
		bed_fatal("ip link set %s down", bed.veth_b);
	transmit_queue(&first);
	snprintf(first_error, sizeof(first_error), "%s", pcap_geterr(first.p));
	if (refused) {
		CHECK(!__atomic_exchange_n(&bed_join_pause.armed, 0,
		    __ATOMIC_ACQ_REL), "%s, %s: the first transmit never joined",
		    how, what);
		bed_join_pause.fail_errno = 0;
		bed_join_pause.skip = 0;
		CHECK(first.sent == first.queued,
		    "%s, %s: the first queue: %u of %u bytes sent: %s",
		    how, what, first.sent, first.queued, first_error);
	} else {
		if (bed_sh("ip link set %s up", bed.veth_b) != 0 ||
		    !bed_wait_link_up(5))
			bed_fatal("%s did not come up again", bed.veth_b);
		CHECK(first.sent == 0 && strstr(first_error, bed.veth_b) != NULL &&
		    strstr(first_error, "not up") != NULL,
		    "%s, %s: the first queue: %u of %u bytes sent: \"%s\"",
		    how, what, first.sent, first.queued, first_error);
	}
	/* The first queue's frames, which may be seen, and what the down interface left. */
	bed_drain(later.p, count_own, (u_char *)&c, NULL, 0, 0.2);
	c.own = 0;
	transmit_queue(&later);
	bed_tally_init(&t, 500000, 50);
	bed_send(sender_fd, 500000, 50, 60, 1514, MIX_UDP, NULL);
	bed_drain(later.p, count_own, (u_char *)&c, &t.frames, 50, 1.0);
	bed_drain(later.p, count_own, (u_char *)&c, NULL, 0, 0.3);
	CHECK(later.sent == later.queued && t.frames == 50 && c.own == 0,
	    "%s, %s: the next queue: %u of %u bytes sent; %lu of the peer's 50 frames and %lu of the queue's %u captured",
	    how, what, later.sent, later.queued, t.frames, c.own, later.n);
	if (bed_failures == 0)
		bed_ok("%s, %s at a send queue's first transmit (\"%s\"): the next transmit joins the group; the peer's 50 frames captured, none of the queue's %u",
		    how, what, first_error, later.n);
	bed_tally_free(&t);
	pcap_close(later.p);
}

/*
 * The read that starts a step does not wait for the kernel: the bed holds
 * the step's join (whichever thread makes it) for 0.5 s, and the read
 * returns its packet at once; reads meanwhile get the old ring's packets,
 * and once the join is let through the new socket is picked.
 */
static void
read_not_held_by_step(void)
{
	struct bed_tally t;
	double took;
	pcap_t *p = bed_open_nonblocking(2 * MIB, 50);

	hold_step_join(0.5, 0);
	bed_tally_init(&t, 0, BURST);
	bed_send(sender_fd, 0, BURST, 1514, 1514, MIX_UDP, NULL);
	bed_sleep(0.2);
	memset(&bed_fanout_log, 0, sizeof(bed_fanout_log));
	took = bed_now();
	if (pcap_dispatch(p, 1, bed_tally_cb, (u_char *)&t) != 1)
		CHECK(0, "the first read found nothing: %s", pcap_geterr(p));
	took = bed_now() - took;
	bed_drain(p, bed_tally_cb, (u_char *)&t, &t.frames, 1000, 1.0);
	wait_for_step_picked();
	release_step_join();
	CHECK(took < 0.25 &&
	    __atomic_load_n(&bed_join_pause.paused, __ATOMIC_ACQUIRE) &&
	    t.frames >= 1000,
	    "the read that started a step took %.3f s (its join held 0.5 s: %s), %lu frames read meanwhile",
	    took, bed_join_pause.paused ? "held" : "never made", t.frames);
	if (bed_failures == 0)
		bed_ok("the read that started a step returned in %.3f s while its join was held 0.5 s; %lu frames read meanwhile, then the new socket picked: %s",
		    took, t.frames, bed_fanout_log.calls);
	bed_tally_free(&t);
	pcap_close(p);
}

/*
 * A fork() while a step's worker runs (the bed holds its join 0.5 s)
 * waits for the worker, so that the child finds the rings and the group
 * as the worker left them: the child reads the rest of the burst from
 * the old ring and then the frames sent to the new one, without spinning
 * on a wake-up meant for its parent (which does not read), and closes
 * the handle.
 */
static void
fork_during_step(void)
{
	struct rusage used;
	struct bed_tally t;
	double forked;
	pid_t pid;
	int status;
	pcap_t *p = bed_open_nonblocking(2 * MIB, 50);

	hold_step_join(0.5, 0);
	bed_tally_init(&t, 0, BURST + 200);
	bed_send(sender_fd, 0, BURST, 1514, 1514, MIX_UDP, NULL);
	bed_sleep(0.2);
	if (pcap_dispatch(p, 1, bed_tally_cb, (u_char *)&t) != 1)
		CHECK(0, "the first read found nothing: %s", pcap_geterr(p));
	while (!__atomic_load_n(&bed_join_pause.paused, __ATOMIC_ACQUIRE))
		bed_sleep(0.001);
	fflush(stdout);
	forked = bed_now();
	pid = fork();
	if (pid == -1)
		bed_fatal("fork");
	if (pid == 0) {
		bed_failures = 0;
		alarm(10);
		bed_send(sender_fd, BURST, 200, 1514, 1514, MIX_UDP, NULL);
		bed_drain(p, bed_tally_cb, (u_char *)&t, NULL, 0, 1.0);
		getrusage(RUSAGE_SELF, &used);
		CHECK(seen(&t, BURST, 200) == 200 && t.dup == 0 &&
		    used.ru_utime.tv_sec + used.ru_stime.tv_sec == 0 &&
		    used.ru_utime.tv_usec + used.ru_stime.tv_usec < 300000,
		    "a child forked during a step: %lu of the 200 frames sent to the new ring, dup %lu, %ld.%06ld s user + %ld.%06ld s system in 1 s of select() and reads",
		    seen(&t, BURST, 200), t.dup, (long)used.ru_utime.tv_sec,
		    (long)used.ru_utime.tv_usec, (long)used.ru_stime.tv_sec,
		    (long)used.ru_stime.tv_usec);
		pcap_close(p);
		fflush(stdout);
		_exit(bed_failures != 0);
	}
	forked = bed_now() - forked;
	if (waitpid(pid, &status, 0) != pid)
		bed_fatal("waitpid: %s", strerror(errno));
	release_step_join();
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "a child forked during a step failed (status %#x)", status);
	CHECK(forked > 0.2, "fork() during a step returned in %.3f s, before the step's held join (0.5 s)",
	    forked);
	if (bed_failures == 0)
		bed_ok("fork() during a step waited %.3f s for the worker; the child read on into the new ring and closed the handle",
		    forked);
	bed_tally_free(&t);
	pcap_close(p);
}

/*
 * A program that puts a handle's capture socket in a fanout group of its
 * own (through pcap_fileno(), as multi-process capture does) and then
 * transmits send queues: the TX ring cannot join that group; the first
 * transmit asks the kernel once, later ones do not ask again, every
 * queue goes out whole, the handle captures their frames (all of them:
 * the group has one member), and the group stays the program's.
 */
static void
program_group_send_queue(void)
{
	struct transmit q = { NULL, 600, 20, 0, 0, 0 };
	int group = 0x7e57 | PACKET_FANOUT_HASH << 16;
	struct bed_tally t;
	struct own_count c = { &t, 0 };
	const char *refused;
	int i;

	unsetenv("PCAP_RING_BUFFER_MAX");
	q.p = bed_open_nonblocking(2 * MIB, 50);
	setenv("PCAP_RING_BUFFER_MAX", "64", 1);
	if (setsockopt(pcap_fileno(q.p), SOL_PACKET, PACKET_FANOUT, &group,
	    sizeof(group)) == -1)
		bed_fatal("setsockopt PACKET_FANOUT: %s", strerror(errno));
	memset(&bed_fanout_log, 0, sizeof(bed_fanout_log));
	for (i = 0; i < 3; i++) {
		transmit_queue(&q);
		CHECK(q.sent == q.queued,
		    "a program's own group: transmit %d: %u of %u bytes sent: %s",
		    i + 1, q.sent, q.queued, pcap_geterr(q.p));
	}
	bed_tally_init(&t, 0, 1);
	bed_drain(q.p, count_own, (u_char *)&c, &c.own, 3 * q.n, 1.0);
	CHECK(c.own == 3 * q.n,
	    "a program's own group: %lu of the three queues' %u frames captured",
	    c.own, 3 * q.n);
	/* Before it, the process's probe of group ids, if not yet made. */
	refused = strchr(bed_fanout_log.calls, 'j');
	CHECK(calls_logged('j') == 1 && strchr(refused, 'J') == NULL &&
	    capture_group(q.p) == group,
	    "a program's own group: fanout calls through three transmits \"%s\" (want one refused join, j, and no join after it), capture socket's group %#x (want the program's %#x)",
	    bed_fanout_log.calls, (unsigned int)capture_group(q.p),
	    (unsigned int)group);
	if (bed_failures == 0)
		bed_ok("a program's own group on the capture socket: three send queues of %u frames went out whole and were captured, the kernel asked once (\"%s\"), the group still the program's",
		    q.n, bed_fanout_log.calls);
	bed_tally_free(&t);
	pcap_close(q.p);
}

/*
 * A step taken while the kernel still fills a block (a long retire
 * timeout, a burst past three quarters of the ring but not filling it):
 * the reader must take that open block from the old ring too.
 */
static void
open_block_at_switch(void)
{
	struct pcap_stat ps;
	struct bed_tally t;
	unsigned long after;
	pcap_t *p = bed_open_nonblocking(2 * MIB, 10000);

	bed_tally_init(&t, 0, 1100);
	bed_send(sender_fd, 0, 1100, 1514, 1514, MIX_UDP, NULL);
	bed_sleep(0.3);
	bed_drain(p, bed_tally_cb, (u_char *)&t, &t.frames, 1100, 2.0);
	after = bed_ring_mapping_bytes();
	CHECK(pcap_stats(p, &ps) == 0, "pcap_stats: %s", pcap_geterr(p));
	CHECK(after > 2 * MIB && t.frames == 1100 && t.dup == 0 &&
	    t.reorder == 0 && ps.ps_drop == 0,
	    "open block at the switch: ring of %lu bytes, %lu of 1100 frames (dup %lu, reorder %lu), ps_drop %u",
	    after, t.frames, t.dup, t.reorder, ps.ps_drop);
	if (bed_failures == 0)
		bed_ok("open block at the switch: grew to %lu bytes, all 1100 frames once, in order",
		    after);
	bed_tally_free(&t);
	pcap_close(p);
}

/*
 * Read one packet per poll() of the selectable descriptor, as dumpcap
 * does, until the tally has want frames or poll() waited 2 s for
 * nothing; the number of such waits.
 */
static int
one_per_poll(pcap_t *p, struct bed_tally *t, unsigned long want)
{
	struct pollfd pfd = { pcap_get_selectable_fd(p), POLLIN, 0 };

	bed_deadline(60, "reading one packet per poll()");
	while (t->frames < want) {
		if (poll(&pfd, 1, 2000) == 0) {
			bed_deadline_clear();
			return 1;
		}
		if (pcap_dispatch(p, 1, bed_tally_cb, (u_char *)t) < 0) {
			CHECK(0, "pcap_dispatch: %s", pcap_geterr(p));
			break;
		}
	}
	bed_deadline_clear();
	return 0;
}

/*
 * A step taken while the kernel fills a block with a long retire timeout
 * (the burst past three quarters of the ring): the old socket is not
 * readable for that block, so a loop that polls before each packet
 * stalls there; the new ring's packets must wake it, not the old ring's
 * timer 10 s later.  The new ring's own open block waits for its timer,
 * as any block does: the check stops short of it.
 */
static void
open_block_one_per_poll(void)
{
	struct pcap_stat ps;
	struct bed_tally t;
	unsigned long first;
	int stalled;
	pcap_t *p = bed_open_nonblocking(2 * MIB, 10000);

	bed_tally_init(&t, 0, 2600);
	bed_send(sender_fd, 0, 1100, 1514, 1514, MIX_UDP, NULL);
	bed_sleep(0.3);
	(void)one_per_poll(p, &t, 1100);
	first = t.frames;
	/* Blocks of the new ring that fill, and retire, at once. */
	bed_send(sender_fd, 1100, 1500, 1514, 1514, MIX_UDP, NULL);
	stalled = one_per_poll(p, &t, 2100);
	CHECK(pcap_stats(p, &ps) == 0, "pcap_stats: %s", pcap_geterr(p));
	CHECK(!stalled && seen(&t, 0, 2100) == 2100 && t.dup == 0 &&
	    t.reorder == 0 && ps.ps_drop == 0,
	    "one packet per poll across an open block: %lu read before it, then %s, %lu of frames 0-2099 (dup %lu, reorder %lu), ps_drop %u",
	    first, stalled ? "poll() waited 2 s with packets in the new ring" :
	    "no stall", seen(&t, 0, 2100), t.dup, t.reorder, ps.ps_drop);
	if (bed_failures == 0)
		bed_ok("one packet per poll across an open block: %lu read before it, then woken by the new ring, frames 0-2099 once, in order",
		    first);
	bed_tally_free(&t);
	pcap_close(p);
}

/* Frames first..first+n-1 from the peer, read as they come: all of them, once, in order. */
static void
frames_arrive(pcap_t *p, uint32_t first, uint32_t n, const char *what)
{
	struct bed_tally t;

	bed_tally_init(&t, first, n);
	bed_send(sender_fd, first, n, 60, 1514, MIX_UDP, NULL);
	bed_drain(p, bed_tally_cb, (u_char *)&t, &t.frames, n, 1.0);
	bed_tally_check(&t, what);
	bed_tally_free(&t);
}

/*
 * A forked child that holds all the parent's descriptors, the capture
 * socket among them, until the parent closes *release_fd.
 */
static pid_t
fork_holder(int *release_fd)
{
	int pipefd[2];
	char c;
	pid_t pid;

	if (pipe(pipefd) == -1 || (pid = fork()) == -1)
		bed_fatal("pipe or fork");
	if (pid == 0) {
		close(pipefd[1]);
		while (read(pipefd[0], &c, 1) > 0)
			continue;
		_exit(0);
	}
	close(pipefd[0]);
	*release_fd = pipefd[1];
	return pid;
}

static void
copy_held_across_step(int child, int batched)
{
	char what[128];
	const char *how = child ? "a forked child" : "a dup()";
	const char *kind = batched ? "batched" : "plain";
	struct pcap_stat ps;
	struct bed_tally t;
	unsigned long sent = 2 * BURST, captured, after;
	int held, status;
	pid_t pid = -1;
	pcap_t *p;

	if (batched)
		setenv("PCAP_RING_TX_BATCH", "8", 1);
	p = bed_open_nonblocking(2 * MIB, 50);
	unsetenv("PCAP_RING_TX_BATCH");
	if (child)
		pid = fork_holder(&held);
	else
		held = dup(pcap_fileno(p));

	burst_while_stalled(p, &t, &ps, 0, 1);
	captured = t.frames;
	bed_tally_free(&t);
	after = bed_ring_mapping_bytes();
	CHECK(after > 2 * MIB + (batched ? MIB : 0),
	    "%s handle, %s holding the socket: the ring did not grow (%lu bytes mapped)",
	    kind, how, after);
	snprintf(what, sizeof(what), "%s handle, after the step, %s holding the old socket",
	    kind, how);
	frames_arrive(p, 10000, 200, what);
	close(held);
	if (child && waitpid(pid, &status, 0) != pid)
		bed_fatal("waitpid");
	snprintf(what, sizeof(what), "%s handle, after the step, %s gone",
	    kind, how);
	frames_arrive(p, 20000, 200, what);
	sent += 400;
	captured += 400;	/* counted by the checks above */
	CHECK(pcap_stats(p, &ps) == 0, "pcap_stats: %s", pcap_geterr(p));
	CHECK(ps.ps_recv == sent && captured + ps.ps_drop == sent,
	    "%s handle, %s: %lu sent, ps_recv %u, ps_drop %u",
	    kind, how, sent, ps.ps_recv, ps.ps_drop);
	pcap_close(p);
}

/*
 * Growth without /proc/net/packet (an empty directory over /proc/PID/net,
 * in a mount namespace of this process's own): one step, then the ring
 * stays.
 */
static void
no_packet_list(void)
{
	struct pcap_stat ps;
	struct bed_tally t;
	unsigned long sent = 2 * BURST, captured, after;
	char net[64];
	pcap_t *p;

	snprintf(net, sizeof(net), "/proc/%d/net", (int)getpid());
	if (unshare(CLONE_NEWNS) == -1 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1 ||
	    mount("none", net, "tmpfs", 0, NULL) == -1) {
		bed_skip_case("no /proc/net/packet: cannot hide it here");
		return;
	}
	CHECK(access("/proc/net/packet", F_OK) == -1,
	    "no /proc/net/packet: it is still there");
	p = bed_open_nonblocking(2 * MIB, 50);
	burst_while_stalled(p, &t, &ps, 0, 1);
	captured = t.frames;
	bed_tally_free(&t);
	/* Three quarters of 8 MiB and more, which would grow it again. */
	bed_tally_init(&t, 100000, 2 * BURST);
	bed_send(sender_fd, 100000, 2 * BURST, 1514, 1514, MIX_UDP, NULL);
	bed_sleep(0.2);
	bed_drain(p, bed_tally_cb, (u_char *)&t, &t.packets, 2 * BURST, 1.0);
	sent += 2 * BURST;
	captured += t.frames;
	CHECK(t.dup == 0 && t.reorder == 0 && t.bad == 0,
	    "no /proc/net/packet: dup %lu reorder %lu bad %lu", t.dup,
	    t.reorder, t.bad);
	bed_tally_free(&t);
	after = bed_ring_mapping_bytes();
	frames_arrive(p, 200000, 200, "no /proc/net/packet, after the step");
	sent += 200;
	captured += 200;	/* counted by frames_arrive() */
	CHECK(pcap_stats(p, &ps) == 0, "pcap_stats: %s", pcap_geterr(p));
	CHECK(after == 8 * MIB && ps.ps_recv == sent &&
	    captured + ps.ps_drop == sent,
	    "no /proc/net/packet: ring of %lu bytes after two bursts; %lu sent, ps_recv %u, %lu captured + ps_drop %u",
	    after, sent, ps.ps_recv, captured, ps.ps_drop);
	if (bed_failures == 0)
		bed_ok("no /proc/net/packet: one step to %lu MiB and no more, %lu captured + %u dropped = %lu sent",
		    after / MIB, captured, ps.ps_drop, sent);
	pcap_close(p);
	(void)umount2(net, MNT_DETACH);
}

/* The trace says that growth was cut short, to how many steps and what size. */
static void
traced_cut_short(int steps, int wanted, unsigned int kib, int cap_mib)
{
	char tail[256];

	snprintf(tail, sizeof(tail),
	    "]: growth cut short on %s, short of descriptors: %d of %d steps, a ring of %u KiB at most, not %d MiB\n",
	    bed.veth_b, steps, wanted, kib, cap_mib);
	CHECK(bed_traced(tail), "short of descriptors: the trace (%s) has no line ending in \"%s\"",
	    getenv("PCAP_RING_TRACE"), tail);
}

/*
 * The ring (the bytes mapped) of a handle that asked for no size, opened
 * with PCAP_RING_BUFFER_MAX=cap and, when left is not 0, with only left
 * descriptors free.  The handle is closed again.
 */
static unsigned long
ring_at_open(int cap, int left)
{
	struct bed_fd_limit lim;
	unsigned long bytes;
	char mib[16];
	pcap_t *p;

	snprintf(mib, sizeof(mib), "%d", cap);
	setenv("PCAP_RING_BUFFER_MAX", mib, 1);
	if (left != 0)
		bed_descriptors_leave(&lim, left);
	p = bed_open_nonblocking(0, 50);
	if (left != 0)
		bed_descriptors_restore(&lim);
	setenv("PCAP_RING_BUFFER_MAX", "64", 1);
	bytes = bed_ring_mapping_bytes();
	pcap_close(p);
	return bytes;
}

/*
 * A process short of descriptors: activation succeeds, and the ring grows
 * as far as the spare sockets it could open allow.  Fourteen left: the
 * capture socket, twelve held back (four the handle opens after the
 * spares, eight for the program), and one spare: one step, to 8 MiB, then
 * no more.
 */
static void
short_of_descriptors(void)
{
	struct bed_fd_limit lim;
	struct pcap_stat ps;
	struct bed_tally t;
	unsigned long after;
	int cap;
	pcap_t *p;

	bed_descriptors_leave(&lim, 14);
	p = bed_open_nonblocking(2 * MIB, 50);
	bed_descriptors_restore(&lim);
	burst_while_stalled(p, &t, &ps, 0, 1);
	bed_tally_free(&t);
	/* Three quarters of 8 MiB and more, which would grow it again. */
	bed_tally_init(&t, 100000, 2 * BURST);
	bed_send(sender_fd, 100000, 2 * BURST, 1514, 1514, MIX_UDP, NULL);
	bed_sleep(0.2);
	bed_drain(p, bed_tally_cb, (u_char *)&t, &t.packets, 2 * BURST, 1.0);
	bed_tally_free(&t);
	after = bed_ring_mapping_bytes();
	CHECK(after == 8 * MIB,
	    "short of descriptors: ring of %lu bytes after two bursts (one spare: 8 MiB)",
	    after);
	traced_cut_short(1, 3, 8 * 1024, 64);
	if (bed_failures == 0)
		bed_ok("short of descriptors: activated, one step to 8 MiB and no more");
	pcap_close(p);

	/* One step would stay below the 32 MiB a size-less handle gets without growth. */
	after = ring_at_open(64, 14);
	CHECK(after == 32 * MIB,
	    "short of descriptors, no size asked: ring of %lu bytes (the default: 32 MiB)",
	    after);
	traced_cut_short(0, 3, 32 * 1024, 64);
	if (bed_failures == 0)
		bed_ok("short of descriptors, no size asked: the 32 MiB default, not one step from 2 MiB");

	/* A cap below the default is the user's: 2 MiB, growing to 8, not 32. */
	after = ring_at_open(8, 0);
	CHECK(after == 2 * MIB,
	    "no size asked, cap 8 MiB: ring of %lu bytes (2 MiB, growing to 8)",
	    after);
	if (bed_failures == 0)
		bed_ok("no size asked, cap 8 MiB: starts at 2 MiB, within the cap");

	/* Short of descriptors, a cap below the default is still the cap. */
	after = ring_at_open(8, 13);
	CHECK(after == 8 * MIB,
	    "no size asked, cap 8 MiB, no spare: ring of %lu bytes (the cap: 8 MiB)",
	    after);
	traced_cut_short(0, 1, 8 * 1024, 8);
	if (bed_failures == 0)
		bed_ok("no size asked, cap 8 MiB, no spare: a ring of the cap, not the 32 MiB default");

	/* A cap at or below the start: the cap, not the 32 MiB default. */
	for (cap = 1; cap <= 2; cap++) {
		after = ring_at_open(cap, 0);
		CHECK(after == (unsigned long)cap * MIB,
		    "no size asked, cap %d MiB: ring of %lu bytes", cap, after);
	}
	if (bed_failures == 0)
		bed_ok("no size asked, cap 1 or 2 MiB: a ring of the cap");
}

/*
 * The spare sockets, and a batched handle's TX socket, are the module's
 * own: close-on-exec, lest a child the program execs (tcpdump -z's
 * compressor) hold raw sockets, and the spares, which it would keep
 * open in the parent's stead.  The capture socket stays open across
 * exec, as stock's does.
 */
/*
 * The process's packet sockets but the sender's: how many are
 * close-on-exec, and whether p's capture socket is open across exec (any
 * other that is fails the check).
 */
static int
packet_sockets(pcap_t *p, const char *what, int *capture_inherited)
{
	int fd, domain, flags, own = 0;
	socklen_t len;

	*capture_inherited = 0;
	for (fd = 0; fd < 1024; fd++) {
		len = sizeof(domain);
		if (fd == sender_fd || (flags = fcntl(fd, F_GETFD)) == -1 ||
		    getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) == -1 ||
		    domain != AF_PACKET)
			continue;
		if (flags & FD_CLOEXEC)
			own++;
		else if (fd == pcap_fileno(p))
			*capture_inherited = 1;
		else
			CHECK(0, "%s: packet socket %d (not the capture socket, %d) stays open across exec",
			    what, fd, pcap_fileno(p));
	}
	return own;
}

static void
own_sockets_close_on_exec(int batched)
{
	const char *what = batched ? "batched" : "plain";
	/* Three steps from 2 MiB to 64; a batched handle's dummies and TX socket. */
	int want = batched ? 3 * 2 + 1 + 1 : 3;
	int own, inherited;
	pcap_t *p;

	if (batched)
		setenv("PCAP_RING_TX_BATCH", "8", 1);
	p = bed_open_nonblocking(2 * MIB, 50);
	unsetenv("PCAP_RING_TX_BATCH");
	own = packet_sockets(p, what, &inherited);
	CHECK(own == want && inherited == 1,
	    "%s: %d close-on-exec packet sockets (want %d), capture socket open across exec: %s",
	    what, own, want, inherited ? "yes" : "no");
	if (bed_failures == 0)
		bed_ok("%s: the module's %d own sockets are close-on-exec, the capture socket is not",
		    what, own);
	pcap_close(p);
}

/*
 * Every later setsockopt(PACKET_FANOUT) of this process fails with
 * ENOMEM, as the kernel's allocation of a group member could.
 */
static void
fanout_joins_fail(void)
{
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_setsockopt, 0, 5),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SECCOMP_ARG_LOW(1)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SOL_PACKET, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SECCOMP_ARG_LOW(2)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_FANOUT, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOMEM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};

	bed_seccomp(code, sizeof(code) / sizeof(code[0]));
}

static void *
nothing(void *arg)
{
	return arg;
}

/*
 * From now on this process can start no thread, as under a sandbox's
 * filter: clone3() is not there (glibc then tries clone()), clone() is
 * refused.
 */
static void
threads_refused(void)
{
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, nr)),
#ifdef __NR_clone3
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone3, 2, 0),
#else
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone, 2, 0),
#endif
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone, 2, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
	};

	bed_seccomp(code, sizeof(code) / sizeof(code[0]));
}

/*
 * A program that sandboxes itself after activation, where no thread can
 * be started: the step's waits are the reader's again, and the ring
 * grows.  In a child, which the filter cannot outlive.
 */
static void
step_in_thread_sandbox(void)
{
	struct pcap_stat ps;
	struct bed_tally t;
	unsigned long after;
	pthread_t thread;
	pcap_t *p = bed_open_nonblocking(2 * MIB, 50);

	threads_refused();
	CHECK(pthread_create(&thread, NULL, nothing, NULL) == EPERM,
	    "sandboxed: the filter does not refuse threads");
	burst_while_stalled(p, &t, &ps, 0, 1);
	after = bed_ring_mapping_bytes();
	CHECK(after > 2 * MIB && seen(&t, BURST, BURST) == BURST,
	    "sandboxed: %lu bytes mapped after a burst, %lu of the second burst's %d frames",
	    after, seen(&t, BURST, BURST), BURST);
	if (bed_failures == 0)
		bed_ok("a program whose sandbox refuses threads: grown to %lu MiB without one, all %d frames of the second burst",
		    after / MIB, BURST);
	bed_tally_free(&t);
	pcap_close(p);
}

/*
 * A batched handle's step ends with a new dummy, newer than the capture
 * socket, joining the group in the old one's place.  When that join
 * fails, the handle stops growing and loses nothing, the old dummy leaves
 * too (two members re-link in the right order, the old dummy would have
 * been in the middle), no error text is left behind, and no descriptor
 * outlives the handle.  In a child, which the seccomp filter cannot
 * outlive.
 */
static void
dummy_join_fails(void)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_stat ps;
	struct bed_tally t;
	int before, arg = 0, own, inherited;
	unsigned long mapped;
	pcap_t *p;

	before = bed_count_fds();
	setenv("PCAP_RING_TX_BATCH", "8", 1);
	p = bed_open_nonblocking(2 * MIB, 50);
	unsetenv("PCAP_RING_TX_BATCH");
	bed_tally_init(&t, 0, 2 * BURST);
	bed_send(sender_fd, 0, BURST, 1514, 1514, MIX_UDP, NULL);
	bed_sleep(0.2);
	/* The first read steps; the switch, after the drain, fails. */
	if (pcap_dispatch(p, 1, bed_tally_cb, (u_char *)&t) != 1)
		CHECK(0, "the first read found nothing: %s", pcap_geterr(p));
	fanout_joins_fail();
	CHECK(setsockopt(-1, SOL_PACKET, PACKET_FANOUT, &arg,
	    sizeof(arg)) == -1 && errno == ENOMEM,
	    "the seccomp filter does not fail PACKET_FANOUT: %s",
	    strerror(errno));
	snprintf(errbuf, sizeof(errbuf), "%s", pcap_geterr(p));
	bed_drain(p, bed_tally_cb, (u_char *)&t, &t.packets, BURST, 1.0);
	CHECK(strcmp(errbuf, pcap_geterr(p)) == 0,
	    "dummy's join failed: pcap_geterr() was \"%s\", now \"%s\"",
	    errbuf, pcap_geterr(p));
	/* Growth stopped: the TX socket and the capture socket, no spare. */
	own = packet_sockets(p, "dummy's join failed", &inherited);
	CHECK(own == 1 && inherited == 1,
	    "dummy's join failed: %d close-on-exec packet sockets (want the TX socket alone), capture socket %s",
	    own, inherited ? "there" : "missing");
	mapped = bed_ring_mapping_bytes();
	CHECK(mapped >= 8 * MIB && mapped < 10 * MIB,
	    "dummy's join failed: %lu bytes mapped (want the 8 MiB ring and the TX ring)",
	    mapped);
	bed_send(sender_fd, BURST, BURST, 1514, 1514, MIX_UDP, NULL);
	bed_drain(p, bed_tally_cb, (u_char *)&t, &t.packets, 2 * BURST, 1.0);
	CHECK(pcap_stats(p, &ps) == 0, "pcap_stats: %s", pcap_geterr(p));
	CHECK(seen(&t, BURST, BURST) == BURST && t.dup == 0 &&
	    t.frames + ps.ps_drop == 2 * BURST,
	    "dummy's join failed: %lu of the second burst's %d frames, %lu captured + %u dropped of %d, dup %lu",
	    seen(&t, BURST, BURST), BURST, t.frames, ps.ps_drop, 2 * BURST,
	    t.dup);
	bed_tally_free(&t);
	down_up(p, 1);
	both_ways(p, 10 * BURST, 50, "dummy's join failed, then down/up");
	pcap_close(p);
	CHECK(bed_count_fds() == before,
	    "dummy's join failed: %d descriptors after pcap_close(), %d before the handle",
	    bed_count_fds(), before);
	if (bed_failures == 0)
		bed_ok("batched, the new dummy's join failed: growth stopped, every frame captured, also after a down/up, and no descriptor left");
}

/*
 * The reader that empties the old ring is cancelled meanwhile (a cancel
 * from its own callback, pending until a cancellation point): the step's
 * close() and reads of /proc are such points, where the old ring is
 * unmapped already.  The step completes, the cancellation acts after the
 * read, and the next read, on another thread, gets the rest.
 */
static void
cancel_on_first(u_char *user, const struct pcap_pkthdr *h,
    const u_char *bytes)
{
	struct bed_tally *t = (struct bed_tally *)user;

	if (t->packets == 0)
		pthread_cancel(pthread_self());
	bed_tally_packet(t, h, bytes);
}

struct drainer {
	pcap_t *p;
	struct bed_tally *t;
};

static void *
drain_then_cancel(void *arg)
{
	struct drainer *d = arg;

	if (pcap_dispatch(d->p, -1, cancel_on_first, (u_char *)d->t) < 0)
		bed_fatal("pcap_dispatch: %s", pcap_geterr(d->p));
	pthread_testcancel();
	return NULL;
}

static void
cancelled_while_switching(void)
{
	struct drainer d;
	struct pcap_stat ps;
	struct bed_tally t;
	pthread_t tid;
	void *ret;
	pcap_t *p;

	p = bed_open_nonblocking(2 * MIB, 50);
	bed_tally_init(&t, 0, 2 * BURST);
	bed_send(sender_fd, 0, BURST, 1514, 1514, MIX_UDP, NULL);
	bed_sleep(0.2);
	/* The first read steps: the old ring now drains. */
	memset(&bed_fanout_log, 0, sizeof(bed_fanout_log));
	if (pcap_dispatch(p, 1, bed_tally_cb, (u_char *)&t) != 1)
		CHECK(0, "the first read found nothing: %s", pcap_geterr(p));
	wait_for_step_picked();
	bed_send(sender_fd, BURST, BURST, 1514, 1514, MIX_UDP, NULL);
	bed_sleep(0.2);
	d.p = p;
	d.t = &t;
	t.packets = 0;
	if (pthread_create(&tid, NULL, drain_then_cancel, &d) != 0)
		bed_fatal("pthread_create");
	pthread_join(tid, &ret);
	CHECK(ret == PTHREAD_CANCELED, "the reader was not cancelled");
	bed_drain(p, bed_tally_cb, (u_char *)&t, &t.frames, 2 * BURST, 1.0);
	CHECK(pcap_stats(p, &ps) == 0, "pcap_stats: %s", pcap_geterr(p));
	CHECK(bed_ring_mapping_bytes() > 2 * MIB,
	    "the ring did not grow: %lu bytes", bed_ring_mapping_bytes());
	CHECK(seen(&t, BURST, BURST) == BURST && t.dup == 0 &&
	    t.frames + ps.ps_drop == 2 * BURST,
	    "a reader cancelled while the old ring drained: %lu of the second burst's %d frames, %lu captured + %u dropped of %d, dup %lu",
	    seen(&t, BURST, BURST), BURST, t.frames, ps.ps_drop, 2 * BURST,
	    t.dup);
	if (bed_failures == 0)
		bed_ok("a reader cancelled while the old ring drained: the step completed, and the next read got all %d frames of the second burst",
		    BURST);
	bed_tally_free(&t);
	pcap_close(p);
}

int
main(int argc, char **argv)
{
	bed_enter(argc, argv, "ring");
	sender_fd = bed_sender(bed.ns_a, bed.veth_a);
	/* Growth is opted into; 64 MiB is the cap the README suggests. */
	setenv("PCAP_RING_BUFFER_MAX", "64", 1);
	/* First: their children must inherit no kernel answer. */
	for (probe_case = OLD_KERNEL; probe_case <= NOT_NEEDED; probe_case++)
		bed_in_child(group_ids_probe, "fanout group ids");
	grows_on_burst(0);
	grows_on_burst(1);
	steps_set_the_program_once(0);
	steps_set_the_program_once(1);
	stats_in_the_switch();
	stats_from_another_thread();
	stats_while_draining();
	stats_cancelled_promiscuous();
	nanosecond_stamps_after_step();
	negative_timeout_step();
	open_block_at_switch();
	open_block_one_per_poll();
	slow_traffic();
	pinned("0");
	pinned(NULL);
	batched_down_up();
	tx_ring_joins_after_step(IN_STEP_JOIN);
	tx_ring_joins_after_step(IN_FAILED_STEP);
	tx_ring_joins_after_step(WHILE_DRAINING);
	tx_join_later(1, 0);
	tx_join_later(0, 0);
	tx_join_later(1, 1);
	tx_join_later(0, 1);
	tx_join_later(0, 2);
	program_group_send_queue();
	read_not_held_by_step();
	fork_during_step();
	bed_in_child(step_in_thread_sandbox, "sandboxed");
	copy_held_across_step(0, 0);
	copy_held_across_step(1, 0);
	copy_held_across_step(0, 1);
	copy_held_across_step(1, 1);
	short_of_descriptors();
	own_sockets_close_on_exec(0);
	own_sockets_close_on_exec(1);
	bed_in_child(dummy_join_fails, "dummy's join failed");
	cancelled_while_switching();
	/* Last: it leaves this process in a mount namespace of its own. */
	no_packet_list();
	return bed_finish();
}
