/*
 * One thread injects while another reads the same handle, as scapy's
 * threaded sniffers do next to sendp(): with stock that is send() next to
 * the read, and with batching (PCAP_RING_TX_BATCH) the read's flush and
 * the injection change the same TX ring.  The peer must receive every
 * injected frame once, intact, and the counters must account for each.
 * In order only where the threads share one CPU (the last two rounds):
 * frames sent from two CPUs (the reader's flush sends some) may reach the
 * peer's socket out of order, as a thread that migrates between stock's
 * send()s may see too.  The peer sends traffic meanwhile,
 * so that the reader's calls return (and flush) all the time.  Run with
 * both libraries.
 *
 * Also (ring only: stock's selectable descriptor is not readable for
 * frames to send): a reader woken by the selectable descriptor for frames
 * that the injecting thread then flushed itself must not block on an idle
 * link; its read returns after the handle's timeout, as stock's does when
 * it was woken.
 *
 * A flush that another operation makes first (a read's, pcap_stats()'s)
 * and that loses frames leaves p->errbuf alone, as stock's successful
 * calls do: the injecting thread may be reading its own error there.
 * The loss is still reported, by pcap_inject_flush().
 *
 * And on a quiet link a frame injected next to a thread waiting in
 * pcap_loop() goes out within a second, as with stock's send(); exit()
 * or pcap_close() from a signal handler that interrupted pcap_inject()
 * or the exit hook's wait ends the process, and a child forked during
 * that wait closes the handle at once; a child forked while a thread injects closes the
 * handle at once, and leaves the parent's ring alone.
 */
#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <linux/capability.h>

#include "bed.h"

/* Whether glibc says the process has never had a second thread; -1: unknown. */
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 32)
#include <sys/single_threaded.h>
#define single_threaded()	(__libc_single_threaded != 0)
#else
#define single_threaded()	(-1)
#endif

#define INJECTED	20000
#define FORKS		10	/* children forked while a thread injects */
#define ROUNDS		6
#define PEER_BASE	1000000
/* Packets from the peer that each round's reader must read. */
#define READER_PACKETS	100

struct reader {
	pcap_t *p;
	int next_ex;		/* read with pcap_next_ex(), else pcap_dispatch() */
	unsigned long packets;
	int error;
	pthread_t tid;
};

static void
count_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	(void)h;
	(void)bytes;
	/* The main thread waits for the count to grow. */
	__atomic_fetch_add(&((struct reader *)user)->packets, 1, __ATOMIC_RELEASE);
}

static void *
read_until_break(void *arg)
{
	struct reader *r = arg;
	struct pcap_pkthdr *h;
	const u_char *bytes;
	int ret;

	for (;;) {
		if (r->next_ex) {
			ret = pcap_next_ex(r->p, &h, &bytes);
			if (ret == 1)
				__atomic_fetch_add(&r->packets, 1, __ATOMIC_RELEASE);
		} else {
			ret = pcap_dispatch(r->p, -1, count_packet, (u_char *)r);
		}
		if (ret == PCAP_ERROR_BREAK || ret == PCAP_ERROR) {
			r->error = ret == PCAP_ERROR;
			return NULL;
		}
	}
}

struct peer {
	int fd;
	volatile int stop;
	pthread_t tid;
};

/* Frames to the handle's side, one every 20 us, until told to stop. */
static void *
send_until_stopped(void *arg)
{
	struct peer *peer = arg;
	const struct timespec gap = { 0, 20000 };
	uint32_t i = PEER_BASE;

	while (!__atomic_load_n(&peer->stop, __ATOMIC_ACQUIRE)) {
		bed_send(peer->fd, i++, 1, 60, 200, MIX_UDP, NULL);
		nanosleep(&gap, NULL);
	}
	return NULL;
}

static void
inject_while_reading(int round)
{
	static u_char frame[FRAME_MAX_LEN];
	struct bed_tally peer_seen;
	struct pcap_tx_stat ts;
	struct reader r;
	struct peer peer;
	uint32_t base = (uint32_t)round * INJECTED, i;
	cpu_set_t all_cpus, cpu;
	size_t len;
	int rx, ret, one_cpu;

	rx = bed_receiver(bed.ns_a, bed.veth_a);
	/* The last two rounds on one CPU, where the peer must see the order. */
	one_cpu = round >= ROUNDS - 2;
	if (sched_getaffinity(0, sizeof(all_cpus), &all_cpus) != 0)
		bed_fatal("sched_getaffinity");
	if (one_cpu) {
		CPU_ZERO(&cpu);
		CPU_SET(sched_getcpu() >= 0 ? sched_getcpu() : 0, &cpu);
		if (sched_setaffinity(0, sizeof(cpu), &cpu) != 0)
			bed_fatal("sched_setaffinity");
	}
	memset(&r, 0, sizeof(r));
	r.p = bed_open(1, 0, 100);
	r.next_ex = round % 2;
	memset(&peer, 0, sizeof(peer));
	peer.fd = bed_sender(bed.ns_a, bed.veth_a);
	if (pthread_create(&peer.tid, NULL, send_until_stopped, &peer) != 0 ||
	    pthread_create(&r.tid, NULL, read_until_break, &r) != 0)
		bed_fatal("pthread_create");

	bed_deadline(120, "injecting next to a reading thread");
	for (i = base; i < base + INJECTED; i++) {
		len = frame_build(frame, i, frame_len(i, 60, 1514), MIX_UDP);
		ret = pcap_inject(r.p, frame, (int)len);
		if (ret != (int)len) {
			CHECK(0, "round %d: pcap_inject of frame %u returned %d: %s",
			    round, i, ret, pcap_geterr(r.p));
			break;
		}
	}
	CHECK(bed_inject_flush(r.p) == 0, "round %d: pcap_inject_flush: %s",
	    round, pcap_geterr(r.p));
	/*
	 * The peer sends on until the reader has read enough: how many it
	 * sent while the frames went in depends on how long that took and
	 * on how often a loaded machine ran it, not on the reader.
	 */
	CHECK(bed_wait_count(&r.packets, READER_PACKETS, 30.0),
	    "round %d: the reader read %lu packets in 30 s, the peer sent it more",
	    round, __atomic_load_n(&r.packets, __ATOMIC_ACQUIRE));
	__atomic_store_n(&peer.stop, 1, __ATOMIC_RELEASE);
	pthread_join(peer.tid, NULL);
	pcap_breakloop(r.p);
	pthread_join(r.tid, NULL);
	bed_deadline_clear();
	CHECK(!r.error, "round %d: the reader failed: %s", round,
	    pcap_geterr(r.p));

	if (one_cpu && sched_setaffinity(0, sizeof(all_cpus), &all_cpus) != 0)
		bed_fatal("sched_setaffinity");
	bed_tally_init(&peer_seen, base, INJECTED);
	/* The reader's flushes send some of the frames from its CPU. */
	peer_seen.any_order = !one_cpu;
	bed_receive(rx, &peer_seen, 2.0);
	bed_tally_check(&peer_seen, r.next_ex ?
	    "frames injected next to pcap_next_ex()" :
	    "frames injected next to pcap_dispatch()");
	bed_tally_free(&peer_seen);
	if (bed_tx_stats(r.p, &ts) == 0)
		CHECK(ts.tx_queued == INJECTED && ts.tx_sent == INJECTED &&
		    ts.tx_rejected == 0 && ts.tx_dropped == 0 &&
		    ts.tx_pending == 0,
		    "round %d: counters: queued %llu sent %llu rejected %llu dropped %llu pending %llu",
		    round, (unsigned long long)ts.tx_queued,
		    (unsigned long long)ts.tx_sent,
		    (unsigned long long)ts.tx_rejected,
		    (unsigned long long)ts.tx_dropped,
		    (unsigned long long)ts.tx_pending);
	pcap_close(r.p);
	close(peer.fd);
	close(rx);
}

struct woken_reader {
	pcap_t *p;
	volatile int flushed;
	int readable, read_ret;
	double read_secs;
	pthread_t tid;
};

static void *
wait_then_read(void *arg)
{
	struct woken_reader *w = arg;
	struct pollfd pfd = { pcap_get_selectable_fd(w->p), POLLIN, 0 };
	struct reader others;	/* packets the link happens to carry */
	double start;

	memset(&others, 0, sizeof(others));
	w->readable = poll(&pfd, 1, 5000) == 1;
	while (!__atomic_load_n(&w->flushed, __ATOMIC_ACQUIRE))
		bed_sleep(0.001);
	start = bed_now();
	w->read_ret = pcap_dispatch(w->p, -1, count_packet, (u_char *)&others);
	w->read_secs = bed_now() - start;
	return NULL;
}

static void
read_woken_for_flushed_frames(void)
{
	static u_char frame[60];
	struct woken_reader w;

	if (!bed.ring)
		return;
	memset(&w, 0, sizeof(w));
	w.p = bed_create(bed.veth_b);
	if (pcap_set_timeout(w.p, 100) != 0)
		bed_fatal("pcap_set_timeout: %s", pcap_geterr(w.p));
	bed_activate(w.p);
	frame_build(frame, 0, sizeof(frame), MIX_UDP);
	if (pthread_create(&w.tid, NULL, wait_then_read, &w) != 0)
		bed_fatal("pthread_create");
	bed_deadline(20, "a read woken for frames another thread flushed");
	CHECK(pcap_inject(w.p, frame, sizeof(frame)) == sizeof(frame),
	    "pcap_inject: %s", pcap_geterr(w.p));
	bed_sleep(0.2);
	CHECK(bed_inject_flush(w.p) == 0, "pcap_inject_flush: %s",
	    pcap_geterr(w.p));
	__atomic_store_n(&w.flushed, 1, __ATOMIC_RELEASE);
	pthread_join(w.tid, NULL);
	bed_deadline_clear();
	CHECK(w.readable, "the selectable descriptor was not readable with a frame waiting");
	CHECK(w.read_ret >= 0 && w.read_secs < 2.0,
	    "the woken read returned %d after %.2f s (expected at most the 0.1 s timeout)",
	    w.read_ret, w.read_secs);
	if (bed_failures == 0)
		bed_ok("a read woken for frames flushed meanwhile returned after %.2f s",
		    w.read_secs);
	pcap_close(w.p);
}

static void *
loop_until_break(void *arg)
{
	struct reader *r = arg;

	r->error = pcap_loop(r->p, -1, count_packet, (u_char *)r) == PCAP_ERROR;
	return NULL;
}

/*
 * On a quiet link, a frame injected while another thread waits in
 * pcap_loop() goes out at once, as stock's send() sends it, although it
 * does not fill a batch: no other call on the handle follows to send it.
 */
static void
inject_beside_waiting_loop(void)
{
	static u_char frame[60];
	struct bed_tally peer_seen;
	struct reader r;
	double start, secs;
	int rx;

	rx = bed_receiver(bed.ns_a, bed.veth_a);
	memset(&r, 0, sizeof(r));
	r.p = bed_create(bed.veth_b);
	/* No timeout: the read waits in poll() until a packet comes. */
	if (pcap_set_timeout(r.p, 0) != 0)
		bed_fatal("pcap_set_timeout: %s", pcap_geterr(r.p));
	bed_activate(r.p);
	if (pthread_create(&r.tid, NULL, loop_until_break, &r) != 0)
		bed_fatal("pthread_create");
	bed_deadline(20, "injecting next to a thread waiting in pcap_loop()");
	bed_sleep(0.3);
	frame_build(frame, 0, sizeof(frame), MIX_UDP);
	start = bed_now();
	CHECK(pcap_inject(r.p, frame, sizeof(frame)) == sizeof(frame),
	    "pcap_inject: %s", pcap_geterr(r.p));
	bed_tally_init(&peer_seen, 0, 1);
	bed_receive(rx, &peer_seen, 1.0);
	secs = bed_now() - start;
	CHECK(peer_seen.frames == 1 && secs < 1.0,
	    "a frame injected next to a waiting pcap_loop(): the peer got %lu frames in %.2f s (expected 1 within 1 s)",
	    peer_seen.frames, secs);
	bed_tally_free(&peer_seen);
	pcap_breakloop(r.p);
	pthread_join(r.tid, NULL);
	bed_deadline_clear();
	CHECK(!r.error, "pcap_loop failed: %s", pcap_geterr(r.p));
	if (bed_failures == 0)
		bed_ok("a frame injected next to a waiting pcap_loop() arrived after %.3f s",
		    secs);
	pcap_close(r.p);
	close(rx);
}

static void
inject_three(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	static u_char frame[60];
	pcap_t *p = (pcap_t *)user;
	int i;

	(void)h;
	(void)bytes;
	for (i = 0; i < 3; i++) {
		frame_build(frame, (uint32_t)i, sizeof(frame), MIX_UDP);
		CHECK(pcap_inject(p, frame, sizeof(frame)) == sizeof(frame),
		    "pcap_inject from the callback: %s", pcap_geterr(p));
	}
}

/*
 * Frames injected from the read's own callback (a responder, a bridge)
 * are no reason to give up batching: they wait for the batch or the next
 * read's flush.  (Ring only: stock has nothing to count.)
 */
static void
inject_from_callback(void)
{
	struct pcap_tx_stat ts;
	pcap_t *p;
	int peer, ret;

	if (!bed.ring)
		return;
	p = bed_open(1, 0, 100);
	peer = bed_sender(bed.ns_a, bed.veth_a);
	bed_deadline(20, "injecting from the read's callback");
	bed_send(peer, PEER_BASE, 1, 60, 60, MIX_UDP, NULL);
	ret = pcap_dispatch(p, 1, inject_three, (u_char *)p);
	bed_deadline_clear();
	CHECK(ret == 1, "pcap_dispatch returned %d: %s", ret, pcap_geterr(p));
	if (bed_tx_stats(p, &ts) == 0)
		CHECK(ts.tx_queued == 3 && ts.tx_kicks == 1 &&
		    ts.tx_sent == 3,
		    "3 frames injected from the callback (batch 4): queued %llu, %llu kicks (expected 1: pcap_tx_stats()'s)",
		    (unsigned long long)ts.tx_queued,
		    (unsigned long long)ts.tx_kicks);
	if (bed_failures == 0)
		bed_ok("frames injected from the read's callback waited for one kick");
	pcap_close(p);
	close(peer);
}

/*
 * Frames wait (batch 4) when the interface goes down; pcap_stats() flushes
 * them first, and the kernel takes none: pcap_inject_flush() reports the
 * loss, and pcap_stats() leaves the error text of the injection before it
 * alone.  (Ring only: stock queues none.)
 */
static void
loss_reported_by_flush(pcap_t *p, const char *what)
{
	static u_char frame[60];
	char injected[PCAP_ERRBUF_SIZE];
	struct pcap_stat ps;
	uint32_t i;

	for (i = 0; i < 3; i++) {
		frame_build(frame, i, sizeof(frame), MIX_UDP);
		CHECK(pcap_inject(p, frame, sizeof(frame)) == sizeof(frame),
		    "%s: pcap_inject: %s", what, pcap_geterr(p));
	}
	CHECK(pcap_inject(p, frame, 5) == PCAP_ERROR,
	    "%s: pcap_inject of a 5-byte frame succeeded", what);
	memcpy(injected, pcap_geterr(p), sizeof(injected));
	if (bed_sh("ip link set %s down", bed.veth_b) != 0)
		bed_fatal("ip link set down failed");
	CHECK(pcap_stats(p, &ps) == 0, "%s: pcap_stats: %s", what,
	    pcap_geterr(p));
	CHECK(strcmp(pcap_geterr(p), injected) == 0,
	    "%s: a flush that lost frames changed the error text: \"%s\", was \"%s\"",
	    what, pcap_geterr(p), injected);
	CHECK(bed_inject_flush(p) == PCAP_ERROR &&
	    strstr(pcap_geterr(p), "dropped 3 queued frames") != NULL,
	    "%s: pcap_inject_flush() after the loss: %s", what,
	    pcap_geterr(p));
	if (bed_sh("ip link set %s up", bed.veth_b) != 0 || !bed_wait_link_up(5))
		bed_fatal("the link did not come back up");
}

static void
flush_loss_keeps_errbuf(void)
{
	pcap_t *p;

	if (!bed.ring)
		return;
	p = bed_create(bed.veth_b);
	bed_activate(p);
	loss_reported_by_flush(p, "frames lost by pcap_stats()'s flush");
	if (bed_failures == 0)
		bed_ok("a flush that lost frames left the injection's error text alone");
	pcap_close(p);
}

/* Wait up to secs for child pid: 1 if it exited with 0, else kill it. */
static int
child_exits(pid_t pid, double secs, double *took)
{
	double start = bed_now();
	int status;

	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (bed_now() - start > secs) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			*took = bed_now() - start;
			return 0;
		}
		bed_sleep(0.005);
	}
	*took = bed_now() - start;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static pcap_t *signalled;
static int close_in_handler;

static void
end_in_handler(int sig)
{
	(void)sig;
	if (close_in_handler) {
		pcap_close(signalled);
		_exit(0);
	}
	exit(0);
}

/*
 * exit() (or pcap_close() then _exit()) from a SIGALRM handler that
 * interrupts a loop of pcap_inject(): the process ends within 3 s, as
 * with stock, although the handler may have interrupted an injection
 * that holds the TX lock, which the exit hook and the close take.  It
 * ends sooner than the 2 s close bound: the handler must see that its
 * own thread holds the lock, or is taking it, rather than wait for it.
 * Three tries, each within 1.5 s.
 */
#define END_TRIES	3

static double
end_once(int close_first)
{
	static u_char frame[60];
	struct itimerval due;
	double took;
	pid_t pid;

	pid = fork();
	if (pid == -1)
		bed_fatal("fork");
	if (pid == 0) {
		signalled = bed_create(bed.veth_b);
		bed_activate(signalled);
		close_in_handler = close_first;
		signal(SIGALRM, end_in_handler);
		memset(&due, 0, sizeof(due));
		due.it_value.tv_usec = 200000;
		setitimer(ITIMER_REAL, &due, NULL);
		frame_build(frame, 0, sizeof(frame), MIX_UDP);
		for (;;)
			if (pcap_inject(signalled, frame, sizeof(frame)) == -1)
				bed_sleep(0.001);	/* as a program would retry */
	}
	return child_exits(pid, 3.0, &took) ? took : -1;
}

static void
end_from_signal_handler(int close_first)
{
	const char *what = close_first ? "pcap_close()" : "exit()";
	double took, slowest = 0;
	int i, quick = 0;

	for (i = 0; i < END_TRIES; i++) {
		took = end_once(close_first);
		CHECK(took >= 0,
		    "%s from a signal handler during pcap_inject(): the process did not end with 0 within 3 s",
		    what);
		/* The signal comes at 0.2 s. */
		quick += took >= 0 && took <= 1.5;
		if (took > slowest)
			slowest = took;
	}
	CHECK(quick == END_TRIES,
	    "%s from a signal handler during pcap_inject(): %d of %d tries ended within 1.5 s (slowest %.2f s): the handler waited for its own lock",
	    what, quick, END_TRIES, slowest);
	if (bed_failures == 0)
		bed_ok("%s from a signal handler during pcap_inject() ended the process within %.2f s, %d of %d within 1.5 s",
		    what, slowest, quick, END_TRIES);
}

/*
 * pcap_inject() from a SIGALRM handler, every 200 us, that interrupts
 * pcap_inject() on the same handle, as an alarm-driven sender may.  An
 * injection that the handler interrupted holds the TX lock: the handler's
 * is refused (EDEADLK), rather than waiting for good or changing the ring
 * under it.  Main and handler take frame numbers from one counter; every
 * frame that either counted as sent reaches the peer, once and intact,
 * and no refused one does.  threaded says whether the child comes from a
 * process that has had threads: the lock is then a mutex, else none.
 */
#define ALARM_SECS	0.5
/*
 * At most what the peer's socket holds (bed_receiver()'s buffer takes
 * about 160000 such frames): stock's send() may go faster than that.
 */
#define ALARM_FRAMES	100000

struct alarm_report {
	uint32_t numbered;		/* frame numbers taken */
	uint32_t refused, failed;	/* the handler's: EDEADLK, other */
	int main_failed, single_threaded, ring;
};

/*
 * send() as the library calls it, made slow for a kick (send() of
 * nothing) on the thread slow_kicker while slow_kicks is set: a thread
 * then holds the TX lock for that long.
 */
static volatile int slow_kicks;
static pthread_t slow_kicker;

ssize_t
send(int fd, const void *buf, size_t len, int flags)
{
	if (slow_kicks && buf == NULL && len == 0 &&
	    pthread_equal(pthread_self(), slow_kicker))
		bed_sleep(0.3);
	return sendto(fd, buf, len, flags, NULL, 0);
}

static pcap_t *alarmed;
static uint32_t alarm_next;
static volatile sig_atomic_t alarm_refused, alarm_failed;

static void
inject_in_handler(int sig)
{
	static u_char frame[60];
	size_t len;

	(void)sig;
	len = frame_build(frame, __atomic_fetch_add(&alarm_next, 1,
	    __ATOMIC_RELAXED), sizeof(frame), MIX_UDP);
	if (pcap_inject(alarmed, frame, (int)len) == (int)len)
		return;
	if (strstr(pcap_geterr(alarmed), "signal handler") != NULL)
		alarm_refused++;
	else
		alarm_failed++;
}

static void
alarm_sender(int report_fd)
{
	static u_char frame[60];
	struct alarm_report r;
	struct itimerval every;
	double until;
	size_t len;

	setenv("PCAP_RING_TX_BATCH", "64", 1);
	memset(&r, 0, sizeof(r));
	r.single_threaded = single_threaded();
	alarmed = bed_create(bed.veth_b);
	bed_activate(alarmed);
	r.ring = bed_ring_handle(alarmed);
	signal(SIGALRM, inject_in_handler);
	memset(&every, 0, sizeof(every));
	every.it_value.tv_usec = every.it_interval.tv_usec = 200;
	setitimer(ITIMER_REAL, &every, NULL);
	until = bed_now() + ALARM_SECS;
	while (bed_now() < until && alarm_next < ALARM_FRAMES &&
	    !r.main_failed) {
		len = frame_build(frame, __atomic_fetch_add(&alarm_next, 1,
		    __ATOMIC_RELAXED), sizeof(frame), MIX_UDP);
		r.main_failed = pcap_inject(alarmed, frame, (int)len) != (int)len;
	}
	memset(&every, 0, sizeof(every));
	setitimer(ITIMER_REAL, &every, NULL);
	if (bed_inject_flush(alarmed) != 0)
		r.main_failed = 1;
	r.numbered = alarm_next;
	r.refused = (uint32_t)alarm_refused;
	r.failed = (uint32_t)alarm_failed;
	if (write(report_fd, &r, sizeof(r)) != (ssize_t)sizeof(r))
		_exit(2);
	_exit(0);
}

static void
inject_from_signal_handler(int threaded)
{
	const char *which = threaded ? "after threads" : "single-threaded";
	struct alarm_report r;
	struct bed_tally peer_seen;
	double took;
	pid_t pid;
	int rx, fds[2];

	rx = bed_receiver(bed.ns_a, bed.veth_a);
	if (pipe(fds) != 0)
		bed_fatal("pipe");
	pid = fork();
	if (pid == -1)
		bed_fatal("fork");
	if (pid == 0) {
		close(fds[0]);
		alarm_sender(fds[1]);
	}
	close(fds[1]);
	memset(&r, 0, sizeof(r));
	CHECK(child_exits(pid, 10.0, &took) &&
	    read(fds[0], &r, sizeof(r)) == (ssize_t)sizeof(r),
	    "%s: pcap_inject() from a signal handler that interrupted pcap_inject(): the process did not end within 10 s",
	    which);
	close(fds[0]);
	if (bed_failures != 0) {
		close(rx);
		return;
	}
	CHECK(r.single_threaded == -1 || r.single_threaded == !threaded,
	    "%s: the child was %ssingle-threaded (glibc's __libc_single_threaded)",
	    which, r.single_threaded ? "" : "not ");
	CHECK(!r.main_failed, "%s: a pcap_inject() outside the handler failed",
	    which);
	CHECK(r.failed == 0, "%s: %u injections in the handler failed otherwise than refused",
	    which, r.failed);
	/* Thousands of alarms, nearly all during an injection. */
	CHECK(!r.ring || r.refused > 0,
	    "%s: no injection in the handler was refused: it never interrupted one",
	    which);
	bed_tally_init(&peer_seen, 0, r.numbered);
	peer_seen.any_order = 1;
	bed_receive(rx, &peer_seen, 2.0);
	CHECK(peer_seen.frames == r.numbered - r.refused &&
	    peer_seen.dup == 0 && peer_seen.bad == 0,
	    "%s: %u frames numbered, %u refused: the peer saw %lu (%lu twice, %lu damaged)",
	    which, r.numbered, r.refused, peer_seen.frames, peer_seen.dup,
	    peer_seen.bad);
	bed_tally_free(&peer_seen);
	close(rx);
	if (bed_failures == 0)
		bed_ok("%s: pcap_inject() from a signal handler that interrupted it: %u frames sent, %u refused in the handler, none lost",
		    which, r.numbered - r.refused, r.refused);
}

/*
 * exit() from a SIGALRM handler that interrupted pcap_inject() while it
 * waited for the TX lock, which another thread's read holds in a slow
 * kick of the 10 frames waiting: the exit hook waits for that hold to end
 * rather than take the interrupted wait for its own hold, and the frames
 * go out.  The process ends within 3 s.
 */
static void
ignore_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	(void)user;
	(void)h;
	(void)bytes;
}

static void *
read_once(void *arg)
{
	slow_kicks = 1;
	/* What it reads does not matter: the kick before it does. */
	if (pcap_dispatch(arg, 1, ignore_packet, NULL) < 0)
		return arg;
	return NULL;
}

static void
exit_while_waiting_for_lock(void)
{
	static u_char frame[60];
	struct bed_tally peer_seen;
	double took;
	pid_t pid;
	int rx, i;

	rx = bed_receiver(bed.ns_a, bed.veth_a);
	pid = fork();
	if (pid == -1)
		bed_fatal("fork");
	if (pid == 0) {
		setenv("PCAP_RING_TX_BATCH", "64", 1);
		signalled = bed_create(bed.veth_b);
		if (pcap_set_timeout(signalled, 1000) != 0)
			_exit(2);
		bed_activate(signalled);
		for (i = 0; i < 10; i++) {
			frame_build(frame, (uint32_t)i, sizeof(frame), MIX_UDP);
			if (pcap_inject(signalled, frame, sizeof(frame)) != sizeof(frame))
				_exit(2);
		}
		if (pthread_create(&slow_kicker, NULL, read_once, signalled) != 0)
			_exit(2);
		bed_sleep(0.05);	/* the read holds the lock, in its kick */
		close_in_handler = 0;
		signal(SIGALRM, end_in_handler);
		ualarm(100000, 0);	/* while the injection below waits */
		frame_build(frame, 10, sizeof(frame), MIX_UDP);
		if (pcap_inject(signalled, frame, sizeof(frame)) != sizeof(frame))
			_exit(4);
		pause();
		_exit(3);
	}
	CHECK(child_exits(pid, 3.0, &took),
	    "exit() from a signal handler while pcap_inject() waited for the TX lock: the process did not end with 0 within 3 s");
	bed_tally_init(&peer_seen, 0, 10);
	bed_receive(rx, &peer_seen, 1.0);
	bed_tally_check(&peer_seen,
	    "exit() from a signal handler while pcap_inject() waited for the TX lock");
	bed_tally_free(&peer_seen);
	close(rx);
}

/*
 * With the peer down and the queue discipline bypassed, fork a child in
 * which 200 frames wait in the TX ring of the handle signalled, on a link
 * that refuses every kick: the exit hook waits for them some 0.5 s (until
 * it looks at the link).  0 in the child, its pid in the test.
 */
static pid_t
fork_with_frames_refused(void)
{
	static u_char frame[1000];
	pid_t pid;
	int i;

	if (bed_sh("ip -n %s link set %s down", bed.ns_a, bed.veth_a) != 0)
		bed_fatal("ip link set down (peer) failed");
	pid = fork();
	if (pid == -1)
		bed_fatal("fork");
	if (pid != 0)
		return pid;
	setenv("PCAP_RING_TX_QDISC_BYPASS", "1", 1);
	setenv("PCAP_RING_TX_BATCH", "64", 1);
	signalled = bed_create(bed.veth_b);
	bed_activate(signalled);
	frame_build(frame, 0, sizeof(frame), MIX_UDP);
	for (i = 0; i < 200; i++)
		if (pcap_inject(signalled, frame, sizeof(frame)) == -1)
			_exit(2);
	return 0;
}

static void
peer_up(void)
{
	if (bed_sh("ip -n %s link set %s up", bed.ns_a, bed.veth_a) != 0 ||
	    !bed_wait_link_up(5))
		bed_fatal("the link did not come back up");
}

/*
 * pcap_close() then _exit() from a SIGALRM handler that interrupts the
 * exit hook while it waits for frames that a link without carrier
 * refuses (queue discipline bypassed; the hook gives up after 0.5 s of
 * refusals): the process ends within 3 s.  The hook used to hold the
 * lock of its list of handles while it waited, which the close takes.
 */
static void
close_from_signal_handler_at_exit(void)
{
	struct itimerval due;
	double took;
	pid_t pid;

	if (!bed.ring)
		return;
	pid = fork_with_frames_refused();
	if (pid == 0) {
		close_in_handler = 1;
		signal(SIGALRM, end_in_handler);
		memset(&due, 0, sizeof(due));
		due.it_value.tv_usec = 100000;
		setitimer(ITIMER_REAL, &due, NULL);
		exit(0);
	}
	CHECK(child_exits(pid, 3.0, &took),
	    "pcap_close() from a signal handler during the exit hook: the process did not end with 0 within 3 s (%.2f s)",
	    took);
	peer_up();
	if (bed_failures == 0)
		bed_ok("pcap_close() from a signal handler during the exit hook ended the process in %.2f s",
		    took);
}

static void *
exit_now(void *arg)
{
	(void)arg;
	exit(0);
}

/*
 * A child forked while another thread runs the exit hook (frames wait on
 * a link without carrier, some 0.5 s) closes the handle and ends at once:
 * its close must not wait for the parent's hook (which held the lock of
 * the list of handles, in a thread the child does not have).  The pipe
 * to the test is open in both until they end: it must read end-of-file
 * within 3 s.
 */
static void
close_in_child_during_exit_hook(void)
{
	pthread_t exiter;
	struct pollfd pfd;
	pid_t pid, grandchild = 0;
	double start;
	char c;
	int fds[2], gone = 0;

	if (!bed.ring)
		return;
	if (pipe(fds) != 0)
		bed_fatal("pipe");
	pid = fork_with_frames_refused();
	if (pid == 0) {
		if (pthread_create(&exiter, NULL, exit_now, NULL) != 0)
			_exit(2);
		bed_sleep(0.1);
		grandchild = fork();
		if (grandchild == 0) {
			pcap_close(signalled);
			_exit(0);
		}
		if (write(fds[1], &grandchild, sizeof(grandchild)) == -1)
			_exit(2);
		pause();
	}
	close(fds[1]);
	start = bed_now();
	if (read(fds[0], &grandchild, sizeof(grandchild)) != sizeof(grandchild))
		grandchild = 0;
	CHECK(grandchild > 0, "fork() during the exit hook: no child");
	pfd.fd = fds[0];
	pfd.events = POLLIN;
	while (grandchild > 0 && !gone && bed_now() - start < 3.0 &&
	    poll(&pfd, 1, 100) >= 0)
		gone = pfd.revents != 0 && read(fds[0], &c, 1) == 0;
	if (grandchild > 0 && !gone)
		kill(grandchild, SIGKILL);
	close(fds[0]);
	waitpid(pid, NULL, 0);
	CHECK(gone, "a child forked during the exit hook did not close the handle and end within 3 s");
	peer_up();
	if (bed_failures == 0)
		bed_ok("a child forked during the exit hook closed the handle and ended, and its parent, within %.2f s",
		    bed_now() - start);
}

struct injector {
	pcap_t *p;
	uint32_t base;		/* the first frame's number */
	uint32_t sent;
	int error;
	u_char frame[FRAME_MAX_LEN];
	pthread_t tid;
};

static void *
inject_all(void *arg)
{
	struct injector *in = arg;
	uint32_t id;
	size_t len;

	for (in->sent = 0; in->sent < INJECTED; in->sent++) {
		id = in->base + in->sent;
		len = frame_build(in->frame, id, frame_len(id, 60, 600),
		    MIX_UDP);
		if (pcap_inject(in->p, in->frame, (int)len) != (int)len) {
			in->error = 1;
			break;
		}
	}
	return NULL;
}

/*
 * Two threads inject at once, and a third calls pcap_tx_stats() (a kick)
 * in a loop.  The README promises one injecting thread beside a reading
 * one (libpcap's error text is the handle's), but the TX lock must still
 * exclude them all, and nothing tests it harder: every frame changes the
 * same ring state.  The peer gets every frame once, intact, and the
 * counters agree with it.
 */
static void
lock_under_contention(void)
{
	struct bed_tally peer_seen;
	struct pcap_tx_stat ts;
	struct injector in[2];
	unsigned long calls = 0;
	pcap_t *p;
	int rx, k;

	rx = bed_receiver(bed.ns_a, bed.veth_a);
	p = bed_create(bed.veth_b);
	bed_activate(p);
	bed_deadline(120, "two injecting threads and pcap_tx_stats()");
	for (k = 0; k < 2; k++) {
		memset(&in[k], 0, sizeof(in[k]));
		in[k].p = p;
		in[k].base = (uint32_t)k * INJECTED;
		if (pthread_create(&in[k].tid, NULL, inject_all, &in[k]) != 0)
			bed_fatal("pthread_create");
	}
	while (__atomic_load_n(&in[1].sent, __ATOMIC_RELAXED) < INJECTED &&
	    !__atomic_load_n(&in[1].error, __ATOMIC_RELAXED) &&
	    bed_tx_stats(p, &ts) == 0)
		calls++;
	for (k = 0; k < 2; k++) {
		pthread_join(in[k].tid, NULL);
		CHECK(!in[k].error, "thread %d: pcap_inject of frame %u: %s", k,
		    in[k].base + in[k].sent, pcap_geterr(p));
	}
	CHECK(bed_inject_flush(p) == 0, "pcap_inject_flush: %s", pcap_geterr(p));
	bed_tally_init(&peer_seen, 0, 2 * INJECTED);
	peer_seen.any_order = 1;
	bed_receive(rx, &peer_seen, 2.0);
	bed_deadline_clear();
	bed_tally_check(&peer_seen, "frames of two injecting threads beside pcap_tx_stats() in a loop");
	if (bed_tx_stats(p, &ts) == 0)
		CHECK(ts.tx_queued == 2 * INJECTED &&
		    ts.tx_sent == peer_seen.frames && ts.tx_dropped == 0 &&
		    ts.tx_pending == 0,
		    "two injecting threads: queued %llu sent %llu dropped %llu pending %llu, the peer saw %lu (%lu pcap_tx_stats() calls)",
		    (unsigned long long)ts.tx_queued,
		    (unsigned long long)ts.tx_sent,
		    (unsigned long long)ts.tx_dropped,
		    (unsigned long long)ts.tx_pending, peer_seen.frames, calls);
	bed_tally_free(&peer_seen);
	pcap_close(p);
	close(rx);
}

/*
 * A child forked while a thread of its parent holds the TX lock (a kick
 * made slow) sends a send queue, as a daemon's child replaying a file
 * would: pcap_sendqueue_transmit() takes the ring over as pcap_inject()
 * does, and returns within 1 s instead of waiting for a holder that is
 * not in the child.  (Ring only: stock has no send queues.)
 */
typedef void *(*sq_alloc_fn)(u_int);
typedef int (*sq_queue_fn)(void *, const struct pcap_pkthdr *, const u_char *);
typedef u_int (*sq_transmit_fn)(pcap_t *, void *, int);
typedef void (*sq_destroy_fn)(void *);

static void *
stats_slowly(void *arg)
{
	struct pcap_tx_stat ts;

	slow_kicks = 1;
	(void)bed_tx_stats(arg, &ts);
	return NULL;
}

static sq_alloc_fn sq_alloc;
static sq_queue_fn sq_queue;
static sq_transmit_fn sq_transmit;
static sq_destroy_fn sq_destroy;

/* 1 if the library has send queues (the ring's). */
static int
sendqueue_api(void)
{
	sq_alloc = (sq_alloc_fn)dlsym(RTLD_DEFAULT, "pcap_sendqueue_alloc");
	sq_queue = (sq_queue_fn)dlsym(RTLD_DEFAULT, "pcap_sendqueue_queue");
	sq_transmit = (sq_transmit_fn)dlsym(RTLD_DEFAULT,
	    "pcap_sendqueue_transmit");
	sq_destroy = (sq_destroy_fn)dlsym(RTLD_DEFAULT, "pcap_sendqueue_destroy");
	return sq_alloc != NULL && sq_queue != NULL && sq_transmit != NULL &&
	    sq_destroy != NULL;
}

static void
sendqueue_in_child(void)
{
	static u_char frame[60];
	struct pcap_pkthdr h;
	double took = 0;
	void *queue;
	pcap_t *p;
	pid_t pid;
	int i;

	if (!sendqueue_api())
		return;
	memset(&h, 0, sizeof(h));
	h.caplen = h.len = (bpf_u_int32)frame_build(frame, 0, sizeof(frame),
	    MIX_UDP);
	p = bed_create(bed.veth_b);
	bed_activate(p);
	for (i = 0; i < 3; i++)
		if (pcap_inject(p, frame, sizeof(frame)) != sizeof(frame))
			bed_fatal("pcap_inject: %s", pcap_geterr(p));
	if (pthread_create(&slow_kicker, NULL, stats_slowly, p) != 0)
		bed_fatal("pthread_create");
	bed_sleep(0.05);	/* it holds the lock, in its kick */
	pid = fork();
	if (pid == -1)
		bed_fatal("fork");
	if (pid == 0) {
		queue = sq_alloc(4096);
		if (queue == NULL || sq_queue(queue, &h, frame) != 0)
			_exit(2);
		_exit(sq_transmit(p, queue, 0) == sizeof(h) + h.caplen ? 0 : 3);
	}
	CHECK(child_exits(pid, 1.0, &took),
	    "pcap_sendqueue_transmit() in a child forked while a thread held the TX lock: it did not send within 1 s");
	pthread_join(slow_kicker, NULL);
	slow_kicks = 0;
	pcap_close(p);
	if (bed_failures == 0)
		bed_ok("a child forked while a thread held the TX lock sent a send queue in %.2f s",
		    took);
}

/*
 * A thread cancelled inside a call on a batched handle, as a program that
 * ends its workers with pthread_cancel() does, leaves the handle as
 * usable as stock's (ring only: stock keeps no state across calls):
 * - in a kick, made slow so that it is there: no cancellation point is
 *   reached while the TX lock is held, so later calls do not wait for it;
 * - in a send queue's wait for a record's time: later losses are still
 *   reported by pcap_inject_flush(), not taken for the queue's;
 * - in a read's wait for packets: frames injected after it wait for their
 *   batch again, rather than each being kicked beside a reader that is
 *   gone.
 */
static void
cancel_in_kick(void)
{
	static u_char frame[60];
	struct bed_tally peer_seen;
	pcap_t *p;
	uint32_t i;
	int rx;

	rx = bed_receiver(bed.ns_a, bed.veth_a);
	p = bed_create(bed.veth_b);
	bed_activate(p);
	for (i = 0; i < 3; i++) {
		frame_build(frame, i, sizeof(frame), MIX_UDP);
		if (pcap_inject(p, frame, sizeof(frame)) != sizeof(frame))
			bed_fatal("pcap_inject: %s", pcap_geterr(p));
	}
	if (pthread_create(&slow_kicker, NULL, stats_slowly, p) != 0)
		bed_fatal("pthread_create");
	bed_sleep(0.05);	/* it holds the lock, in its kick */
	pthread_cancel(slow_kicker);
	pthread_join(slow_kicker, NULL);
	slow_kicks = 0;
	bed_deadline(5, "pcap_inject() after a thread was cancelled in a kick");
	frame_build(frame, 3, sizeof(frame), MIX_UDP);
	CHECK(pcap_inject(p, frame, sizeof(frame)) == sizeof(frame),
	    "pcap_inject after a thread was cancelled in a kick: %s",
	    pcap_geterr(p));
	CHECK(bed_inject_flush(p) == 0, "pcap_inject_flush: %s",
	    pcap_geterr(p));
	bed_deadline_clear();
	bed_tally_init(&peer_seen, 0, 4);
	bed_receive(rx, &peer_seen, 1.0);
	bed_tally_check(&peer_seen, "frames injected around a thread cancelled in a kick");
	bed_tally_free(&peer_seen);
	if (bed_failures == 0)
		bed_ok("a thread cancelled in a kick left the TX lock free; the peer has all 4 frames");
	pcap_close(p);
	close(rx);
}

/*
 * 1 if a cancellation may unwind this build's frames.  It cannot in an
 * AddressSanitizer build: there, GCC 12's runtime faults in its own
 * sigaltstack() call at the cleanup handler, on the shadow that the
 * unwound frames left behind.
 */
static int
cancellation_unwinds(const char *what)
{
#ifdef __SANITIZE_ADDRESS__
	bed_skip_case("%s: not in a sanitizer build (ASan cannot follow a cancellation's unwinding)",
	    what);
	return 0;
#else
	(void)what;
	return 1;
#endif
}

/*
 * Run fn(arg) on a thread, cancel it after secs (in the wait the caller
 * set up for it), and join it: what the thread returned.
 */
static void *
cancel_after(void *(*fn)(void *), void *arg, double secs)
{
	pthread_t tid;
	void *ret;

	if (pthread_create(&tid, NULL, fn, arg) != 0)
		bed_fatal("pthread_create");
	bed_sleep(secs);
	pthread_cancel(tid);
	pthread_join(tid, &ret);
	return ret;
}

struct replay {
	pcap_t *p;
	void *queue;
	int sync;
};

static void *
transmit_queue(void *arg)
{
	struct replay *r = arg;

	(void)sq_transmit(r->p, r->queue, r->sync);
	return NULL;
}

static void
cancel_waiting_sendqueue(void)
{
	static u_char frame[60];
	struct pcap_pkthdr h;
	struct replay r;
	int i;

	if (!sendqueue_api() ||
	    !cancellation_unwinds("a send queue cancelled in its wait"))
		return;
	memset(&h, 0, sizeof(h));
	h.caplen = h.len = (bpf_u_int32)frame_build(frame, 0, sizeof(frame),
	    MIX_UDP);
	r.queue = sq_alloc(4096);
	for (i = 0; i < 3; i++) {
		h.ts.tv_sec = i;	/* a record every second */
		if (r.queue == NULL || sq_queue(r.queue, &h, frame) != 0)
			bed_fatal("pcap_sendqueue_queue");
	}
	r.p = bed_create(bed.veth_b);
	bed_activate(r.p);
	r.sync = 1;
	bed_deadline(5, "a send queue cancelled while it waits");
	/* Cancelled while it waits for the second record's time. */
	(void)cancel_after(transmit_queue, &r, 0.2);
	loss_reported_by_flush(r.p, "after a send queue cancelled in its wait");
	bed_deadline_clear();
	if (bed_failures == 0)
		bed_ok("after a send queue was cancelled in its wait, pcap_inject_flush() reported a loss");
	pcap_close(r.p);
	sq_destroy(r.queue);
}

/*
 * CAP_NET_ADMIN in the calling thread's effective set (and in that of the
 * threads it creates) or not: without it the TX ring's SO_SNDBUF is not
 * raised, as in a program that has only CAP_NET_RAW.
 */
static void
effective_net_admin(int on)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	if (syscall(SYS_capget, &hdr, data) != 0)
		bed_fatal("capget: %s", strerror(errno));
	if (on)
		data[0].effective |= 1U << CAP_NET_ADMIN;
	else
		data[0].effective &= ~(1U << CAP_NET_ADMIN);
	if (syscall(SYS_capset, &hdr, data) != 0)
		bed_fatal("capset: %s", strerror(errno));
}

/*
 * A send queue cancelled while it waits for room, on a link that tbf
 * holds.  Unbatched, the records the kernel has not taken are dropped,
 * counted and reported, rather than left in the ring for a later kick
 * (the next queue's, pcap_close()'s) to send long after the call ended.
 * Batched, they wait as injected frames do (other threads' among them),
 * and the next flush sends them: nothing is dropped.  Without
 * CAP_NET_ADMIN, so that the send buffer, full of frames that tbf holds,
 * leaves records waiting in the ring.
 */
static void
cancel_sendqueue_waiting_for_room(const char *batch)
{
	static u_char frame[1514];
	struct pcap_pkthdr h;
	struct pcap_tx_stat ts;
	struct replay r;
	unsigned long long pending = 0;
	int i, batched;

	if (!sendqueue_api() ||
	    !cancellation_unwinds("a send queue cancelled waiting for room"))
		return;
	if (bed_sh("tc qdisc replace dev %s root tbf rate 8kbit burst 1600 limit 10000000",
	    bed.veth_b) != 0)
		bed_fatal("tc qdisc replace (tbf) failed");
	memset(&h, 0, sizeof(h));
	h.caplen = h.len = (bpf_u_int32)frame_build(frame, 0, sizeof(frame),
	    MIX_UDP);
	/*
	 * More records than the send buffer and the TX ring hold together;
	 * the send buffer holds fewer of them than the ring.
	 */
	r.queue = sq_alloc(1000 * (sizeof(h) + sizeof(frame)));
	for (i = 0; i < 1000; i++)
		if (r.queue == NULL || sq_queue(r.queue, &h, frame) != 0)
			bed_fatal("pcap_sendqueue_queue");
	setenv("PCAP_RING_TX_BATCH", batch, 1);
	effective_net_admin(0);
	r.p = bed_create(bed.veth_b);
	bed_activate(r.p);
	r.sync = 0;
	bed_deadline(5, "a send queue cancelled while it waits for room");
	/* Cancelled while the ring is full of records the kernel cannot take. */
	(void)cancel_after(transmit_queue, &r, 0.3);
	effective_net_admin(1);
	batched = strcmp(batch, "0") != 0;
	CHECK(bed_tx_stats(r.p, &ts) == 0 &&
	    (batched ? ts.tx_pending > 0 && ts.tx_dropped == 0 :
	    ts.tx_pending == 0 && ts.tx_dropped > 0) &&
	    ts.tx_queued == ts.tx_sent + ts.tx_dropped + ts.tx_rejected +
	    ts.tx_pending,
	    "batch %s: after a send queue was cancelled waiting for room: queued %llu, sent %llu, dropped %llu, pending %llu (expected %s)",
	    batch, (unsigned long long)ts.tx_queued,
	    (unsigned long long)ts.tx_sent, (unsigned long long)ts.tx_dropped,
	    (unsigned long long)ts.tx_pending, batched ?
	    "the rest pending, none dropped" : "none pending, the rest dropped");
	if (!batched) {
		bed_setnonblock(r.p);
		CHECK(bed_inject_flush(r.p) == PCAP_ERROR &&
		    strstr(pcap_geterr(r.p), "pcap_sendqueue_transmit: dropped") != NULL &&
		    strstr(pcap_geterr(r.p), strerror(ECANCELED)) != NULL,
		    "batch %s: pcap_inject_flush() after a send queue was cancelled: \"%s\"",
		    batch, pcap_geterr(r.p));
	}
	bed_sh("tc qdisc del dev %s root", bed.veth_b);
	if (batched) {
		pending = ts.tx_pending;
		CHECK(bed_inject_flush(r.p) == 0 && bed_tx_stats(r.p, &ts) == 0 &&
		    ts.tx_pending == 0 && ts.tx_dropped == 0 &&
		    ts.tx_sent == ts.tx_queued,
		    "batch %s: the flush after a cancelled send queue: queued %llu, sent %llu, dropped %llu, pending %llu (%s)",
		    batch, (unsigned long long)ts.tx_queued,
		    (unsigned long long)ts.tx_sent,
		    (unsigned long long)ts.tx_dropped,
		    (unsigned long long)ts.tx_pending, pcap_geterr(r.p));
	}
	bed_deadline_clear();
	if (bed_failures == 0 && batched)
		bed_ok("batch %s: a send queue cancelled waiting for room left %llu records waiting; the next flush sent them",
		    batch, pending);
	else if (bed_failures == 0)
		bed_ok("batch %s: a send queue cancelled waiting for room dropped its %llu waiting records, and said so",
		    batch, (unsigned long long)ts.tx_dropped);
	pcap_close(r.p);
	sq_destroy(r.queue);
	setenv("PCAP_RING_TX_BATCH", "4", 1);
}

static void *
loop_until_cancelled(void *arg)
{
	if (pcap_loop(arg, -1, ignore_packet, NULL) == PCAP_ERROR)
		return arg;
	return NULL;
}

static void
cancel_waiting_reader(void)
{
	static u_char frame[60];
	struct pollfd pfd;
	pcap_t *p;
	uint32_t i;

	if (!bed.ring ||
	    !cancellation_unwinds("a reading thread cancelled in its wait"))
		return;
	p = bed_create(bed.veth_b);
	MUST(pcap_set_timeout(p, 1000));
	bed_activate(p);
	pfd.fd = pcap_get_selectable_fd(p);
	pfd.events = POLLIN;
	/* Cancelled while it waits for packets on the idle link. */
	(void)cancel_after(loop_until_cancelled, p, 0.2);
	for (i = 0; i < 3; i++) {
		frame_build(frame, i, sizeof(frame), MIX_UDP);
		CHECK(pcap_inject(p, frame, sizeof(frame)) == sizeof(frame),
		    "pcap_inject: %s", pcap_geterr(p));
	}
	CHECK(poll(&pfd, 1, 0) == 1,
	    "after a reading thread was cancelled, 3 frames injected (batch 4) were kicked at once instead of waiting");
	if (bed_failures == 0)
		bed_ok("after a reading thread was cancelled, injected frames waited for their batch");
	pcap_close(p);
}

/*
 * pcap_close() cancelled while it waits for frames the link refuses (2 s
 * at most): the close ends before the cancellation acts, and leaves no
 * descriptor of the handle open.  exit() on a thread cancelled while the
 * exit hook waits: the hook goes on, so another thread's pcap_close(),
 * which waits for the hook, returns, and the process ends.
 */
static void *
close_then_end(void *arg)
{
	pcap_close(arg);
	pthread_testcancel();
	return NULL;
}

static void
cancel_in_close(void)
{
	static u_char frame[1000];
	void *ret;
	pcap_t *p;
	int fds, i;

	if (!bed.ring)
		return;		/* stock's close has no wait */
	fds = bed_count_fds();
	if (bed_sh("ip -n %s link set %s down", bed.ns_a, bed.veth_a) != 0)
		bed_fatal("ip link set down (peer) failed");
	setenv("PCAP_RING_TX_QDISC_BYPASS", "1", 1);
	p = bed_create(bed.veth_b);
	bed_activate(p);
	unsetenv("PCAP_RING_TX_QDISC_BYPASS");
	frame_build(frame, 0, sizeof(frame), MIX_UDP);
	for (i = 0; i < 200; i++)
		CHECK(pcap_inject(p, frame, sizeof(frame)) == sizeof(frame),
		    "pcap_inject: %s", pcap_geterr(p));
	/* Cancelled while it waits for the refused frames. */
	ret = cancel_after(close_then_end, p, 0.2);
	peer_up();
	CHECK(ret == PTHREAD_CANCELED, "the closing thread was not cancelled");
	CHECK(bed_count_fds() == fds,
	    "pcap_close() cancelled in its wait: %d descriptors open before the handle, %d after",
	    fds, bed_count_fds());
	if (bed_failures == 0)
		bed_ok("pcap_close() cancelled in its wait closed the handle first");
}

static void *
exit_in_thread(void *arg)
{
	(void)arg;
	exit(0);
}

static void
cancel_in_exit_hook(void)
{
	double took;
	pthread_t tid;
	pcap_t *other;
	pid_t pid;

	if (!bed.ring)
		return;		/* stock has no exit hook */
	pid = fork_with_frames_refused();
	if (pid == 0) {
		other = bed_create(bed.veth_b);
		if (pthread_create(&tid, NULL, exit_in_thread, NULL) != 0)
			_exit(2);
		bed_sleep(0.2);		/* the hook waits for the refused frames */
		pthread_cancel(tid);
		bed_sleep(0.1);
		pcap_close(other);	/* waits for the hook */
		pause();		/* for the exiting thread to end us */
		_exit(3);
	}
	CHECK(child_exits(pid, 4.0, &took),
	    "a thread cancelled in the exit hook: the process did not end with 0 within 4 s");
	peer_up();
	if (bed_failures == 0)
		bed_ok("a thread cancelled in the exit hook went on, and the process ended in %.2f s",
		    took);
}

/*
 * fork() while another thread injects: each child's pcap_close(), after
 * pcap_get_selectable_fd() or pcap_tx_stats() in some, returns within 1 s
 * (the injecting thread may have held the TX lock at fork()), and the
 * parent's counters then say what the peer saw.
 */
static void
fork_while_injecting(void)
{
	struct bed_tally peer_seen;
	struct pcap_tx_stat ts;
	struct injector in;
	double took, slowest = 0;
	int rx, k, hung = 0;
	pid_t pid;

	rx = bed_receiver(bed.ns_a, bed.veth_a);
	memset(&in, 0, sizeof(in));
	in.p = bed_create(bed.veth_b);
	bed_activate(in.p);
	bed_deadline(120, "fork() while a thread injects");
	if (pthread_create(&in.tid, NULL, inject_all, &in) != 0)
		bed_fatal("pthread_create");
	for (k = 0; k < FORKS; k++) {
		bed_sleep(0.01);
		pid = fork();
		if (pid == -1)
			bed_fatal("fork");
		if (pid == 0) {
			/* Each takes the lock: the parent's hold is gone. */
			if (k % 3 == 1)
				(void)pcap_get_selectable_fd(in.p);
			else if (k % 3 == 2)
				(void)bed_tx_stats(in.p, &ts);
			pcap_close(in.p);
			_exit(0);
		}
		if (!child_exits(pid, 1.0, &took))
			hung++;
		if (took > slowest)
			slowest = took;
	}
	pthread_join(in.tid, NULL);
	CHECK(hung == 0, "fork() while a thread injects: %d of %d children's pcap_get_selectable_fd(), pcap_tx_stats() or pcap_close() did not return within 1 s",
	    hung, FORKS);
	CHECK(!in.error, "pcap_inject of frame %u: %s", in.sent,
	    pcap_geterr(in.p));
	CHECK(bed_inject_flush(in.p) == 0, "pcap_inject_flush: %s",
	    pcap_geterr(in.p));
	bed_tally_init(&peer_seen, 0, INJECTED);
	bed_receive(rx, &peer_seen, 2.0);
	bed_deadline_clear();
	bed_tally_check(&peer_seen, "frames injected while the process forked");
	if (bed_tx_stats(in.p, &ts) == 0)
		CHECK(ts.tx_sent == peer_seen.frames && ts.tx_dropped == 0 &&
		    ts.tx_pending == 0,
		    "after fork(): counted sent %llu dropped %llu pending %llu, the peer saw %lu",
		    (unsigned long long)ts.tx_sent,
		    (unsigned long long)ts.tx_dropped,
		    (unsigned long long)ts.tx_pending, peer_seen.frames);
	bed_tally_free(&peer_seen);
	if (bed_failures == 0)
		bed_ok("%d children closed the handle while a thread injected, the slowest in %.2f s",
		    FORKS, slowest);
	pcap_close(in.p);
	close(rx);
}

int
main(int argc, char **argv)
{
	int round;

	bed_enter(argc, argv, "ring stock");
	/* First, while the process has had no thread. */
	inject_from_signal_handler(0);
	/* Small batches: the reader's flushes meet the injection often. */
	setenv("PCAP_RING_TX_BATCH", "4", 1);
	for (round = 0; round < ROUNDS; round++)
		inject_while_reading(round);
	read_woken_for_flushed_frames();
	inject_beside_waiting_loop();
	inject_from_callback();
	flush_loss_keeps_errbuf();
	end_from_signal_handler(0);
	end_from_signal_handler(1);
	inject_from_signal_handler(1);
	exit_while_waiting_for_lock();
	close_from_signal_handler_at_exit();
	close_in_child_during_exit_hook();
	lock_under_contention();
	fork_while_injecting();
	sendqueue_in_child();
	cancel_in_kick();
	cancel_waiting_sendqueue();
	cancel_sendqueue_waiting_for_room("0");
	cancel_sendqueue_waiting_for_room("4");
	cancel_waiting_reader();
	cancel_in_close();
	cancel_in_exit_hook();
	return bed_finish();
}
