/*
 * pcap_breakloop() ends a pcap_loop() blocked with no traffic promptly
 * with PCAP_ERROR_BREAK, called from another thread or from a signal
 * handler, or before the loop starts; a break pending while packets wait
 * delivers what stock delivers (none of them; one in immediate mode); a
 * signal that interrupts the wait without pcap_breakloop() neither ends
 * the loop nor loses packets.
 * Stock behaviour, so it runs with both libraries, for the TPACKET_V3
 * ring and for immediate mode.
 *
 * One documented difference: on a non-blocking handle with no packet
 * waiting, a pending break ends pcap_dispatch() at once with
 * PCAP_ERROR_BREAK, as pcap_breakloop(3PCAP) says; stock, which has no
 * wake-up descriptor in non-blocking mode, returns 0 and keeps the break
 * for the first read that finds packets (pcap_loop() spins until then).
 */
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/time.h>

#include "bed.h"

static pcap_t *handle;
static volatile sig_atomic_t ticks;
static int sender_fd;

static void
set_timer(double first, double interval)
{
	struct itimerval it;

	memset(&it, 0, sizeof(it));
	it.it_value.tv_sec = (time_t)first;
	it.it_value.tv_usec = (suseconds_t)((first - (time_t)first) * 1e6);
	it.it_interval.tv_sec = (time_t)interval;
	it.it_interval.tv_usec =
	    (suseconds_t)((interval - (time_t)interval) * 1e6);
	setitimer(ITIMER_REAL, &it, NULL);
}

static void
on_signal(int sig, void (*handler)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

static void
break_from_handler(int sig)
{
	(void)sig;
	pcap_breakloop(handle);
}

static void
count_tick(int sig)
{
	(void)sig;
	ticks++;
}

/* Run pcap_loop() until it returns; the result and the seconds it took. */
static int
timed_loop(int cnt, struct bed_tally *t, double *secs)
{
	double start = bed_now();
	int ret;

	bed_deadline(10, "pcap_loop");
	ret = pcap_loop(handle, cnt, bed_tally_cb, (u_char *)t);
	bed_deadline_clear();
	*secs = bed_now() - start;
	return ret;
}

static void
break_from_thread(int immediate, int timeout)
{
	struct bed_tally t;
	struct bed_break b;
	double secs;
	int ret;

	handle = bed_open(immediate, 0, timeout);
	bed_tally_init(&t, 0, 1);
	bed_break_later(&b, handle, 0.3);
	ret = timed_loop(-1, &t, &secs);
	bed_break_join(&b);
	CHECK(ret == PCAP_ERROR_BREAK && secs < 3,
	    "immediate %d timeout %d: breakloop from a thread: pcap_loop returned %d after %.2f s",
	    immediate, timeout, ret, secs);
	CHECK(t.frames + t.other == 0, "packets on a quiet bed");
	bed_ok("immediate %d timeout %d: breakloop from a thread: PCAP_ERROR_BREAK after %.2f s",
	    immediate, timeout, secs);
	bed_tally_free(&t);
	pcap_close(handle);
}

static void
break_from_signal(int immediate)
{
	struct bed_tally t;
	double secs;
	int ret;

	handle = bed_open(immediate, 0, 1000);
	bed_tally_init(&t, 0, 1);
	on_signal(SIGALRM, break_from_handler);
	set_timer(0.3, 0);
	ret = timed_loop(-1, &t, &secs);
	set_timer(0, 0);
	CHECK(ret == PCAP_ERROR_BREAK && secs < 3,
	    "immediate %d: breakloop from SIGALRM: pcap_loop returned %d after %.2f s",
	    immediate, ret, secs);
	bed_ok("immediate %d: breakloop from a SIGALRM handler: PCAP_ERROR_BREAK after %.2f s",
	    immediate, secs);
	bed_tally_free(&t);
	pcap_close(handle);
}

static void
break_before_loop(int immediate)
{
	struct bed_tally t;
	double secs;
	int ret;

	handle = bed_open(immediate, 0, 1000);
	bed_tally_init(&t, 0, 1);
	pcap_breakloop(handle);
	ret = timed_loop(-1, &t, &secs);
	CHECK(ret == PCAP_ERROR_BREAK && secs < 3,
	    "immediate %d: breakloop before pcap_loop: returned %d after %.2f s",
	    immediate, ret, secs);
	bed_ok("immediate %d: breakloop before pcap_loop: PCAP_ERROR_BREAK after %.2f s",
	    immediate, secs);
	bed_tally_free(&t);
	pcap_close(handle);
}

static void
break_nonblocking_idle(int immediate)
{
	struct bed_tally t;
	int first, second;

	handle = bed_open(immediate, 0, 1000);
	bed_setnonblock(handle);
	bed_tally_init(&t, 0, 1);
	pcap_breakloop(handle);
	first = pcap_dispatch(handle, -1, bed_tally_cb, (u_char *)&t);
	second = pcap_dispatch(handle, -1, bed_tally_cb, (u_char *)&t);
	if (bed.ring)
		CHECK(first == PCAP_ERROR_BREAK && second == 0,
		    "immediate %d: non-blocking, idle, break pending: pcap_dispatch returned %d then %d, not %d then 0",
		    immediate, first, second, PCAP_ERROR_BREAK);
	else
		CHECK(first == 0 && second == 0,
		    "immediate %d: stock, non-blocking, idle, break pending: pcap_dispatch returned %d then %d (README says 0 then 0)",
		    immediate, first, second);
	if (bed_failures == 0)
		bed_ok("immediate %d: non-blocking, idle, break pending: pcap_dispatch returned %d then %d",
		    immediate, first, second);
	bed_tally_free(&t);
	pcap_close(handle);
}

/*
 * A break requested while packets wait in the ring: stock's TPACKET_V3
 * reader (the default) delivers none of them, its immediate-mode reader
 * one; both return PCAP_ERROR_BREAK, and the packets are read afterwards.
 */
static void
break_with_packets_waiting(int immediate)
{
	const unsigned long first = immediate ? 1 : 0;
	struct bed_tally t;
	double secs;
	int ret;

	handle = bed_open(immediate, 0, 100);
	bed_tally_init(&t, 0, 5);
	bed_send(sender_fd, 0, 5, 60, 1514, MIX_ALL, NULL);
	/* Long enough for the V3 block to retire on the timeout. */
	bed_sleep(0.5);
	pcap_breakloop(handle);
	ret = timed_loop(-1, &t, &secs);
	CHECK(ret == PCAP_ERROR_BREAK && t.frames == first && t.other == 0,
	    "immediate %d: break pending with 5 frames waiting: pcap_loop returned %d with %lu frames, stock's %lu",
	    immediate, ret, t.frames + t.other, first);
	ret = timed_loop(5 - (int)(t.frames + t.other), &t, &secs);
	CHECK(ret == 0, "immediate %d: pcap_loop after the break returned %d",
	    immediate, ret);
	bed_tally_check(&t, immediate ?
	    "immediate mode: break with frames waiting, then the frames" :
	    "break with frames waiting, then the frames");
	bed_tally_free(&t);
	pcap_close(handle);
}

static void *
send_bursts(void *arg)
{
	uint32_t i;

	/* Bursts small enough for stock's immediate-mode ring of ~30 frames. */
	(void)arg;
	for (i = 0; i < 50; i++) {
		bed_sleep(0.02);
		bed_send(sender_fd, i * 10, 10, 60, 1514, MIX_ALL, NULL);
	}
	return NULL;
}

static void
signals_without_break(int immediate)
{
	struct bed_tally t;
	struct pcap_stat ps;
	pthread_t tid;
	double secs;
	int ret;

	handle = bed_open(immediate, 0, 100);
	bed_tally_init(&t, 0, 500);
	ticks = 0;
	on_signal(SIGALRM, count_tick);
	set_timer(0.01, 0.01);
	pthread_create(&tid, NULL, send_bursts, NULL);
	ret = timed_loop(500, &t, &secs);
	set_timer(0, 0);
	pthread_join(tid, NULL);
	CHECK(ret == 0, "immediate %d: pcap_loop(500) under signals returned %d (%s)",
	    immediate, ret, ret < 0 ? pcap_geterr(handle) : "");
	CHECK(ticks >= 20, "only %d signals arrived", (int)ticks);
	CHECK(pcap_stats(handle, &ps) == 0 && ps.ps_drop == 0,
	    "pcap_stats: %u dropped", ps.ps_drop);
	bed_tally_check(&t, immediate ?
	    "immediate mode: 500 frames through pcap_loop under SIGALRM every 10 ms" :
	    "500 frames through pcap_loop under SIGALRM every 10 ms");
	bed_tally_free(&t);
	pcap_close(handle);
}

int
main(int argc, char **argv)
{
	int immediate;

	bed_enter(argc, argv, "ring stock");
	sender_fd = bed_sender(bed.ns_a, bed.veth_a);
	for (immediate = 0; immediate <= 1; immediate++) {
		break_from_thread(immediate, 0);
		break_from_thread(immediate, 1000);
		break_from_signal(immediate);
		break_before_loop(immediate);
		break_nonblocking_idle(immediate);
		break_with_packets_waiting(immediate);
		signals_without_break(immediate);
	}
	return bed_finish();
}
