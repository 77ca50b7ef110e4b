/*
 * The module's one door to libpcap.
 *
 * This is the only file of pcap-ring that includes pcap-int.h, names a
 * member of struct pcap, or calls a pcapint_ function or a pcap_plugin_
 * accessor; tests/unit/t-one-door.sh checks it.  Each shim is named after the
 * pcap_plugin_*() accessor of pcap/pcap-plugin.h that does the same
 * (libpcap PR #1659's ABI, patches/0006), so that building the module as
 * a plugin changes only the bodies below, not the module.  Compiled into
 * libpcap, the shims are static inline member accesses: the module costs
 * not one call more than when it used the members itself.
 *
 * Needs an extension accessor: what the module uses and the v1 accessors
 * do not cover, the input for our ABI extension (issue 11):
 *   libpcap_errbuf()		the error buffer, which the ring layers
 *				write through a char * (pcap_plugin_set_errbuf()
 *				only formats)
 *   libpcap_fmt_errmsg_for_errno()  libpcap's errno message wording
 *   libpcap_fd(), libpcap_set_fd()  p->fd: pcap_fileno(), and the
 *				default ops' descriptor
 *   libpcap_get_protocol()	opt.protocol (pcap_set_protocol_linux())
 *   libpcap_get_rfmon()	opt.rfmon
 *   libpcap_add_bpf_codegen_flags()  BPF_SPECIAL_VLAN_HANDLING and
 *				BPF_SPECIAL_BASIC_HANDLING for the compiler
 *   libpcap_get_filter_len()	the installed program's length, for the
 *				kernel (pcap_plugin_get_filter() has none)
 *   libpcap_filter_with_aux_data()  a filter that sees a stripped VLAN tag
 *   libpcap_is_oneshot()	whether a read is pcap_next()/pcap_next_ex()'s
 *				(oneshot_callback)
 *   libpcap_get_direction(), libpcap_set_direction()  p->direction
 *   libpcap_break_loop_requested()  break_loop without clearing it
 *   libpcap_sendqueue_record()	a send queue record's header, checked as
 *				libpcap's own pcap_sendqueue_transmit() does
 *   libpcap_setnonblock_fd()	O_NONBLOCK on p->fd, with stock's error
 *   ring_mmap_32bit_flag()	pcap_init(PCAP_MMAP_32BIT)
 *   libpcap_platform_lib_version()  pcap_lib_version() (the series
 *				renames the platform's)
 * libpcap_set_tx_ops() is pcap_plugin_set_tx_ops(), which our extension
 * of the ABI (patches/0006) already has; the module calls it today too.
 * The plugin build defines the rest here itself: _U_ (from libpcap's
 * varattrs.h, which pcap-int.h includes) and libpcap_count_is_unlimited()
 * (pcap_dispatch()'s count <= 0).
 */
#ifndef pcap_ring_libpcap_h
#define pcap_ring_libpcap_h

#include "pcap-int.h"
#include "pcap-plugin-int.h"
#include "pcap/pcap-plugin.h"

/* The module clamps snapshots to the plugin ABI's limit, stock to its own. */
_Static_assert(PCAP_PLUGIN_SNAPLEN_MAX == MAXIMUM_SNAPLEN,
    "the plugin ABI's snapshot limit is libpcap's");

/*
 * libpcap 1.10.5 renamed its internal helpers with a pcapint_ prefix.
 * The shims are written against the current names; configure defines
 * PCAP_RING_PCAPINT_NAMES when pcap-int.h has them, and otherwise these
 * map them to the names of older releases.
 */
#ifndef PCAP_RING_PCAPINT_NAMES
#define pcapint_fmt_errmsg_for_errno	pcap_fmt_errmsg_for_errno
#define pcapint_install_bpf_program	install_bpf_program
#define pcapint_filter_with_aux_data	pcap_filter_with_aux_data
#define pcapint_cleanup_live_common	pcap_cleanup_live_common
#define pcapint_breakloop_common	pcap_breakloop_common
#define pcapint_setnonblock_fd		pcap_setnonblock_fd
#endif

/*
 * pcap_init(PCAP_MMAP_32BIT) (after 1.10) asks that packet buffers be
 * mapped below 4 GiB, as stock does for its ring; older releases have no
 * such option.
 */
#if defined(PCAP_MMAP_32BIT) && defined(MAP_32BIT)
#define ring_mmap_32bit_flag()	(pcapint_mmap_32bit ? MAP_32BIT : 0)
#else
#define ring_mmap_32bit_flag()	0
#endif

/*
 * master lets the filter compiler use the basic Linux BPF extensions
 * (ifindex, inbound/outbound, ...) only on handles that say so, as stock
 * says for every live capture; older releases always use them.
 */
#ifdef BPF_SPECIAL_BASIC_HANDLING
#define RING_BPF_BASIC_HANDLING		BPF_SPECIAL_BASIC_HANDLING
#else
#define RING_BPF_BASIC_HANDLING		0
#endif
#define RING_BPF_VLAN_HANDLING		BPF_SPECIAL_VLAN_HANDLING

/*
 * How stock reports a packet socket the kernel refuses.  1.10.5 made
 * EAFNOSUPPORT (no packet sockets, as on WSL1) PCAP_ERROR_CAPTURE_NOTSUP;
 * until 1.10.6 the errno text overwrote stock's own explanations.  The
 * compile-time marks of those releases are the pcapint_ names and
 * PCAP_VERSION_STRING_WITH_ADDITIONAL_INFO.
 */
#ifdef PCAP_RING_PCAPINT_NAMES
#define RING_SOCKET_NOTSUP_STATUS	PCAP_ERROR_CAPTURE_NOTSUP
#else
#define RING_SOCKET_NOTSUP_STATUS	PCAP_ERROR
#endif
#ifdef PCAP_VERSION_STRING_WITH_ADDITIONAL_INFO
#define RING_SOCKET_EXPLAINED	1
#else
#define RING_SOCKET_EXPLAINED	0
#endif

/* Creating a handle; type is the module's private state. */
#define libpcap_create_handle(ebuf, type)	PCAP_CREATE_COMMON(ebuf, type)

static inline void *
libpcap_priv(const pcap_t *p)
{
	return p->priv;
}

static inline void
libpcap_set_activate(pcap_t *p, int (*activate)(pcap_t *))
{
	p->activate_op = activate;
}

/* A NULL member keeps libpcap's default. */
static inline void
libpcap_set_ops(pcap_t *p, const struct pcap_plugin_ops *ops)
{
	pcap_plugin_set_ops(p, ops);
}

/* Batched injection and send queues, for libpcap's public TX API. */
static inline void
libpcap_set_tx_ops(pcap_t *p, const struct pcap_plugin_tx_ops *ops)
{
	pcap_plugin_set_tx_ops(p, ops);
}

/*
 * The header of send queue record n at offset off, or -1 with the error
 * set if the record runs past the end of the queue.
 */
static inline int
libpcap_sendqueue_record(pcap_t *p, const struct pcap_send_queue *queue,
    u_int off, unsigned long long n, struct pcap_pkthdr *h)
{
	return pcapint_sendqueue_record(p, queue, off, n, h);
}

/* The error buffer, PCAP_ERRBUF_SIZE bytes. */
static inline char *
libpcap_errbuf(pcap_t *p)
{
	return p->errbuf;
}

#define libpcap_fmt_errmsg_for_errno	pcapint_fmt_errmsg_for_errno

static inline int
libpcap_fd(const pcap_t *p)
{
	return p->fd;
}

static inline void
libpcap_set_fd(pcap_t *p, int fd)
{
	p->fd = fd;
}

static inline void
libpcap_set_selectable_fd(pcap_t *p, int fd)
{
	p->selectable_fd = fd;
}

static inline void
libpcap_set_select_timeout(pcap_t *p, const struct timeval *tv)
{
	p->required_select_timeout = tv;
}

static inline void
libpcap_set_linktype(pcap_t *p, int linktype)
{
	p->linktype = linktype;
}

static inline int
libpcap_get_snapshot(const pcap_t *p)
{
	return p->snapshot;
}

static inline void
libpcap_set_snapshot(pcap_t *p, int snaplen)
{
	p->snapshot = snaplen;
}

/*
 * The lists of pcap_list_datalinks() and pcap_list_tstamp_types(), and
 * the precisions, copied.  0, or -1 with the error buffer set.
 */
static inline int
libpcap_set_datalink_list(pcap_t *p, const int *dlts, int count)
{
	return pcap_plugin_set_datalink_list(p, dlts, count);
}

static inline int
libpcap_set_tstamp_type_list(pcap_t *p, const int *types, int count)
{
	return pcap_plugin_set_tstamp_type_list(p, types, count);
}

static inline int
libpcap_set_tstamp_precision_list(pcap_t *p, const int *precisions,
    int count)
{
	return pcap_plugin_set_tstamp_precision_list(p, precisions, count);
}

/* What the program asked for with pcap_set_*(). */
static inline int
libpcap_get_timeout(const pcap_t *p)
{
	return p->opt.timeout;
}

static inline int
libpcap_get_promisc(const pcap_t *p)
{
	return p->opt.promisc;
}

static inline int
libpcap_get_rfmon(const pcap_t *p)
{
	return p->opt.rfmon;
}

static inline int
libpcap_get_buffer_size(const pcap_t *p)
{
	return (int)p->opt.buffer_size;
}

static inline int
libpcap_get_immediate(const pcap_t *p)
{
	return p->opt.immediate;
}

static inline int
libpcap_get_tstamp_type(const pcap_t *p)
{
	return p->opt.tstamp_type;
}

static inline int
libpcap_get_tstamp_precision(const pcap_t *p)
{
	return p->opt.tstamp_precision;
}

/* In host order; 0 when the program did not set one. */
static inline int
libpcap_get_protocol(const pcap_t *p)
{
	return p->opt.protocol;
}

static inline void
libpcap_add_bpf_codegen_flags(pcap_t *p, int flags)
{
	p->bpf_codegen_flags |= flags;
}

static inline pcap_direction_t
libpcap_get_direction(const pcap_t *p)
{
	return p->direction;
}

static inline void
libpcap_set_direction(pcap_t *p, pcap_direction_t d)
{
	p->direction = d;
}

/* Whether a read's count asks for every packet there is. */
static inline int
libpcap_count_is_unlimited(int count)
{
	return PACKET_COUNT_IS_UNLIMITED(count);
}

/* Nonzero once if pcap_breakloop() was called; clears the request. */
static inline int
libpcap_check_break_loop(pcap_t *p)
{
	if (!p->break_loop)
		return 0;
	p->break_loop = 0;
	return 1;
}

/* Whether pcap_breakloop() was called, leaving the request to the read. */
static inline int
libpcap_break_loop_requested(const pcap_t *p)
{
	return p->break_loop;
}

/* Whether callback is pcap_next()'s or pcap_next_ex()'s own. */
static inline int
libpcap_is_oneshot(const pcap_t *p, pcap_handler callback)
{
	return callback == p->oneshot_callback;
}

/* The program installed with libpcap_install_bpf(), or NULL. */
static inline struct bpf_insn *
libpcap_get_filter(const pcap_t *p)
{
	return p->fcode.bf_insns;
}

static inline u_int
libpcap_get_filter_len(const pcap_t *p)
{
	return p->fcode.bf_len;
}

static inline int
libpcap_install_bpf(pcap_t *p, struct bpf_program *fp)
{
	return pcapint_install_bpf_program(p, fp);
}

/* A userland filter that sees the VLAN tag the kernel took out. */
static inline u_int
libpcap_filter_with_aux_data(const struct bpf_insn *pc, const u_char *pkt,
    u_int wirelen, u_int caplen, int vlan_tag_present, u_short vlan_tag)
{
	struct pcap_bpf_aux_data aux_data;

	aux_data.vlan_tag_present = (u_short)vlan_tag_present;
	aux_data.vlan_tag = vlan_tag;
	return pcapint_filter_with_aux_data(pc, pkt, wirelen, caplen,
	    &aux_data);
}

/* libpcap's own implementations, for the module's ops. */
static inline void
libpcap_cleanup_live(pcap_t *p)
{
	pcapint_cleanup_live_common(p);
}

static inline void
libpcap_breakloop(pcap_t *p)
{
	pcapint_breakloop_common(p);
}

static inline int
libpcap_setnonblock_fd(pcap_t *p, int nonblock)
{
	return pcapint_setnonblock_fd(p, nonblock);
}

/* pcap-linux.c's pcap_lib_version(), renamed by the series. */
const char *pcapint_platform_lib_version(void);

static inline const char *
libpcap_platform_lib_version(void)
{
	return pcapint_platform_lib_version();
}

#endif
