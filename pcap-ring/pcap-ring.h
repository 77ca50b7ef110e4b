/*
 * pcap-ring: capture and injection through AF_PACKET mmapped rings.
 *
 * The entry points libpcap's pcap.c calls; everything else is private to
 * the module.
 */
#ifndef pcap_ring_h
#define pcap_ring_h

#define PCAP_RING_VERSION_STRING	"pcap-ring 0.1.0"

pcap_t	*pcap_ring_create(const char *, char *, int *);
int	pcap_ring_findalldevs(pcap_if_list_t *, char *);

#endif
