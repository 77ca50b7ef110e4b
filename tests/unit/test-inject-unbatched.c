/*
 * Unbatched pcap_inject() is stock's send() on the capture socket (run
 * with both libraries):
 * - in non-blocking mode the socket is non-blocking too ("as we use it
 *   for sending packets", stock says), so that with the send buffer full
 *   inject fails at once with EAGAIN instead of blocking;
 * - its errors read as stock's: "send: " and the reason, no device name.
 */
#include <string.h>

#include "bed.h"

static void
check_error(pcap_t *p, int ret, const char *expected, const char *what)
{
	CHECK(ret == PCAP_ERROR && strcmp(pcap_geterr(p), expected) == 0,
	    "%s: pcap_inject returned %d \"%s\", stock's is -1 \"%s\"", what,
	    ret, ret == PCAP_ERROR ? pcap_geterr(p) : "", expected);
}

static void
nonblocking_send_buffer_full(void)
{
	static u_char frame[1514];
	pcap_t *p;
	int i, ret = 0;

	/* At 8 kbit/s with room for 10 MB, frames wait in the queue discipline, charged to the send buffer. */
	if (bed_sh("tc qdisc replace dev %s root tbf rate 8kbit burst 1600 limit 10000000",
	    bed.veth_b) != 0)
		bed_fatal("tc qdisc replace (tbf) failed");
	p = bed_create(bed.veth_b);
	bed_activate(p);
	bed_setnonblock(p);
	frame_build(frame, 0, sizeof(frame), MIX_UDP);
	bed_deadline(20, "non-blocking pcap_inject with the send buffer full");
	for (i = 0; i < 10000; i++)
		if ((ret = pcap_inject(p, frame, sizeof(frame))) != sizeof(frame))
			break;
	bed_deadline_clear();
	check_error(p, ret, "send: Resource temporarily unavailable",
	    "non-blocking, send buffer full");
	if (bed_failures == 0)
		bed_ok("non-blocking: EAGAIN after %d frames filled the send buffer", i);
	pcap_close(p);
	bed_sh("tc qdisc del dev %s root", bed.veth_b);
}

static void
error_texts(void)
{
	static u_char frame[60];
	pcap_t *p;

	p = bed_create(bed.veth_b);
	bed_activate(p);
	frame_build(frame, 0, sizeof(frame), MIX_UDP);
	check_error(p, pcap_inject(p, NULL, sizeof(frame)), "send: Bad address",
	    "a NULL buffer");
	if (bed_sh("ip link set %s down", bed.veth_b) != 0)
		bed_fatal("ip link set down failed");
	check_error(p, pcap_inject(p, frame, sizeof(frame)),
	    "send: Network is down", "the link down");
	bed_sh("ip link set %s up", bed.veth_b);
	if (bed_failures == 0)
		bed_ok("error texts as stock's");
	pcap_close(p);
}

int
main(int argc, char **argv)
{
	bed_enter(argc, argv, "ring stock");
	error_texts();
	nonblocking_send_buffer_full();
	return bed_finish();
}
