/*
 * pcap-ring internals shared by the setup, RX, TX and glue files.
 */
#ifndef pcap_ring_int_h
#define pcap_ring_int_h

#include <stdint.h>
#include <net/if.h>
#include <linux/if_packet.h>

#include "pcap-int.h"
#include "pcap-ring-compat.h"

/*
 * Capture ring defaults, from measurements at the maximum rate a veth peer
 * produces on a 2-core machine: 8 blocks of 256 KiB (stock's 2 MiB default)
 * drop about 16% with unchanged tcpdump, 32 MiB in 1 MiB blocks dropped
 * nothing, and blocks below 256 KiB cost many more wake-ups.
 */
#define RING_DEFAULT_BUFFER_SIZE	(32 * 1024 * 1024)
#define RING_MAX_BLOCK_SIZE		(1024 * 1024)
#define RING_MIN_BLOCK_SIZE		(256 * 1024)

/* Room PACKET_RESERVE keeps in front of each frame to re-insert a VLAN tag. */
#define RING_VLAN_TAG_LEN		4

/* The geometry of one ring, in the terms of struct tpacket_req3. */
struct ring_layout {
	unsigned int block_size;
	unsigned int block_nr;
	unsigned int frame_size;
	unsigned int frame_nr;
};

/*
 * The capture ring.  With TPACKET_V3 a slot is a block holding many
 * packets; with TPACKET_V2 (immediate mode) a slot is one frame.
 */
struct ring_rx {
	int version;
	u_char **slots;			/* address of each slot in the mapping */
	unsigned int slot_nr;
	unsigned int slot_size;
	unsigned int sll_offset;	/* where the kernel puts sockaddr_ll in a frame */
	unsigned int slot;		/* slot the reader is in */
	u_char *next_packet;		/* V3: next packet in the acquired block, NULL if none */
	unsigned int packets_left;	/* V3: packets not yet read in that block */
	int release_pending;		/* the previous slot is read, but the caller may still hold its data */
	unsigned int release_slot;
	unsigned int filter_slots_left;	/* slots that may hold packets an older kernel filter passed */
};

/* One received packet as the ring describes it. */
struct ring_packet {
	u_char *frame;
	unsigned int mac;		/* offset of the link-layer header in the frame */
	unsigned int len;		/* length on the wire */
	unsigned int snaplen;		/* bytes in the ring */
	unsigned int sec;
	unsigned int nsec;
	int vlan_valid;
	uint16_t vlan_tci;
	uint16_t vlan_tpid;
	const struct sockaddr_ll *sll;
};

/* Private state of a pcap-ring handle (p->priv). */
struct pcap_ring {
	char ifname[IFNAMSIZ];
	int ifindex;
	int lo_ifindex;
	u_char *map;			/* the one mapping of the capture socket's rings */
	size_t map_len;
	struct ring_rx rx;
	int timeout;			/* ms; negative (~timeout) while non-blocking */
	int poll_timeout;
	int breakloop_fd;		/* eventfd that wakes poll() for pcap_breakloop() */
	int netdown;			/* ENETDOWN seen; the device may be going away */
	int filter_in_userland;
	int vlan_offset;		/* where a VLAN tag goes back in, -1 for none */
	long long sysfs_dropped;
	struct pcap_stat stat;
};

/* pcap-ring-setup.c: sockets, layouts and mappings shared by RX and TX. */
int	ring_open_socket(char *errbuf, int type);
int	ring_get_ifindex(int fd, const char *ifname, char *errbuf);
int	ring_get_arptype(int fd, const char *ifname, char *errbuf);
int	ring_bind(int fd, int ifindex, int protocol, char *errbuf);
int	ring_set_version(int fd, int version, unsigned int *hdrlen,
	    const char *ifname, char *errbuf);
void	ring_layout_v3(struct ring_layout *, unsigned int buffer_size);
void	ring_layout_v2(struct ring_layout *, unsigned int buffer_size,
	    unsigned int frame_size);
int	ring_create(int fd, int optname, int version, struct ring_layout *,
	    unsigned int retire_tov, const char *ifname, char *errbuf);
u_char	*ring_map(int fd, size_t len, const char *ifname, char *errbuf);

/* pcap-ring-rx.c: the capture ring reader. */
void	ring_rx_init(struct ring_rx *, int version, u_char **slots,
	    unsigned int slot_nr, unsigned int slot_size, unsigned int hdrlen);
int	ring_rx_next(struct ring_rx *, struct ring_packet *);
void	ring_rx_consume(struct ring_rx *);
unsigned int ring_rx_slots_in_use(const struct ring_rx *);
int	pcap_ring_read(pcap_t *, int, pcap_handler, u_char *);
void	pcap_ring_set_poll_timeout(struct pcap_ring *);


/* pcap-ring-tx.c: injection. */
int	pcap_ring_inject(pcap_t *, const void *, int);

#endif
