/*
 * The module's view of what differs between the libpcap releases it is
 * built into (1.10.3 to master).  These are the only libpcap internals the
 * module names; everything else it uses is the same in all of them.
 */
#ifndef pcap_ring_compat_h
#define pcap_ring_compat_h

/*
 * libpcap 1.10.5 renamed its internal helpers with a pcapint_ prefix.
 * The module is written against the current names; configure defines
 * PCAP_RING_PCAPINT_NAMES when pcap-int.h has them, and otherwise these
 * map them to the names of older releases.
 */
#ifndef PCAP_RING_PCAPINT_NAMES
#define pcapint_fmt_errmsg_for_errno	pcap_fmt_errmsg_for_errno
#define pcapint_install_bpf_program	install_bpf_program
#define pcapint_filter_with_aux_data	pcap_filter_with_aux_data
#define pcapint_cleanup_live_common	pcap_cleanup_live_common
#define pcapint_breakloop_common	pcap_breakloop_common
#define pcapint_check_activated		pcap_check_activated
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

#endif
