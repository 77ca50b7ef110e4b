/*
 * The interface changes under a blocking pcap_loop() (stock behaviour:
 * run with both libraries, for the TPACKET_V3 ring and immediate mode):
 * - set down and up again: the capture neither ends nor hangs, and the
 *   frames sent after it is up again are captured;
 * - deleted: pcap_loop() returns PCAP_ERROR promptly with "The interface
 *   disappeared", and pcap_stats() then counts no interface drops (its
 *   counters, gone, count 0: tcpdump prints the count);
 * - in immediate mode, set down and up while whole copies of offload
 *   packets wait on the socket: each is captured whole;
 * - an event loop's non-blocking reads: once the interface is down,
 *   pcap_get_required_select_timeout() is no longer NULL (the loop must
 *   come back though the descriptor stays quiet), and NULL again once it
 *   is up.
 */
#include <pthread.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "bed.h"

static pcap_t *handle;
static int sender_fd;
static struct bed_tally tally;
static const char *victim;	/* the interface to delete */

static pcap_t *
open_capture(const char *dev, int immediate)
{
	pcap_t *p = bed_create(dev);

	MUST(pcap_set_promisc(p, 1));	/* as tcpdump's, with ps_ifdrop */
	MUST(pcap_set_immediate_mode(p, immediate));
	MUST(pcap_set_timeout(p, 100));
	bed_activate(p);
	return p;
}

static void *
down_and_up(void *arg)
{
	const char **failure = arg;

	bed_send(sender_fd, 0, 10, 60, 1514, MIX_ALL, NULL);
	if (!bed_wait_count(&tally.frames, 10, 5)) {
		*failure = "the first 10 frames did not arrive";
		goto out;
	}
	if (bed_sh("ip link set %s down", bed.veth_b) != 0) {
		*failure = "ip link set down failed";
		goto out;
	}
	bed_sleep(0.5);
	if (bed_sh("ip link set %s up", bed.veth_b) != 0 || !bed_wait_link_up(5)) {
		*failure = "the link did not come up again";
		goto out;
	}
	bed_send(sender_fd, 10, 10, 60, 1514, MIX_ALL, NULL);
	if (!bed_wait_count(&tally.frames, 20, 5))
		*failure = "frames sent after the interface came up were not captured";
out:
	pcap_breakloop(handle);
	return NULL;
}

static void
set_down_during_capture(int immediate)
{
	const char *failure = NULL;
	pthread_t tid;
	int ret;

	handle = open_capture(bed.veth_b, immediate);
	bed_tally_init(&tally, 0, 20);
	pthread_create(&tid, NULL, down_and_up, &failure);
	bed_deadline(30, "pcap_loop with the interface set down and up");
	ret = pcap_loop(handle, -1, bed_tally_cb, (u_char *)&tally);
	bed_deadline_clear();
	pthread_join(tid, NULL);
	CHECK(failure == NULL, "immediate %d: %s", immediate, failure);
	CHECK(ret == PCAP_ERROR_BREAK,
	    "immediate %d: pcap_loop returned %d (%s) across down/up, not PCAP_ERROR_BREAK",
	    immediate, ret, ret == PCAP_ERROR ? pcap_geterr(handle) : "");
	bed_tally_check(&tally, immediate ?
	    "immediate mode: interface down and up during pcap_loop: 10 frames before, 10 after" :
	    "interface down and up during pcap_loop: 10 frames before, 10 after");
	bed_tally_free(&tally);
	pcap_close(handle);
}

static void *
delete_later(void *arg)
{
	(void)arg;
	bed_sleep(0.3);
	bed_sh("ip link del %s", victim);
	return NULL;
}

static void
deleted_during_capture(int immediate)
{
	char veth[IFNAMSIZ];
	struct pcap_stat ps;
	pthread_t tid;
	double start, took;
	int ret;

	snprintf(veth, sizeof(veth), "prtdel%d", (int)getpid() % 100000);
	if (bed_sh("ip link add %s type veth peer name %sp && ip link set %s up && ip link set %sp up",
	    veth, veth, veth, veth) != 0)
		bed_fatal("cannot make veth %s", veth);
	victim = veth;
	handle = open_capture(veth, immediate);
	bed_tally_init(&tally, 0, 1);
	pthread_create(&tid, NULL, delete_later, NULL);
	start = bed_now();
	bed_deadline(10, "pcap_loop on a deleted interface");
	ret = pcap_loop(handle, -1, bed_tally_cb, (u_char *)&tally);
	bed_deadline_clear();
	took = bed_now() - start;
	pthread_join(tid, NULL);
	CHECK(ret == PCAP_ERROR &&
	    strstr(pcap_geterr(handle), "The interface disappeared") != NULL,
	    "immediate %d: deleted interface: pcap_loop returned %d \"%s\"",
	    immediate, ret, pcap_geterr(handle));
	CHECK(took < 5, "immediate %d: deleted interface noticed after %.2f s",
	    immediate, took);
	CHECK(pcap_stats(handle, &ps) == 0 && ps.ps_ifdrop == 0,
	    "immediate %d: deleted interface: pcap_stats gave ps_ifdrop %u (stock: 0) %s",
	    immediate, ps.ps_ifdrop, pcap_geterr(handle));
	if (ret == PCAP_ERROR && took < 5)
		bed_ok("immediate %d: interface deleted during pcap_loop: PCAP_ERROR \"%s\" after %.2f s",
		    immediate, pcap_geterr(handle), took);
	bed_tally_free(&tally);
	pcap_close(handle);
}

#define COPY_PORT	5556
#define COPY_BYTES	(1024 * 1024)

/* The receiving end of the TCP transfer: read everything. */
static void *
drain(void *arg)
{
	static char buf[65536];
	int fd = accept(*(int *)arg, NULL, NULL);

	while (fd != -1 && read(fd, buf, sizeof(buf)) > 0)
		continue;
	if (fd != -1)
		close(fd);
	return NULL;
}

/* 1 MiB over TCP on lo; offload hands the capture segments of ~64 KiB. */
static void
tcp_transfer(void)
{
	static char data[COPY_BYTES];
	struct sockaddr_in sin;
	pthread_t tid;
	int lfd, fd, one = 1;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(COPY_PORT);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(lfd, 1) == -1)
		bed_fatal("TCP listen on port %d", COPY_PORT);
	pthread_create(&tid, NULL, drain, &lfd);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    write(fd, data, sizeof(data)) != (ssize_t)sizeof(data))
		bed_fatal("TCP transfer on lo");
	close(fd);
	pthread_join(tid, NULL);
	close(lfd);
}

struct tcp_tally {
	unsigned long packets, cut, bytes;
};

/* Count the packets, those not captured whole, and the payload to COPY_PORT. */
static void
tcp_tally_cb(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct tcp_tally *t = (struct tcp_tally *)user;
	unsigned int ihl, doff;

	t->packets++;
	if (h->caplen != h->len)
		t->cut++;
	if (h->caplen < 14 + 20 + 20)
		return;
	ihl = (bytes[14] & 0x0f) * 4;
	if (h->caplen < 14 + ihl + 20 ||
	    ((bytes[14 + ihl + 2] << 8) | bytes[14 + ihl + 3]) != COPY_PORT)
		return;
	doff = (bytes[14 + ihl + 12] >> 4) * 4;
	t->bytes += ((bytes[16] << 8) | bytes[17]) - ihl - doff;
}

/*
 * Immediate mode on a link whose offload packets do not fit the ring's
 * frames (lo with a 1500-byte MTU): the link goes down and up while whole
 * copies of them are queued on the socket, before the capture reads
 * them.  Every segment is captured whole, and the idle capture
 * afterwards does not spin.
 */
static void
down_with_copies_queued(void)
{
	struct tcp_tally t;
	struct bpf_program fp;
	struct rusage before, after;
	struct bed_break b;
	double cpu;
	int ret, status;

	if (bed_sh("ip link set lo mtu 1500") != 0)
		bed_fatal("ip link set lo mtu 1500");
	memset(&t, 0, sizeof(t));
	handle = bed_create("lo");
	MUST(pcap_set_immediate_mode(handle, 1));
	MUST(pcap_set_timeout(handle, 100));
	/* Room for the whole transfer in stock's frames of the snapshot's size. */
	MUST(pcap_set_buffer_size(handle, 64 * 1024 * 1024));
	bed_activate(handle);
	if (pcap_compile(handle, &fp, "tcp port 5556", 1, PCAP_NETMASK_UNKNOWN) != 0 ||
	    pcap_setfilter(handle, &fp) != 0)
		bed_fatal("filter: %s", pcap_geterr(handle));
	pcap_freecode(&fp);
	tcp_transfer();
	if (bed_sh("ip link set lo down && ip link set lo up") != 0)
		bed_fatal("ip link set lo down/up");
	bed_deadline(20, "reading the copies queued before the link went down");
	while (t.bytes < COPY_BYTES &&
	    (ret = pcap_dispatch(handle, -1, tcp_tally_cb, (u_char *)&t)) > 0)
		continue;
	bed_deadline_clear();
	/*
	 * A copy taken out of step carries another packet's bytes, so its
	 * length is not the packet's.  (TCP may retransmit a segment, so
	 * bytes may be more and a sequence number may come twice.)
	 */
	CHECK(t.cut == 0 && t.bytes >= COPY_BYTES,
	    "down with copies queued: %lu packets, %lu cut, %lu of %d bytes",
	    t.packets, t.cut, t.bytes, COPY_BYTES);
	getrusage(RUSAGE_SELF, &before);
	bed_break_later(&b, handle, 1);
	bed_deadline(10, "pcap_loop on the idle link");
	status = pcap_loop(handle, -1, tcp_tally_cb, (u_char *)&t);
	bed_deadline_clear();
	CHECK(status == PCAP_ERROR_BREAK, "pcap_loop on the idle link: %d (%s)",
	    status, pcap_geterr(handle));
	bed_break_join(&b);
	getrusage(RUSAGE_SELF, &after);
	cpu = (double)(after.ru_utime.tv_sec - before.ru_utime.tv_sec +
	    after.ru_stime.tv_sec - before.ru_stime.tv_sec) +
	    (after.ru_utime.tv_usec - before.ru_utime.tv_usec +
	    after.ru_stime.tv_usec - before.ru_stime.tv_usec) / 1e6;
	CHECK(cpu < 0.3, "down with copies queued: the idle capture used %.2f s of CPU in 1 s",
	    cpu);
	if (bed_failures == 0)
		bed_ok("immediate 1: link down and up with copies queued: %lu packets, all whole; idle CPU %.2f s",
		    t.packets, cpu);
	pcap_close(handle);
	bed_sh("ip link set lo mtu 65536");
}

/* Non-blocking reads until the required select timeout is set or not. */
static int
read_until_select_timeout(pcap_t *p, int set)
{
	struct bed_tally t;
	double end = bed_now() + 3;
	int is_set;

	bed_tally_init(&t, 0, 0);
	do {
		if (pcap_dispatch(p, -1, bed_tally_cb, (u_char *)&t) < 0)
			bed_fatal("pcap_dispatch: %s", pcap_geterr(p));
		is_set = pcap_get_required_select_timeout(p) != NULL;
		if (is_set != set)
			bed_sleep(0.01);
	} while (is_set != set && bed_now() < end);
	bed_tally_free(&t);
	return is_set == set;
}

static void
event_loop_netdown(int immediate)
{
	pcap_t *p = open_capture(bed.veth_b, immediate);
	int up, down, up_again;

	bed_setnonblock(p);
	up = read_until_select_timeout(p, 0);
	if (bed_sh("ip link set %s down", bed.veth_b) != 0)
		bed_fatal("cannot set %s down", bed.veth_b);
	down = read_until_select_timeout(p, 1);
	if (bed_sh("ip link set %s up", bed.veth_b) != 0 ||
	    !bed_wait_link_up(10))
		bed_fatal("cannot set %s up", bed.veth_b);
	up_again = read_until_select_timeout(p, 0);
	CHECK(up && down && up_again,
	    "immediate %d: a required select timeout: %s while up, %s for 3 s down, %s for 3 s up again",
	    immediate, up ? "none" : "one", down ? "one" : "none",
	    up_again ? "none" : "one");
	if (up && down && up_again)
		bed_ok("immediate %d: down, a required select timeout; up, none",
		    immediate);
	pcap_close(p);
}

int
main(int argc, char **argv)
{
	int immediate;

	bed_enter(argc, argv, "ring stock");
	sender_fd = bed_sender(bed.ns_a, bed.veth_a);
	for (immediate = 0; immediate <= 1; immediate++) {
		set_down_during_capture(immediate);
		deleted_during_capture(immediate);
		event_loop_netdown(immediate);
	}
	down_with_copies_queued();
	return bed_finish();
}
