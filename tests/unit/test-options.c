/*
 * Capture options as stock libpcap applies them (run with both libraries):
 * - pcap_setdirection(): IN sees only what the peer sent, OUT only what
 *   this side sent, INOUT both;
 * - pcap_set_protocol_linux(ETH_P_ARP): only the ARP frames;
 * - promiscuous mode: on a bridge, which passes frames for a foreign MAC
 *   up to its own device only when it is promiscuous, they are captured
 *   only with promisc on, and frames for its own address always;
 * - snaplen 0, negative or above 262144 becomes MAXIMUM_SNAPLEN (262144),
 *   and a small snaplen cuts frames;
 * - pcap_set_buffer_size() of 1 byte and of INT_MAX: activation succeeds
 *   and every frame is captured;
 * - the packet ring is mapped below 4 GiB (MAP_32BIT) once
 *   pcap_init(PCAP_MMAP_32BIT) asked for it (libpcap master), and not
 *   before; so is every packet pcap_next_ex() hands over, also the ones
 *   copied out of the ring;
 * - with nanosecond precision a packet has one time stamp, the same in
 *   every handle of the process.
 */
#include <limits.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <linux/if_ether.h>

#include "bed.h"

static int sender_a, sender_b;

static pcap_t *
open_capture(const char *dev, int immediate, int promisc, int snaplen,
    int buffer_size, int precision)
{
	pcap_t *p = bed_create(dev);

	MUST(pcap_set_tstamp_precision(p, precision));
	MUST(pcap_set_immediate_mode(p, immediate));
	MUST(pcap_set_promisc(p, promisc));
	MUST(pcap_set_timeout(p, 50));
	MUST(pcap_set_snaplen(p, snaplen));
	if (buffer_size != 0)
		MUST(pcap_set_buffer_size(p, buffer_size));
	bed_activate(p);
	bed_setnonblock(p);
	return p;
}

/* Read as the descriptor says until nothing more comes for 0.3 s. */
static void
drain(pcap_t *p, pcap_handler cb, u_char *user)
{
	bed_drain(p, cb, user, NULL, 0, 0.3);
}

/* Frames seen with sequence numbers in [lo, hi). */
static unsigned int
seen_between(const struct bed_tally *t, uint32_t lo, uint32_t hi)
{
	unsigned int n = 0;
	uint32_t i;

	for (i = lo; i < hi; i++)
		n += t->seen[i - t->base] != 0;
	return n;
}

static void
direction(pcap_direction_t d, const char *name, unsigned int want_in,
    unsigned int want_out)
{
	struct bed_tally t;
	unsigned int in, out;
	pcap_t *p;

	p = open_capture(bed.veth_b, 0, 0, 0, 0, PCAP_TSTAMP_PRECISION_MICRO);
	CHECK(pcap_setdirection(p, d) == 0, "pcap_setdirection(%s): %s", name,
	    pcap_geterr(p));
	bed_tally_init(&t, 0, 200);
	bed_send(sender_a, 0, 10, 60, 1514, MIX_ALL, NULL);
	bed_send(sender_b, 100, 10, 60, 1514, MIX_ALL, NULL);
	drain(p, bed_tally_cb, (u_char *)&t);
	in = seen_between(&t, 0, 10);
	out = seen_between(&t, 100, 110);
	CHECK(in == want_in && out == want_out && t.dup == 0 && t.bad == 0,
	    "%s: %u of 10 incoming, %u of 10 outgoing seen (want %u, %u), dup %lu bad %lu",
	    name, in, out, want_in, want_out, t.dup, t.bad);
	if (in == want_in && out == want_out)
		bed_ok("pcap_setdirection(%s): %u incoming, %u outgoing frames",
		    name, in, out);
	bed_tally_free(&t);
	pcap_close(p);
}

/* MIX_ALL's frame i is ARP when i % 8 is 7: 10 of 80. */
static void
protocol_arp(void)
{
	struct bed_tally t;
	unsigned int arp = 0, i;
	pcap_t *p = bed_create(bed.veth_b);

	MUST(pcap_set_protocol_linux(p, ETH_P_ARP));
	MUST(pcap_set_timeout(p, 50));
	bed_activate(p);
	MUST(pcap_setnonblock(p, 1, pcap_geterr(p)));
	bed_tally_init(&t, 0, 80);
	bed_send(sender_a, 0, 80, 60, 1514, MIX_ALL, NULL);
	drain(p, bed_tally_cb, (u_char *)&t);
	for (i = 7; i < 80; i += 8)
		arp += t.seen[i] != 0;
	CHECK(arp == 10 && t.frames == 10 && t.other == 0 && t.bad == 0,
	    "pcap_set_protocol_linux(ETH_P_ARP): %u of 10 ARP frames, %lu frames in all, %lu other, %lu bad",
	    arp, t.frames, t.other, t.bad);
	if (arp == 10 && t.frames == 10 && t.other == 0)
		bed_ok("pcap_set_protocol_linux(ETH_P_ARP): the 10 ARP frames of 80");
	bed_tally_free(&t);
	pcap_close(p);
}

/*
 * "inbound" compiles to the kernel's packet-type extension, which libpcap
 * master lets a live handle use only when its capture module says so, as
 * stock does.  (What it then captures is stock's business: packets that
 * stock re-filters in userland after pcap_setfilter() fail it, since the
 * userland filter has no packet type.)
 */
static void
inbound_filter(void)
{
	struct bpf_program prog;
	pcap_t *p;

	p = open_capture(bed.veth_b, 0, 0, 0, 0, PCAP_TSTAMP_PRECISION_MICRO);
	if (pcap_compile(p, &prog, "inbound", 1, PCAP_NETMASK_UNKNOWN) == 0) {
		bed_ok("a live handle compiles \"inbound\" (%u instructions)",
		    prog.bf_len);
		pcap_freecode(&prog);
	} else
		CHECK(0, "pcap_compile(\"inbound\"): %s", pcap_geterr(p));
	pcap_close(p);
}

static void
promiscuous(void)
{
	static const uint8_t own[6] = { 0x02, 0x00, 0x5e, 0x10, 0x00, 0x02 };
	static const uint8_t foreign[6] = { 0x02, 0x00, 0x5e, 0x10, 0x00, 0x99 };
	char br[IFNAMSIZ];
	struct bed_tally t;
	unsigned int n_own, n_foreign;
	int promisc, round;
	pcap_t *p;

	snprintf(br, sizeof(br), "prtbr%d", (int)getpid());
	if (bed_sh("ip link add %s type bridge && ip link set %s address 02:00:5e:10:00:02 && "
	    "ip link set %s master %s && ip link set %s up", br, br,
	    bed.veth_b, br, br) != 0)
		bed_fatal("cannot make bridge %s", br);
	/* Off, on, and off again: closing the handle leaves promiscuous mode. */
	for (round = 0; round < 3; round++) {
		promisc = round == 1;
		p = open_capture(br, 0, promisc, 0, 0,
		    PCAP_TSTAMP_PRECISION_MICRO);
		bed_tally_init(&t, 0, 20);
		bed_send(sender_a, 0, 10, 60, 1514, MIX_UDP, own);
		bed_send(sender_a, 10, 10, 60, 1514, MIX_UDP, foreign);
		drain(p, bed_tally_cb, (u_char *)&t);
		n_own = seen_between(&t, 0, 10);
		n_foreign = seen_between(&t, 10, 20);
		CHECK(n_own == 10 && n_foreign == (promisc ? 10u : 0u),
		    "bridge, promisc %d: %u of 10 frames to its MAC, %u of 10 to a foreign MAC",
		    promisc, n_own, n_foreign);
		if (n_own == 10 && n_foreign == (promisc ? 10u : 0u))
			bed_ok("bridge, promisc %d: %u frames to its MAC, %u to a foreign MAC",
			    promisc, n_own, n_foreign);
		bed_tally_free(&t);
		pcap_close(p);
	}
	bed_sh("ip link set %s nomaster; ip link del %s", bed.veth_b, br);
}

struct snap_seen {
	unsigned int n;
	bpf_u_int32 caplen, len;
};

static void
record_snap(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct snap_seen *s = (struct snap_seen *)user;

	(void)bytes;
	s->n++;
	s->caplen = h->caplen;
	s->len = h->len;
}

static void
snaplen(int immediate, int requested, int want)
{
	struct snap_seen s = { 0, 0, 0 };
	unsigned int want_caplen = want < 1514 ? (unsigned int)want : 1514;
	pcap_t *p;

	p = open_capture(bed.veth_b, immediate, 0, requested, 0,
	    PCAP_TSTAMP_PRECISION_MICRO);
	CHECK(pcap_snapshot(p) == want,
	    "immediate %d: snaplen %d: pcap_snapshot %d, want %d", immediate,
	    requested, pcap_snapshot(p), want);
	bed_send(sender_a, 0, 1, 1514, 1514, MIX_UDP, NULL);
	drain(p, record_snap, (u_char *)&s);
	CHECK(s.n == 1 && s.caplen == want_caplen && s.len == 1514,
	    "immediate %d: snaplen %d: %u packets, caplen %u len %u",
	    immediate, requested, s.n, s.caplen, s.len);
	if (pcap_snapshot(p) == want && s.n == 1 && s.caplen == want_caplen)
		bed_ok("immediate %d: snaplen %d -> pcap_snapshot %d, a 1514-byte frame has caplen %u",
		    immediate, requested, want, s.caplen);
	pcap_close(p);
}

static void
buffer_size(int immediate, int size)
{
	struct bed_tally t;
	pcap_t *p;
	int status;

	p = bed_create(bed.veth_b);
	MUST(pcap_set_immediate_mode(p, immediate));
	MUST(pcap_set_timeout(p, 50));
	CHECK(pcap_set_buffer_size(p, size) == 0, "pcap_set_buffer_size(%d)",
	    size);
	status = pcap_activate(p);
	CHECK(status == 0, "immediate %d: buffer %d: pcap_activate %d (%s)",
	    immediate, size, status, pcap_geterr(p));
	bed_check_claimed(p, "pcap_set_buffer_size");
	if (status != 0) {
		pcap_close(p);
		return;
	}
	MUST(pcap_setnonblock(p, 1, pcap_geterr(p)));
	bed_tally_init(&t, 0, 10);
	bed_send(sender_a, 0, 1, 60, 1514, MIX_ALL, NULL);
	drain(p, bed_tally_cb, (u_char *)&t);
	CHECK(t.frames == 1 && t.bad == 0, "immediate %d: buffer %d: %lu frames",
	    immediate, size, t.frames);
	if (t.frames == 1)
		bed_ok("immediate %d: pcap_set_buffer_size(%d): activates and captures",
		    immediate, size);
	bed_tally_free(&t);
	pcap_close(p);
}

#ifdef __x86_64__
/*
 * CHECK where the mappings of the handle's socket lie: all of them below
 * 4 GiB with low, none without.  Without MAP_32BIT, x86-64 maps high.
 */
static void
ring_mapping(int low, const char *what)
{
	char link[64], sock[64], line[512], path[256];
	unsigned long start, end, n = 0, below = 0;
	ssize_t len;
	FILE *f;
	pcap_t *p;

	p = open_capture(bed.veth_b, 0, 0, 0, 0, PCAP_TSTAMP_PRECISION_MICRO);
	snprintf(link, sizeof(link), "/proc/self/fd/%d", pcap_fileno(p));
	len = readlink(link, sock, sizeof(sock) - 1);
	if (len <= 0)
		bed_fatal("readlink %s", link);
	sock[len] = '\0';
	f = fopen("/proc/self/maps", "r");
	if (f == NULL)
		bed_fatal("/proc/self/maps");
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %255s", &start, &end,
		    path) == 3 && strcmp(path, sock) == 0) {
			n++;
			below += end <= 0x100000000UL;
		}
	fclose(f);
	CHECK(n > 0 && below == (low ? n : 0),
	    "%s: %lu of the %lu mappings of %s below 4 GiB", what, below, n,
	    sock);
	if (n > 0 && below == (low ? n : 0))
		bed_ok("%s: %lu of the %lu mappings of the socket below 4 GiB",
		    what, below, n);
	pcap_close(p);
}
#endif

#if defined(__x86_64__) && defined(PCAP_MMAP_32BIT)
/*
 * CHECK that every packet pcap_next_ex() hands over lies below 4 GiB: the
 * ones read from the ring, the last of a burst (copied once its slot went
 * back), and in immediate mode whole packets longer than the ring's frames
 * (the link's MTU raised after activation).
 */
static void
packets_low(int immediate)
{
	const size_t len = immediate ? 5000 : 1000;
	struct pcap_pkthdr *h;
	const u_char *data;
	unsigned long n = 0, high = 0;
	double end;
	pcap_t *p;
	int ret;

	p = open_capture(bed.veth_b, immediate, 0, 0, 0, PCAP_TSTAMP_PRECISION_MICRO);
	if (immediate && bed_sh("ip link set %s mtu 9000 && ip -n %s link set %s mtu 9000",
	    bed.veth_b, bed.ns_a, bed.veth_a) != 0)
		bed_fatal("ip link set mtu 9000");
	bed_send(sender_a, 0, 5, len, len, MIX_UDP, NULL);
	for (end = bed_now() + 2; n < 5 && bed_now() < end;) {
		ret = pcap_next_ex(p, &h, &data);
		if (ret < 0)
			bed_fatal("pcap_next_ex: %s", pcap_geterr(p));
		if (ret == 1 && h->caplen == len) {
			n++;
			high += (uintptr_t)data + h->caplen > 0x100000000UL;
		}
	}
	CHECK(n == 5 && high == 0,
	    "immediate %d: after pcap_init(PCAP_MMAP_32BIT), %lu of %lu packets of %zu bytes lay above 4 GiB",
	    immediate, high, n, len);
	if (n == 5 && high == 0)
		bed_ok("immediate %d: after pcap_init(PCAP_MMAP_32BIT), all %lu packets of %zu bytes lay below 4 GiB",
		    immediate, n, len);
	if (immediate)
		bed_sh("ip link set %s mtu 1500 && ip -n %s link set %s mtu 1500",
		    bed.veth_b, bed.ns_a, bed.veth_a);
	pcap_close(p);
}
#endif

/*
 * Nanosecond precision has the kernel stamp each packet once, as it
 * enters the stack (SO_TIMESTAMPNS, as stock asks for it), and every
 * packet socket hands over that stamp: the handles of a process agree.
 */
static void
nanosecond_stamps(void)
{
	pcap_t *micro, *nano;
	unsigned int alike;

	if (!bed_stamps_per_socket(sender_a))
		return;
	micro = open_capture(bed.veth_b, 0, 0, 0, 0,
	    PCAP_TSTAMP_PRECISION_MICRO);
	nano = open_capture(bed.veth_b, 0, 0, 0, 0, PCAP_TSTAMP_PRECISION_NANO);
	alike = bed_stamps_alike(micro, nano, sender_a);
	CHECK(alike == BED_STAMPED_FRAMES,
	    "time stamps: a microsecond and a nanosecond handle stamped %u of %d frames alike",
	    alike, BED_STAMPED_FRAMES);
	if (alike == BED_STAMPED_FRAMES)
		bed_ok("time stamps: a microsecond and a nanosecond handle stamped all %u frames alike",
		    alike);
	pcap_close(nano);
	pcap_close(micro);
}

#if defined(__x86_64__) && defined(PCAP_MMAP_32BIT)
/*
 * The 1 GiB that MAP_32BIT maps in holds hundreds of stock's 2 MiB rings
 * (453 here) and 31 of 32 MiB: a program that asks for no size gets
 * stock's.
 */
#define HANDLES_BELOW_4GIB	64

static void
many_handles_low(void)
{
	pcap_t *p[HANDLES_BELOW_4GIB];
	int n, status = 0;

	for (n = 0; n < HANDLES_BELOW_4GIB; n++) {
		p[n] = bed_create(bed.veth_b);
		if ((status = pcap_activate(p[n])) != 0) {
			CHECK(0, "after pcap_init(PCAP_MMAP_32BIT): handle %d of %d: pcap_activate %d (%s)",
			    n + 1, HANDLES_BELOW_4GIB, status, pcap_geterr(p[n]));
			pcap_close(p[n]);
			break;
		}
	}
	if (n == HANDLES_BELOW_4GIB)
		bed_ok("after pcap_init(PCAP_MMAP_32BIT): %d handles asking for no size activated",
		    n);
	while (n > 0)
		pcap_close(p[--n]);
}
#endif

/* Last: pcap_init(PCAP_MMAP_32BIT) cannot be undone. */
static void
mmap_32bit(void)
{
#if defined(__x86_64__) && defined(PCAP_MMAP_32BIT)
	char errbuf[PCAP_ERRBUF_SIZE];

	ring_mapping(0, "without pcap_init(PCAP_MMAP_32BIT)");
	if (pcap_init(PCAP_MMAP_32BIT, errbuf) != 0)
		bed_fatal("pcap_init(PCAP_MMAP_32BIT): %s", errbuf);
	ring_mapping(1, "after pcap_init(PCAP_MMAP_32BIT)");
	packets_low(0);
	packets_low(1);
	many_handles_low();
#elif defined(__x86_64__)
	ring_mapping(0, "without pcap_init(PCAP_MMAP_32BIT)");
	bed_skip_case("pcap_init(PCAP_MMAP_32BIT): not in %s",
	    pcap_lib_version());
#else
	bed_skip_case("where the ring is mapped: MAP_32BIT is x86-64's");
#endif
}

int
main(int argc, char **argv)
{
	static const int huge[] = { 0, -1, INT_MIN, 262145, INT_MAX };
	size_t i;
	int immediate;

	bed_enter(argc, argv, "ring stock");
	sender_a = bed_sender(bed.ns_a, bed.veth_a);
	sender_b = bed_sender(NULL, bed.veth_b);

	direction(PCAP_D_IN, "PCAP_D_IN", 10, 0);
	direction(PCAP_D_OUT, "PCAP_D_OUT", 0, 10);
	direction(PCAP_D_INOUT, "PCAP_D_INOUT", 10, 10);
	protocol_arp();
	inbound_filter();
	promiscuous();
	for (immediate = 0; immediate <= 1; immediate++) {
		for (i = 0; i < sizeof(huge) / sizeof(huge[0]); i++)
			snaplen(immediate, huge[i], 262144);
		snaplen(immediate, 100, 100);
		buffer_size(immediate, 1);
		buffer_size(immediate, INT_MAX);
	}
	nanosecond_stamps();
	mmap_32bit();
	return bed_finish();
}
