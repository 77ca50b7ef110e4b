/*
 * pcap-ring: libpcap glue.
 *
 * Claims Linux interfaces whose capture it reproduces exactly (Ethernet-like,
 * loopback, and devices without a link-layer header), and "ring:<ifname>"
 * explicitly; everything else is left to stock pcap-linux.  Ring mechanics
 * live in the layers that know no pcap_t (pcap-ring-layers.h:
 * pcap-ring-setup.c, pcap-ring-rx.c, pcap-ring-txring.c); the read and
 * inject operations that drive them in pcap-ring-read.c and pcap-ring-tx.c,
 * the send queues in pcap-ring-sendqueue.c.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* secure_getenv */
#endif

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if_arp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <linux/ethtool.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/net_tstamp.h>
#include <linux/sockios.h>

#include "pcap-ring-int.h"

#define RING_DEVICE_PREFIX	"ring:"

/* Socket buffer for whole packets queued beside an immediate-mode ring. */
#define RING_COPY_RCVBUF	(4 * 1024 * 1024)

/* What stock pcap-linux reserves for a link-layer header in a V2 frame. */
#define RING_MAX_LINKHEADER_SIZE	256

/*
 * A public function of the libpcap that loaded the plugin.  A process may
 * hold two libpcaps (a program linked with one, a library that dlopen()s
 * another), and a plain call binds to the one the dynamic linker found
 * first.  The pcap_plugin_*() accessors exist only in a libpcap with the
 * loader, which makes the library that defines them ours.  Not called
 * where it would cost: on failures, and once per read of the version.
 */
static void *
own_libpcap_function(const char *name)
{
	Dl_info info;
	void *lib, *function = NULL;

	if (dladdr(libpcap_loader_address(), &info) != 0 &&
	    info.dli_fname != NULL &&
	    (lib = dlopen(info.dli_fname, RTLD_LAZY | RTLD_NOLOAD)) != NULL) {
		function = dlsym(lib, name);
		dlclose(lib);
	}
	return function != NULL ? function : dlsym(RTLD_DEFAULT, name);
}

/* pcap_close() of our libpcap, for a handle that create gives up on. */
static void
close_own_handle(pcap_t *p)
{
	void (*close_handle)(pcap_t *) =
	    (void (*)(pcap_t *))own_libpcap_function("pcap_close");

	close_handle(p);
}

/*
 * Whether the libpcap the plugin runs in is release major.minor.micro or
 * later, for behaviour of stock's that changed between releases.
 */
static int
ring_libpcap_release_at_least(int major, int minor, int micro)
{
	const char *(*lib_version)(void) =
	    (const char *(*)(void))own_libpcap_function("pcap_lib_version");
	int have_major, have_minor, have_micro;

	/* "libpcap version 1.10.3 (with TPACKET_V3)"; master: "1.11.0-PRE-GIT". */
	if (sscanf(lib_version(), "libpcap version %d.%d.%d", &have_major,
	    &have_minor, &have_micro) != 3)
		return 1;
	if (have_major != major)
		return have_major > major;
	if (have_minor != minor)
		return have_minor > minor;
	return have_micro >= micro;
}

static int
ring_disabled_by_environment(void)
{
	/* Setuid and file-capability programs ignore it, as all our variables. */
	const char *v = secure_getenv("PCAP_RING_DISABLE");

	return v != NULL && v[0] != '\0' && strcmp(v, "0") != 0;
}

/*
 * Open a packet socket that receives nothing until it is bound with a
 * protocol, so that rings can be set up without losing or half-filling.
 */
int
pcap_ring_open_socket(char *errbuf, int type)
{
	int fd;

	fd = socket(PF_PACKET, type, 0);
	if (fd == -1) {
		int err = errno;
		int denied = err == EPERM || err == EACCES;

		/*
		 * Stock's wording, which tcpdump and dumpcap explain further;
		 * until 1.10.6 the errno text overwrote stock's explanations,
		 * and 1.10.5 made EAFNOSUPPORT (no packet sockets, as on
		 * WSL1) PCAP_ERROR_CAPTURE_NOTSUP.
		 */
		int explained = ring_libpcap_release_at_least(1, 10, 6);

		if (explained && denied)
			snprintf(errbuf, PCAP_ERRBUF_SIZE,
			    "Attempt to create packet socket failed - CAP_NET_RAW may be required");
		else if (explained && err == EAFNOSUPPORT)
			snprintf(errbuf, PCAP_ERRBUF_SIZE,
			    "PF_PACKET sockets not supported - is this WSL1?");
		else
			libpcap_fmt_errmsg_for_errno(errbuf, PCAP_ERRBUF_SIZE,
			    err, "socket");
		if (denied)
			return PCAP_ERROR_PERM_DENIED;
		return err == EAFNOSUPPORT &&
		    ring_libpcap_release_at_least(1, 10, 5) ?
		    PCAP_ERROR_CAPTURE_NOTSUP : PCAP_ERROR;
	}
	return fd;
}

/*
 * The selectable descriptor as an epoll set holding the capture socket,
 * for a handle whose capture socket changes (a growth step) or that must
 * also wake event loops for frames to send (batched injection adds its
 * eventfd and timerfd): a program's own epoll set keys the file it was
 * given, so it must stay the same.  An epoll set is readable exactly
 * while one of its members is, so select() or poll() on it says what
 * they said on the socket.  A handle that is both gets one.
 */
int
pcap_ring_epoll_open(pcap_t *p)
{
	struct pcap_ring *pr = libpcap_priv(p);

	if (pr->epoll_fd != -1)
		return 0;
	pr->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (pr->epoll_fd == -1) {
		libpcap_fmt_errmsg_for_errno(libpcap_errbuf(p),
		    PCAP_ERRBUF_SIZE, errno, "%s: epoll_create1", pr->ifname);
		return PCAP_ERROR;
	}
	if (pcap_ring_epoll_add(p, libpcap_fd(p), libpcap_errbuf(p)) != 0)
		return PCAP_ERROR;
	libpcap_set_selectable_fd(p, pr->epoll_fd);
	return 0;
}

/* fd joins the handle's epoll set, which is readable while fd is. */
int
pcap_ring_epoll_add(pcap_t *p, int fd, char *errbuf)
{
	struct pcap_ring *pr = libpcap_priv(p);
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	if (epoll_ctl(pr->epoll_fd, EPOLL_CTL_ADD, fd, &ev) == -1) {
		libpcap_fmt_errmsg_for_errno(errbuf, PCAP_ERRBUF_SIZE, errno,
		    "%s: epoll_ctl", pr->ifname);
		return PCAP_ERROR;
	}
	return 0;
}

/*
 * A number from the environment into *value: 0 (*value unchanged if it
 * is unset), or PCAP_ERROR (error set) if it is not a number from 0 to
 * max.  Unset in secure execution (setuid and file-capability programs),
 * where the user who runs the program must not change its capture or
 * injection, or make it lock up to 1 GiB of ring per handle.
 */
int
pcap_ring_env_number(const char *name, int max, int *value, char *errbuf)
{
	const char *v = secure_getenv(name);
	char *end;
	long n;

	if (v == NULL || v[0] == '\0')
		return 0;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || *end != '\0' || n < 0 || n > max) {
		snprintf(errbuf, PCAP_ERRBUF_SIZE,
		    "%s=\"%s\" is not a number from 0 to %d",
		    name, v, max);
		return PCAP_ERROR;
	}
	*value = (int)n;
	return 0;
}

/*
 * The capture ring of a program that asked for no size: 32 MiB, or
 * stock's 2 MiB where the program was sized for stock's footprint: under
 * an address space limit (ulimit -v), where the 30 MiB more would come
 * out of what it maps itself, and in the 1 GiB that MAP_32BIT maps in
 * (pcap_init(PCAP_MMAP_32BIT)), which holds hundreds of stock's rings.
 */
unsigned int
pcap_ring_unasked_buffer_size(void)
{
	struct rlimit lim;

	if (libpcap_mmap_flags() != 0 ||
	    (getrlimit(RLIMIT_AS, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY))
		return RING_START_BUFFER_SIZE;
	return RING_DEFAULT_BUFFER_SIZE;
}

/*
 * PCAP_RING_TRACE=FILE: a line for each device the module is asked about,
 * saying whether it took it, and for what it chose quietly (growth cut
 * short), so that tests and users can tell without changing what the
 * program prints.  secure_getenv(): a privileged program must not write
 * where its caller says.
 */
void
pcap_ring_trace(const char *fmt, ...)
{
	const char *path = secure_getenv("PCAP_RING_TRACE");
	va_list ap;
	FILE *f;

	if (path == NULL || path[0] == '\0' || (f = fopen(path, "ae")) == NULL)
		return;
	fprintf(f, "pcap-ring[%ld]: ", (long)getpid());
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	fclose(f);
}

static void
trace_decision(const char *device, const char *verdict, const char *reason)
{
	pcap_ring_trace("%s %s%s%s", verdict, device,
	    reason != NULL ? ": " : "", reason != NULL ? reason : "");
}

static int
sysfs_has(const char *ifname, const char *entry)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/class/net/%s/%s", ifname, entry);
	return access(path, F_OK) == 0;
}

/* A socket for interface ioctls that needs no privileges. */
static int
ioctl_socket(void)
{
	return socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
}

/*
 * Why the module leaves a device to stock pcap-linux, or NULL if the module
 * captures on it.  It takes only what it reproduces exactly; the README
 * lists these rules.
 */
static const char *
decline_reason(const char *ifname)
{
	static const char *const special_prefixes[] = {
		"cdma_rmnet", "isdn", "isdY"
	};
	struct ifreq ifr;
	size_t i;
	int fd, ret;

	if (strcmp(ifname, "any") == 0)
		return "the \"any\" device is captured in cooked mode";
	if (ifname[0] == '\0' || strlen(ifname) >= IFNAMSIZ ||
	    strchr(ifname, '/') != NULL)
		return "not an interface name";
	for (i = 0; i < sizeof(special_prefixes) / sizeof(special_prefixes[0]); i++)
		if (strncmp(ifname, special_prefixes[i],
		    strlen(special_prefixes[i])) == 0)
			return "its link-layer type is chosen by name";
	if (sysfs_has(ifname, "wireless") || sysfs_has(ifname, "phy80211"))
		return "wireless devices (monitor mode) are left to stock libpcap";
	if (sysfs_has(ifname, "dsa/tagging"))
		return "DSA tagged devices are left to stock libpcap";

	fd = ioctl_socket();
	if (fd == -1)
		return "no socket to query it";
	ring_sock_ifreq(&ifr, ifname);
	ret = ioctl(fd, SIOCGIFHWADDR, &ifr);
	close(fd);
	if (ret == -1)
		return "no such interface";
	switch (ifr.ifr_hwaddr.sa_family) {
	case ARPHRD_ETHER:
	case ARPHRD_LOOPBACK:
	case ARPHRD_NONE:
		return NULL;
	default:
		return "its link-layer type is left to stock libpcap";
	}
}

/*
 * The time stamp types the device offers, as stock pcap-linux lists them
 * (they must be known before activation).  0, or -1 with the handle's
 * error buffer set.
 */
static int
set_tstamp_types(pcap_t *p, const char *ifname)
{
	static const struct {
		unsigned int so_timestamping;
		int pcap_type;
	} types[] = {
		{ SOF_TIMESTAMPING_SOFTWARE, PCAP_TSTAMP_HOST },
		{ SOF_TIMESTAMPING_SYS_HARDWARE, PCAP_TSTAMP_ADAPTER },
		{ SOF_TIMESTAMPING_RAW_HARDWARE, PCAP_TSTAMP_ADAPTER_UNSYNCED },
	};
	const size_t ntypes = sizeof(types) / sizeof(types[0]);
	struct ethtool_ts_info info;
	struct ifreq ifr;
	unsigned int offered = 0;
	size_t i;
	int fd, ret, n, list[sizeof(types) / sizeof(types[0])];

	fd = ioctl_socket();
	if (fd == -1) {
		libpcap_fmt_errmsg_for_errno(libpcap_errbuf(p),
		    PCAP_ERRBUF_SIZE, errno,
		    "socket for SIOCETHTOOL(ETHTOOL_GET_TS_INFO)");
		return -1;
	}
	ring_sock_ifreq(&ifr, ifname);
	memset(&info, 0, sizeof(info));
	info.cmd = ETHTOOL_GET_TS_INFO;
	ifr.ifr_data = (void *)&info;
	ret = ioctl(fd, SIOCETHTOOL, &ifr);
	if (ret == -1) {
		int err = errno;

		close(fd);
		if (err == ENODEV)
			return 0;
		if (err != EOPNOTSUPP && err != EINVAL) {
			libpcap_fmt_errmsg_for_errno(libpcap_errbuf(p),
			    PCAP_ERRBUF_SIZE, err,
			    "%s: SIOCETHTOOL(ETHTOOL_GET_TS_INFO) ioctl failed",
			    ifname);
			return -1;
		}
		/* The driver does not say; offer them all. */
		offered = ~0U;
	} else {
		close(fd);
		if (!(info.rx_filters & (1 << HWTSTAMP_FILTER_ALL)))
			return 0;
		offered = info.so_timestamping;
	}

	for (i = 0, n = 0; i < ntypes; i++)
		if (offered & types[i].so_timestamping)
			list[n++] = types[i].pcap_type;
	if (n == 0)
		return 0;
	return libpcap_set_tstamp_type_list(p, list, n);
}

static int
set_tstamp_precisions(pcap_t *p)
{
	static const int precisions[] = {
		PCAP_TSTAMP_PRECISION_MICRO, PCAP_TSTAMP_PRECISION_NANO
	};

	return libpcap_set_tstamp_precision_list(p, precisions,
	    sizeof(precisions) / sizeof(precisions[0]));
}

/*
 * A buffer that packets are handed over from, mapped as the rings are:
 * after pcap_init(PCAP_MMAP_32BIT) every packet a program gets lies below
 * 4 GiB.  NULL with the error set.
 */
static u_char *
map_packet_buffer(pcap_t *p, size_t len, const char *what)
{
	void *buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | libpcap_mmap_flags(), -1, 0);

	if (buf == MAP_FAILED) {
		libpcap_fmt_errmsg_for_errno(libpcap_errbuf(p),
		    PCAP_ERRBUF_SIZE, errno, "%s", what);
		return NULL;
	}
	return buf;
}

static void
unmap_packet_buffer(void **buf, size_t len)
{
	if (*buf != NULL)
		munmap(*buf, len);
	*buf = NULL;
}

/*
 * A counter in /sys/class/net/IFNAME/statistics.  pcap_stats() reads it,
 * and tcpdump calls that from its SIGUSR1 handler: no stdio, which
 * allocates and may find malloc()'s lock held by the code interrupted.
 * As in stock, a counter that cannot be read (the interface is gone,
 * renamed, in another namespace) counts 0.
 */
static long long
interface_counter(const char *ifname, const char *counter)
{
	char buf[128];
	ssize_t len;
	int fd;

	snprintf(buf, sizeof(buf), "/sys/class/net/%s/statistics/%s", ifname,
	    counter);
	fd = open(buf, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return 0;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return 0;
	buf[len] = '\0';
	return strtoll(buf, NULL, 10);
}

/* What stock reports as ps_ifdrop. */
static long long
interface_drops(const char *ifname)
{
	return interface_counter(ifname, "rx_missed_errors") +
	    interface_counter(ifname, "rx_fifo_errors");
}

void
pcap_ring_cleanup(pcap_t *p)
{
	struct pcap_ring *pr = libpcap_priv(p);
	int cancel_state;

	/*
	 * A close cancelled in its wait for the frames (2 s at most) or at
	 * a close() would leave the handle half closed, its descriptors open.
	 */
	(void)pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel_state);
	/* A growth step's worker changes the group the TX ring may be in. */
	pcap_ring_grow_settle(p);
	/* Frames waiting in the TX ring go out first. */
	pcap_ring_tx_cleanup(p);
	pcap_ring_grow_cleanup(p);
	ring_sock_unmap_ring(&pr->rx_map);
	pr->rx.slots = NULL;
	unmap_packet_buffer((void **)&pr->rx.copy_buf,
	    pr->rx.copy_len + RING_VLAN_TAG_LEN);
	unmap_packet_buffer((void **)&pr->oneshot_buffer, pr->snapshot);
	if (pr->breakloop_fd != -1) {
		close(pr->breakloop_fd);
		pr->breakloop_fd = -1;
	}
	if (pr->epoll_fd != -1) {
		close(pr->epoll_fd);
		pr->epoll_fd = -1;
	}
	libpcap_cleanup_live(p);
	(void)pthread_setcancelstate(cancel_state, NULL);
}

void
pcap_ring_breakloop(pcap_t *p)
{
	struct pcap_ring *pr = libpcap_priv(p);
	uint64_t one = 1;

	libpcap_breakloop(p);
	/* Async-signal-safe, so pcap_breakloop() works from a signal handler. */
	if (pr->breakloop_fd != -1 &&
	    write(pr->breakloop_fd, &one, sizeof(one)) == -1) {
		/* The counter is saturated: poll() already sees it readable. */
	}
}

static void
set_vlan_offset(pcap_t *p, int dlt)
{
	struct pcap_ring *pr = libpcap_priv(p);

	/* The tag goes in front of the EtherType. */
	pr->vlan_offset = dlt == DLT_EN10MB ? 2 * ETH_ALEN : -1;
}

int
pcap_ring_set_datalink(pcap_t *p, int dlt)
{
	libpcap_set_linktype(p, dlt);
	set_vlan_offset(p, dlt);
	return 0;
}

int
pcap_ring_setdirection(pcap_t *p, pcap_direction_t d)
{
	((struct pcap_ring *)libpcap_priv(p))->direction = d;
	libpcap_set_direction(p, d);
	return 0;
}

int
pcap_ring_getnonblock(pcap_t *p)
{
	struct pcap_ring *pr = libpcap_priv(p);

	return pr->timeout < 0;
}

/*
 * Non-blocking mode is a poll() timeout of 0; the timeout is kept as
 * ~timeout.  The socket is made non-blocking too, as stock does, so that
 * an unbatched pcap_inject() fails with EAGAIN rather than block.
 */
int
pcap_ring_setnonblock(pcap_t *p, int nonblock)
{
	struct pcap_ring *pr = libpcap_priv(p);

	if (libpcap_setnonblock_fd(p, nonblock) == -1)
		return -1;
	if (nonblock ? pr->timeout >= 0 : pr->timeout < 0)
		pr->timeout = ~pr->timeout;
	pcap_ring_set_poll_timeout(pr);
	return 0;
}

/*
 * Add a socket's counters to the running totals: the kernel resets them
 * on every read, and keeps them per socket (a growing handle reads two).
 */
static int
add_socket_stats(struct pcap_ring *pr, int fd)
{
	struct tpacket_stats_v3 kstats;
	socklen_t len = sizeof(struct tpacket_stats);

	if (getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &kstats, &len) == -1)
		return -1;
	/* A signal handler's pcap_stats() may come between load and store. */
	__atomic_fetch_add(&pr->stat.ps_recv, kstats.tp_packets,
	    __ATOMIC_RELAXED);
	__atomic_fetch_add(&pr->stat.ps_drop, kstats.tp_drops,
	    __ATOMIC_RELAXED);
	return 0;
}

int
pcap_ring_add_stats(pcap_t *p, int fd)
{
	if (add_socket_stats(libpcap_priv(p), fd) == -1) {
		libpcap_fmt_errmsg_for_errno(libpcap_errbuf(p),
		    PCAP_ERRBUF_SIZE, errno,
		    "failed to get statistics from socket");
		return -1;
	}
	return 0;
}

int
pcap_ring_stats(pcap_t *p, struct pcap_stat *ps)
{
	struct pcap_ring *pr = libpcap_priv(p);
	struct ring_grow *g = &pr->grow;
	int spare, ret;

	/*
	 * Read-modify-writes that another pcap_stats() (a signal handler's,
	 * or another thread's) or the reader's switch may interleave with.
	 * Before the count below: open() and read() are cancellation points,
	 * where a statistics thread cancelled would leave it raised.
	 */
	if (libpcap_get_promisc(p)) {
		long long now = interface_drops(pr->ifname);
		long long before = __atomic_exchange_n(&pr->sysfs_dropped, now,
		    __ATOMIC_RELAXED);

		__atomic_fetch_add(&pr->stat.ps_ifdrop, (u_int)(now - before),
		    __ATOMIC_RELAXED);
	}
	/*
	 * During a growth step, the new socket counts what it takes too.  A
	 * switch unpublishes its number (-1 here) once the capture number is
	 * its, and closes it only when no call that may have read it is
	 * still using it (pcap-ring-grow.c).
	 */
	__atomic_add_fetch(&g->stats_readers, 1, __ATOMIC_SEQ_CST);
	spare = __atomic_load_n(&g->next_fd, __ATOMIC_SEQ_CST);
	ret = pcap_ring_add_stats(p, libpcap_fd(p));
	/* Its counts stay in the kernel for the next call if this fails. */
	if (ret == 0 && spare != -1)
		(void)add_socket_stats(pr, spare);
	__atomic_sub_fetch(&g->stats_readers, 1, __ATOMIC_SEQ_CST);
	if (ret == -1)
		return -1;
	__atomic_fetch_add(&pr->stat.ps_drop,
	    __atomic_exchange_n(&pr->rx.cut_drops, 0, __ATOMIC_RELAXED),
	    __ATOMIC_RELAXED);
	*ps = pr->stat;
	return 0;
}

static int
detach_kernel_filter(int fd)
{
	int dummy = 0;

	if (setsockopt(fd, SOL_SOCKET, SO_DETACH_FILTER, &dummy,
	    sizeof(dummy)) == -1 && errno != ENOENT && errno != ENONET)
		return -1;
	return 0;
}

/*
 * Give another of the handle's sockets the filter the capture socket has
 * in the kernel (none when it filters in userland).
 */
int
pcap_ring_set_kernel_filter(pcap_t *p, int fd)
{
	struct pcap_ring *pr = libpcap_priv(p);
	struct sock_fprog prog;

	if (pr->filter_in_userland || libpcap_get_filter(p) == NULL)
		return detach_kernel_filter(fd);
	memset(&prog, 0, sizeof(prog));
	prog.len = (unsigned short)libpcap_get_filter_len(p);
	prog.filter = (struct sock_filter *)libpcap_get_filter(p);
	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog,
	    sizeof(prog));
}

/*
 * Filter in the kernel when it takes the program, in userland otherwise,
 * with stock's warnings; packets already in the ring that the previous
 * kernel filter passed are filtered again in userland.
 */
int
pcap_ring_setfilter(pcap_t *p, struct bpf_program *fp)
{
	struct pcap_ring *pr = libpcap_priv(p);
	struct sock_fprog prog;

	if (fp == NULL) {
		snprintf(libpcap_errbuf(p), PCAP_ERRBUF_SIZE,
		    "setfilter: No filter specified");
		return -1;
	}
	/* A growth step's worker gives the new socket the filter in place. */
	pcap_ring_grow_settle(p);
	if (libpcap_install_bpf(p, fp) < 0)
		return -1;

	pr->filter_in_userland = 1;
	if (libpcap_get_filter_len(p) > USHRT_MAX) {
		fprintf(stderr, "Warning: Filter too complex for kernel\n");
	} else {
		/* struct bpf_insn and struct sock_filter have one layout. */
		prog.len = (unsigned short)libpcap_get_filter_len(p);
		prog.filter = (struct sock_filter *)libpcap_get_filter(p);
		if (setsockopt(libpcap_fd(p), SOL_SOCKET, SO_ATTACH_FILTER,
		    &prog, sizeof(prog)) == 0)
			pr->filter_in_userland = 0;
		else if (errno == ENOMEM)
			fprintf(stderr,
			    "Warning: Couldn't allocate kernel memory for filter: try increasing net.core.optmem_max with sysctl\n");
		else if (errno != ENOPROTOOPT && errno != EOPNOTSUPP) {
			char msg[PCAP_ERRBUF_SIZE];

			libpcap_fmt_errmsg_for_errno(msg, sizeof(msg), errno,
			    "Warning: Kernel filter failed");
			fprintf(stderr, "%s\n", msg);
		}
	}
	/* A ring still filling behind the one being read gets it too. */
	if (pr->rx.final) {
		pr->grow.refilter = 1;
		if (pcap_ring_set_kernel_filter(p, pr->grow.next_fd) == -1)
			pr->filter_in_userland = 1;
	}
	if (pr->filter_in_userland) {
		if (detach_kernel_filter(libpcap_fd(p)) == -1 ||
		    (pr->rx.final &&
		    detach_kernel_filter(pr->grow.next_fd) == -1)) {
			libpcap_fmt_errmsg_for_errno(libpcap_errbuf(p),
			    PCAP_ERRBUF_SIZE, errno,
			    "can't remove kernel filter");
			return -1;
		}
		return 0;
	}
	pr->rx.filter_slots_left = ring_rx_slots_in_use(&pr->rx);
	return 0;
}

/* Stock's mapping for the link types the module claims. */
static int
set_linktype(pcap_t *p, int arptype)
{
	static const int ether_dlts[] = { DLT_EN10MB, DLT_DOCSIS };
	struct pcap_ring *pr = libpcap_priv(p);
	int dlt;

	switch (arptype) {
	case ARPHRD_ETHER:
		/*
		 * Offer DOCSIS too, for a CMTS putting it on Ethernet;
		 * without memory for the list, the link type alone.
		 */
		(void)libpcap_set_datalink_list(p, ether_dlts,
		    sizeof(ether_dlts) / sizeof(ether_dlts[0]));
		dlt = DLT_EN10MB;
		break;
	case ARPHRD_LOOPBACK:
		dlt = DLT_EN10MB;
		break;
	case ARPHRD_NONE:
		dlt = DLT_RAW;
		break;
	default:
		snprintf(libpcap_errbuf(p), PCAP_ERRBUF_SIZE,
		    "%s: link-layer type ARPHRD %d is not handled by pcap-ring",
		    pr->ifname, arptype);
		return PCAP_ERROR;
	}
	libpcap_set_linktype(p, dlt);
	set_vlan_offset(p, dlt);
	return 0;
}

/* Promiscuous mode is counted per socket: each capture socket asks. */
int
pcap_ring_set_promiscuous(pcap_t *p, int fd, char *errbuf)
{
	struct pcap_ring *pr = libpcap_priv(p);
	struct packet_mreq mr;

	memset(&mr, 0, sizeof(mr));
	mr.mr_ifindex = pr->ifindex;
	mr.mr_type = PACKET_MR_PROMISC;
	if (setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr,
	    sizeof(mr)) == -1) {
		libpcap_fmt_errmsg_for_errno(errbuf, PCAP_ERRBUF_SIZE, errno,
		    "setsockopt (PACKET_ADD_MEMBERSHIP)");
		return PCAP_ERROR;
	}
	return 0;
}

/*
 * What stock sets on its capture socket before the ring is made, for the
 * capture socket and every grown ring's socket alike: the ring version,
 * auxiliary data (VLAN tags), room to put a tag back in front of the
 * payload, and, for nanosecond precision, time stamps taken as a packet
 * enters the stack (one stamp shared by every socket, as stock's).
 */
int
pcap_ring_set_capture_options(pcap_t *p, int fd, int version,
    unsigned int *hdrlen, char *errbuf)
{
	struct pcap_ring *pr = libpcap_priv(p);

	if (ring_sock_set_version(fd, version, hdrlen, pr->ifname,
	    errbuf) == -1 ||
	    ring_sock_set_auxdata(fd, errbuf) == -1 ||
	    ring_sock_set_reserve(fd, RING_VLAN_TAG_LEN, errbuf) == -1 ||
	    (pr->nano && ring_sock_stamp_at_entry(fd, errbuf) == -1))
		return -1;
	return 0;
}

/*
 * Hardware time stamps, when asked for and the device has them; with
 * stock's status codes, a warning when the device cannot do them.
 */
static int
set_adapter_tstamp(pcap_t *p)
{
	struct pcap_ring *pr = libpcap_priv(p);
	struct hwtstamp_config hwconfig;
	struct ifreq ifr;
	int source;

	if (libpcap_get_tstamp_type(p) != PCAP_TSTAMP_ADAPTER &&
	    libpcap_get_tstamp_type(p) != PCAP_TSTAMP_ADAPTER_UNSYNCED)
		return 0;
	memset(&hwconfig, 0, sizeof(hwconfig));
	hwconfig.tx_type = HWTSTAMP_TX_ON;
	hwconfig.rx_filter = HWTSTAMP_FILTER_ALL;
	ring_sock_ifreq(&ifr, pr->ifname);
	ifr.ifr_data = (void *)&hwconfig;
	if (ioctl(libpcap_fd(p), SIOCSHWTSTAMP, &ifr) == -1) {
		if (errno == EPERM) {
			snprintf(libpcap_errbuf(p), PCAP_ERRBUF_SIZE,
			    "Attempt to set hardware timestamp failed - CAP_NET_ADMIN may be required");
			return PCAP_ERROR_PERM_DENIED;
		}
		/* Software time stamps then (ERANGE: not for every packet). */
		if (errno == EOPNOTSUPP || errno == ERANGE)
			return PCAP_WARNING_TSTAMP_TYPE_NOTSUP;
		libpcap_fmt_errmsg_for_errno(libpcap_errbuf(p),
		    PCAP_ERRBUF_SIZE, errno, "SIOCSHWTSTAMP failed");
		return PCAP_ERROR;
	}
	source = libpcap_get_tstamp_type(p) == PCAP_TSTAMP_ADAPTER ?
	    SOF_TIMESTAMPING_SYS_HARDWARE : SOF_TIMESTAMPING_RAW_HARDWARE;
	if (setsockopt(libpcap_fd(p), SOL_PACKET, PACKET_TIMESTAMP, &source,
	    sizeof(source)) == -1) {
		libpcap_fmt_errmsg_for_errno(libpcap_errbuf(p),
		    PCAP_ERRBUF_SIZE, errno, "can't set PACKET_TIMESTAMP");
		return PCAP_ERROR;
	}
	pr->grow.tstamp_source = source;
	return 0;
}

/*
 * Frame size for the TPACKET_V2 ring of immediate mode: room for the
 * snapshot of an MTU-sized frame (plus Ethernet header and VLAN tag) behind
 * the header room the kernel lays out.  *whole_len is the snapshot when
 * larger offload packets must come through TP_STATUS_COPY, 0 otherwise.
 */
static int
v2_frame_size(pcap_t *p, unsigned int hdrlen, unsigned int *frame_size,
    unsigned int *whole_len)
{
	struct pcap_ring *pr = libpcap_priv(p);
	unsigned int data, netoff, macoff;
	int mtu;

	if ((mtu = ring_sock_mtu(libpcap_fd(p), pr->ifname,
	    libpcap_errbuf(p))) == -1)
		return PCAP_ERROR;
	data = (unsigned int)mtu + ETH_HLEN + RING_VLAN_TAG_LEN;
	*whole_len = 0;
	if (data >= (unsigned int)libpcap_get_snapshot(p))
		data = (unsigned int)libpcap_get_snapshot(p);
	else
		*whole_len = (unsigned int)libpcap_get_snapshot(p);
	netoff = TPACKET_ALIGN(TPACKET_ALIGN(hdrlen) +
	    sizeof(struct sockaddr_ll) + RING_MAX_LINKHEADER_SIZE) +
	    RING_VLAN_TAG_LEN;
	macoff = netoff - RING_MAX_LINKHEADER_SIZE;
	*frame_size = TPACKET_ALIGN(macoff + data);
	return 0;
}

/*
 * Let the kernel queue whole packets that do not fit a V2 frame, with
 * enough socket buffer for a burst of 64 KiB offload packets.
 */
static int
enable_whole_packet_copies(pcap_t *p, unsigned int whole_len)
{
	struct pcap_ring *pr = libpcap_priv(p);
	int one = 1, rcvbuf = RING_COPY_RCVBUF;

	if (setsockopt(libpcap_fd(p), SOL_PACKET, PACKET_COPY_THRESH, &one,
	    sizeof(one)) == -1) {
		libpcap_fmt_errmsg_for_errno(libpcap_errbuf(p),
		    PCAP_ERRBUF_SIZE, errno,
		    "%s: setsockopt (PACKET_COPY_THRESH)", pr->ifname);
		return PCAP_ERROR;
	}
	/* Beyond net.core.rmem_max only with CAP_NET_ADMIN; not fatal. */
	if (setsockopt(libpcap_fd(p), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
	    sizeof(rcvbuf)) == -1)
		(void)setsockopt(libpcap_fd(p), SOL_SOCKET, SO_RCVBUF, &rcvbuf,
		    sizeof(rcvbuf));
	pr->rx.copy_buf = map_packet_buffer(p, whole_len + RING_VLAN_TAG_LEN,
	    "can't allocate the buffer for whole packets");
	if (pr->rx.copy_buf == NULL)
		return PCAP_ERROR;
	pr->rx.copy_len = whole_len;
	return 0;
}

/*
 * The capture ring: TPACKET_V3 blocks, or TPACKET_V2 frames in immediate
 * mode, where V3 could hand a packet over only when its block retires.
 * 0, a PCAP_WARNING_ code, or a PCAP_ERROR_ code.
 */
static int
setup_rx_ring(pcap_t *p)
{
	struct pcap_ring *pr = libpcap_priv(p);
	struct ring_layout l;
	unsigned int hdrlen, buffer_size, frame_size = 0, whole_len, tov, size;
	int version = libpcap_get_immediate(p) ? TPACKET_V2 : TPACKET_V3;
	int fd = libpcap_fd(p), ret, tstamp_status;

	buffer_size = libpcap_get_buffer_size(p) != 0 ?
	    (unsigned int)libpcap_get_buffer_size(p) :
	    pcap_ring_unasked_buffer_size();
	if (pcap_ring_set_capture_options(p, fd, version, &hdrlen,
	    libpcap_errbuf(p)) == -1)
		return PCAP_ERROR;
	/* A block retires after the timeout; 0 means never, and a negative
	 * timeout lets the kernel choose. */
	if (pr->timeout > 0)
		tov = (unsigned int)pr->timeout;
	else if (pr->timeout == 0)
		tov = UINT_MAX;
	else
		tov = 0;
	if (version == TPACKET_V3)
		size = pr->grow.size;
	else {
		if ((ret = v2_frame_size(p, hdrlen, &frame_size, &whole_len)) != 0)
			return ret;
		if (whole_len != 0 &&
		    (ret = enable_whole_packet_copies(p, whole_len)) != 0)
			return ret;
		size = buffer_size;
	}
	if ((tstamp_status = set_adapter_tstamp(p)) < 0)
		return tstamp_status;

	for (;;) {
		if (version == TPACKET_V3)
			ring_sock_layout_v3(&l, size,
			    pcap_ring_stock_blocks(p, size, tov));
		else
			ring_sock_layout_v2(&l, size, frame_size);
		if (ring_sock_map_ring(fd, PACKET_RX_RING, version, &l, tov,
		    libpcap_mmap_flags(), pr->ifname, libpcap_errbuf(p),
		    &pr->rx_map) == 0)
			break;
		/*
		 * A ring larger than stock's that the program did not ask
		 * for must not cost it the capture where stock's 2 MiB maps:
		 * under mlockall() beyond RLIMIT_MEMLOCK, for one.
		 */
		ring_sock_unmap_ring(&pr->rx_map);
		if (libpcap_get_buffer_size(p) != 0 ||
		    size <= RING_START_BUFFER_SIZE ||
		    ring_sock_free_ring(fd, PACKET_RX_RING) == -1)
			return PCAP_ERROR;
		size = RING_START_BUFFER_SIZE;
	}
	/*
	 * Immediate mode writes every frame's status word, one wake-up per
	 * packet: its first lap must not pay for the pages' first writes
	 * (ring_sock_touch_ring()).  A V3 reader writes one word a block
	 * and reads the rest, a first lap's cost it absorbs.  Opened and
	 * bound with protocol 0, the socket receives nothing yet.
	 */
	if (version == TPACKET_V2)
		ring_sock_touch_ring(&pr->rx_map);
	pr->grow.retire_tov = tov;
	pr->grow.hdrlen = hdrlen;
	if (version == TPACKET_V3)
		pr->grow.size = l.block_size * l.block_nr;
	ring_rx_init(&pr->rx, version, fd, pr->rx_map.frames, l.frame_nr,
	    version == TPACKET_V3 ? l.block_size : l.frame_size, hdrlen);
	pcap_ring_set_poll_timeout(pr);
	return tstamp_status;
}

/* Which Linux BPF extensions the filter compiler may use, as stock asks. */
static void
set_bpf_codegen_flags(pcap_t *p)
{
	int ext;
	socklen_t len = sizeof(ext);

	libpcap_add_bpf_codegen_flags(p, RING_BPF_BASIC_HANDLING);
	if (getsockopt(libpcap_fd(p), SOL_SOCKET, SO_BPF_EXTENSIONS, &ext,
	    &len) == 0 && ext >= SKF_AD_VLAN_TAG_PRESENT)
		libpcap_add_bpf_codegen_flags(p, RING_BPF_VLAN_HANDLING);
}

/* The operations of a handle without batched injection. */
static const struct pcap_plugin_ops plain_ops = {
	.read = pcap_ring_read,
	.inject = pcap_ring_inject,
	.setfilter = pcap_ring_setfilter,
	.setdirection = pcap_ring_setdirection,
	.set_datalink = pcap_ring_set_datalink,
	.getnonblock = pcap_ring_getnonblock,
	.setnonblock = pcap_ring_setnonblock,
	.stats = pcap_ring_stats,
	.cleanup = pcap_ring_cleanup,
	.breakloop_func = pcap_ring_breakloop,
};

static int
ring_activate(pcap_t *p)
{
	struct pcap_ring *pr = libpcap_priv(p);
	int fd, status, warning;

	if (libpcap_get_snapshot(p) <= 0 ||
	    libpcap_get_snapshot(p) > PCAP_PLUGIN_SNAPLEN_MAX)
		libpcap_set_snapshot(p, PCAP_PLUGIN_SNAPLEN_MAX);
	pr->snapshot = (unsigned int)libpcap_get_snapshot(p);
	pr->nano = libpcap_get_tstamp_precision(p) == PCAP_TSTAMP_PRECISION_NANO;
	pr->direction = libpcap_get_direction(p);
	pr->timeout = libpcap_get_timeout(p);
	if (libpcap_get_promisc(p))
		pr->sysfs_dropped = interface_drops(pr->ifname);

	/* The order of creation matters to the fanout group (pcap-ring-grow.c). */
	if ((status = pcap_ring_tx_open(p)) != 0)
		goto fail;
	fd = status = pcap_ring_open_socket(libpcap_errbuf(p), SOCK_RAW);
	if (status < 0)
		goto fail;
	libpcap_set_fd(p, fd);
	/*
	 * Devices with monitor mode are declined at create time.  As in
	 * stock, the socket comes first: a user without the privilege is
	 * told that.
	 */
	if (libpcap_get_rfmon(p)) {
		status = PCAP_ERROR_RFMON_NOTSUP;
		goto fail;
	}
	if ((status = pcap_ring_grow_open(p)) != 0)
		goto fail;
	pr->lo_ifindex = (int)if_nametoindex("lo");

	status = ring_sock_arptype(fd, pr->ifname, libpcap_errbuf(p));
	if (status < 0)
		goto fail;
	if ((status = set_linktype(p, status)) != 0)
		goto fail;
	pr->ifindex = ring_sock_ifindex(fd, pr->ifname, libpcap_errbuf(p));
	if (pr->ifindex == -1) {
		status = PCAP_ERROR;
		goto fail;
	}
	/* Protocol 0 receives nothing while the ring is being set up. */
	if ((status = ring_sock_bind(fd, pr->ifindex, 0, libpcap_errbuf(p))) != 0)
		goto fail;
	if (libpcap_get_promisc(p) &&
	    (status = pcap_ring_set_promiscuous(p, fd,
	    libpcap_errbuf(p))) != 0)
		goto fail;
	set_bpf_codegen_flags(p);
	if ((status = setup_rx_ring(p)) < 0)
		goto fail;
	warning = status;

	/* It joins the fanout group before it receives anything. */
	if (pr->grow.group_wanted && ring_sock_drop_all(fd) == -1)
		pr->grow.group_wanted = 0;
	if ((status = ring_sock_bind(fd, pr->ifindex, pcap_ring_protocol(p),
	    libpcap_errbuf(p))) != 0)
		goto fail;

	pr->oneshot_buffer = map_packet_buffer(p, pr->snapshot,
	    "can't allocate oneshot buffer");
	if (pr->oneshot_buffer == NULL) {
		status = PCAP_ERROR;
		goto fail;
	}
	pr->breakloop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (pr->breakloop_fd == -1) {
		libpcap_fmt_errmsg_for_errno(libpcap_errbuf(p),
		    PCAP_ERRBUF_SIZE, errno, "could not open eventfd");
		status = PCAP_ERROR;
		goto fail;
	}

	libpcap_set_selectable_fd(p, fd);
	/* A batched handle gets its TX ring and selectable descriptor here. */
	if ((status = pcap_ring_tx_activate(p)) != 0)
		goto fail;
	if ((status = pcap_ring_group_form(p)) != 0)
		goto fail;
	/* A growth step changes the capture socket (pcap-ring-grow.c). */
	if (pr->grow.max != 0) {
		if ((status = pcap_ring_epoll_open(p)) != 0)
			goto fail;
		pcap_ring_grow_wake_open(p);
	}
	/* The handle's mode, chosen once: it stays after activation. */
	libpcap_set_ops(p, pr->tx.batch != 0 ? &pcap_ring_batched_ops :
	    &plain_ops);
	return warning;

fail:
	pcap_ring_cleanup(p);
	return status;
}

static pcap_t *
ring_create(const char *device, char *ebuf, int *is_ours)
{
	const char *ifname = device, *reason;
	struct pcap_ring *pr;
	int explicit;
	pcap_t *p;

	*is_ours = 0;
	if (ring_disabled_by_environment())
		return NULL;
	explicit = strncmp(device, RING_DEVICE_PREFIX,
	    strlen(RING_DEVICE_PREFIX)) == 0;
	if (explicit)
		ifname += strlen(RING_DEVICE_PREFIX);
	reason = decline_reason(ifname);
	if (reason != NULL) {
		trace_decision(device, explicit ? "refused" : "declined", reason);
		if (!explicit)
			return NULL;
		*is_ours = 1;
		snprintf(ebuf, PCAP_ERRBUF_SIZE,
		    "%s: pcap-ring cannot capture on \"%s\": %s", device,
		    ifname, reason);
		return NULL;
	}
	*is_ours = 1;
	trace_decision(device, "claimed", NULL);

	p = libpcap_create_handle(ebuf, struct pcap_ring);
	if (p == NULL)
		return NULL;
	pr = libpcap_priv(p);
	strncpy(pr->ifname, ifname, sizeof(pr->ifname) - 1);
	pr->breakloop_fd = -1;
	pr->epoll_fd = -1;
	pcap_ring_tx_init(&pr->tx);
	pcap_ring_grow_init(&pr->grow);
	libpcap_set_activate(p, ring_activate);
	/* Through the accessor a plugin uses, so that both behave alike. */
	libpcap_set_tx_ops(p, &pcap_ring_tx_ops);
	if (set_tstamp_types(p, ifname) == -1 ||
	    set_tstamp_precisions(p) == -1) {
		memcpy(ebuf, libpcap_errbuf(p), PCAP_ERRBUF_SIZE);
		close_own_handle(p);
		return NULL;
	}
	return p;
}

/* The platform module lists the interfaces; "ring:" names are not listed
 * again so that device lists stay as they were. */
static int
ring_findalldevs(pcap_if_list_t *devlistp _U_, char *errbuf _U_)
{
	return 0;
}

/*
 * What libpcap's plugin loader looks for; the only symbol pcap-ring.so
 * exports.
 */
__attribute__((visibility("default")))
struct pcap_plugin pcap_plugin_entry = {
	.abi_version = RING_PLUGIN_ABI,
	.name = "ring",
	.findalldevs = ring_findalldevs,
	.create = ring_create,
	.size = sizeof(struct pcap_plugin),
};
