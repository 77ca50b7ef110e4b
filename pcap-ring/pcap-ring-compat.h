/*
 * libpcap 1.10.5 renamed its internal helpers with a pcapint_ prefix.
 * The module is written against the current names; configure defines
 * PCAP_RING_PCAPINT_NAMES when pcap-int.h has them, and otherwise this
 * maps them to the names of older releases.
 *
 * These are the only libpcap internals the module calls.
 */
#ifndef pcap_ring_compat_h
#define pcap_ring_compat_h

#ifndef PCAP_RING_PCAPINT_NAMES
#define pcapint_fmt_errmsg_for_errno	pcap_fmt_errmsg_for_errno
#define pcapint_install_bpf_program	install_bpf_program
#define pcapint_filter_with_aux_data	pcap_filter_with_aux_data
#define pcapint_cleanup_live_common	pcap_cleanup_live_common
#define pcapint_breakloop_common	pcap_breakloop_common
#define pcapint_do_addexit		pcap_do_addexit
#define pcapint_add_to_pcaps_to_close	pcap_add_to_pcaps_to_close
#define pcapint_remove_from_pcaps_to_close	pcap_remove_from_pcaps_to_close
#define pcapint_check_activated		pcap_check_activated
#endif

#endif
