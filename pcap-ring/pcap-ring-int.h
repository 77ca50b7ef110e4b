/*
 * pcap-ring internals shared by the glue files, which turn pcap_t
 * operations into calls of the ring layers (pcap-ring-layers.h).
 */
#ifndef pcap_ring_int_h
#define pcap_ring_int_h

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <time.h>
#include <sys/types.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <linux/if_ether.h>
#include <linux/filter.h>
#include <linux/if_packet.h>

#include "pcap-ring-layers.h"
#include "pcap-ring-libpcap.h"

/*
 * Injection.  Unbatched injection needs none of this but the counters;
 * batched injection and send queues use a TX ring on a second socket.
 */
struct pcap_ring_tx {
	struct ring_tx ring;		/* its fd is -1 until there is a TX socket */

	/* Options, set before activation (the API beats the environment). */
	int batch;			/* frames per kick; 0: one send() per frame */
	int ring_frames;		/* 0: the default */
	int qdisc_bypass;
	int batch_set;
	int ring_set;
	int qdisc_bypass_set;

	int hidden;			/* bound to drop all: may join the group */
	unsigned int min_len;		/* the link-layer header */
	unsigned int max_len;		/* what the MTU allows, untagged */
	unsigned int mtu_extra;		/* what max_len allows on top of the MTU */
	int vlan_allowed;		/* an 802.1Q tag may come on top of the MTU */

	int wake_fd;			/* eventfd, readable while frames wait */
	int wake_set;			/* it is readable */
	int selected;			/* pcap_get_selectable_fd() was called: it shows */
	int retry_fd;			/* timerfd, readable when a refused kick may be retried */
	unsigned int retry_ms;		/* its delay, doubled while the refusals go on */
	long long refused_since;	/* ns: refusals taking nothing began, or 0 */
	int kick_err;			/* errno of the last kick, or 0 */
	int waiting;
	int woke_reader;		/* readable for frames since the last read */
	int reading;			/* a read runs, and its wait would not see new frames */
	pthread_t reader;		/* the thread it runs on */
	int live;			/* on the list of handles flushed at exit */
	pcap_t *next_live;
	pid_t owner;			/* the process that activated the handle, or took it over */
	unsigned int fork_generation;	/* the fork()s it had come through then */
	int in_sendqueue;		/* pcap_sendqueue_transmit() is running */

	char loss[PCAP_ERRBUF_SIZE];	/* why frames were lost last */
	int error_pending;		/* frames lost since pcap_inject_flush() last said so */
	char error[PCAP_ERRBUF_SIZE];	/* the first of them */
	unsigned long long queue_seq0;	/* the first record of the send queue */
	unsigned long long queue_fail_seq;	/* the record that failed, or ULLONG_MAX */
	char queue_error[PCAP_ERRBUF_SIZE];
	/*
	 * The TX lock, held while the ring state changes, never while a
	 * read waits (pcap_ring_tx_lock()).
	 */
	pthread_t holder;		/* the thread holding it, or 0 */
	unsigned int lock_waiters;	/* threads waiting for it */
	unsigned int lock_released;	/* futex word: bumped at a release they wait for */
};

/*
 * The TX lock is the holder word itself, taken by one compare-and-swap
 * from 0 to the thread: so a signal handler that interrupted it on the
 * same thread (an injection, exit() or pcap_close() from there) sees at
 * every instant whether its thread holds it, and is told EDEADLK rather
 * than waiting for itself: the ring is half changed.  (A mutex notes its
 * owner after taking it, so a handler in between would wait for good.)
 * Waiters sleep on a futex (pcap_ring_tx_wait()), uncontended it costs
 * what a mutex does.
 *
 * A process with no other thread needs no atomic operation (glibc says
 * when it has never had one): the holder is noted as the last step of
 * taking the lock and cleared as the first of giving it back, so that a
 * handler runs entirely before or after the change it interrupts.
 */
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 32)
#include <sys/single_threaded.h>
#define pcap_ring_single_threaded()	(__libc_single_threaded != 0)
#else
#define pcap_ring_single_threaded()	0
#endif

static inline int
pcap_ring_tx_held_here(struct pcap_ring_tx *tx, pthread_t self)
{
	return pthread_equal(__atomic_load_n(&tx->holder, __ATOMIC_RELAXED),
	    self);
}

/* One try: 0, or EBUSY if another thread holds it. */
static inline int
pcap_ring_tx_try(struct pcap_ring_tx *tx, pthread_t self)
{
	pthread_t none = 0;

	if (pcap_ring_single_threaded()) {
		__atomic_store_n(&tx->holder, self, __ATOMIC_RELAXED);
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		return 0;
	}
	return __atomic_compare_exchange_n(&tx->holder, &none, self, 0,
	    __ATOMIC_SEQ_CST, __ATOMIC_RELAXED) ? 0 : EBUSY;
}

int	pcap_ring_tx_wait(struct pcap_ring_tx *, pthread_t self, long long due);
void	pcap_ring_tx_wake(struct pcap_ring_tx *);

/*
 * Take it, giving up at due (CLOCK_MONOTONIC, ns; -1: never, a due in
 * the past tries once): 0, EDEADLK if this thread holds it already, or
 * ETIMEDOUT.
 */
static inline int
pcap_ring_tx_lock_by(struct pcap_ring_tx *tx, long long due)
{
	pthread_t self = pthread_self();

	if (pcap_ring_tx_held_here(tx, self))
		return EDEADLK;
	if (pcap_ring_tx_try(tx, self) == 0)
		return 0;
	return pcap_ring_tx_wait(tx, self, due);
}

/* 0, or EDEADLK if this thread holds it already. */
static inline int
pcap_ring_tx_lock(struct pcap_ring_tx *tx)
{
	return pcap_ring_tx_lock_by(tx, -1);
}

static inline void
pcap_ring_tx_unlock(struct pcap_ring_tx *tx)
{
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	if (pcap_ring_single_threaded()) {
		__atomic_store_n(&tx->holder, (pthread_t)0, __ATOMIC_RELAXED);
		return;
	}
	/* Then waiters: one that missed the release sees it counted. */
	__atomic_store_n(&tx->holder, (pthread_t)0, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&tx->lock_waiters, __ATOMIC_SEQ_CST) != 0)
		pcap_ring_tx_wake(tx);
}

/*
 * The handle's private fanout group (pcap-ring-grow.c) and ring growth.
 * member[] is what the kernel's array of members holds, in its order,
 * as our own joins and leaves leave it.
 */
#define RING_GROUP_MAX		4
#define RING_GROW_MAX_STEPS	8

struct ring_grow {
	/*
	 * Held while the group changes: by the reader for a growth step,
	 * by a thread whose first send-queue transmit joins its TX ring.
	 * Only ever tried, never waited for (a signal handler, a forked
	 * child could wait forever): a TX ring that finds it taken, or a
	 * step draining, stays pending, and whoever releases it, or the
	 * switch, joins it (pcap-ring-grow.c).
	 */
	char changing;			/* __atomic_test_and_set() */
	int tx_join_pending;		/* __atomic */
	int group_wanted;		/* the handle needs a fanout group */
	int group_ids;			/* unique group ids? 1, -1, 0: no answer */
	int group_ids_asked;		/* group_ids is this handle's probe's */
	int group_id;			/* -1: no group */
	int member[RING_GROUP_MAX];
	int member_nr;
	int route;			/* the number the group's program returns, -1: none yet */
	int dummy;			/* the drop-all member after the capture socket, or -1 */
	int spare[2 * RING_GROW_MAX_STEPS + 1];	/* sockets opened at activation */
	int spare_nr;
	int spare_next;
	unsigned int size;		/* bytes of the capture ring */
	unsigned int max;		/* the cap; size >= max: no growth */
	unsigned int retire_tov;
	unsigned int hdrlen;
	int tstamp_source;		/* PACKET_TIMESTAMP, 0 for software */
	/*
	 * What a step and a switch wait for in the kernel (grace periods,
	 * 10-30 ms each, while a small ring overflows) runs on a thread of
	 * its own, the worker, as the reader goes on reading: a step up to
	 * the new socket's being picked, a switch from the old ring's unmap.
	 * worker_busy and the rest are the reader's.
	 */
	pthread_t worker;
	void (*worker_task)(pcap_t *);
	int worker_busy;		/* started, its results not yet taken */
	int worker_threaded;		/* on a thread, not run by the reader */
	unsigned int generation;	/* fork()s before activation: a child's differs */
	int worker_done;		/* set by the task as it ends (__atomic) */
	int worker_fd;			/* eventfd in the selectable set: it is done */
	struct ring_map retired_map;	/* the old ring, for a switch's worker */
	ino_t retired_ino, capture_ino;	/* their sockets, for /proc/net/packet */
	/* While the previous ring drains, the next one fills. */
	int draining;			/* cleared last in a switch (__atomic) */
	int next_fd;			/* pcap_stats() reads it (__atomic) */
	int stats_readers;		/* pcap_stats() calls reading next_fd (__atomic) */
	int unclosed[RING_GROW_MAX_STEPS];	/* next_fd numbers a reader may still read */
	int unclosed_nr;
	struct ring_map next_map;
	struct ring_rx next_rx;
	unsigned int next_size;
	int refilter;			/* a filter was set while draining */
};

/* Private state of a pcap-ring handle (libpcap_priv()). */
struct pcap_ring {
	char ifname[IFNAMSIZ];
	int ifindex;
	int lo_ifindex;
	struct ring_map rx_map;
	struct ring_rx rx;
	int timeout;			/* ms; negative (~timeout) while non-blocking */
	int poll_timeout;
	int wait_once;			/* the read ends at the first poll() timeout */
	int breakloop_fd;		/* eventfd that wakes poll() for pcap_breakloop() */
	int epoll_fd;			/* the selectable fd of a batched or growing handle, or -1 */
	u_char *oneshot_buffer;		/* pcap_next_ex()'s packet when its slot went back */
	int netdown;			/* ENETDOWN seen; the device may be going away */
	int filter_in_userland;
	int vlan_offset;		/* where a VLAN tag goes back in, -1 for none */
	/* For the read path, where each libpcap_*() is a call into libpcap. */
	unsigned int snapshot;		/* the handle's, once activated */
	int nano;			/* time stamps in nanoseconds */
	pcap_direction_t direction;	/* what pcap_setdirection() set */
	long long sysfs_dropped;
	struct pcap_stat stat;
	struct pcap_ring_tx tx;
	struct ring_grow grow;
};

/* The protocol a handle's sockets are bound to, in network order. */
static inline int
pcap_ring_protocol(pcap_t *p)
{
	int protocol = libpcap_get_protocol(p);

	return htons(protocol != 0 ? protocol : ETH_P_ALL);
}

/*
 * Whether a capture ring of size bytes gets stock's 256 KiB blocks
 * (ring_sock_layout_v3()): the ring the program asked for, any ring whose
 * blocks retire only when full (read timeout 0), and any whose retire
 * timer the kernel derives from the block size and link speed (a negative
 * timeout).  A larger ring that pcap-ring chose (its default, a grown
 * one) gets larger blocks.
 */
static inline int
pcap_ring_stock_blocks(pcap_t *p, unsigned int size, unsigned int retire_tov)
{
	return retire_tov == UINT_MAX || retire_tov == 0 ||
	    size <= (unsigned int)libpcap_get_buffer_size(p);
}

#define NSEC_PER_SEC	1000000000LL

/* The clock of the TX glue's deadlines and of the send queues' schedule. */
static inline long long
pcap_ring_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

/* pcap-ring-read.c: the read operation. */
int	pcap_ring_read(pcap_t *, int, pcap_handler, u_char *);
void	pcap_ring_set_poll_timeout(struct pcap_ring *);

/* pcap-ring-grow.c: the fanout group and ring growth. */
void	pcap_ring_grow_init(struct ring_grow *);
int	pcap_ring_grow_open(pcap_t *);
int	pcap_ring_group_form(pcap_t *);
void	pcap_ring_group_add_tx(pcap_t *);
void	pcap_ring_group_join_tx(pcap_t *);
int	pcap_ring_grow_check(pcap_t *);

/*
 * Whether pcap_ring_grow_check() has anything to do, asked at each read
 * without a call: most handles never grow, and one that grew keeps a
 * number to close only until the next read.
 */
static inline int
pcap_ring_grow_pending(const struct ring_grow *g)
{
	/* The worker sets the cap to 0 when growth ends. */
	return g->size < __atomic_load_n(&g->max, __ATOMIC_RELAXED) ||
	    g->unclosed_nr > 0 || g->worker_busy;
}

/* Whether the worker has done what pcap_ring_grow_check() is to take. */
static inline int
pcap_ring_grow_ready(const struct ring_grow *g)
{
	return g->worker_busy &&
	    __atomic_load_n(&g->worker_done, __ATOMIC_SEQ_CST);
}
int	pcap_ring_grow_finish(pcap_t *);
void	pcap_ring_grow_wake_open(pcap_t *);
void	pcap_ring_grow_settle(pcap_t *);
void	pcap_ring_grow_cleanup(pcap_t *);

/* pcap-ring.c: the operations of a plain handle, and helpers. */
int	pcap_ring_setfilter(pcap_t *, struct bpf_program *);
int	pcap_ring_setdirection(pcap_t *, pcap_direction_t);
int	pcap_ring_set_datalink(pcap_t *, int);
int	pcap_ring_getnonblock(pcap_t *);
int	pcap_ring_setnonblock(pcap_t *, int);
int	pcap_ring_stats(pcap_t *, struct pcap_stat *);
void	pcap_ring_cleanup(pcap_t *);
void	pcap_ring_breakloop(pcap_t *);
int	pcap_ring_set_promiscuous(pcap_t *, int fd, char *errbuf);
int	pcap_ring_set_capture_options(pcap_t *, int fd, int version,
	    unsigned int *hdrlen, char *errbuf);
int	pcap_ring_add_stats(pcap_t *, int fd);
int	pcap_ring_set_kernel_filter(pcap_t *, int fd);
int	pcap_ring_open_socket(char *errbuf, int type);
int	pcap_ring_epoll_open(pcap_t *);
int	pcap_ring_epoll_add(pcap_t *, int fd, char *errbuf);
unsigned int	pcap_ring_unasked_buffer_size(void);
int	pcap_ring_env_number(const char *name, int max, int *value,
	    char *errbuf);
void	pcap_ring_trace(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));

/* pcap-ring-tx.c: injection, and the operations of a batched handle. */
extern const struct pcap_plugin_ops pcap_ring_batched_ops;
int	pcap_ring_inject(pcap_t *, const void *, int);
void	pcap_ring_tx_init(struct pcap_ring_tx *);
int	pcap_ring_tx_open(pcap_t *);
int	pcap_ring_tx_activate(pcap_t *);
void	pcap_ring_tx_cleanup(pcap_t *);
extern const struct pcap_plugin_tx_ops pcap_ring_tx_ops;
/* What the send queues use of it. */
int	pcap_ring_tx_setup_ring(pcap_t *);
int	pcap_ring_tx_kick(pcap_t *);
int	pcap_ring_tx_queue(pcap_t *, const void *, int);
void	pcap_ring_tx_drain(pcap_t *);
void	pcap_ring_tx_drop_waiting(pcap_t *, const char *call, int err);
int	pcap_ring_tx_interrupted(pcap_t *, const char *call);
void	pcap_ring_tx_own(pcap_t *, struct pcap_ring_tx *);

/* pcap-ring-sendqueue.c: the send queues, through the TX ring. */
u_int	pcap_ring_sendqueue_transmit(pcap_t *, struct pcap_send_queue *,
	    int sync);

#endif
