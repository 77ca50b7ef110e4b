/*
 * pcap-ring: injection, the glue between a pcap_t and the TX ring of
 * pcap-ring-txring.c (which queues, kicks, reaps and handles rejects):
 * when to kick and wait, the selectable descriptor, errors, the exit hook
 * and threads.  The send queues, which go through the same ring, are a
 * concern of their own: pcap-ring-sendqueue.c.
 *
 * Design, from measurements on veth and on an ifb sink (a 2-core VM):
 *
 * - An unbatched pcap_inject() goes out with one send() on the capture
 *   socket, as in stock pcap-linux: the frame reaches the driver before
 *   the call returns, errors come back synchronously, and the handle's
 *   own capture does not see it.  A TX ring kicked after every frame ran
 *   at 0.7x of that on veth, so unbatched injection never uses the ring.
 *
 * - Batched injection (pcap_set_tx_batch(), or PCAP_RING_TX_BATCH for
 *   unchanged programs) copies frames into a PACKET_TX_RING (TPACKET_V2;
 *   V3 TX was no faster) on a second packet socket of the handle, bound to
 *   the interface, and kicks the kernel with one send() per batch.  It
 *   receives nothing, and it shares a fanout group with the capture socket
 *   so that, as with stock's send(), the handle does not capture its own
 *   frames: the copy that would take hid the ring's gain on an ifb sink.  It is created at activation,
 *   because programs drop privileges after pcap_activate().  256 frames
 *   beat 4096 by 15-25%; frames are sized from the interface MTU.
 *
 *   Waiting frames are kicked when the batch fills, when the ring is full,
 *   by pcap_inject_flush(), before any other operation on the handle, at
 *   pcap_close() and at exit() for handles never closed (by a hook of the
 *   module's own that frees nothing, see flush_live_at_exit()).  While
 *   frames wait, the selectable descriptor (an epoll set holding the
 *   capture socket, an eventfd and a timerfd) is readable, so that event
 *   loops that wait on it before reading (arp-scan, scapy's srp) come back
 *   and send them.
 *
 * - Nothing is counted as sent that the kernel did not take: frames are
 *   checked before they go into the ring, the kernel's ring position is
 *   followed frame by frame, and PACKET_LOSS is not used.  A frame the
 *   kernel still marks TP_STATUS_WRONG_FORMAT is counted as rejected,
 *   named in pcap_geterr(), and the frames behind it move up one slot
 *   (the kernel stays on that slot).  If the kernel can take nothing
 *   (interface down or gone), the waiting frames are dropped and counted.
 *
 * - In-flight bytes are bounded by SO_SNDBUF rather than by the ring, and
 *   poll(POLLOUT) does not say that a frame is free, so a full ring is
 *   waited for by kicking and then looking at the frame's status with a
 *   short yield/nanosleep ladder.  Blocking mode waits as stock's
 *   blocking send() does, as long as the link is slow (tbf, pause frames);
 *   a kick fails once the interface is down or gone, which ends the wait,
 *   and so does a link without carrier that refuses every kick (ENOBUFS,
 *   with the queue discipline bypassed).
 *   Non-blocking mode gets an immediate EAGAIN error (ENOBUFS after a
 *   refused kick), from an injection into a full ring and from a
 *   pcap_inject_flush() that leaves frames waiting; the link without
 *   carrier ends its retries as it ends a wait.  Otherwise only
 *   pcap_close() and exit() give up, after TX_CLOSE_LIMIT_MS (for exit(),
 *   all handles together, in turn), dropping what waits.
 *
 * - The MTU is read again when a frame is longer than it allowed: a raised
 *   MTU allows what stock's send() allows.  A frame longer than the ring's
 *   frames (sized from the MTU at activation) goes out with send() on the
 *   capture socket instead, after the frames queued before it.  A lowered
 *   MTU is found by the kernel rejecting frames (counted as rejected); the
 *   MTU is read again then, and later frames it does not allow fail in
 *   pcap_inject() itself.
 *
 * - One thread may inject while another reads, as with stock's send():
 *   the TX state (head, unsent, frame contents, counters) changes only
 *   under the TX lock (pcap-ring-int.h), which is released while waiting
 *   for the kernel and is never held while a read waits for packets.
 *   While a read runs on another thread, each injected frame is kicked at
 *   once: the read's poll() does not wait for frames to send.  Calls from
 *   a signal handler do not wait for the lock held by their own thread
 *   (injection fails with EDEADLK, close and exit send nothing more), nor
 *   touch the ring of a parent
 *   process after fork(), unless the child injects: it then takes the ring
 *   over (take_over_in_child()).
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if_arp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <linux/if_ether.h>
#include <linux/futex.h>

#include "pcap-ring-int.h"

#ifndef PACKET_QDISC_BYPASS
#define PACKET_QDISC_BYPASS	20
#endif

#define TX_DEFAULT_RING_FRAMES	256
#define TX_MAX_RING_FRAMES	65536
#define TX_MAX_RING_BYTES	(1U << 30)

/*
 * How long pcap_close() waits for the kernel to take waiting frames
 * before it drops them; exit() waits as long for all handles together.
 */
#define TX_CLOSE_LIMIT_MS	2000

/* How long flush() waits for the kernel to take the waiting frames. */
#define TX_KICK_ONCE	0	/* not at all: one kick */
#define TX_WAIT_TAKEN	1	/* until it takes them, or an error ends it */
#define TX_WAIT_CLOSE	2	/* until its due, then drop them */
#define TX_WAIT_READ	3	/* as TX_WAIT_TAKEN, cut short by pcap_breakloop() or the read timeout */

/* What flush() returns when pcap_breakloop() or the read timeout cut it short. */
#define TX_FLUSH_CUT	1

/* Why the selectable descriptor is readable (set_waiting()). */
#define TX_IDLE		0	/* it is not: no frame waits */
#define TX_READY	1	/* frames wait, a kick can send them */
#define TX_STALLED	2	/* frames wait for room in SO_SNDBUF */
#define TX_RETRY	3	/* frames wait, the queue discipline refused them */

/*
 * Nothing says when a queue discipline that refused frames (ENOBUFS) has
 * room again, so the selectable descriptor becomes readable after a
 * delay, doubled while the refusals go on: an event loop then comes back
 * some 30 times a second at most, instead of spinning.
 */
#define TX_RETRY_MIN_MS	1
#define TX_RETRY_MAX_MS	32

/*
 * With the queue discipline bypassed, a link without carrier refuses
 * every kick (ENOBUFS) for as long as it lasts.  A wait that has seen
 * only such refusals for this long looks at the interface, and drops the
 * waiting frames if it is not running.
 */
#define TX_REFUSED_CHECK_MS	500

static struct pcap_ring_tx *
tx_of(pcap_t *p)
{
	return &((struct pcap_ring *)libpcap_priv(p))->tx;
}

/*
 * The handle's selectable epoll set, which set_waiting() changes: tx is
 * always the one in a struct pcap_ring.
 */
static int
selectable_set(const struct pcap_ring_tx *tx)
{
	return ((const struct pcap_ring *)((const char *)tx -
	    offsetof(struct pcap_ring, tx)))->epoll_fd;
}

static const char *
tx_ifname(pcap_t *p)
{
	return ((struct pcap_ring *)libpcap_priv(p))->ifname;
}

/* The eventfd is readable no longer. */
static void
clear_wake(struct pcap_ring_tx *tx)
{
	uint64_t value;

	if (!tx->wake_set)
		return;
	if (read(tx->wake_fd, &value, sizeof(value)) == -1) {
		/* Nothing to read: it is not readable. */
	}
	tx->wake_set = 0;
}

/*
 * The selectable descriptor is readable while frames wait and a kick can
 * send them: the eventfd while the kernel can take them, the TX socket's
 * POLLOUT while frames in flight fill SO_SNDBUF, the retry timer after a
 * queue discipline refused them (the eventfd would make event loops spin
 * until they drain).  Each changes only when that changes, once per batch
 * at most.  Not readable once they are sent: a select() loop would wake
 * into a read that finds nothing, and a read without a timeout, which a
 * program that does not select() expects to block, must then block.
 *
 * Until the program takes the descriptor (pcap_get_selectable_fd()), no
 * one can wait on it, and it is left alone: the two system calls per
 * batch cost a pure injector (a generator, a replay tool) 5 % of its
 * rate.  show_waiting() changes it from what it shows to state, and
 * returns what it shows then.
 */
static int
show_waiting(struct pcap_ring_tx *tx, int shown, int state)
{
	struct epoll_event ev;
	uint64_t value = 1;
	int cancel_state;

	/* The TX lock is held: see pcap_ring_tx_kick(). */
	(void)pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel_state);

	if (shown == TX_RETRY) {
		struct itimerspec off;

		/* Disarming also makes it unreadable. */
		memset(&off, 0, sizeof(off));
		(void)timerfd_settime(tx->retry_fd, 0, &off, NULL);
	}
	if (state == TX_STALLED) {
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLOUT;
		if (epoll_ctl(selectable_set(tx), EPOLL_CTL_ADD, tx->ring.fd,
		    &ev) == -1)
			state = TX_READY;
	} else if (shown == TX_STALLED) {
		(void)epoll_ctl(selectable_set(tx), EPOLL_CTL_DEL, tx->ring.fd,
		    NULL);
	}
	if (state == TX_READY && !tx->wake_set) {
		if (write(tx->wake_fd, &value, sizeof(value)) == -1) {
			/* The counter is saturated: it is readable already. */
		}
		tx->wake_set = 1;
	} else if (state != TX_READY) {
		clear_wake(tx);
	}
	(void)pthread_setcancelstate(cancel_state, NULL);
	return state;
}

static void
set_waiting(struct pcap_ring_tx *tx, int state)
{
	if (tx->wake_fd == -1 || tx->waiting == state)
		return;
	if (state == TX_RETRY && tx->retry_fd == -1)
		state = TX_READY;
	if (tx->selected)
		state = show_waiting(tx, tx->waiting, state);
	tx->waiting = state;
	if (state != TX_IDLE)
		tx->woke_reader = 1;
}

/*
 * The queue discipline refused the waiting frames: make the selectable
 * descriptor readable after a delay, longer if the last retry took none.
 */
static void
retry_later(struct pcap_ring_tx *tx, int took_some)
{
	struct itimerspec due;

	if (took_some || tx->waiting != TX_RETRY)
		tx->retry_ms = TX_RETRY_MIN_MS;
	else if (tx->retry_ms < TX_RETRY_MAX_MS)
		tx->retry_ms *= 2;
	set_waiting(tx, TX_RETRY);
	if (tx->waiting != TX_RETRY || !tx->selected)
		return;
	/* Arming again also makes it unreadable until then. */
	memset(&due, 0, sizeof(due));
	due.it_value.tv_sec = tx->retry_ms / 1000;
	due.it_value.tv_nsec = (long)(tx->retry_ms % 1000) * 1000000;
	if (timerfd_settime(tx->retry_fd, 0, &due, NULL) == -1)
		set_waiting(tx, TX_READY);
}

/*
 * Remember why frame seq was lost.  A send queue's records are reported
 * by pcap_sendqueue_transmit(), which stops at the first; other frames by
 * pcap_inject_flush(), which names the first frames lost since its last
 * report.  Not in p->errbuf: the loss may be met by a read's flush while
 * another thread injects and reads its own errors there.  An injection
 * that fails with the loss copies it there itself (report_loss()).
 */
static void
note_loss(pcap_t *p, unsigned long long seq, const char *why)
{
	struct pcap_ring_tx *tx = tx_of(p);

	memcpy(tx->loss, why, sizeof(tx->loss));
	if (tx->in_sendqueue && seq >= tx->queue_seq0) {
		if (seq < tx->queue_fail_seq) {
			tx->queue_fail_seq = seq;
			memcpy(tx->queue_error, why, sizeof(tx->queue_error));
		}
		return;
	}
	if (!tx->error_pending)
		memcpy(tx->error, why, sizeof(tx->error));
	tx->error_pending = 1;
}

/* The calling thread's operation failed with the latest loss. */
static void
report_loss(pcap_t *p)
{
	memcpy(libpcap_errbuf(p), tx_of(p)->loss, PCAP_ERRBUF_SIZE);
}

/*
 * The waiting frames must not go (the kernel can take none of them, or
 * the send queue they belong to was cancelled): drop and count them.
 * call names what failed: send, or the cancelled call.
 */
static void
drop_waiting(pcap_t *p, const char *call, int err)
{
	struct pcap_ring_tx *tx = tx_of(p);
	unsigned long long first = ring_tx_first_unsent_seq(&tx->ring);
	unsigned int n = tx->ring.unsent;
	char why[PCAP_ERRBUF_SIZE];

	libpcap_fmt_errmsg_for_errno(why, sizeof(why), err,
	    "%s: %s: dropped %u queued frame%s (frames %llu-%llu of this handle)",
	    tx_ifname(p), call, n, n == 1 ? "" : "s", first, first + n - 1);
	note_loss(p, first, why);
	(void)ring_tx_drop_waiting(&tx->ring);
	set_waiting(tx, TX_IDLE);
}

/*
 * The kernel refused a frame, which the TX ring took out (ring_tx_kick()).
 * The MTU was most likely lowered: from now on, frames it does not allow
 * fail in pcap_inject(), as with stock's send().
 */
static void
note_reject(pcap_t *p, const struct ring_tx_reject *rej)
{
	struct pcap_ring_tx *tx = tx_of(p);
	char ignored[PCAP_ERRBUF_SIZE], why[PCAP_ERRBUF_SIZE];
	int mtu;

	if ((mtu = ring_sock_mtu(tx->ring.fd, tx_ifname(p), ignored)) != -1)
		tx->max_len = (unsigned int)mtu + tx->mtu_extra;

	libpcap_fmt_errmsg_for_errno(why, sizeof(why),
	    rej->err != 0 ? rej->err : EINVAL,
	    "%s: send: the kernel rejected frame %llu of this handle (%u bytes)",
	    tx_ifname(p), rej->seq, rej->len);
	note_loss(p, rej->seq, why);
	if (tx->ring.unsent == 0)
		set_waiting(tx, TX_IDLE);
}

/*
 * One system call hands the waiting frames to the kernel (again after a
 * rejected frame).  0 when the kernel took what it had room for, -1 when
 * it could take none and they were dropped, or when it rejected a record
 * of a send queue (which stops there).
 */
static int
kick(pcap_t *p)
{
	struct pcap_ring_tx *tx = tx_of(p);
	struct ring_tx_reject rej;
	unsigned int unsent = tx->ring.unsent;
	int err = 0;

	while (tx->ring.unsent > 0) {
		err = ring_tx_kick(&tx->ring, tx->in_sendqueue, &rej);
		if (err == RING_TX_REJECTED) {
			/* A send queue stops at a rejected record. */
			note_reject(p, &rej);
			err = rej.err;
			if (tx->in_sendqueue)
				return -1;
			continue;
		}
		switch (err) {
		case 0:
		case EAGAIN:	/* SO_SNDBUF is full of frames in flight */
		case ENOBUFS:	/* the queue discipline refused; it retries */
		case EINTR:
			break;
		default:
			drop_waiting(p, "send", err);
			return -1;
		}
		break;
	}
	tx->kick_err = err;
	if (err != ENOBUFS || tx->ring.unsent < unsent)
		tx->refused_since = 0;
	else if (tx->refused_since == 0)
		tx->refused_since = pcap_ring_now_ns();
	if (tx->ring.unsent == 0)
		set_waiting(tx, TX_IDLE);
	else if (err == EAGAIN)
		set_waiting(tx, TX_STALLED);
	else if (err == ENOBUFS)
		retry_later(tx, tx->ring.unsent < unsent);
	else
		set_waiting(tx, TX_READY);
	return 0;
}

/*
 * The kick's send() is a cancellation point, and the TX lock is held: a
 * thread cancelled there would keep it for good.  It does not block, so
 * the cancellation acts a moment later, where the calls wait with the
 * lock released (back_off()), or in the program.
 */
int
pcap_ring_tx_kick(pcap_t *p)
{
	int cancel_state, ret;

	(void)pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel_state);
	ret = kick(p);
	(void)pthread_setcancelstate(cancel_state, NULL);
	return ret;
}

/*
 * A wait on which the kernel has refused every kick (ENOBUFS) for
 * TX_REFUSED_CHECK_MS, taking nothing: if the interface is not running
 * (no carrier), the waiting frames are dropped and counted, and -1.
 * Else 0, and the next look comes after as long again.
 */
static int
refused_on_dead_link(pcap_t *p)
{
	struct pcap_ring_tx *tx = tx_of(p);

	if (tx->refused_since == 0 || pcap_ring_now_ns() - tx->refused_since <
	    TX_REFUSED_CHECK_MS * 1000000LL)
		return 0;
	if (ring_sock_link_running(tx->ring.fd, tx_ifname(p)) != 0) {
		tx->refused_since = pcap_ring_now_ns();
		return 0;
	}
	/*
	 * ENETDOWN, as a kick says once the interface is down.  The
	 * refusals go on: the next wait looks at the interface at once.
	 */
	drop_waiting(p, "send", ENETDOWN);
	return -1;
}

/*
 * What a non-blocking send() would say while frames still wait: ENOBUFS
 * if the queue discipline (or a link without carrier) refused the last
 * kick, EAGAIN if frames in flight fill SO_SNDBUF.
 */
static int
still_waiting_errno(const struct pcap_ring_tx *tx)
{
	return tx->kick_err == ENOBUFS ? ENOBUFS : EAGAIN;
}

/* Yield a few times, then sleep a little longer at each step. */
static void
pause_for(unsigned int step)
{
	static const long sleep_ns[] = {
		2000, 5000, 10000, 20000, 50000, 100000, 200000, 500000, 1000000
	};
	const unsigned int n = sizeof(sleep_ns) / sizeof(sleep_ns[0]);
	struct timespec ts;

	if (step < 4) {
		sched_yield();
	} else {
		step -= 4;
		ts.tv_sec = 0;
		ts.tv_nsec = sleep_ns[step < n ? step : n - 1];
		nanosleep(&ts, NULL);
	}
}

/*
 * Pause with the TX lock released, so that another thread's read or
 * injection goes on.
 */
static void
back_off(struct pcap_ring_tx *tx, unsigned int step)
{
	pcap_ring_tx_unlock(tx);
	pause_for(step);
	(void)pcap_ring_tx_lock(tx);	/* released just now: not held here */
}

/*
 * Make the slot at the head free.  0, or -1 with the error set.  Blocking
 * waits as long as stock's blocking send() would, however slow the link:
 * while the kernel cannot take frames at all (the interface went down or
 * away), a kick fails and ends the wait.
 */
static int
make_room(pcap_t *p, int block)
{
	struct pcap_ring_tx *tx = tx_of(p);
	unsigned int step;

	for (step = 0;; step++) {
		if (tx->ring.unsent > 0 && pcap_ring_tx_kick(p) == -1) {
			report_loss(p);
			return -1;
		}
		if (ring_tx_has_room(&tx->ring))
			return 0;
		/* It never blocks: non-blocking retries end there too. */
		if (refused_on_dead_link(p) == -1) {
			report_loss(p);
			return -1;
		}
		if (!block) {
			libpcap_fmt_errmsg_for_errno(libpcap_errbuf(p),
			    PCAP_ERRBUF_SIZE, still_waiting_errno(tx),
			    "%s: send: TX ring full", tx_ifname(p));
			return -1;
		}
		if (step == 0)
			tx->ring.stat.tx_waits++;
		back_off(tx, step);
	}
}

/*
 * Hand every waiting frame to the kernel, kicking and waiting (wait: see
 * TX_KICK_ONCE; with TX_WAIT_CLOSE until due, CLOCK_MONOTONIC ns) while
 * frames in flight fill SO_SNDBUF.  0, -1 with the loss noted, or
 * TX_FLUSH_CUT with frames still waiting.  Even one kick drops the frames
 * of a link without carrier that has refused them long enough: nothing
 * else would end a non-blocking program's retries.
 */
static int
flush(pcap_t *p, int wait, long long due)
{
	struct pcap_ring_tx *tx = tx_of(p);
	int read_timeout = ((struct pcap_ring *)libpcap_priv(p))->timeout;
	long long start = 0;
	unsigned int step;

	for (step = 0; tx->ring.unsent > 0; step++) {
		if (pcap_ring_tx_kick(p) == -1)
			return -1;
		if (tx->ring.unsent == 0)
			break;
		if (refused_on_dead_link(p) == -1)
			return -1;
		if (wait == TX_KICK_ONCE)
			break;
		if (step == 0) {
			start = pcap_ring_now_ns();
		} else if (wait == TX_WAIT_CLOSE && pcap_ring_now_ns() > due) {
			drop_waiting(p, "send", ETIMEDOUT);
			return -1;
		} else if (wait == TX_WAIT_READ &&
		    (libpcap_break_loop_requested(p) ||
		    (read_timeout > 0 &&
		    pcap_ring_now_ns() - start > read_timeout * 1000000LL))) {
			return TX_FLUSH_CUT;
		}
		back_off(tx, step);
	}
	return 0;
}

/* Arguments no frame can come from. */
static int
bad_frame(pcap_t *p, const void *buf, int size)
{
	if (buf == NULL) {
		snprintf(libpcap_errbuf(p), PCAP_ERRBUF_SIZE,
		    "%s: can't inject a frame from a NULL buffer", tx_ifname(p));
		return 1;
	}
	if (size < 0) {
		snprintf(libpcap_errbuf(p), PCAP_ERRBUF_SIZE,
		    "%s: can't inject a frame of %d bytes", tx_ifname(p), size);
		return 1;
	}
	return 0;
}

/*
 * The longest frame the MTU allows now.  The MTU is read again only when
 * a frame is longer than it allowed before: it may have been raised since
 * activation, and the system call is then the price of that one frame.
 */
static int
max_frame_len(pcap_t *p, struct pcap_ring_tx *tx, const void *buf, int size,
    unsigned int *max)
{
	unsigned int tag = 0;
	int mtu;

	/* The kernel allows an 802.1Q tag on top of the MTU. */
	if (tx->vlan_allowed && size >= ETH_HLEN &&
	    ((const u_char *)buf)[12] == 0x81 && ((const u_char *)buf)[13] == 0x00)
		tag = RING_VLAN_TAG_LEN;
	if ((unsigned int)size > tx->max_len + tag) {
		if ((mtu = ring_sock_mtu(tx->ring.fd, tx_ifname(p),
		    libpcap_errbuf(p))) == -1)
			return -1;
		tx->max_len = (unsigned int)mtu + tx->mtu_extra;
	}
	*max = tx->max_len + tag;
	return 0;
}

/*
 * Checks that send() would make, so that no frame stalls the ring.  -1
 * with the error set, or TX_FRAME_TOO_BIG for a frame that the MTU, raised
 * since activation, allows, but that a ring frame (sized from the MTU at
 * activation) cannot hold.
 */
#define TX_FRAME_TOO_BIG	(-2)

static int
check_frame(pcap_t *p, struct pcap_ring_tx *tx, const void *buf, int size)
{
	unsigned int max;

	if (bad_frame(p, buf, size))
		return -1;
	if (size < (int)tx->min_len) {
		snprintf(libpcap_errbuf(p), PCAP_ERRBUF_SIZE,
		    "%s: can't inject a frame of %d bytes: the link-layer header alone is %u",
		    tx_ifname(p), size, tx->min_len);
		return -1;
	}
	if (max_frame_len(p, tx, buf, size, &max) == -1)
		return -1;
	if ((unsigned int)size > max) {
		libpcap_fmt_errmsg_for_errno(libpcap_errbuf(p),
		    PCAP_ERRBUF_SIZE, EMSGSIZE,
		    "%s: send: a frame of %d bytes is longer than the MTU allows (%u)",
		    tx_ifname(p), size, max);
		return -1;
	}
	if ((unsigned int)size > tx->ring.frame_size - tx->ring.data_offset) {
		libpcap_fmt_errmsg_for_errno(libpcap_errbuf(p),
		    PCAP_ERRBUF_SIZE, EMSGSIZE,
		    "%s: send: a frame of %d bytes is longer than the TX ring's frames hold (%u, from the MTU at activation)",
		    tx_ifname(p), size, tx->ring.frame_size - tx->ring.data_offset);
		return TX_FRAME_TOO_BIG;
	}
	return 0;
}

/* What nearly every frame is: check_frame() in a few comparisons. */
static int
frame_fits(const struct pcap_ring_tx *tx, const void *buf, int size)
{
	return buf != NULL && size >= (int)tx->min_len &&
	    (unsigned int)size <= tx->max_len &&
	    (unsigned int)size <= tx->ring.frame_size - tx->ring.data_offset;
}

/*
 * Copy one checked frame into the ring.  0, or -1 with the error set.
 * Inline: it is most of a batched pcap_inject().
 */
static inline int
queue_frame(pcap_t *p, struct pcap_ring_tx *tx, const void *buf, int size,
    int block)
{
	if (ring_tx_queue(&tx->ring, buf, (unsigned int)size) == -1) {
		if (make_room(p, block) == -1)
			return -1;
		/* make_room() left the head frame ours. */
		(void)ring_tx_queue(&tx->ring, buf, (unsigned int)size);
	}
	if (tx->waiting == TX_IDLE)
		set_waiting(tx, TX_READY);
	return 0;
}

static int
nonblocking(const struct pcap_ring *pr)
{
	return pr->timeout < 0;
}

/* Stock's send() on the capture socket, with stock's error text. */
static ssize_t
send_as_stock(pcap_t *p, const void *buf, int size)
{
	ssize_t ret;

	ret = send(libpcap_fd(p), buf, (size_t)size, 0);
	if (ret == -1)
		libpcap_fmt_errmsg_for_errno(libpcap_errbuf(p),
		    PCAP_ERRBUF_SIZE, errno, "send");
	return ret;
}

static void
count_sent_as_stock(struct pcap_ring_tx *tx, ssize_t len)
{
	tx->ring.stat.tx_queued++;
	tx->ring.stat.tx_sent++;
	tx->ring.stat.tx_bytes += (uint64_t)len;
	tx->ring.stat.tx_kicks++;
}

/*
 * A frame that the ring's frames cannot hold, because the MTU was raised
 * after activation, goes out as stock sends it, with send() on the
 * capture socket, after the frames queued before it.  That send() may
 * block, and is a cancellation point: the TX lock is released meanwhile.
 */
static int
inject_beside_ring(pcap_t *p, const void *buf, int size)
{
	struct pcap_ring_tx *tx = tx_of(p);
	ssize_t ret;

	if (tx->ring.unsent > 0 && flush(p,
	    nonblocking(libpcap_priv(p)) ? TX_KICK_ONCE : TX_WAIT_TAKEN,
	    0) == -1) {
		report_loss(p);
		return PCAP_ERROR;
	}
	if (tx->ring.unsent > 0) {
		libpcap_fmt_errmsg_for_errno(libpcap_errbuf(p),
		    PCAP_ERRBUF_SIZE, still_waiting_errno(tx),
		    "%s: send: %u frames queued before this one still wait",
		    tx_ifname(p), tx->ring.unsent);
		return PCAP_ERROR;
	}
	pcap_ring_tx_unlock(tx);
	ret = send_as_stock(p, buf, size);
	(void)pcap_ring_tx_lock(tx);	/* released just now: not held here */
	if (ret == -1)
		return PCAP_ERROR;
	count_sent_as_stock(tx, ret);
	return (int)ret;
}

/*
 * A read runs on another thread: it may wait in poll() for as long as the
 * link is quiet, and nothing else would send a frame meanwhile.  Frames
 * injected from the read's own callback are sent by its next flush.
 */
static int
beside_read(const struct pcap_ring_tx *tx)
{
	return __atomic_load_n(&tx->reading, __ATOMIC_RELAXED) &&
	    !pthread_equal(tx->reader, pthread_self());
}

static unsigned int fork_generation;	/* the fork()s this process came through */
static void take_over_in_child(pcap_t *);

/*
 * A forked child that uses the ring takes it over.  The generation is
 * published last (take_over_in_child()): a thread that sees it sees the
 * lock reset too.
 */
void
pcap_ring_tx_own(pcap_t *p, struct pcap_ring_tx *tx)
{
	if (__atomic_load_n(&tx->fork_generation, __ATOMIC_ACQUIRE) !=
	    __atomic_load_n(&fork_generation, __ATOMIC_RELAXED))
		take_over_in_child(p);
}

/*
 * A call from a signal handler that interrupted another call on the same
 * handle, which holds the TX lock on this thread: the ring is half
 * changed, and waiting for the lock would wait for good.
 */
int
pcap_ring_tx_interrupted(pcap_t *p, const char *call)
{
	libpcap_fmt_errmsg_for_errno(libpcap_errbuf(p), PCAP_ERRBUF_SIZE,
	    EDEADLK, "%s: %s from a signal handler that interrupted a call on this handle",
	    tx_ifname(p), call);
	return PCAP_ERROR;
}

/*
 * The inject_op of a batched handle.  The TX lock makes injecting next to
 * a read on another thread (whose flush changes the same ring state) as
 * safe as stock's send(); uncontended, it costs no system call.  Beside
 * such a read, the frame is kicked at once, as stock's send() sends it.
 */
static int
inject_batched(pcap_t *p, const void *buf, int size)
{
	/* Once per frame: a plugin reaches its private data through a call. */
	struct pcap_ring *pr = libpcap_priv(p);
	struct pcap_ring_tx *tx = &pr->tx;
	int ret = size, status;

	pcap_ring_tx_own(p, tx);
	if (pcap_ring_tx_lock(tx) != 0)
		return pcap_ring_tx_interrupted(p, "pcap_inject");
	status = frame_fits(tx, buf, size) ? 0 : check_frame(p, tx, buf, size);
	if (status == TX_FRAME_TOO_BIG)
		ret = inject_beside_ring(p, buf, size);
	else if (status != 0 ||
	    queue_frame(p, tx, buf, size, !nonblocking(pr)) == -1)
		ret = PCAP_ERROR;
	else if ((tx->ring.unsent >= (unsigned int)tx->batch || beside_read(tx)) &&
	    pcap_ring_tx_kick(p) == -1) {
		report_loss(p);
		ret = PCAP_ERROR;	/* this frame was dropped with the batch */
	}
	pcap_ring_tx_unlock(tx);
	return ret;
}

/*
 * The inject_op of an unbatched handle: stock's send() on the capture
 * socket, with stock's error texts.
 */
int
pcap_ring_inject(pcap_t *p, const void *buf, int size)
{
	ssize_t ret;

	ret = send_as_stock(p, buf, size);
	if (ret == -1)
		return PCAP_ERROR;
	count_sent_as_stock(tx_of(p), ret);
	return (int)ret;
}

/*
 * Operations that flush first.  Errors of that flush are counted and
 * reported by pcap_inject_flush(), not by the operation.
 */
static void
flush_waiting(pcap_t *p)
{
	struct pcap_ring_tx *tx = tx_of(p);

	pcap_ring_tx_own(p, tx);
	if (pcap_ring_tx_lock(tx) != 0)
		return;		/* the interrupted call sends them */
	if (tx->ring.unsent > 0)
		(void)flush(p, TX_KICK_ONCE, 0);
	pcap_ring_tx_unlock(tx);
}

/*
 * What a read changed for its wait goes back, also when the reading
 * thread is cancelled in it: else injections would kick at once for a
 * reader that is gone.
 */
static void
end_read(void *p)
{
	struct pcap_ring *pr = libpcap_priv(p);

	pr->wait_once = 0;
	pcap_ring_set_poll_timeout(pr);
	/* An injection that still sees it merely kicks early. */
	__atomic_store_n(&pr->tx.reading, 0, __ATOMIC_RELAXED);
}

/*
 * A read sends the handle's own waiting frames first: a program that
 * sends probes and reads the replies would otherwise wait forever.  A
 * blocking read waits until the kernel has taken them all while frames in
 * flight fill SO_SNDBUF, as happens without the privilege to raise it; a
 * non-blocking one kicks once, and the selectable descriptor then waits
 * for room (TX_STALLED).  pcap_breakloop() and the read timeout cut a
 * blocking read's flush short, as they would end its wait for packets:
 * the read then returns, and the selectable descriptor stays readable
 * for the frames that still wait.  The TX lock is not held while the read
 * waits for packets.
 *
 * The selectable descriptor may have been readable for waiting frames
 * rather than for a packet, also when another thread has sent them since;
 * a read with a timeout then waits no longer than that (on an idle link a
 * V3 block never times out), and one without, in a program that took the
 * descriptor, only looks if the descriptor shows frames as the read
 * starts: stock's descriptor is readable only with a packet, so a
 * select() loop never blocks in its read.  A read with no frame shown
 * blocks, as a program that reads without select() expects.
 */
static int
tx_read(pcap_t *p, int cnt, pcap_handler callback, u_char *user)
{
	struct pcap_ring *pr = libpcap_priv(p);
	struct pcap_ring_tx *tx = tx_of(p);
	int woken, shown, ret;

	pcap_ring_tx_own(p, tx);
	if (pcap_ring_tx_lock(tx) != 0)
		return pcap_ring_tx_interrupted(p, "read");
	woken = tx->woke_reader || tx->ring.unsent > 0;
	/* A select() loop's read comes while the descriptor shows frames. */
	shown = tx->selected && tx->waiting != TX_IDLE;
	tx->woke_reader = 0;
	if (tx->ring.unsent > 0 && flush(p,
	    nonblocking(libpcap_priv(p)) ? TX_KICK_ONCE : TX_WAIT_READ,
	    0) == TX_FLUSH_CUT) {
		pcap_ring_tx_unlock(tx);
		if (libpcap_check_break_loop(p))
			return PCAP_ERROR_BREAK;
		return 0;
	}
	/* Set under the lock: an injection after it sees it. */
	tx->reader = pthread_self();
	__atomic_store_n(&tx->reading, 1, __ATOMIC_RELAXED);
	pcap_ring_tx_unlock(tx);
	if (woken && (pr->timeout > 0 || (pr->timeout == 0 && shown))) {
		pr->poll_timeout = pr->timeout;
		pr->wait_once = 1;
	}
	pthread_cleanup_push(end_read, p);
	ret = pcap_ring_read(p, cnt, callback, user);
	pthread_cleanup_pop(1);
	return ret;
}

static int
tx_stats(pcap_t *p, struct pcap_stat *ps)
{
	flush_waiting(p);
	return pcap_ring_stats(p, ps);
}

static int
tx_setfilter(pcap_t *p, struct bpf_program *fp)
{
	flush_waiting(p);
	return pcap_ring_setfilter(p, fp);
}

static int
tx_setdirection(pcap_t *p, pcap_direction_t d)
{
	flush_waiting(p);
	return pcap_ring_setdirection(p, d);
}

static int
tx_set_datalink(pcap_t *p, int dlt)
{
	flush_waiting(p);
	return pcap_ring_set_datalink(p, dlt);
}

static int
tx_setnonblock(pcap_t *p, int nonblock)
{
	flush_waiting(p);
	return pcap_ring_setnonblock(p, nonblock);
}

/*
 * The operations of a batched handle: the plain ones, each after sending
 * what waits.
 */
const struct pcap_plugin_ops pcap_ring_batched_ops = {
	.read = tx_read,
	.inject = inject_batched,
	.setfilter = tx_setfilter,
	.setdirection = tx_setdirection,
	.set_datalink = tx_set_datalink,
	.getnonblock = pcap_ring_getnonblock,
	.setnonblock = tx_setnonblock,
	.stats = tx_stats,
	.cleanup = pcap_ring_cleanup,
	.breakloop_func = pcap_ring_breakloop,
};

void
pcap_ring_tx_init(struct pcap_ring_tx *tx)
{
	memset(tx, 0, sizeof(*tx));
	tx->ring.fd = -1;
	tx->wake_fd = -1;
	tx->retry_fd = -1;
	tx->queue_fail_seq = ULLONG_MAX;
}

/*
 * The kernel hands every frame a socket sends to the other packet sockets
 * on the interface, the handle's own capture socket included, which costs
 * a copy of the frame (and hid the ring's gain entirely on an ifb sink),
 * where stock's send() on the capture socket is not looped back to it.
 * Sockets of one fanout group do not see each other's frames: the TX
 * socket is bound like the capture socket, as the group requires, drops
 * all it would receive, and joins the handle's group (pcap-ring-grow.c),
 * whose program gives every received frame to the capture socket.  Where
 * that fails, frames are merely seen twice.
 */
static int
bind_beside_capture(pcap_t *p)
{
	struct pcap_ring *pr = libpcap_priv(p);
	struct pcap_ring_tx *tx = &pr->tx;

	if (ring_sock_drop_all(tx->ring.fd) == -1)
		return ring_sock_bind(tx->ring.fd, pr->ifindex, 0, libpcap_errbuf(p));
	tx->hidden = 1;
	return ring_sock_bind(tx->ring.fd, pr->ifindex, pcap_ring_protocol(p),
	    libpcap_errbuf(p));
}

/*
 * Batched handles open their TX socket before the capture socket: where
 * it sits in the order of creation matters to the fanout group.  Unlike
 * the capture socket, which stock leaves open across exec, it is ours
 * alone.
 */
int
pcap_ring_tx_open(pcap_t *p)
{
	struct pcap_ring_tx *tx = tx_of(p);
	int n;

	/* The API beats the environment. */
	if ((!tx->batch_set && pcap_ring_env_number("PCAP_RING_TX_BATCH",
	    TX_MAX_RING_FRAMES, &tx->batch, libpcap_errbuf(p)) != 0) ||
	    (!tx->ring_set && pcap_ring_env_number("PCAP_RING_TX_RING",
	    TX_MAX_RING_FRAMES, &tx->ring_frames, libpcap_errbuf(p)) != 0) ||
	    (!tx->qdisc_bypass_set && pcap_ring_env_number("PCAP_RING_TX_QDISC_BYPASS",
	    1, &tx->qdisc_bypass, libpcap_errbuf(p)) != 0))
		return PCAP_ERROR;
	if (tx->batch == 0)
		return 0;
	n = pcap_ring_open_socket(libpcap_errbuf(p), SOCK_RAW | SOCK_CLOEXEC);
	if (n < 0)
		return n;
	tx->ring.fd = n;
	return 0;
}

/*
 * The TX socket and ring.  Frames hold the longest frame the MTU allows
 * (with an 802.1Q tag) behind the TPACKET_V2 header, in a power of two.
 */
int
pcap_ring_tx_setup_ring(pcap_t *p)
{
	struct pcap_ring *pr = libpcap_priv(p);
	struct pcap_ring_tx *tx = &pr->tx;
	struct ring_layout l;
	unsigned int hdrlen, frames, frame_size, data_offset;
	int status, arptype, mtu, one = 1, sndbuf, late = tx->ring.fd == -1;

	if (late) {
		status = pcap_ring_open_socket(libpcap_errbuf(p),
		    SOCK_RAW | SOCK_CLOEXEC);
		if (status < 0)
			return status;
		tx->ring.fd = status;
	}
	arptype = ring_sock_arptype(tx->ring.fd, pr->ifname, libpcap_errbuf(p));
	if (arptype < 0)
		return arptype;
	if ((mtu = ring_sock_mtu(tx->ring.fd, pr->ifname, libpcap_errbuf(p))) == -1)
		return PCAP_ERROR;
	tx->min_len = arptype == ARPHRD_NONE ? 1 : ETH_HLEN;
	tx->mtu_extra = arptype == ARPHRD_NONE ? 0 : ETH_HLEN;
	tx->max_len = (unsigned int)mtu + tx->mtu_extra;
	tx->vlan_allowed = arptype == ARPHRD_ETHER;

	if (ring_sock_set_version(tx->ring.fd, TPACKET_V2, &hdrlen, pr->ifname,
	    libpcap_errbuf(p)) == -1)
		return PCAP_ERROR;
	/* The kernel reads frame data right after the aligned header. */
	data_offset = TPACKET_ALIGN(hdrlen);
	frame_size = (unsigned int)getpagesize() / 2;
	while (frame_size < data_offset + tx->max_len + RING_VLAN_TAG_LEN)
		frame_size <<= 1;

	if (tx->qdisc_bypass && setsockopt(tx->ring.fd, SOL_PACKET,
	    PACKET_QDISC_BYPASS, &one, sizeof(one)) == -1) {
		libpcap_fmt_errmsg_for_errno(libpcap_errbuf(p),
		    PCAP_ERRBUF_SIZE, errno,
		    "%s: setsockopt (PACKET_QDISC_BYPASS)", pr->ifname);
		return PCAP_ERROR;
	}
	frames = tx->ring_frames != 0 ? (unsigned int)tx->ring_frames :
	    TX_DEFAULT_RING_FRAMES;
	if ((uint64_t)frames * frame_size > TX_MAX_RING_BYTES)
		frames = TX_MAX_RING_BYTES / frame_size;
	ring_sock_layout_v2(&l, frames * frame_size, frame_size);
	if (ring_sock_map_ring(tx->ring.fd, PACKET_TX_RING, TPACKET_V2, &l, 0,
	    libpcap_mmap_flags(), pr->ifname, libpcap_errbuf(p),
	    &tx->ring.map) == -1)
		return PCAP_ERROR;
	ring_tx_init(&tx->ring, l.frame_nr, frame_size, data_offset);
	tx->owner = getpid();
	tx->fork_generation = __atomic_load_n(&fork_generation, __ATOMIC_RELAXED);

	/* Let the whole ring be in flight, where privileges allow it. */
	sndbuf = (int)(tx->ring.frame_nr * (tx->ring.frame_size + 1024));
	(void)setsockopt(tx->ring.fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf,
	    sizeof(sndbuf));

	if ((status = bind_beside_capture(p)) != 0)
		return status;
	/* At activation the group is formed once every socket is bound. */
	if (late && tx->hidden)
		pcap_ring_group_add_tx(p);
	return 0;
}

/* The selectable descriptor: the capture socket, and frames waiting. */
static int
setup_wakeup(pcap_t *p)
{
	struct pcap_ring *pr = libpcap_priv(p);
	struct pcap_ring_tx *tx = &pr->tx;
	struct epoll_event ev;

	if (pcap_ring_epoll_open(p) != 0)
		return PCAP_ERROR;
	tx->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (tx->wake_fd == -1) {
		libpcap_fmt_errmsg_for_errno(libpcap_errbuf(p),
		    PCAP_ERRBUF_SIZE, errno, "%s: eventfd", pr->ifname);
		return PCAP_ERROR;
	}
	if (pcap_ring_epoll_add(p, tx->wake_fd, libpcap_errbuf(p)) != 0)
		return PCAP_ERROR;
	/*
	 * Without it, a refused kick makes the descriptor readable at once;
	 * its failure is no error, and leaves the handle's error text alone.
	 */
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	tx->retry_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (tx->retry_fd != -1 &&
	    epoll_ctl(pr->epoll_fd, EPOLL_CTL_ADD, tx->retry_fd, &ev) == -1) {
		close(tx->retry_fd);
		tx->retry_fd = -1;
	}
	return 0;
}

/*
 * Batched handles still open at exit() have their waiting frames sent by
 * an atexit hook of the module's own, which frees nothing.  libpcap's
 * close-at-exit list would close them, and a program that closes its
 * handles from its own atexit handler (or a C++ destructor, or a language
 * runtime) registered before would then free them a second time.  So the
 * program's pcap_close() at exit is safe before or after the hook.  A
 * forked child skips its parent's handles: their ring is shared with the
 * parent, and the child's view of it is stale.
 *
 * The hook walks the list without its lock, so that a signal handler
 * that interrupts it may close a handle (that takes the lock); other
 * threads wait until the hook is done before they change the list.
 */
static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;

static pcap_t *live_handles;
static int hooks_registered;
static int exit_flushing;		/* the hook walks the list */
static pthread_t exit_thread;		/* on this thread */

/*
 * Wait for the TX lock held by another thread, until due (CLOCK_MONOTONIC,
 * ns; -1: for good): 0, or ETIMEDOUT.  A waiter that a release may have
 * missed finds the futex word changed and tries again.
 */
int
pcap_ring_tx_wait(struct pcap_ring_tx *tx, pthread_t self, long long due)
{
	struct timespec left;
	unsigned int released;
	long long now;
	int err;

	__atomic_add_fetch(&tx->lock_waiters, 1, __ATOMIC_SEQ_CST);
	for (;;) {
		released = __atomic_load_n(&tx->lock_released, __ATOMIC_SEQ_CST);
		if ((err = pcap_ring_tx_try(tx, self)) == 0)
			break;
		if (due >= 0) {
			if ((now = pcap_ring_now_ns()) >= due) {
				err = ETIMEDOUT;
				break;
			}
			left.tv_sec = (time_t)((due - now) / NSEC_PER_SEC);
			left.tv_nsec = (long)((due - now) % NSEC_PER_SEC);
		}
		(void)syscall(SYS_futex, &tx->lock_released,
		    FUTEX_WAIT_PRIVATE, released, due >= 0 ? &left : NULL,
		    NULL, 0);
	}
	__atomic_sub_fetch(&tx->lock_waiters, 1, __ATOMIC_SEQ_CST);
	return err;
}

/* A release that a thread waits for. */
void
pcap_ring_tx_wake(struct pcap_ring_tx *tx)
{
	__atomic_add_fetch(&tx->lock_released, 1, __ATOMIC_SEQ_CST);
	(void)syscall(SYS_futex, &tx->lock_released, FUTEX_WAKE_PRIVATE, 1,
	    NULL, NULL, 0);
}

/*
 * Send what waits at close, giving up at due (CLOCK_MONOTONIC, ns):
 * nothing, if the TX lock is not to be had (pcap_ring_tx_lock_by()).
 */
static void
send_waiting_by(pcap_t *p, long long due)
{
	struct pcap_ring_tx *tx = tx_of(p);

	if (pcap_ring_tx_lock_by(tx, due) != 0)
		return;
	if (tx->ring.unsent > 0)
		(void)flush(p, TX_WAIT_CLOSE, due);
	pcap_ring_tx_unlock(tx);
}

/*
 * One round of the exit hook on p: kick once, and with give_up drop what
 * still waits.  The frames still waiting; 1 if another thread holds the
 * TX lock (the next round tries again), 0 if this one does.
 */
static unsigned int
kick_at_exit(pcap_t *p, int give_up)
{
	struct pcap_ring_tx *tx = tx_of(p);
	unsigned int waiting;
	int err;

	if ((err = pcap_ring_tx_lock_by(tx, 0)) != 0)
		return err == ETIMEDOUT;
	if (tx->ring.unsent > 0 && flush(p, TX_KICK_ONCE, 0) == 0 && give_up &&
	    tx->ring.unsent > 0)
		drop_waiting(p, "send", ETIMEDOUT);
	waiting = tx->ring.unsent;
	pcap_ring_tx_unlock(tx);
	return waiting;
}

/* With live_lock held: wait until the exit hook, on another thread, is done. */
static void
wait_for_exit_hook(void)
{
	while (exit_flushing && !pthread_equal(exit_thread, pthread_self())) {
		pthread_mutex_unlock(&live_lock);
		pause_for(UINT_MAX);
		pthread_mutex_lock(&live_lock);
	}
}

/*
 * The hook's own thread changes the list only from a signal handler: the
 * short hold of live_lock here is not to be interrupted by one.
 */
static void
set_exit_flushing(int on)
{
	sigset_t all, old;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	pthread_mutex_lock(&live_lock);
	wait_for_exit_hook();
	exit_flushing = on;
	exit_thread = pthread_self();
	pthread_mutex_unlock(&live_lock);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/*
 * One deadline for all handles, shared in rounds: a program's exit must
 * not take TX_CLOSE_LIMIT_MS once per handle with frames stuck on a slow
 * link, and such a handle must not use it all while frames of another,
 * on a fast link, wait behind it.
 */
static void
flush_live_at_exit(void)
{
	long long due = pcap_ring_now_ns() + TX_CLOSE_LIMIT_MS * 1000000LL;
	pid_t self = getpid();
	unsigned int step, waiting;
	int give_up = 0, cancel_state;
	pcap_t *p;

	/* Else other threads' pcap_close() would wait for the hook for good. */
	(void)pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel_state);
	set_exit_flushing(1);
	for (step = 0;; step++) {
		waiting = 0;
		for (p = live_handles; p != NULL; p = tx_of(p)->next_live) {
			/* Not even the lock: another thread may have held it at fork(). */
			if (tx_of(p)->owner == self)
				waiting += kick_at_exit(p, give_up);
		}
		if (waiting == 0 || give_up)
			break;
		give_up = pcap_ring_now_ns() > due;
		if (!give_up)
			pause_for(step);
	}
	set_exit_flushing(0);
	(void)pthread_setcancelstate(cancel_state, NULL);
}

/*
 * A forked child starts with no handles of its own, and live_lock may
 * have been held at fork() by a thread it does not have.
 */
static void
forget_live_in_child(void)
{
	pthread_mutex_init(&live_lock, NULL);
	live_handles = NULL;
	exit_flushing = 0;
	__atomic_add_fetch(&fork_generation, 1, __ATOMIC_RELAXED);
}

/* With live_lock held: p's waiting frames are sent at exit. */
static void
link_live(pcap_t *p)
{
	struct pcap_ring_tx *tx = tx_of(p);

	tx->next_live = live_handles;
	live_handles = p;
	tx->live = 1;
}

/*
 * A forked child that injects, flushes or reads takes the ring over, as
 * a daemon does whose parent exits once the handle is open: its close and
 * its exit then send what waits.  The parent must not use the handle
 * after that (one ring, two writers).  The TX lock may have been held at
 * fork() by a thread the child does not have.
 */
static void
take_over_in_child(pcap_t *p)
{
	struct pcap_ring_tx *tx = tx_of(p);

	pthread_mutex_lock(&live_lock);
	if (tx->fork_generation != fork_generation) {
		tx->owner = getpid();
		/* Another thread of the parent may have held it at fork(). */
		__atomic_store_n(&tx->holder, (pthread_t)0, __ATOMIC_RELAXED);
		tx->lock_waiters = 0;
		tx->lock_released = 0;
		link_live(p);
		__atomic_store_n(&tx->fork_generation, fork_generation,
		    __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&live_lock);
}

static int
add_live(pcap_t *p)
{
	int status = 0;

	pthread_mutex_lock(&live_lock);
	wait_for_exit_hook();
	if (!hooks_registered) {
		if (pthread_atfork(NULL, NULL, forget_live_in_child) == 0 &&
		    atexit(flush_live_at_exit) == 0)
			hooks_registered = 1;
		else {
			snprintf(libpcap_errbuf(p), PCAP_ERRBUF_SIZE,
			    "can't register the exit hook (atexit or pthread_atfork failed)");
			status = PCAP_ERROR;
		}
	}
	if (status == 0)
		link_live(p);
	pthread_mutex_unlock(&live_lock);
	return status;
}

static void
remove_live(pcap_t *p)
{
	pcap_t **pp;

	pthread_mutex_lock(&live_lock);
	wait_for_exit_hook();
	for (pp = &live_handles; *pp != NULL; pp = &tx_of(*pp)->next_live) {
		if (*pp == p) {
			*pp = tx_of(p)->next_live;
			break;
		}
	}
	tx_of(p)->live = 0;
	pthread_mutex_unlock(&live_lock);
}

/*
 * Called at the end of a successful activation: set up batching if the
 * program or the environment asked for it.
 */
int
pcap_ring_tx_activate(pcap_t *p)
{
	struct pcap_ring_tx *tx = tx_of(p);
	int status;

	if (tx->batch == 0)
		return 0;
	if ((status = pcap_ring_tx_setup_ring(p)) != 0)
		return status;
	if ((unsigned int)tx->batch > tx->ring.frame_nr)
		tx->batch = (int)tx->ring.frame_nr;
	if ((status = setup_wakeup(p)) != 0)
		return status;
	return add_live(p);
}

/*
 * Called from the handle's cleanup: send what waits, then tear down.  A
 * forked child only unmaps and closes its copies: its view of the ring
 * it shares with the parent is stale, and the lock may have been held by
 * another thread of the parent at fork().
 */
void
pcap_ring_tx_cleanup(pcap_t *p)
{
	struct pcap_ring_tx *tx = tx_of(p);

	if (tx->ring.map.base != NULL && tx->owner == getpid())
		send_waiting_by(p,
		    pcap_ring_now_ns() + TX_CLOSE_LIMIT_MS * 1000000LL);
	if (tx->live)
		remove_live(p);
	ring_sock_unmap_ring(&tx->ring.map);
	if (tx->wake_fd != -1) {
		close(tx->wake_fd);
		tx->wake_fd = -1;
	}
	if (tx->retry_fd != -1) {
		close(tx->retry_fd);
		tx->retry_fd = -1;
	}
	if (tx->ring.fd != -1) {
		close(tx->ring.fd);
		tx->ring.fd = -1;
	}
}

/*
 * What the send queues (pcap-ring-sendqueue.c) use of the TX glue, with
 * the TX lock held.
 */

/*
 * Check a record as send() would and copy it into the ring, waiting for
 * room even on a non-blocking handle.  0, or -1 with the error set: a
 * record longer than the ring's frames hold is an error.
 */
int
pcap_ring_tx_queue(pcap_t *p, const void *buf, int size)
{
	struct pcap_ring_tx *tx = tx_of(p);

	if (check_frame(p, tx, buf, size) != 0 ||
	    queue_frame(p, tx, buf, size, 1) == -1)
		return -1;
	return 0;
}

/* Wait until the kernel has taken every waiting frame; losses are noted. */
void
pcap_ring_tx_drain(pcap_t *p)
{
	(void)flush(p, TX_WAIT_TAKEN, 0);
}

/* Drop the frames the kernel has not taken, noting call and err as the loss. */
void
pcap_ring_tx_drop_waiting(pcap_t *p, const char *call, int err)
{
	if (tx_of(p)->ring.unsent > 0)
		drop_waiting(p, call, err);
}

/*
 * The module's batched injection and send queue operations, which
 * libpcap's public functions call on its handles only: activated or not
 * as each must be, with a statistics buffer and a well-formed queue
 * (pcap-plugin-api.c).
 */

/* 0, or -1 with the error set if value is not from min to max. */
static int
check_range(pcap_t *p, const char *func, int value, int min, int max)
{
	if (value >= min && value <= max)
		return 0;
	snprintf(libpcap_errbuf(p), PCAP_ERRBUF_SIZE,
	    "%s: %d is out of range (%d to %d)", func, value, min, max);
	return -1;
}

static int
ring_set_tx_batch(pcap_t *p, int frames)
{
	struct pcap_ring_tx *tx = tx_of(p);

	if (check_range(p, "pcap_set_tx_batch", frames, 0,
	    TX_MAX_RING_FRAMES) == -1)
		return PCAP_ERROR;
	tx->batch = frames;
	tx->batch_set = 1;
	return 0;
}

static int
ring_set_tx_ring_size(pcap_t *p, int frames)
{
	struct pcap_ring_tx *tx = tx_of(p);

	if (check_range(p, "pcap_set_tx_ring_size", frames, 0,
	    TX_MAX_RING_FRAMES) == -1)
		return PCAP_ERROR;
	tx->ring_frames = frames;
	tx->ring_set = 1;
	return 0;
}

static int
ring_set_tx_qdisc_bypass(pcap_t *p, int bypass)
{
	struct pcap_ring_tx *tx = tx_of(p);

	tx->qdisc_bypass = bypass != 0;
	tx->qdisc_bypass_set = 1;
	return 0;
}

static int
ring_inject_flush(pcap_t *p)
{
	struct pcap_ring_tx *tx = tx_of(p);
	int status = 0;

	pcap_ring_tx_own(p, tx);
	if (pcap_ring_tx_lock(tx) != 0)
		return pcap_ring_tx_interrupted(p, "pcap_inject_flush");
	if (tx->ring.map.base != NULL)
		(void)flush(p, nonblocking(libpcap_priv(p)) ?
		    TX_KICK_ONCE : TX_WAIT_TAKEN, 0);
	if (tx->error_pending) {
		memcpy(libpcap_errbuf(p), tx->error, PCAP_ERRBUF_SIZE);
		tx->error_pending = 0;
		status = PCAP_ERROR;
	} else if (tx->ring.unsent > 0) {
		/* Non-blocking: as send() would, with the frames kept. */
		libpcap_fmt_errmsg_for_errno(libpcap_errbuf(p),
		    PCAP_ERRBUF_SIZE, still_waiting_errno(tx),
		    "%s: send: %u queued frame%s still wait%s for room",
		    tx_ifname(p), tx->ring.unsent, tx->ring.unsent == 1 ? "" : "s",
		    tx->ring.unsent == 1 ? "s" : "");
		status = PCAP_ERROR;
	}
	pcap_ring_tx_unlock(tx);
	return status;
}

/*
 * The selectable_fd_taken op: from now on the descriptor shows whether
 * frames wait.  Frames waiting for a refused kick's retry show as ready:
 * the read the descriptor wakes retries at once.
 */
static void
ring_selectable_fd_taken(pcap_t *p)
{
	struct pcap_ring_tx *tx = tx_of(p);

	/* Programs may call it before each select(). */
	if (tx->wake_fd == -1 || __atomic_load_n(&tx->selected, __ATOMIC_RELAXED))
		return;
	pcap_ring_tx_own(p, tx);
	if (pcap_ring_tx_lock(tx) != 0) {
		/*
		 * From a signal handler that interrupted a call on the
		 * handle: shown from the next change of what waits.
		 */
		__atomic_store_n(&tx->selected, 1, __ATOMIC_RELAXED);
		return;
	}
	if (!tx->selected) {
		if (tx->waiting == TX_RETRY)
			tx->waiting = TX_READY;
		tx->waiting = show_waiting(tx, TX_IDLE, tx->waiting);
		__atomic_store_n(&tx->selected, 1, __ATOMIC_RELAXED);
	}
	pcap_ring_tx_unlock(tx);
}

static int
ring_tx_stats(pcap_t *p, struct pcap_tx_stat *ts)
{
	struct pcap_ring_tx *tx = tx_of(p);

	pcap_ring_tx_own(p, tx);
	if (pcap_ring_tx_lock(tx) != 0)
		return pcap_ring_tx_interrupted(p, "pcap_tx_stats");
	if (tx->ring.map.base != NULL && tx->ring.unsent > 0)
		(void)flush(p, TX_KICK_ONCE, 0);
	*ts = tx->ring.stat;
	ts->tx_pending = tx->ring.unsent;
	pcap_ring_tx_unlock(tx);
	return 0;
}

/* Installed on each of the module's handles when it is created. */
const struct pcap_plugin_tx_ops pcap_ring_tx_ops = {
	.size = sizeof(struct pcap_plugin_tx_ops),
	.set_tx_batch = ring_set_tx_batch,
	.set_tx_ring_size = ring_set_tx_ring_size,
	.set_tx_qdisc_bypass = ring_set_tx_qdisc_bypass,
	.inject_flush = ring_inject_flush,
	.tx_stats = ring_tx_stats,
	.sendqueue_transmit = pcap_ring_sendqueue_transmit,
	.selectable_fd_taken = ring_selectable_fd_taken,
};
