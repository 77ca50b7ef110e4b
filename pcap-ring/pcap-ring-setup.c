/*
 * pcap-ring: packet sockets, ring layouts and mappings (layer prefix
 * ring_sock_).
 *
 * Nothing here knows about pcap_t; the RX and TX sides both build on it.
 * The PCAP_ERROR_ codes some functions return are the ones stock
 * pcap-linux gives for the same errno.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* the GNU strerror_r() */
#endif
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <linux/filter.h>
#include <linux/if_ether.h>

#include "pcap-ring-layers.h"

/*
 * The message, ": " and what err means, as libpcap's errno formatter
 * writes it, so that the texts stay stock's; the layers cannot call it
 * through the door: they are built into tests without a libpcap.
 */
void
ring_sock_errmsg(char *errbuf, int err, const char *fmt, ...)
{
	char text[128];
	size_t len;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errbuf, PCAP_ERRBUF_SIZE, fmt, ap);
	va_end(ap);
	len = strlen(errbuf);
	/* As libpcap's: a message that fills the buffer goes without. */
	if (len + 3 > PCAP_ERRBUF_SIZE)
		return;
	snprintf(errbuf + len, PCAP_ERRBUF_SIZE - len, ": %s",
	    strerror_r(err, text, sizeof(text)));
}

void
ring_sock_ifreq(struct ifreq *ifr, const char *ifname)
{
	memset(ifr, 0, sizeof(*ifr));
	strncpy(ifr->ifr_name, ifname, sizeof(ifr->ifr_name) - 1);
}

int
ring_sock_ifindex(int fd, const char *ifname, char *errbuf)
{
	struct ifreq ifr;

	ring_sock_ifreq(&ifr, ifname);
	if (ioctl(fd, SIOCGIFINDEX, &ifr) == -1) {
		ring_sock_errmsg(errbuf, errno,
		    "%s: SIOCGIFINDEX", ifname);
		return -1;
	}
	return ifr.ifr_ifindex;
}

/* 1 if the interface is up with a carrier, 0 if not, -1 if unknown. */
int
ring_sock_link_running(int fd, const char *ifname)
{
	struct ifreq ifr;

	ring_sock_ifreq(&ifr, ifname);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) == -1)
		return -1;
	return (ifr.ifr_flags & IFF_RUNNING) != 0;
}

/* The ARPHRD_ type, or a PCAP_ERROR_ code as stock pcap-linux reports it. */
int
ring_sock_arptype(int fd, const char *ifname, char *errbuf)
{
	struct ifreq ifr;

	ring_sock_ifreq(&ifr, ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) == -1) {
		if (errno == ENODEV) {
			errbuf[0] = '\0';
			return PCAP_ERROR_NO_SUCH_DEVICE;
		}
		ring_sock_errmsg(errbuf, errno,
		    "%s: SIOCGIFHWADDR", ifname);
		return PCAP_ERROR;
	}
	return ifr.ifr_hwaddr.sa_family;
}

/* Bind to the interface; 0, or a PCAP_ERROR_ code as stock reports it. */
int
ring_sock_bind(int fd, int ifindex, int protocol, char *errbuf)
{
	struct sockaddr_ll sll;
	int err;
	socklen_t errlen = sizeof(err);

	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_ifindex = ifindex;
	sll.sll_protocol = protocol;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) == -1) {
		if (errno == ENETDOWN)
			return PCAP_ERROR_IFACE_NOT_UP;
		if (errno == ENODEV) {
			errbuf[0] = '\0';
			return PCAP_ERROR_NO_SUCH_DEVICE;
		}
		ring_sock_errmsg(errbuf, errno,
		    "bind");
		return PCAP_ERROR;
	}
	/* A bind to a device that is down succeeds and leaves ENETDOWN here. */
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &errlen) == -1) {
		ring_sock_errmsg(errbuf, errno,
		    "getsockopt (SO_ERROR)");
		return PCAP_ERROR;
	}
	if (err == ENETDOWN)
		return PCAP_ERROR_IFACE_NOT_UP;
	if (err > 0) {
		ring_sock_errmsg(errbuf, err,
		    "bind");
		return PCAP_ERROR;
	}
	return 0;
}

int
ring_sock_mtu(int fd, const char *ifname, char *errbuf)
{
	struct ifreq ifr;

	ring_sock_ifreq(&ifr, ifname);
	if (ioctl(fd, SIOCGIFMTU, &ifr) == -1) {
		ring_sock_errmsg(errbuf, errno,
		    "%s: SIOCGIFMTU", ifname);
		return -1;
	}
	return ifr.ifr_mtu;
}

int
ring_sock_set_version(int fd, int version, unsigned int *hdrlen,
    const char *ifname, char *errbuf)
{
	int val = version;
	socklen_t len = sizeof(val);

	if (getsockopt(fd, SOL_PACKET, PACKET_HDRLEN, &val, &len) == -1) {
		ring_sock_errmsg(errbuf, errno,
		    "%s: getsockopt (PACKET_HDRLEN TPACKET_V%d)", ifname,
		    version + 1);
		return -1;
	}
	*hdrlen = (unsigned int)val;
	val = version;
	if (setsockopt(fd, SOL_PACKET, PACKET_VERSION, &val, sizeof(val)) == -1) {
		ring_sock_errmsg(errbuf, errno,
		    "%s: setsockopt (PACKET_VERSION TPACKET_V%d)", ifname,
		    version + 1);
		return -1;
	}
	return 0;
}

static unsigned int
round_up(unsigned int n, unsigned int unit)
{
	return (n + unit - 1) / unit;
}

/*
 * TPACKET_V3: whole blocks of packets.  A block is what a read hands over
 * at once and what the read timeout retires (with a negative timeout, a
 * timer the kernel derives from the block size and link speed), so
 * stock_blocks asks for stock libpcap's 256 KiB whatever the size: a
 * timeout of 0 then waits as long for a full block, a negative one as
 * briefly, a paused reader keeps as many timeouts' worth of a slow link,
 * and a read after a burst returns as many packets.
 * Otherwise large buffers get large blocks (fewer wake-ups of a reader
 * that keeps up), at least about eight of them, and never below stock's
 * 256 KiB (a packet longer than a block less its headers is cut, as it
 * is with stock).
 */
void
ring_sock_layout_v3(struct ring_layout *l, unsigned int buffer_size,
    int stock_blocks)
{
	unsigned int block = RING_MAX_BLOCK_SIZE;

	while (block > RING_STOCK_BLOCK_SIZE &&
	    (stock_blocks || (uint64_t)block * 8 > buffer_size))
		block >>= 1;
	l->block_size = block;
	l->block_nr = round_up(buffer_size, block);
	if (l->block_nr == 0)
		l->block_nr = 1;
	l->frame_size = block;
	l->frame_nr = l->block_nr;
}

/*
 * TPACKET_V2: fixed-size frames packed into blocks of up to 1 MiB, so that
 * 64 KiB frames do not each waste half a 128 KiB block.
 */
void
ring_sock_layout_v2(struct ring_layout *l, unsigned int buffer_size,
    unsigned int frame_size)
{
	unsigned int block = (unsigned int)getpagesize();

	while (block < frame_size)
		block <<= 1;
	while (block < RING_MAX_BLOCK_SIZE && (uint64_t)block * 8 <= buffer_size)
		block <<= 1;
	l->block_size = block;
	l->frame_size = frame_size;
	l->block_nr = round_up(buffer_size, block);
	if (l->block_nr == 0)
		l->block_nr = 1;
	l->frame_nr = l->block_nr * (block / frame_size);
}

/*
 * Ask for the ring, backing off by 5% at a time while the kernel cannot
 * find the memory, as stock libpcap does.  The layout is updated to what
 * was granted.
 */
static int
ring_create(int fd, int optname, int version, struct ring_layout *l,
    unsigned int retire_tov, const char *ifname, char *errbuf)
{
	struct tpacket_req3 req;
	unsigned int frames_per_block = l->block_size / l->frame_size;

	for (;;) {
		memset(&req, 0, sizeof(req));
		req.tp_block_size = l->block_size;
		req.tp_block_nr = l->block_nr;
		req.tp_frame_size = l->frame_size;
		req.tp_frame_nr = l->block_nr * frames_per_block;
		if (version == TPACKET_V3)
			req.tp_retire_blk_tov = retire_tov;
		if (setsockopt(fd, SOL_PACKET, optname, &req,
		    version == TPACKET_V3 ? sizeof(struct tpacket_req3) :
		    sizeof(struct tpacket_req)) == 0)
			break;
		if (errno != ENOMEM || l->block_nr <= 1) {
			/* The capture ring's text is stock's, which has no other. */
			if (optname == PACKET_RX_RING)
				ring_sock_errmsg(errbuf, errno,
				    "can't create rx ring on packet socket");
			else
				ring_sock_errmsg(errbuf, errno,
				    "%s: can't create tx ring on packet socket",
				    ifname);
			return -1;
		}
		l->block_nr -= l->block_nr < 20 ? 1 : l->block_nr / 20;
	}
	l->frame_nr = req.tp_frame_nr;
	return 0;
}

/*
 * The address of every frame of a mapped ring (of every block, for a V3
 * ring laid out by ring_sock_layout_v3()); frames do not cross blocks, so a
 * block may end in unused space.
 */
static u_char **
ring_frame_table(u_char *map, const struct ring_layout *l, char *errbuf)
{
	unsigned int fpb = l->block_size / l->frame_size, i;
	u_char **frames;

	frames = malloc(l->frame_nr * sizeof(u_char *));
	if (frames == NULL) {
		ring_sock_errmsg(errbuf, errno,
		    "malloc");
		return NULL;
	}
	for (i = 0; i < l->frame_nr; i++)
		frames[i] = map + (size_t)(i / fpb) * l->block_size +
		    (size_t)(i % fpb) * l->frame_size;
	return frames;
}

static u_char *
ring_map(int fd, int optname, size_t len, int flags, const char *ifname,
    char *errbuf)
{
	void *map;

	map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | flags, fd, 0);
	if (map == MAP_FAILED) {
		if (optname == PACKET_RX_RING)
			ring_sock_errmsg(errbuf, errno, "can't mmap rx ring");
		else
			ring_sock_errmsg(errbuf, errno,
			    "%s: can't mmap tx ring", ifname);
		return NULL;
	}
	return map;
}

/*
 * Create the ring, map it (mmap() flags added to MAP_SHARED) and list its
 * frames; the layout is updated to what the kernel granted.  On failure,
 * what was done stays in *m for ring_sock_unmap_ring().
 */
int
ring_sock_map_ring(int fd, int optname, int version, struct ring_layout *l,
    unsigned int retire_tov, int mmap_flags, const char *ifname,
    char *errbuf, struct ring_map *m)
{
	if (ring_create(fd, optname, version, l, retire_tov, ifname,
	    errbuf) == -1)
		return -1;
	m->len = (size_t)l->block_size * l->block_nr;
	m->base = ring_map(fd, optname, m->len, mmap_flags, ifname, errbuf);
	if (m->base == NULL)
		return -1;
	m->frames = ring_frame_table(m->base, l, errbuf);
	return m->frames == NULL ? -1 : 0;
}

/* The ring itself goes with its socket. */
void
ring_sock_unmap_ring(struct ring_map *m)
{
	if (m->base != NULL)
		munmap(m->base, m->len);
	free(m->frames);
	memset(m, 0, sizeof(*m));
}

/*
 * Write each page of the mapping once now, while the socket receives
 * nothing, rather than in the ring's first lap.  Under shadow page tables
 * (some hypervisors, nested guests) the first write to each page of a new
 * mapping traps to the hypervisor, 5.5-8 us a page on the VM of README's
 * figures (a first read, 1 us).  Compare-and-swap of a word with itself
 * writes it without changing it; compilers turn an OR with 0 into a read.
 */
void
ring_sock_touch_ring(const struct ring_map *m)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), off;
	uint32_t *word, v;

	for (off = 0; off < m->len; off += page) {
		word = (uint32_t *)(void *)(m->base + off);
		v = __atomic_load_n(word, __ATOMIC_RELAXED);
		while (!__atomic_compare_exchange_n(word, &v, v, 0,
		    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
			;
	}
}

/* Give the kernel back a ring that is not mapped, so that another can be made. */
int
ring_sock_free_ring(int fd, int optname)
{
	struct tpacket_req3 none;

	memset(&none, 0, sizeof(none));
	return setsockopt(fd, SOL_PACKET, optname, &none, sizeof(none));
}

/* A socket filter that drops everything, so that a bound socket receives nothing. */
int
ring_sock_drop_all(int fd)
{
	static struct sock_filter ret0 = BPF_STMT(BPF_RET | BPF_K, 0);
	struct sock_fprog prog;

	memset(&prog, 0, sizeof(prog));
	prog.len = 1;
	prog.filter = &ret0;
	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog,
	    sizeof(prog));
}

/* Room in front of each frame to put a VLAN tag back. */
int
ring_sock_set_reserve(int fd, unsigned int reserve, char *errbuf)
{
	if (setsockopt(fd, SOL_PACKET, PACKET_RESERVE, &reserve,
	    sizeof(reserve)) == -1) {
		ring_sock_errmsg(errbuf, errno,
		    "setsockopt (PACKET_RESERVE)");
		return -1;
	}
	return 0;
}

/*
 * Have the kernel stamp every packet once, as it enters the stack
 * (SO_TIMESTAMPNS turns that on for the machine), as stock libpcap asks
 * for nanosecond precision: the packet sockets then hand over that one
 * stamp, where otherwise each reads the clock itself as it takes the
 * packet, later and a little apart.
 */
int
ring_sock_stamp_at_entry(int fd, char *errbuf)
{
	int on = 1;

	if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on)) == -1) {
		ring_sock_errmsg(errbuf, errno, "setsockopt (SO_TIMESTAMPNS)");
		return -1;
	}
	return 0;
}

/*
 * PACKET_AUXDATA, which stock sets on its capture socket: the ring has
 * its own headers and does not need it, but a program that reads the
 * option on pcap_fileno(), or a tool that lists sockets (ss), sees what
 * it saw with stock.  Kernels without it are fine, as for stock.
 */
int
ring_sock_set_auxdata(int fd, char *errbuf)
{
	int on = 1;

	if (setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &on, sizeof(on)) == -1 &&
	    errno != ENOPROTOOPT) {
		ring_sock_errmsg(errbuf, errno, "setsockopt (PACKET_AUXDATA)");
		return -1;
	}
	return 0;
}
