/*
 * The module's one door to libpcap.
 *
 * pcap-ring is a capture source plugin (pcap-ring.so): it includes only
 * libpcap's public headers and pcap/pcap-plugin.h, never sees the layout
 * of a pcap_t, and reaches libpcap only through the pcap_plugin_*()
 * functions of that header (libpcap PR #1659's ABI version 1 and our
 * extension of it, patches/0001).  This is the only file of the module
 * that calls them, one shim each, so that a change of the plugin
 * interface changes this file alone; tests/unit/t-one-door.sh checks it.
 */
#ifndef pcap_ring_libpcap_h
#define pcap_ring_libpcap_h

#include <stdio.h>
#include <sys/mman.h>

#include <pcap/pcap.h>
#include <pcap/pcap-plugin.h>

/* The status 1.10.5 added, missing from older releases' <pcap/pcap.h>. */
#ifndef PCAP_ERROR_CAPTURE_NOTSUP
#define PCAP_ERROR_CAPTURE_NOTSUP	-13
#endif

/* An unused parameter, as libpcap's varattrs.h spells it. */
#define _U_	__attribute__((unused))

/* The extended ABI: this entry goes on with a size, and the calls below. */
#define RING_PLUGIN_ABI	(PCAP_PLUGIN_ABI_VERSION | PCAP_PLUGIN_ABI_EXTENDED)

/* An address in the libpcap that loaded the plugin: one of its accessors. */
static inline void *
libpcap_loader_address(void)
{
	return (void *)pcap_plugin_create_handle;
}

/* Creating a handle; type is the module's private state. */
#define libpcap_create_handle(ebuf, type) \
	pcap_plugin_create_handle((ebuf), sizeof(type))

static inline void *
libpcap_priv(pcap_t *p)
{
	return pcap_plugin_priv(p);
}

static inline void
libpcap_set_activate(pcap_t *p, int (*activate)(pcap_t *))
{
	pcap_plugin_set_activate(p, activate);
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
	return pcap_plugin_sendqueue_record(p, queue, off, n, h);
}

/* The error buffer, PCAP_ERRBUF_SIZE bytes. */
static inline char *
libpcap_errbuf(pcap_t *p)
{
	return pcap_plugin_errbuf(p);
}

#define libpcap_fmt_errmsg_for_errno	pcap_plugin_fmt_errmsg_for_errno

static inline int
libpcap_fd(pcap_t *p)
{
	return pcap_plugin_get_fd(p);
}

static inline void
libpcap_set_fd(pcap_t *p, int fd)
{
	pcap_plugin_set_fd(p, fd);
}

static inline int
libpcap_setnonblock_fd(pcap_t *p, int nonblock)
{
	return pcap_plugin_setnonblock_fd(p, nonblock);
}

static inline void
libpcap_set_selectable_fd(pcap_t *p, int fd)
{
	pcap_plugin_set_selectable_fd(p, fd);
}

/* tv must stay valid until the handle is closed. */
static inline void
libpcap_set_select_timeout(pcap_t *p, struct timeval *tv)
{
	pcap_plugin_set_select_timeout(p, tv);
}

static inline void
libpcap_set_linktype(pcap_t *p, int linktype)
{
	pcap_plugin_set_linktype(p, linktype);
}

static inline int
libpcap_get_snapshot(pcap_t *p)
{
	return pcap_plugin_get_snapshot(p);
}

static inline void
libpcap_set_snapshot(pcap_t *p, int snaplen)
{
	pcap_plugin_set_snapshot(p, snaplen);
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
libpcap_get_timeout(pcap_t *p)
{
	return pcap_plugin_get_timeout(p);
}

static inline int
libpcap_get_promisc(pcap_t *p)
{
	return pcap_plugin_get_promisc(p);
}

static inline int
libpcap_get_rfmon(pcap_t *p)
{
	return pcap_plugin_get_rfmon(p);
}

static inline int
libpcap_get_buffer_size(pcap_t *p)
{
	return pcap_plugin_get_buffer_size(p);
}

static inline int
libpcap_get_immediate(pcap_t *p)
{
	return pcap_plugin_get_immediate(p);
}

static inline int
libpcap_get_tstamp_type(pcap_t *p)
{
	return pcap_plugin_get_tstamp_type(p);
}

static inline int
libpcap_get_tstamp_precision(pcap_t *p)
{
	return pcap_plugin_get_tstamp_precision(p);
}

/* In host order; 0 when the program did not set one. */
static inline int
libpcap_get_protocol(pcap_t *p)
{
	return pcap_plugin_get_protocol(p);
}

/* mmap() flags for packet buffers: pcap_init(PCAP_MMAP_32BIT). */
static inline int
libpcap_mmap_flags(void)
{
#ifdef MAP_32BIT
	return pcap_plugin_get_mmap_32bit() ? MAP_32BIT : 0;
#else
	return 0;
#endif
}

/*
 * The filter compiler may use the kernel's VLAN extensions, and its basic
 * ones, which releases before master always use.
 */
#define RING_BPF_VLAN_HANDLING		PCAP_PLUGIN_BPF_VLAN
#define RING_BPF_BASIC_HANDLING		PCAP_PLUGIN_BPF_BASIC

static inline void
libpcap_add_bpf_codegen_flags(pcap_t *p, int flags)
{
	pcap_plugin_add_bpf_flags(p, flags);
}

static inline pcap_direction_t
libpcap_get_direction(pcap_t *p)
{
	return pcap_plugin_get_direction(p);
}

static inline void
libpcap_set_direction(pcap_t *p, pcap_direction_t d)
{
	pcap_plugin_set_direction(p, d);
}

/* Whether a read's count asks for every packet there is. */
static inline int
libpcap_count_is_unlimited(int count)
{
	return count <= 0;
}

/* Nonzero once if pcap_breakloop() was called; clears the request. */
static inline int
libpcap_check_break_loop(pcap_t *p)
{
	return pcap_plugin_check_break_loop(p);
}

/* Whether pcap_breakloop() was called, leaving the request to the read. */
static inline int
libpcap_break_loop_requested(pcap_t *p)
{
	return pcap_plugin_break_loop_requested(p);
}

/* Whether callback is pcap_next()'s or pcap_next_ex()'s own. */
static inline int
libpcap_is_oneshot(pcap_t *p, pcap_handler callback)
{
	return pcap_plugin_is_oneshot(p, callback);
}

/* The program installed with libpcap_install_bpf(), or NULL. */
static inline struct bpf_insn *
libpcap_get_filter(pcap_t *p)
{
	return pcap_plugin_get_filter(p);
}

static inline u_int
libpcap_get_filter_len(pcap_t *p)
{
	return pcap_plugin_get_filter_len(p);
}

static inline int
libpcap_install_bpf(pcap_t *p, struct bpf_program *fp)
{
	return pcap_plugin_install_bpf(p, fp);
}

/* A userland filter that sees the VLAN tag the kernel took out. */
static inline u_int
libpcap_filter_with_aux_data(const struct bpf_insn *pc, const u_char *pkt,
    u_int wirelen, u_int caplen, int vlan_tag_present, u_short vlan_tag)
{
	return pcap_plugin_filter_vlan(pc, pkt, wirelen, caplen,
	    vlan_tag_present, vlan_tag);
}

/* libpcap's own implementations, for the module's ops. */
static inline void
libpcap_cleanup_live(pcap_t *p)
{
	pcap_plugin_cleanup_live(p);
}

static inline void
libpcap_breakloop(pcap_t *p)
{
	pcap_plugin_breakloop(p);
}

#endif
