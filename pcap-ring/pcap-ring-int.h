/*
 * pcap-ring internals shared by the setup, RX, TX and glue files.
 */
#ifndef pcap_ring_int_h
#define pcap_ring_int_h

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <linux/if_ether.h>
#include <linux/filter.h>
#include <linux/if_packet.h>

#include "pcap-ring-libpcap.h"

/*
 * Capture ring defaults, from measurements at the maximum rate a veth peer
 * produces on a 2-core machine: 8 blocks of 256 KiB (stock's 2 MiB default)
 * drop about 16% with unchanged tcpdump, 32 MiB in 1 MiB blocks dropped
 * nothing, and blocks below 256 KiB cost many more wake-ups.  A 32 MiB
 * ring also cost 1.27x stock's CPU per packet at moderate rates (its cache
 * footprint), so a handle that may grow (opt-in, pcap-ring-grow.c) starts
 * at stock's 2 MiB and grows when the traffic fills it; others keep the
 * larger default.
 */
#define RING_START_BUFFER_SIZE		(2 * 1024 * 1024)
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

/* A ring mapped from its socket, and the address of each of its frames. */
struct ring_map {
	u_char *base;
	size_t len;
	u_char **frames;
};

/*
 * The capture ring.  With TPACKET_V3 a slot is a block holding many
 * packets; with TPACKET_V2 (immediate mode) a slot is one frame.
 */
struct ring_rx {
	int version;
	int fd;
	u_char **slots;			/* address of each slot in the mapping */
	unsigned int slot_nr;
	unsigned int slot_size;
	unsigned int sll_offset;	/* where the kernel puts sockaddr_ll in a frame */
	unsigned int slot;		/* slot the reader is in */
	u_char *next_packet;		/* V3: next packet in the acquired block, NULL if none */
	unsigned int packets_left;	/* V3: packets not yet read in that block */
	int release_pending;		/* the previous slot is read, but pcap_next_ex()'s caller still uses it */
	unsigned int release_slot;
	unsigned int filter_slots_left;	/* slots that may hold packets an older kernel filter passed */
	u_char *copy_buf;		/* V2: whole packets too big for a frame (TP_STATUS_COPY) */
	unsigned int copy_len;
	unsigned int cut_drops;		/* V2: packets cut to their frame, not yet in the statistics */
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

/*
 * Injection.  Unbatched injection needs none of this but the counters;
 * batched injection and send queues use a TX ring on a second socket.
 */
struct ring_tx {
	/* Options, set before activation (the API beats the environment). */
	int batch;			/* frames per kick; 0: one send() per frame */
	int ring_frames;		/* 0: the default */
	int qdisc_bypass;
	int batch_set;
	int ring_set;
	int qdisc_bypass_set;

	int fd;				/* -1 until there is a TX ring */
	int hidden;			/* bound to drop all: may join the group */
	struct ring_map map;
	unsigned int frame_nr;
	unsigned int frame_size;
	unsigned int data_offset;	/* where frame data starts in a frame */
	unsigned int min_len;		/* the link-layer header */
	unsigned int max_len;		/* what the MTU allows, untagged */
	unsigned int mtu_extra;		/* what max_len allows on top of the MTU */
	int vlan_allowed;		/* an 802.1Q tag may come on top of the MTU */
	unsigned int head;		/* the next frame to fill */
	unsigned int unsent;		/* filled frames the kernel has not taken */
	uint64_t unsent_bytes;

	int wake_fd;			/* eventfd, readable while frames wait */
	int retry_fd;			/* timerfd, readable when a refused kick may be retried */
	unsigned int retry_ms;		/* its delay, doubled while the refusals go on */
	long long refused_since;	/* ns: refusals taking nothing began, or 0 */
	int kick_err;			/* errno of the last kick, or 0 */
	int epoll_fd;			/* the selectable fd of a batched handle */
	int waiting;
	int woke_reader;		/* readable for frames since the last read */
	int reading;			/* a read runs, and its wait would not see new frames */
	pthread_t reader;		/* the thread it runs on */
	int live;			/* on the list of handles flushed at exit */
	pcap_t *next_live;
	pid_t owner;			/* the process that activated the handle */
	int in_sendqueue;		/* pcap_sendqueue_transmit() is running */

	char loss[PCAP_ERRBUF_SIZE];	/* why frames were lost last */
	int error_pending;		/* frames lost since pcap_inject_flush() last said so */
	char error[PCAP_ERRBUF_SIZE];	/* the first of them */
	unsigned long long queue_seq0;	/* the first record of the send queue */
	unsigned long long queue_fail_seq;	/* the record that failed, or ULLONG_MAX */
	char queue_error[PCAP_ERRBUF_SIZE];
	struct pcap_tx_stat stat;
	/*
	 * Held while the ring state changes, never while a read waits.  It
	 * checks its owner, so that exit() or pcap_close() from a signal
	 * handler that interrupted an injection does not wait for itself.
	 */
	pthread_mutex_t lock;
};

/*
 * The handle's private fanout group (pcap-ring-grow.c) and ring growth.
 * member[] is what the kernel's array of members holds, in its order,
 * as our own joins and leaves leave it.
 */
#define RING_GROUP_MAX		4
#define RING_GROW_MAX_STEPS	8

struct ring_grow {
	int group_wanted;		/* the handle needs a fanout group */
	int group_id;			/* -1: no group */
	int member[RING_GROUP_MAX];
	int member_nr;
	int dummy;			/* the drop-all member after the capture socket, or -1 */
	int spare[2 * RING_GROW_MAX_STEPS + 1];	/* sockets opened at activation */
	int spare_nr;
	int spare_next;
	unsigned int size;		/* bytes of the capture ring */
	unsigned int max;		/* the cap; size >= max: no growth */
	unsigned int retire_tov;
	unsigned int hdrlen;
	int tstamp_source;		/* PACKET_TIMESTAMP, 0 for software */
	/* While the previous ring drains, the next one fills. */
	int draining;
	int next_fd;
	struct ring_map next_map;
	struct ring_rx next_rx;
	unsigned int next_size;
	int refilter;			/* a filter was set while draining */
};

/* Private state of a pcap-ring handle (libpcap_priv()). */
struct pcap_ring {
	char ifname[IFNAMSIZ];
	int ifindex;
	int lo_ifindex;
	struct ring_map rx_map;
	struct ring_rx rx;
	int timeout;			/* ms; negative (~timeout) while non-blocking */
	int poll_timeout;
	int wait_once;			/* the next wait ends at the first poll() timeout */
	int breakloop_fd;		/* eventfd that wakes poll() for pcap_breakloop() */
	u_char *oneshot_buffer;		/* pcap_next_ex()'s packet when its slot went back */
	int netdown;			/* ENETDOWN seen; the device may be going away */
	int filter_in_userland;
	int vlan_offset;		/* where a VLAN tag goes back in, -1 for none */
	long long sysfs_dropped;
	struct pcap_stat stat;
	struct ring_tx tx;
	struct ring_grow grow;
};

/*
 * pcap-ring.c: whether the libpcap the plugin runs in is release
 * major.minor.micro or later, for behaviour of stock's that changed
 * between releases.
 */
int	ring_libpcap_release_at_least(int major, int minor, int micro);

/* pcap-ring-setup.c: sockets, layouts and mappings shared by RX and TX. */
int	ring_open_socket(char *errbuf, int type);
/* A request about ifname, zeroed. */
void	ring_ifreq(struct ifreq *ifr, const char *ifname);
int	ring_get_ifindex(int fd, const char *ifname, char *errbuf);
int	ring_get_arptype(int fd, const char *ifname, char *errbuf);
int	ring_get_mtu(int fd, const char *ifname, char *errbuf);
int	ring_link_running(int fd, const char *ifname);
int	ring_bind(int fd, int ifindex, int protocol, char *errbuf);
int	ring_set_version(int fd, int version, unsigned int *hdrlen,
	    const char *ifname, char *errbuf);
void	ring_layout_v3(struct ring_layout *, unsigned int buffer_size);
void	ring_layout_v2(struct ring_layout *, unsigned int buffer_size,
	    unsigned int frame_size);
int	ring_setup(int fd, int optname, int version, struct ring_layout *,
	    unsigned int retire_tov, const char *ifname, char *errbuf,
	    struct ring_map *);
void	ring_teardown(struct ring_map *);
int	ring_env_number(const char *name, int max, int *value, char *errbuf);
int	ring_attach_drop_all(int fd);
int	ring_set_reserve(int fd, unsigned int reserve, char *errbuf);

/* The protocol a handle's sockets are bound to, in network order. */
static inline int
ring_protocol(pcap_t *p)
{
	int protocol = libpcap_get_protocol(p);

	return htons(protocol != 0 ? protocol : ETH_P_ALL);
}

/* pcap-ring-rx.c: the capture ring reader. */
void	ring_rx_init(struct ring_rx *, int version, int fd,
	    unsigned int slot_nr, unsigned int slot_size, unsigned int hdrlen);
int	ring_rx_next(struct ring_rx *, struct ring_packet *);
int	ring_rx_caught_up(const struct ring_rx *);
void	ring_rx_consume(struct ring_rx *, int hold);
unsigned int ring_rx_slots_in_use(const struct ring_rx *);
int	ring_rx_nearly_full(const struct ring_rx *);
int	ring_rx_drained(const struct ring_rx *);
int	pcap_ring_read(pcap_t *, int, pcap_handler, u_char *);
void	pcap_ring_set_poll_timeout(struct pcap_ring *);


/* pcap-ring-grow.c: the fanout group and ring growth. */
void	pcap_ring_grow_init(struct ring_grow *);
int	pcap_ring_grow_open(pcap_t *);
int	pcap_ring_group_form(pcap_t *);
void	pcap_ring_group_add_tx(pcap_t *);
void	pcap_ring_grow_check(pcap_t *);
int	pcap_ring_grow_finish(pcap_t *);
void	pcap_ring_grow_cleanup(pcap_t *);

/* pcap-ring.c: the operations of a plain handle, and helpers. */
int	pcap_ring_setfilter(pcap_t *, struct bpf_program *);
int	pcap_ring_setdirection(pcap_t *, pcap_direction_t);
int	pcap_ring_set_datalink(pcap_t *, int);
int	pcap_ring_getnonblock(pcap_t *);
int	pcap_ring_setnonblock(pcap_t *, int);
int	pcap_ring_stats(pcap_t *, struct pcap_stat *);
void	pcap_ring_cleanup(pcap_t *);
void	pcap_ring_breakloop(pcap_t *);
int	pcap_ring_set_promiscuous(pcap_t *, int fd);
int	pcap_ring_add_stats(pcap_t *, int fd);
int	pcap_ring_set_kernel_filter(pcap_t *, int fd);

/* pcap-ring-tx.c: injection, and the operations of a batched handle. */
extern const struct pcap_plugin_ops pcap_ring_batched_ops;
int	pcap_ring_inject(pcap_t *, const void *, int);
void	pcap_ring_tx_init(struct ring_tx *);
int	pcap_ring_tx_open(pcap_t *);
int	pcap_ring_tx_activate(pcap_t *);
void	pcap_ring_tx_cleanup(pcap_t *);
extern const struct pcap_plugin_tx_ops pcap_ring_tx_ops;

#endif
