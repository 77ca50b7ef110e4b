/*
 * pcap-ring's ring layers, which never see a pcap_t nor call into
 * libpcap: they build on the kernel's interface and on libpcap's public
 * <pcap/pcap.h> alone (PCAP_ERRBUF_SIZE, the PCAP_ERROR_ codes, struct
 * pcap_tx_stat), so that tests/unit/test-rx-layer.c and test-tx-layer.c
 * drive them on synthetic rings without a socket, a libpcap or root.
 * Errors are written to an errbuf of PCAP_ERRBUF_SIZE bytes passed in.
 *
 * One name prefix per layer:
 *   ring_sock_*	pcap-ring-setup.c: sockets, ring layouts and mappings
 *   ring_rx_*		pcap-ring-rx.c: the capture ring reader
 *   ring_tx_*		pcap-ring-txring.c: the TX ring (queue, kick, reap)
 * The glue that turns pcap_t operations into layer calls uses pcap_ring_*.
 */
#ifndef pcap_ring_layers_h
#define pcap_ring_layers_h

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>
#include <net/if.h>
#include <linux/if_packet.h>

#include <pcap/pcap.h>

/*
 * Capture ring defaults, from measurements at the maximum rate a veth peer
 * produces on a 2-core machine: 8 blocks of 256 KiB (stock's 2 MiB default)
 * drop about 16% with unchanged tcpdump, 32 MiB in 1 MiB blocks dropped
 * nothing, and 256 KiB blocks cost a reader that keeps up 1.1-1.4x the CPU
 * per packet of 1 MiB ones (four times the wake-ups).  A 32 MiB
 * ring also cost 1.27x stock's CPU per packet at moderate rates (its cache
 * footprint), so a handle that may grow (opt-in, pcap-ring-grow.c) starts
 * at stock's 2 MiB and grows when the traffic fills it; others keep the
 * larger default.
 */
#define RING_START_BUFFER_SIZE		(2 * 1024 * 1024)
#define RING_DEFAULT_BUFFER_SIZE	(32 * 1024 * 1024)
#define RING_MAX_BLOCK_SIZE		(1024 * 1024)
#define RING_STOCK_BLOCK_SIZE		(256 * 1024)

/* Room PACKET_RESERVE keeps in front of each frame to re-insert a VLAN tag. */
#define RING_VLAN_TAG_LEN		4

/* The geometry of one ring, in the terms of struct tpacket_req3. */
struct ring_layout {
	unsigned int block_size;
	unsigned int block_nr;
	unsigned int frame_size;
	unsigned int frame_nr;
};

/* A ring mapped from its socket, and the address of each of its frames. */
struct ring_map {
	u_char *base;
	size_t len;
	u_char **frames;
};

/* pcap-ring-setup.c */
void	ring_sock_errmsg(char *errbuf, int err, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
void	ring_sock_ifreq(struct ifreq *ifr, const char *ifname);
int	ring_sock_ifindex(int fd, const char *ifname, char *errbuf);
int	ring_sock_arptype(int fd, const char *ifname, char *errbuf);
int	ring_sock_mtu(int fd, const char *ifname, char *errbuf);
int	ring_sock_link_running(int fd, const char *ifname);
int	ring_sock_bind(int fd, int ifindex, int protocol, char *errbuf);
int	ring_sock_set_version(int fd, int version, unsigned int *hdrlen,
	    const char *ifname, char *errbuf);
void	ring_sock_layout_v3(struct ring_layout *, unsigned int buffer_size,
	    int stock_blocks);
void	ring_sock_layout_v2(struct ring_layout *, unsigned int buffer_size,
	    unsigned int frame_size);
int	ring_sock_map_ring(int fd, int optname, int version,
	    struct ring_layout *, unsigned int retire_tov, int mmap_flags,
	    const char *ifname, char *errbuf, struct ring_map *);
void	ring_sock_unmap_ring(struct ring_map *);
void	ring_sock_touch_ring(const struct ring_map *);
int	ring_sock_free_ring(int fd, int optname);
int	ring_sock_drop_all(int fd);
int	ring_sock_set_reserve(int fd, unsigned int reserve, char *errbuf);
int	ring_sock_stamp_at_entry(int fd, char *errbuf);
int	ring_sock_set_auxdata(int fd, char *errbuf);

/*
 * The capture ring.  With TPACKET_V3 a slot is a block holding many
 * packets; with TPACKET_V2 (immediate mode) a slot is one frame.  The
 * version picks the walker once, at ring_rx_init().
 */
struct ring_rx_walker;

struct ring_rx {
	int version;
	const struct ring_rx_walker *walker;
	int fd;
	u_char **slots;			/* address of each slot in the mapping */
	unsigned int slot_nr;
	unsigned int slot_size;
	unsigned int sll_offset;	/* where the kernel puts sockaddr_ll in a frame */
	unsigned int slot;		/* slot the reader is in */
	u_char *next_packet;		/* next packet in the acquired slot, NULL if none */
	u_char *slot_end;		/* end of the acquired slot's packets */
	unsigned int packets_left;	/* packets not yet read in that slot */
	int release_pending;		/* the previous slot is read, but pcap_next_ex()'s caller still uses it */
	unsigned int release_slot;
	unsigned int filter_slots_left;	/* slots that may hold packets an older kernel filter passed */
	u_char *copy_buf;		/* V2: whole packets too big for a frame (TP_STATUS_COPY) */
	unsigned int copy_len;
	unsigned int cut_drops;		/* V2: packets cut to their frame, not yet in the statistics (__atomic) */
	int socket_error;		/* an error recv() reported (and cleared) while taking a copy */
	int final;			/* V3: nothing more comes; the open block is complete */
	uint64_t last_seq;		/* V3: sequence number of the last block taken */
};

/*
 * One received packet.  There are RING_VLAN_TAG_LEN writable bytes in
 * front of data, so that a VLAN tag can be put back in place.
 */
struct ring_packet {
	u_char *data;			/* link-layer header */
	unsigned int len;		/* length on the wire */
	unsigned int caplen;		/* bytes at data */
	unsigned int sec;
	unsigned int nsec;
	int vlan_valid;
	uint16_t vlan_tci;
	uint16_t vlan_tpid;
	const struct sockaddr_ll *sll;
};

/* pcap-ring-rx.c */
void	ring_rx_init(struct ring_rx *, int version, int fd, u_char **slots,
	    unsigned int slot_nr, unsigned int slot_size, unsigned int hdrlen);
int	ring_rx_next(struct ring_rx *, struct ring_packet *, char *errbuf);
int	ring_rx_caught_up(const struct ring_rx *);
void	ring_rx_consume(struct ring_rx *, int hold);
unsigned int ring_rx_slots_in_use(const struct ring_rx *);
int	ring_rx_nearly_full(const struct ring_rx *);
int	ring_rx_drained(const struct ring_rx *);

/*
 * A TPACKET_V2 TX ring.  kick hands the waiting frames to the kernel: 0,
 * or the errno of the system call.  ring_tx_init() points it at send() on
 * fd; a test plays the kernel by pointing it at its own.
 */
struct ring_tx {
	int fd;
	struct ring_map map;
	unsigned int frame_nr;
	unsigned int frame_size;
	unsigned int data_offset;	/* where frame data starts in a frame */
	unsigned int head;		/* the next frame to fill */
	unsigned int unsent;		/* filled frames the kernel has not taken */
	uint64_t unsent_bytes;
	struct pcap_tx_stat stat;	/* tx_pending aside */
	int (*kick)(struct ring_tx *);
};

/* The oldest waiting frame, which the kernel refused (ring_tx_kick()). */
struct ring_tx_reject {
	unsigned long long seq;		/* frames this ring queued before it */
	unsigned int len;
	int err;			/* what the kick said, 0 if nothing */
};

/* ring_tx_kick(): the kernel refused the oldest waiting frame. */
#define RING_TX_REJECTED	(-1)

/* pcap-ring-txring.c */
void	ring_tx_init(struct ring_tx *, unsigned int frame_nr,
	    unsigned int frame_size, unsigned int data_offset);
int	ring_tx_kick(struct ring_tx *, int drop_behind,
	    struct ring_tx_reject *);
void	ring_tx_reap(struct ring_tx *);
unsigned int ring_tx_drop_waiting(struct ring_tx *);
unsigned long long ring_tx_first_unsent_seq(const struct ring_tx *);

/*
 * Queueing a frame is inline: it is nearly all that a batched
 * pcap_inject() does, and calls cost a third as much again.
 */

/* The bits of tp_status that say who owns a TX frame (the rest are time stamp flags). */
#define RING_TX_STATUS_MASK	(TP_STATUS_SEND_REQUEST | TP_STATUS_SENDING | \
				 TP_STATUS_WRONG_FORMAT)

static inline unsigned int
ring_tx_status(const u_char *frame)
{
	const struct tpacket2_hdr *h = (const void *)frame;

	return __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE) &
	    RING_TX_STATUS_MASK;
}

static inline void
ring_tx_set_status(u_char *frame, unsigned int status)
{
	struct tpacket2_hdr *h = (void *)frame;

	__atomic_store_n(&h->tp_status, status, __ATOMIC_RELEASE);
}

static inline unsigned int
ring_tx_next(const struct ring_tx *tx, unsigned int i)
{
	return i + 1 == tx->frame_nr ? 0 : i + 1;
}

/* Whether the frame at the head is ours to fill. */
static inline int
ring_tx_has_room(const struct ring_tx *tx)
{
	return ring_tx_status(tx->map.frames[tx->head]) == TP_STATUS_AVAILABLE;
}

/*
 * Copy a frame of len bytes (that fits a ring frame) to the head, for the
 * next kick: 0, or -1 if the kernel still owns the frame there.
 */
static inline int
ring_tx_queue(struct ring_tx *tx, const void *buf, unsigned int len)
{
	u_char *frame = tx->map.frames[tx->head];

	if (!ring_tx_has_room(tx))
		return -1;
	memcpy(frame + tx->data_offset, buf, len);
	((struct tpacket2_hdr *)(void *)frame)->tp_len = len;
	ring_tx_set_status(frame, TP_STATUS_SEND_REQUEST);
	tx->head = ring_tx_next(tx, tx->head);
	tx->unsent++;
	tx->unsent_bytes += len;
	tx->stat.tx_queued++;
	return 0;
}
#endif
