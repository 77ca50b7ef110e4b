/*
 * The interface changes under a blocking pcap_loop() (stock behaviour:
 * run with both libraries, for the TPACKET_V3 ring and immediate mode):
 * - set down and up again: the capture neither ends nor hangs, and the
 *   frames sent after it is up again are captured;
 * - deleted: pcap_loop() returns PCAP_ERROR promptly with "The interface
 *   disappeared".
 */
#include <pthread.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>

#include "bed.h"

static pcap_t *handle;
static int sender_fd;
static struct bed_tally tally;
static const char *victim;	/* the interface to delete */

static pcap_t *
open_capture(const char *dev, int immediate)
{
	pcap_t *p = bed_create(dev);

	MUST(pcap_set_immediate_mode(p, immediate));
	MUST(pcap_set_timeout(p, 100));
	bed_activate(p);
	return p;
}

/* Wait up to secs for the capture to have counted n frames; 1 if it did. */
static int
wait_frames(unsigned long n, double secs)
{
	double end = bed_now() + secs;

	while (__atomic_load_n(&tally.frames, __ATOMIC_ACQUIRE) < n) {
		if (bed_now() > end)
			return 0;
		bed_sleep(0.01);
	}
	return 1;
}

/* Wait until both ends of the bed report their link up again. */
static int
wait_link_up(double secs)
{
	double end = bed_now() + secs;

	while (bed_now() < end) {
		if (bed_sh("grep -qx up /sys/class/net/%s/operstate && "
		    "ip -n %s -o link show %s | grep -q 'state UP'",
		    bed.veth_b, bed.ns_a, bed.veth_a) == 0)
			return 1;
		bed_sleep(0.05);
	}
	return 0;
}

static void *
down_and_up(void *arg)
{
	const char **failure = arg;

	bed_send(sender_fd, 0, 10, 60, 1514, MIX_ALL, NULL);
	if (!wait_frames(10, 5)) {
		*failure = "the first 10 frames did not arrive";
		goto out;
	}
	if (bed_sh("ip link set %s down", bed.veth_b) != 0) {
		*failure = "ip link set down failed";
		goto out;
	}
	bed_sleep(0.5);
	if (bed_sh("ip link set %s up", bed.veth_b) != 0 || !wait_link_up(5)) {
		*failure = "the link did not come up again";
		goto out;
	}
	bed_send(sender_fd, 10, 10, 60, 1514, MIX_ALL, NULL);
	if (!wait_frames(20, 5))
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
	if (ret == PCAP_ERROR && took < 5)
		bed_ok("immediate %d: interface deleted during pcap_loop: PCAP_ERROR \"%s\" after %.2f s",
		    immediate, pcap_geterr(handle), took);
	bed_tally_free(&tally);
	pcap_close(handle);
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
	}
	return bed_finish();
}
