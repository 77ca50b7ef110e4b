/*
 * ring-tx: inject deterministic test frames (frames.h) through the
 * pcap-ring TX paths, and report what the library counted.
 *
 * usage: ring-tx -i IFACE -n COUNT [-f FIRST] [-l MIN-MAX] [-m udp|all]
 *                [-b BATCH] [-r RING] [-Q] [-S] [-g GAP_US] [-N [-O]] [-k]
 *                [-E] [-A before|after] [-X EXTRA [-I IFACE2]] [-F] [-R [-B MS]]
 *                [-w FILE] [-T LEN] [-s [-W]] [-Y exit|close|inject|flood]
 *   -b BATCH  pcap_set_tx_batch() (without it, PCAP_RING_TX_BATCH applies)
 *   -r RING   pcap_set_tx_ring_size()
 *   -Q        one send queue with every frame, pcap_sendqueue_transmit()
 *   -S        ... with sync, frames GAP_US (-g, default 0) apart
 *   -N        non-blocking: count "TX ring full" errors and retry
 *   -O        ... or stop at the first, printing how many frames went in
 *             before it ("accepted before the ring was full: K")
 *   -k        keep going after other errors, counting them
 *   -E        exit() without pcap_close() after the last frame (no -s)
 *   -A WHEN   exit() after the last frame, from where an atexit handler
 *             registered before opening the handle or after activating it
 *             calls pcap_close() (no -s)
 *   -X EXTRA  first open EXTRA more handles on IFACE (same -b, -r) and
 *             inject the COUNT frames into each; they are never closed
 *   -I IFACE2 ... on IFACE2 instead (IFACE's handle is opened after them)
 *   -F        after the last frame, fork a child that exit()s at once, and
 *             print "child sent N", the packets IFACE sent meanwhile
 *   -D        once the handle is open, fork, as a daemon does: the parent
 *             _exit()s at once and the child does the rest
 *   -R        after the last frame, read one packet (pcap_dispatch(), no
 *             flush first; blocking with no timeout) and print "read N";
 *             with -N, then print "readable R" (select() on the selectable
 *             descriptor at once) and "wakeups W", the times a select()
 *             loop came back until no frame waited
 *   -B MS     ... with a 1000 ms read timeout, and another thread calls
 *             pcap_breakloop() MS ms after the read began; then print
 *             "read returned after T ms"
 *   -w FILE   after activation, create FILE.ready and wait until FILE exists
 *   -T LEN    also print how many frames are longer than LEN
 *   -s        print pcap_tx_stats() (after pcap_inject_flush(), and how
 *             long that took: "flush took T ms")
 *   -Y WHAT   exit() after the last frame, printing "exit() at T ms" (the
 *             realtime clock, which date(1) reads too), while another
 *             thread acts as soon as it sees the module's exit hook at
 *             work: kicking the last EXTRA handle (-X), or else IFACE's
 *             (frames must wait there meanwhile).  It prints IFACE's
 *             handle's pcap_tx_stats() ("exiting tx ..."), then: exit
 *             calls exit(3); close calls pcap_close() on that handle and
 *             prints "close took T ms"; inject injects COUNT more frames
 *             into it (from FIRST + COUNT) and prints "injected N frames B
 *             bytes"; flood injects frames into it until the process ends.
 *             After close and inject it prints the last EXTRA handle's
 *             pcap_tx_stats() ("other tx ..."), and an atexit handler
 *             registered before any handle was opened (so it runs after
 *             the exit hook) waits for that.
 *
 * Prints "sent N frames B bytes" (frames the calls accepted), with -Q
 * "transmit took U us" (pcap_sendqueue_transmit()), and, with -s,
 * "tx queued Q sent S bytes B rejected R dropped D kicks K waits W pending P".
 * Fails at once if pcap-ring left IFACE to stock pcap-linux.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/select.h>
#include <sys/wait.h>
/* The send queues are declared only on request. */
#define PCAP_WANT_SENDQUEUE
#include <pcap/pcap.h>

#include "frames.h"
#include "must.h"

static void
usage(void)
{
	fprintf(stderr,
	    "usage: ring-tx -i IFACE -n COUNT [-f FIRST] [-l MIN-MAX] [-m udp|all] [-b BATCH] [-r RING] [-Q] [-S] [-g GAP_US] [-N [-O]] [-k] [-E] [-A before|after] [-X EXTRA [-I IFACE2]] [-F] [-R [-B MS]] [-w FILE] [-T LEN] [-s [-W]] [-Y exit|close|inject|flood]\n");
	exit(2);
}

static void
get_stats(pcap_t *p, struct pcap_tx_stat *ts)
{
	if (pcap_tx_stats(p, ts) != 0) {
		fprintf(stderr, "ring-tx: pcap_tx_stats: %s\n", pcap_geterr(p));
		exit(1);
	}
}

/* pcap_tx_stats(), on a line that starts with label. */
static void
print_stats(pcap_t *p, const char *label)
{
	struct pcap_tx_stat ts;

	get_stats(p, &ts);
	printf("%s queued %llu sent %llu bytes %llu rejected %llu dropped %llu kicks %llu waits %llu pending %llu\n",
	    label, (unsigned long long)ts.tx_queued, (unsigned long long)ts.tx_sent,
	    (unsigned long long)ts.tx_bytes, (unsigned long long)ts.tx_rejected,
	    (unsigned long long)ts.tx_dropped, (unsigned long long)ts.tx_kicks,
	    (unsigned long long)ts.tx_waits, (unsigned long long)ts.tx_pending);
}

static pcap_t *handle;

/* An activated handle on ifname; timeout_ms < 0: the default timeout. */
static pcap_t *
open_handle(const char *ifname, int batch, int ring, int timeout_ms)
{
	pcap_t *p = frame_sender_create("ring-tx", ifname);

	if (batch >= 0 && pcap_set_tx_batch(p, batch) != 0) {
		fprintf(stderr, "ring-tx: pcap_set_tx_batch: %s\n", pcap_geterr(p));
		exit(1);
	}
	if (ring >= 0 && pcap_set_tx_ring_size(p, ring) != 0) {
		fprintf(stderr, "ring-tx: pcap_set_tx_ring_size: %s\n", pcap_geterr(p));
		exit(1);
	}
	if (timeout_ms >= 0)
		MUST(pcap_set_timeout(p, timeout_ms));
	if (pcap_activate(p) < 0) {
		fprintf(stderr, "ring-tx: %s: %s\n", ifname, pcap_geterr(p));
		exit(1);
	}
	return p;
}

static void *
break_later(void *arg)
{
	struct timespec ts;
	int ms = *(int *)arg;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000;
	nanosleep(&ts, NULL);
	pcap_breakloop(handle);
	return NULL;
}

static void
close_at_exit(void)
{
	pcap_close(handle);
}

/* Packets the interface has sent, from sysfs. */
static unsigned long long
tx_packets(const char *ifname)
{
	char path[256];
	unsigned long long n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/tx_packets",
	    ifname);
	f = fopen(path, "r");
	if (f == NULL || fscanf(f, "%llu", &n) != 1) {
		fprintf(stderr, "ring-tx: can't read %s\n", path);
		exit(1);
	}
	fclose(f);
	return n;
}

/*
 * A forked child that exits must leave the frames waiting in the parent's
 * ring alone: they are the parent's to send.
 */
static void
fork_and_exit_child(const char *ifname)
{
	unsigned long long before = tx_packets(ifname);
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == -1) {
		perror("ring-tx: fork");
		exit(1);
	}
	if (pid == 0)
		exit(0);
	if (waitpid(pid, NULL, 0) != pid) {
		perror("ring-tx: waitpid");
		exit(1);
	}
	printf("child sent %llu\n", tx_packets(ifname) - before);
}

static void
ignore_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *data)
{
	(void)user;
	(void)h;
	(void)data;
}

/* Wait up to secs for the descriptor to be readable: select()'s result. */
static int
readable(int fd, int secs)
{
	struct timeval tv = { secs, 0 };
	fd_set fds;

	FD_ZERO(&fds);
	FD_SET(fd, &fds);
	return select(fd + 1, &fds, NULL, NULL, &tv);
}

/*
 * What a non-blocking program's select() loop sees after a read that left
 * frames waiting for room in the send buffer: not readable at once (the
 * loop would spin), then readable until every frame is sent.
 */
static void
select_until_sent(pcap_t *p)
{
	int fd = pcap_get_selectable_fd(p);
	unsigned long wakeups = 0;
	struct pcap_tx_stat ts;

	printf("readable %d\n", readable(fd, 0));
	for (;;) {
		if (pcap_tx_stats(p, &ts) != 0) {
			fprintf(stderr, "ring-tx: pcap_tx_stats: %s\n", pcap_geterr(p));
			exit(1);
		}
		if (ts.tx_pending == 0)
			break;
		if (readable(fd, 5) != 1) {
			fprintf(stderr, "ring-tx: not readable within 5 s with %llu frames waiting\n",
			    (unsigned long long)ts.tx_pending);
			exit(1);
		}
		wakeups++;
		if (pcap_dispatch(p, 1, ignore_packet, NULL) == PCAP_ERROR) {
			fprintf(stderr, "ring-tx: pcap_dispatch: %s\n", pcap_geterr(p));
			exit(1);
		}
	}
	printf("wakeups %lu\n", wakeups);
}

static long long
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static void
wait_for_go(const char *file)
{
	char ready[4096];
	FILE *f;

	snprintf(ready, sizeof(ready), "%s.ready", file);
	f = fopen(ready, "w");
	if (f != NULL)
		fclose(f);
	while (access(file, F_OK) != 0)
		usleep(10000);
}

/* -Y: what the other thread does while the exit hook runs, and with what. */
static struct {
	const char *what;
	pcap_t *other;			/* the last EXTRA handle, if any */
	struct frame_run run;		/* the frames it injects */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int done;
} during = {
	.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER
};

/*
 * Wait until something other than this thread kicks p, whose frames wait
 * on a link too slow for them: at exit, only the module's hook does.
 * Each pcap_tx_stats() here kicks p at most once itself.
 */
static void
see_exit_hook_at_work(pcap_t *p)
{
	struct pcap_tx_stat ts;
	unsigned long long start, mine = 0;
	long long due = now_us() + 10000000;

	get_stats(p, &ts);
	start = ts.tx_kicks;
	do {
		if (now_us() > due) {
			fprintf(stderr, "ring-tx: the exit hook was not seen kicking a handle within 10 s\n");
			_exit(1);
		}
		usleep(1000);
		get_stats(p, &ts);
		mine++;
	} while (ts.tx_kicks - start <= mine);
}

/* Inject frames first to first + count - 1 into handle; how many went. */
static unsigned long
inject_more(unsigned long first, unsigned long count, unsigned long long *bytes)
{
	static uint8_t frame[FRAME_MAX_LEN];
	unsigned long i;
	size_t len;

	for (i = first; i - first < count; i++) {
		len = frame_run_build(&during.run, frame, i);
		if (pcap_inject(handle, frame, len) != (int)len) {
			fprintf(stderr, "ring-tx: during exit: frame %lu: %s\n",
			    i, pcap_geterr(handle));
			break;
		}
		*bytes += len;
	}
	return i - first;
}

static void *
act_during_exit(void *arg)
{
	unsigned long long bytes = 0;
	unsigned long n;
	long long start;

	(void)arg;
	see_exit_hook_at_work(during.other != NULL ? during.other : handle);
	print_stats(handle, "exiting tx");
	fflush(stdout);
	if (strcmp(during.what, "exit") == 0) {
		exit(3);
	} else if (strcmp(during.what, "close") == 0) {
		start = now_us();
		pcap_close(handle);
		printf("close took %lld ms\n", (now_us() - start) / 1000);
	} else if (strcmp(during.what, "inject") == 0) {
		n = inject_more(during.run.first, during.run.count, &bytes);
		printf("injected %lu frames %llu bytes\n", n, bytes);
	} else {
		(void)inject_more(during.run.first, ULONG_MAX - during.run.first,
		    &bytes);
		for (;;)
			pause();
	}
	if (during.other != NULL)
		print_stats(during.other, "other tx");
	fflush(stdout);
	pthread_mutex_lock(&during.lock);
	during.done = 1;
	pthread_cond_signal(&during.cond);
	pthread_mutex_unlock(&during.lock);
	return NULL;
}

/* Run after the exit hook: the process lives until the thread reports. */
static void
wait_for_report(void)
{
	struct timespec due;
	int err = 0;

	clock_gettime(CLOCK_REALTIME, &due);
	due.tv_sec += 10;
	pthread_mutex_lock(&during.lock);
	while (!during.done && err == 0)
		err = pthread_cond_timedwait(&during.cond, &during.lock, &due);
	pthread_mutex_unlock(&during.lock);
	if (err != 0) {
		fprintf(stderr, "ring-tx: the thread acting during exit did not report within 10 s\n");
		_exit(1);
	}
}

int
main(int argc, char **argv)
{
	const char *ifname = NULL, *extra_ifname = NULL, *go = NULL;
	char errbuf[PCAP_ERRBUF_SIZE];
	static uint8_t frame[FRAME_MAX_LEN];
	struct frame_run run = FRAME_RUN_DEFAULT;
	unsigned long i, sent = 0, longer = 0;
	unsigned long eagain = 0, errors = 0;
	size_t len, threshold = 0;
	unsigned long long bytes = 0;
	long long start, took = 0;
	int batch = -1, ring = -1, sendqueue = 0, sync = 0, gap_us = 0;
	int nonblock = 0, stop_when_full = 0, keep_going = 0, no_close = 0;
	int stats = 0, flush_again = 0, flushes, opt, ret;
	int fork_child = 0, daemonize = 0, read_one = 0, break_ms = -1, extra = 0;
	pthread_t breaker, actor;
	const char *close_hook = NULL;
	struct pcap_tx_stat ts;
	pcap_t *p;

	while ((opt = getopt(argc, argv,
	    "i:" FRAME_RUN_OPTIONS "b:r:QSg:NOkEA:X:I:FDRB:w:T:sWY:")) != -1) {
		switch (opt) {
		case 'i': ifname = optarg; break;
		case 'b': batch = atoi(optarg); break;
		case 'r': ring = atoi(optarg); break;
		case 'Q': sendqueue = 1; break;
		case 'S': sync = 1; break;
		case 'g': gap_us = atoi(optarg); break;
		case 'N': nonblock = 1; break;
		case 'O': stop_when_full = 1; break;
		case 'k': keep_going = 1; break;
		case 'E': no_close = 1; break;
		case 'A':
			if (strcmp(optarg, "before") != 0 &&
			    strcmp(optarg, "after") != 0)
				usage();
			close_hook = optarg;
			no_close = 1;
			break;
		case 'X': extra = atoi(optarg); break;
		case 'I': extra_ifname = optarg; break;
		case 'F': fork_child = 1; break;
		case 'D': daemonize = 1; break;
		case 'R': read_one = 1; break;
		case 'B': break_ms = atoi(optarg); break;
		case 'w': go = optarg; break;
		case 'T': threshold = strtoul(optarg, NULL, 0); break;
		case 's': stats = 1; break;
		case 'W': flush_again = 1; break;
		case 'Y':
			if (strcmp(optarg, "exit") != 0 &&
			    strcmp(optarg, "close") != 0 &&
			    strcmp(optarg, "inject") != 0 &&
			    strcmp(optarg, "flood") != 0)
				usage();
			during.what = optarg;
			no_close = 1;
			break;
		default:
			if (frame_run_option(&run, opt, optarg) != 0)
				usage();
		}
	}
	if (ifname == NULL || run.count == 0)
		usage();

	if (close_hook != NULL && strcmp(close_hook, "before") == 0 &&
	    atexit(close_at_exit) != 0)
		return 1;
	if (during.what != NULL && (strcmp(during.what, "close") == 0 ||
	    strcmp(during.what, "inject") == 0) && atexit(wait_for_report) != 0)
		return 1;
	for (; extra > 0; extra--) {
		p = open_handle(extra_ifname != NULL ? extra_ifname : ifname,
		    batch, ring, -1);
		for (i = run.first; i < run.first + run.count; i++) {
			len = frame_run_build(&run, frame, i);
			if (pcap_inject(p, frame, len) != (int)len) {
				fprintf(stderr, "ring-tx: extra handle: frame %lu: %s\n",
				    i, pcap_geterr(p));
				return 1;
			}
		}
		during.other = p;
	}
	p = open_handle(ifname, batch, ring, break_ms >= 0 ? 1000 : -1);
	handle = p;
	if (close_hook != NULL && strcmp(close_hook, "after") == 0 &&
	    atexit(close_at_exit) != 0)
		return 1;
	/* Injection through stock pcap-linux would prove nothing here. */
	if (pcap_tx_stats(p, &ts) != 0) {
		fprintf(stderr, "ring-tx: %s is not a pcap-ring handle: %s\n",
		    ifname, pcap_geterr(p));
		return 1;
	}
	if (nonblock && pcap_setnonblock(p, 1, errbuf) != 0) {
		fprintf(stderr, "ring-tx: %s\n", errbuf);
		return 1;
	}
	if (daemonize) {
		pid_t pid = fork();

		if (pid == -1) {
			perror("ring-tx: fork");
			return 1;
		}
		if (pid != 0)
			_exit(0);
	}
	if (go != NULL)
		wait_for_go(go);

	if (sendqueue) {
		pcap_send_queue *q = pcap_sendqueue_alloc((u_int)(run.count *
		    (sizeof(struct pcap_pkthdr) + run.max_len)));
		struct pcap_pkthdr h;
		u_int done;

		if (q == NULL) {
			fprintf(stderr, "ring-tx: pcap_sendqueue_alloc failed\n");
			return 1;
		}
		for (i = run.first; i < run.first + run.count; i++) {
			len = frame_run_build(&run, frame, i);
			h.ts.tv_sec = (time_t)((i - run.first) * (unsigned long)gap_us / 1000000);
			h.ts.tv_usec = (suseconds_t)((i - run.first) * (unsigned long)gap_us % 1000000);
			h.caplen = h.len = (bpf_u_int32)len;
			if (pcap_sendqueue_queue(q, &h, frame) != 0) {
				fprintf(stderr, "ring-tx: pcap_sendqueue_queue failed at frame %lu\n", i);
				return 1;
			}
			bytes += len;
			if (threshold != 0 && len > threshold)
				longer++;
		}
		start = now_us();
		done = pcap_sendqueue_transmit(p, q, sync);
		took = now_us() - start;
		if (done != q->len) {
			fprintf(stderr, "ring-tx: pcap_sendqueue_transmit sent %u of %u bytes: %s\n",
			    done, q->len, pcap_geterr(p));
			return 1;
		}
		sent = run.count;
		pcap_sendqueue_destroy(q);
	} else {
		for (i = run.first; i < run.first + run.count; i++) {
			len = frame_run_build(&run, frame, i);
			if (threshold != 0 && len > threshold)
				longer++;
			while ((ret = pcap_inject(p, frame, len)) == PCAP_ERROR &&
			    nonblock && strstr(pcap_geterr(p), "TX ring full") != NULL) {
				eagain++;
				if (stop_when_full)
					break;
				usleep(200);
			}
			if (eagain > 0 && stop_when_full) {
				printf("accepted before the ring was full: %lu\n",
				    sent);
				break;
			}
			if (ret != (int)len) {
				if (keep_going) {
					errors++;
					continue;
				}
				fprintf(stderr, "ring-tx: frame %lu: %s\n", i,
				    pcap_geterr(p));
				pcap_close(p);
				return 1;
			}
			sent++;
			bytes += len;
		}
	}
	if (fork_child)
		fork_and_exit_child(ifname);
	if (read_one) {
		start = now_us();
		if (break_ms >= 0 &&
		    pthread_create(&breaker, NULL, break_later, &break_ms) != 0)
			return 1;
		printf("read %d\n", pcap_dispatch(p, 1, ignore_packet, NULL));
		if (break_ms >= 0) {
			printf("read returned after %lld ms\n",
			    (now_us() - start) / 1000);
			pthread_join(breaker, NULL);
		}
		if (nonblock)
			select_until_sent(p);
	}
	printf("sent %lu frames %llu bytes\n", sent, bytes);
	if (sendqueue)
		printf("transmit took %lld us\n", took);
	if (nonblock)
		printf("ring full %lu\n", eagain);
	if (keep_going)
		printf("errors %lu\n", errors);
	if (threshold != 0)
		printf("longer than %zu: %lu\n", threshold, longer);
	if (no_close) {
		if (during.what != NULL) {
			during.run = run;
			during.run.first = run.first + run.count;
			if (pthread_create(&actor, NULL, act_during_exit, NULL) != 0)
				return 1;
			printf("exit() at %lld ms\n", clock_ms(CLOCK_REALTIME));
		}
		/* What waits is sent at exit, or by close_at_exit(). */
		fflush(stdout);
		exit(0);
	}
	if (stats) {
		start = now_us();
		ret = pcap_inject_flush(p);
		for (flushes = 1; ret != 0 && flush_again && nonblock &&
		    strstr(pcap_geterr(p), "still wait") != NULL &&
		    now_us() - start < 10000000; flushes++) {
			(void)readable(pcap_get_selectable_fd(p), 1);
			ret = pcap_inject_flush(p);
		}
		printf("flush took %lld ms\n", (now_us() - start) / 1000);
		if (flush_again)
			printf("flushes %d\n", flushes);
		if (ret != 0)
			printf("flush: %s\n", pcap_geterr(p));
		print_stats(p, "tx");
	}
	pcap_close(p);
	return 0;
}
