/*
 * pcap-ring: send queues, pcap_sendqueue_transmit() on the module's
 * handles, with Npcap's signatures and semantics.  A concern of its own
 * beside injection (pcap-ring-tx.c), whose TX ring and lock it uses: a
 * queue's records go through the ring as batched pcap_inject() calls do,
 * but the queue stops at the first record lost and says where, and with
 * sync the records keep their time stamps' gaps.
 *
 * The TX ring is created on first use if batching did not create it at
 * activation (that needs the privileges to open a packet socket).  On
 * handles of other capture sources libpcap sends each record with
 * pcap_inject().
 */
/* <pcap/pcap.h> declares the send queues, defined here, only on request. */
#define PCAP_WANT_SENDQUEUE
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "pcap-ring-int.h"

/* Records per kick, where the handle does not batch its injections. */
#define TX_DEFAULT_BATCH	64

/* Below this, pcap_sendqueue_transmit() spins rather than sleeps. */
#define TX_SPIN_NS		100000

/*
 * The longest gap between records sync waits for: an hour is a pause in
 * a capture, a longer one most likely a bad time stamp (a queue that
 * would wait for days or years looks hung).
 */
#define TX_SYNC_MAX_GAP_S	3600

/* Sleep until shortly before the deadline, then spin to it. */
static void
wait_until(long long due)
{
	long long left = due - pcap_ring_now_ns();
	struct timespec ts;

	if (left > TX_SPIN_NS) {
		left = due - TX_SPIN_NS;
		ts.tv_sec = (time_t)(left / NSEC_PER_SEC);
		ts.tv_nsec = (long)(left % NSEC_PER_SEC);
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts,
		    NULL) == EINTR)
			;
	}
	while (pcap_ring_now_ns() < due)
		;
}

/* Offset of record n of the queue. */
static u_int
record_offset(const pcap_send_queue *queue, unsigned long long n)
{
	struct pcap_pkthdr h;
	u_int off = 0;

	while (n-- > 0) {
		memcpy(&h, queue->buffer + off, sizeof(h));
		off += (u_int)sizeof(h) + h.caplen;
	}
	return off;
}

/*
 * With sync, a record's time stamp in nanoseconds (the handle's
 * precision says how to read tv_usec), or -1 with the error set if it is
 * not a time stamp.
 */
static long long
record_time_ns(pcap_t *p, const struct pcap_pkthdr *h, unsigned long long n)
{
	int nano =
	    libpcap_get_tstamp_precision(p) == PCAP_TSTAMP_PRECISION_NANO;
	long long units = nano ? NSEC_PER_SEC : 1000000;

	if (h->ts.tv_sec < 0 || h->ts.tv_sec >= LLONG_MAX / NSEC_PER_SEC ||
	    h->ts.tv_usec < 0 || h->ts.tv_usec >= units) {
		snprintf(libpcap_errbuf(p), PCAP_ERRBUF_SIZE,
		    "pcap_sendqueue_transmit: record %llu has time stamp %lld.%0*ld, which sync cannot use: seconds must be from 0 to %lld and the fraction below %lld %s",
		    n, (long long)h->ts.tv_sec, nano ? 9 : 6,
		    (long)h->ts.tv_usec, LLONG_MAX / NSEC_PER_SEC - 1, units,
		    nano ? "ns (a nanosecond-precision handle)" : "us");
		return -1;
	}
	return h->ts.tv_sec * NSEC_PER_SEC +
	    h->ts.tv_usec * (nano ? 1 : NSEC_PER_SEC / 1000000);
}

/*
 * With sync, when record n (time stamp ts) is due.  -1 with the error
 * set if its time stamp goes back, or comes more than TX_SYNC_MAX_GAP_S
 * after the previous one: such a gap is taken for a bad time stamp rather
 * than waited for.
 */
static long long
record_due(pcap_t *p, long long ts, long long prev_ts, long long prev_due,
    unsigned long long n)
{
	if (ts < prev_ts) {
		snprintf(libpcap_errbuf(p), PCAP_ERRBUF_SIZE,
		    "pcap_sendqueue_transmit: record %llu is time stamped %lld ns before the previous record; with sync, time stamps must not go back",
		    n, prev_ts - ts);
		return -1;
	}
	if (ts - prev_ts > TX_SYNC_MAX_GAP_S * NSEC_PER_SEC) {
		snprintf(libpcap_errbuf(p), PCAP_ERRBUF_SIZE,
		    "pcap_sendqueue_transmit: record %llu is time stamped %lld s after the previous record; with sync, gaps of more than %d s are refused",
		    n, (ts - prev_ts) / NSEC_PER_SEC, TX_SYNC_MAX_GAP_S);
		return -1;
	}
	return prev_due + (ts - prev_ts);
}

/*
 * A thread cancelled while the queue waits (for the frames injected
 * before it, a record's time, room), where the TX lock is released.
 * Later injections are no longer the queue's.  On a handle that does not
 * batch, only the queue's records use the ring (pcap_inject() is send()),
 * and nothing would kick the ring until the next queue or pcap_close():
 * the records the kernel has not taken are dropped and counted, and
 * pcap_inject_flush() reports them.  On a batched handle they wait with
 * the frames other threads injected meanwhile, which must not be lost,
 * and go with the handle's next kick, as injected frames do.
 */
static void
end_cancelled_transmit(void *arg)
{
	pcap_t *p = arg;
	struct pcap_ring_tx *tx = &((struct pcap_ring *)libpcap_priv(p))->tx;
	int queued;

	(void)pcap_ring_tx_lock(tx);	/* not held here */
	queued = tx->in_sendqueue;
	tx->in_sendqueue = 0;
	if (queued && tx->batch == 0)
		pcap_ring_tx_drop_waiting(p, "pcap_sendqueue_transmit",
		    ECANCELED);
	pcap_ring_tx_unlock(tx);
}

/*
 * Send the records: called with the TX lock held, returns with it
 * released.  The number of bytes of the queue that went.
 */
static u_int
send_records(pcap_t *p, pcap_send_queue *queue, int sync, int batch)
{
	struct pcap_ring_tx *tx = &((struct pcap_ring *)libpcap_priv(p))->tx;
	struct pcap_pkthdr h;
	unsigned long long n = 0;
	long long due = 0, ts, prev_ts = 0;
	u_int off = 0;
	char why[PCAP_ERRBUF_SIZE];

	/*
	 * Frames injected before go first; what they lose is
	 * pcap_inject_flush()'s to report, and the queue still goes.
	 */
	pcap_ring_tx_drain(p);
	tx->in_sendqueue = 1;
	tx->queue_seq0 = tx->ring.stat.tx_queued;
	tx->queue_fail_seq = ULLONG_MAX;

	while (off < queue->len) {
		const u_char *data = (const u_char *)queue->buffer + off + sizeof(h);

		if (libpcap_sendqueue_record(p, queue, off, n, &h) != 0)
			break;
		if (sync) {
			if ((ts = record_time_ns(p, &h, n)) == -1)
				break;
			if (n == 0)
				due = pcap_ring_now_ns();
			else if ((due = record_due(p, ts, prev_ts, due, n)) == -1)
				break;
			prev_ts = ts;
			if (due > pcap_ring_now_ns()) {
				/* What is due now goes out before the wait. */
				if (pcap_ring_tx_kick(p) == -1)
					break;
				pcap_ring_tx_unlock(tx);
				wait_until(due);
				(void)pcap_ring_tx_lock(tx);	/* not held here */
			}
		}
		/*
		 * While the lock was released (waits for time or room),
		 * another thread's flush may have met a rejected record:
		 * nothing after it goes.
		 */
		if (tx->queue_fail_seq != ULLONG_MAX)
			break;
		if (pcap_ring_tx_queue(p, data, (int)h.caplen) != 0)
			break;
		if (tx->ring.unsent >= (unsigned int)batch &&
		    pcap_ring_tx_kick(p) == -1)
			break;
		off += (u_int)sizeof(h) + h.caplen;
		n++;
	}
	/* An error that stopped the loop stays the one reported. */
	memcpy(why, libpcap_errbuf(p), sizeof(why));
	pcap_ring_tx_drain(p);
	tx->in_sendqueue = 0;
	if (tx->queue_fail_seq != ULLONG_MAX) {
		/* The kernel took the records before it, and no other. */
		off = record_offset(queue, tx->queue_fail_seq - tx->queue_seq0);
		memcpy(libpcap_errbuf(p), tx->queue_error, PCAP_ERRBUF_SIZE);
	} else if (off < queue->len) {
		memcpy(libpcap_errbuf(p), why, PCAP_ERRBUF_SIZE);
	}
	pcap_ring_tx_unlock(tx);
	return off;
}

/* Each record goes through the TX ring, as batched pcap_inject() calls. */
u_int
pcap_ring_sendqueue_transmit(pcap_t *p, pcap_send_queue *queue, int sync)
{
	struct pcap_ring_tx *tx = &((struct pcap_ring *)libpcap_priv(p))->tx;
	u_int off;
	int batch = TX_DEFAULT_BATCH, status;
	char why[PCAP_ERRBUF_SIZE];

	pcap_ring_tx_own(p, tx);
	if (pcap_ring_tx_lock(tx) != 0) {
		(void)pcap_ring_tx_interrupted(p, "pcap_sendqueue_transmit");
		return 0;
	}
	if (tx->ring.map.base != NULL)
		pcap_ring_group_join_tx(p);
	else if ((status = pcap_ring_tx_setup_ring(p)) != 0) {
		pcap_ring_tx_unlock(tx);
		memcpy(why, libpcap_errbuf(p), sizeof(why));
		/* These come without a text; pcap_activate() would give them one. */
		if (status == PCAP_ERROR_IFACE_NOT_UP ||
		    status == PCAP_ERROR_NO_SUCH_DEVICE)
			snprintf(why, sizeof(why), "%s: %s",
			    ((struct pcap_ring *)libpcap_priv(p))->ifname,
			    status == PCAP_ERROR_IFACE_NOT_UP ?
			    "That device is not up" : "No such device exists");
		snprintf(libpcap_errbuf(p), PCAP_ERRBUF_SIZE,
		    "pcap_sendqueue_transmit: no TX ring: %.*s",
		    PCAP_ERRBUF_SIZE - 40, why);
		pcap_ring_tx_cleanup(p);
		return 0;
	}
	if (tx->batch > 0)
		batch = tx->batch;
	pthread_cleanup_push(end_cancelled_transmit, p);
	off = send_records(p, queue, sync, batch);
	pthread_cleanup_pop(0);
	return off;
}
