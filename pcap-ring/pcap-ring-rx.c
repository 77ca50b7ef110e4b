/*
 * pcap-ring: the capture ring reader.
 *
 * TPACKET_V3 hands over whole blocks; the reader keeps its position inside
 * a partly read block, so that pcap_dispatch(cnt=1) (dumpcap's pattern)
 * costs no system call while the block lasts, and it calls poll() only when
 * the next block is not ready: a reader that polls while the sender is
 * filling the ring spends its time on the socket's lock in packet_poll().
 *
 * A slot (V3 block, V2 frame) is handed back to the kernel as soon as its
 * last packet has been delivered, as stock does: the kernel's packet_poll()
 * reports the socket readable while the slot just behind its write
 * position is user-owned, so a slot kept longer makes select() on an idle
 * link return at once, and the read that follows wait for the next block
 * with no timeout (dumpcap's timers then never run).  pcap_next_ex() needs
 * its packet to stay valid until the next call: the slot is kept until
 * then if more slots are ready (the socket is readable anyway), and only
 * when the reader has caught up with the kernel is the packet copied, so
 * that is one copy per V3 block, never one per packet under load.
 *
 * Immediate mode needs a wake-up per packet, which only TPACKET_V2 gives.
 * Its frames are sized for the MTU rather than for 64 KiB offload packets,
 * so that the ring holds thousands of packets instead of a few hundred; a
 * packet too big for its frame is marked TP_STATUS_COPY and the kernel
 * queues the whole of it on the socket (PACKET_COPY_THRESH), where the
 * reader takes it with recv().
 */
#define _GNU_SOURCE	/* POLLRDHUP */

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/if_ether.h>

#include "pcap-ring-int.h"

/* Older kernel headers lack these; the values are ABI. */
#ifndef TP_STATUS_VLAN_VALID
#define TP_STATUS_VLAN_VALID		(1 << 4)
#endif
#ifndef TP_STATUS_VLAN_TPID_VALID
#define TP_STATUS_VLAN_TPID_VALID	(1 << 6)
#endif

/* How often to look again while an interface that went down may be gone. */
static struct timeval netdown_timeout = { 0, 1000 };	/* never written */

static unsigned int
slot_status(const struct ring_rx *rx, unsigned int slot)
{
	if (rx->version == TPACKET_V3) {
		struct tpacket_block_desc *bd = (void *)rx->slots[slot];

		return __atomic_load_n(&bd->hdr.bh1.block_status,
		    __ATOMIC_ACQUIRE);
	} else {
		struct tpacket2_hdr *h2 = (void *)rx->slots[slot];

		return __atomic_load_n(&h2->tp_status, __ATOMIC_ACQUIRE);
	}
}

static void
slot_release(struct ring_rx *rx, unsigned int slot)
{
	if (rx->version == TPACKET_V3) {
		struct tpacket_block_desc *bd = (void *)rx->slots[slot];

		__atomic_store_n(&bd->hdr.bh1.block_status, TP_STATUS_KERNEL,
		    __ATOMIC_RELEASE);
	} else {
		struct tpacket2_hdr *h2 = (void *)rx->slots[slot];

		__atomic_store_n(&h2->tp_status, TP_STATUS_KERNEL,
		    __ATOMIC_RELEASE);
	}
	if (rx->filter_slots_left > 0)
		rx->filter_slots_left--;
}

/* The slot table and any copy buffer are set up by the caller. */
void
ring_rx_init(struct ring_rx *rx, int version, int fd, unsigned int slot_nr,
    unsigned int slot_size, unsigned int hdrlen)
{
	rx->version = version;
	rx->fd = fd;
	rx->slot_nr = slot_nr;
	rx->slot_size = slot_size;
	rx->sll_offset = TPACKET_ALIGN(hdrlen);
}

/*
 * Whether a V2 frame gives the whole packet, up to the snapshot.  One that
 * did not fit its frame is marked TP_STATUS_COPY, and the kernel queued
 * the whole of it on the socket, in ring order.  When the socket's receive
 * buffer has no room, it queues nothing and cuts the packet to the frame
 * without counting a drop; such a packet is dropped and counted here, as
 * stock's ring (frames of the snapshot's size) drops what it has no room
 * for.
 */
static int
whole_packet(struct ring_rx *rx, struct ring_packet *pkt, unsigned int status,
    unsigned int mac)
{
	unsigned int want = pkt->len < rx->copy_len ? pkt->len : rx->copy_len;
	ssize_t n;

	if (!(status & TP_STATUS_COPY))
		return pkt->caplen >= want || mac + pkt->caplen < rx->slot_size;
	n = recv(rx->fd, rx->copy_buf + RING_VLAN_TAG_LEN, rx->copy_len,
	    MSG_DONTWAIT | MSG_TRUNC);
	if (n == -1 && errno != EAGAIN) {
		/*
		 * A pending socket error (ENETDOWN when the device went down)
		 * comes first and is cleared; the copy is still queued.
		 */
		rx->socket_error = errno;
		n = recv(rx->fd, rx->copy_buf + RING_VLAN_TAG_LEN, rx->copy_len,
		    MSG_DONTWAIT | MSG_TRUNC);
	}
	if (n <= 0)
		return 0;
	pkt->data = rx->copy_buf + RING_VLAN_TAG_LEN;
	pkt->caplen = (unsigned int)n < rx->copy_len ? (unsigned int)n : rx->copy_len;
	return 1;
}

/*
 * Describe the next packet without consuming it: 1, or 0 if the kernel has
 * not handed one over yet, or -1 if the ring holds a frame that runs past
 * its slot.
 */
int
ring_rx_next(struct ring_rx *rx, struct ring_packet *pkt)
{
	unsigned int status, mac;

	if (rx->release_pending) {
		slot_release(rx, rx->release_slot);
		rx->release_pending = 0;
	}
again:
	if (rx->version == TPACKET_V3) {
		struct tpacket3_hdr *h3;

		while (rx->next_packet == NULL) {
			struct tpacket_block_desc *bd = (void *)rx->slots[rx->slot];

			/*
			 * Once nothing more comes (a larger ring took over),
			 * the block the kernel had open is complete; it is
			 * the one numbered after the last block taken, where
			 * a block handed back earlier keeps an older number.
			 */
			if (slot_status(rx, rx->slot) == TP_STATUS_KERNEL &&
			    !(rx->final &&
			    bd->hdr.bh1.seq_num == rx->last_seq + 1))
				return 0;
			rx->last_seq = bd->hdr.bh1.seq_num;
			if (bd->hdr.bh1.num_pkts != 0) {
				rx->next_packet = (u_char *)bd +
				    bd->hdr.bh1.offset_to_first_pkt;
				rx->packets_left = bd->hdr.bh1.num_pkts;
				break;
			}
			slot_release(rx, rx->slot);
			rx->slot = (rx->slot + 1) % rx->slot_nr;
		}
		h3 = (struct tpacket3_hdr *)rx->next_packet;
		status = h3->tp_status;
		mac = h3->tp_mac;
		pkt->len = h3->tp_len;
		pkt->caplen = h3->tp_snaplen;
		pkt->sec = h3->tp_sec;
		pkt->nsec = h3->tp_nsec;
		pkt->vlan_tci = h3->hv1.tp_vlan_tci;
		pkt->vlan_tpid = h3->hv1.tp_vlan_tpid;
	} else {
		struct tpacket2_hdr *h2 = (void *)rx->slots[rx->slot];

		status = slot_status(rx, rx->slot);
		if (status == TP_STATUS_KERNEL)
			return 0;
		mac = h2->tp_mac;
		pkt->len = h2->tp_len;
		pkt->caplen = h2->tp_snaplen;
		pkt->sec = h2->tp_sec;
		pkt->nsec = h2->tp_nsec;
		pkt->vlan_tci = h2->tp_vlan_tci;
		pkt->vlan_tpid = h2->tp_vlan_tpid;
	}
	/* A stripped tag with TCI 0 is known only by the status bit. */
	pkt->vlan_valid = pkt->vlan_tci != 0 || (status & TP_STATUS_VLAN_VALID);
	if (pkt->vlan_tpid == 0 && !(status & TP_STATUS_VLAN_TPID_VALID))
		pkt->vlan_tpid = ETH_P_8021Q;
	if (mac + pkt->caplen > rx->slot_size)
		return -1;
	pkt->data = (rx->version == TPACKET_V3 ? rx->next_packet :
	    rx->slots[rx->slot]) + mac;
	pkt->sll = (const struct sockaddr_ll *)(pkt->data - mac + rx->sll_offset);
	if (rx->copy_len == 0 || whole_packet(rx, pkt, status, mac))
		return 1;
	rx->cut_drops++;
	slot_release(rx, rx->slot);
	rx->slot = (rx->slot + 1) % rx->slot_nr;
	goto again;
}

/*
 * Whether the packet ring_rx_next() described is the last the kernel has
 * handed over: the last of its slot, with the next slot still the kernel's.
 */
int
ring_rx_caught_up(const struct ring_rx *rx)
{
	if (rx->version == TPACKET_V3 && rx->packets_left > 1)
		return 0;
	return slot_status(rx, (rx->slot + 1) % rx->slot_nr) == TP_STATUS_KERNEL;
}

/*
 * Move past the packet ring_rx_next() described.  The slot it ends goes
 * back to the kernel now, or with hold at the next ring_rx_next(), for a
 * caller that uses the packet until then.
 */
void
ring_rx_consume(struct ring_rx *rx, int hold)
{
	if (rx->version == TPACKET_V3) {
		struct tpacket3_hdr *h3 = (struct tpacket3_hdr *)rx->next_packet;

		if (--rx->packets_left > 0) {
			rx->next_packet += h3->tp_next_offset;
			return;
		}
		rx->next_packet = NULL;
	}
	if (hold) {
		rx->release_pending = 1;
		rx->release_slot = rx->slot;
	} else {
		slot_release(rx, rx->slot);
	}
	rx->slot = (rx->slot + 1) % rx->slot_nr;
}

/*
 * How many slots, from the reader's position on, may hold packets that the
 * kernel filtered before the filter just installed: everything but the run
 * of free slots behind the reader, less one for a slot the kernel may be
 * filling (stock libpcap's reckoning).
 */
unsigned int
ring_rx_slots_in_use(const struct ring_rx *rx)
{
	unsigned int slot = rx->slot, n;

	/* The slot just behind the reader may still be held for the caller. */
	slot = (slot + rx->slot_nr - 1) % rx->slot_nr;
	for (n = 0; n < rx->slot_nr; n++) {
		slot = (slot + rx->slot_nr - 1) % rx->slot_nr;
		if (slot_status(rx, slot) != TP_STATUS_KERNEL)
			break;
	}
	if (n != 0)
		n--;
	/* A slot held for pcap_next_ex() was read, yet its release counts. */
	return rx->slot_nr - n + (rx->release_pending ? 1 : 0);
}

/*
 * Whether ring_rx_next() would find nothing and nothing is held for the
 * caller (V3).
 */
int
ring_rx_drained(const struct ring_rx *rx)
{
	const struct tpacket_block_desc *bd = (void *)rx->slots[rx->slot];

	if (rx->next_packet != NULL || rx->release_pending ||
	    slot_status(rx, rx->slot) != TP_STATUS_KERNEL)
		return 0;
	return !(rx->final && bd->hdr.bh1.seq_num == rx->last_seq + 1 &&
	    bd->hdr.bh1.num_pkts != 0);
}

/*
 * Whether the kernel has filled three quarters of a V3 ring or more: the
 * blocks from the reader's on are all the reader's.
 */
int
ring_rx_nearly_full(const struct ring_rx *rx)
{
	unsigned int ahead = rx->slot_nr * 3 / 4;

	if (rx->version != TPACKET_V3)
		return 0;
	if (ahead == 0)
		ahead = 1;
	return slot_status(rx, (rx->slot + ahead - 1) % rx->slot_nr) !=
	    TP_STATUS_KERNEL;
}

void
pcap_ring_set_poll_timeout(struct pcap_ring *pr)
{
	if (pr->timeout == 0)
		pr->poll_timeout = -1;
	else if (pr->timeout > 0)
		/* A V3 ring retires blocks on the timeout itself. */
		pr->poll_timeout = pr->rx.version == TPACKET_V3 ? -1 : pr->timeout;
	else
		pr->poll_timeout = 0;
}

/* 1 if the capture interface still exists, 0 if it is gone, -1 on error. */
static int
device_still_exists(pcap_t *p)
{
	struct sockaddr_ll addr;
	socklen_t addr_len = sizeof(addr);

	if (getsockname(libpcap_fd(p), (struct sockaddr *)&addr,
	    &addr_len) == -1) {
		libpcap_fmt_errmsg_for_errno(libpcap_errbuf(p),
		    PCAP_ERRBUF_SIZE, errno, "getsockname failed");
		return -1;
	}
	return addr.sll_ifindex != -1;
}

/*
 * After ENETDOWN the device was either configured down or is being
 * removed; the kernel tells which only a little later, so look until it
 * is up again or gone.  0 to go on waiting, PCAP_ERROR when it is gone.
 */
static int
check_netdown(pcap_t *p)
{
	struct pcap_ring *pr = libpcap_priv(p);
	struct ifreq ifr;
	int exists;

	exists = device_still_exists(p);
	if (exists == -1)
		return PCAP_ERROR;
	if (exists == 0) {
		snprintf(libpcap_errbuf(p), PCAP_ERRBUF_SIZE,
		    "The interface disappeared");
		return PCAP_ERROR;
	}
	ring_ifreq(&ifr, pr->ifname);
	if (ioctl(libpcap_fd(p), SIOCGIFFLAGS, &ifr) == -1) {
		if (errno == ENXIO || errno == ENODEV) {
			snprintf(libpcap_errbuf(p), PCAP_ERRBUF_SIZE,
			    "The interface disappeared");
			return PCAP_ERROR;
		}
		libpcap_fmt_errmsg_for_errno(libpcap_errbuf(p),
		    PCAP_ERRBUF_SIZE, errno, "%s: Can't get flags", pr->ifname);
		return PCAP_ERROR;
	}
	if (ifr.ifr_flags & IFF_UP) {
		pr->netdown = 0;
		libpcap_set_select_timeout(p, NULL);
	}
	return 0;
}

static int
pending_socket_error(pcap_t *p)
{
	int err;
	socklen_t errlen = sizeof(err);

	if (getsockopt(libpcap_fd(p), SOL_SOCKET, SO_ERROR, &err,
	    &errlen) == -1)
		err = errno;
	return err;
}

/* An error the socket reported: 0 to go on, or PCAP_ERROR. */
static int
socket_error(pcap_t *p, int err)
{
	struct pcap_ring *pr = libpcap_priv(p);

	if (err == ENETDOWN) {
		/* Event loops must come back to us to see how it ends. */
		pr->netdown = 1;
		libpcap_set_select_timeout(p, &netdown_timeout);
		return 0;
	}
	if (err == 0) {
		snprintf(libpcap_errbuf(p), PCAP_ERRBUF_SIZE,
		    "Error condition on packet socket: Reported error was 0");
		return PCAP_ERROR;
	}
	libpcap_fmt_errmsg_for_errno(libpcap_errbuf(p), PCAP_ERRBUF_SIZE,
	    err, "Error condition on packet socket");
	return PCAP_ERROR;
}

/*
 * Wait until the kernel hands over a slot, the timeout expires, or
 * pcap_breakloop() is called.  0, PCAP_ERROR or PCAP_ERROR_BREAK.
 */
static int
wait_for_packets(pcap_t *p)
{
	struct pcap_ring *pr = libpcap_priv(p);
	struct pollfd fds[2];
	int nfds = 1, timeout, ret;

	fds[0].fd = libpcap_fd(p);
	fds[0].events = POLLIN;
	fds[1].revents = 0;
	if (pr->breakloop_fd != -1) {
		fds[1].fd = pr->breakloop_fd;
		fds[1].events = POLLIN;
		nfds = 2;
	}
	for (;;) {
		timeout = pr->poll_timeout;
		if (pr->netdown && timeout != 0)
			timeout = 1;
		ret = poll(fds, nfds, timeout);
		if (ret < 0) {
			if (errno != EINTR) {
				libpcap_fmt_errmsg_for_errno(libpcap_errbuf(p),
				    PCAP_ERRBUF_SIZE, errno,
				    "can't poll on packet socket");
				return PCAP_ERROR;
			}
			if (libpcap_check_break_loop(p))
				return PCAP_ERROR_BREAK;
		} else if (ret > 0) {
			if (fds[0].revents == POLLIN)
				return 0;
			if (fds[0].revents & POLLNVAL) {
				snprintf(libpcap_errbuf(p), PCAP_ERRBUF_SIZE,
				    "Invalid polling request on packet socket");
				return PCAP_ERROR;
			}
			if (fds[0].revents & (POLLHUP | POLLRDHUP)) {
				snprintf(libpcap_errbuf(p), PCAP_ERRBUF_SIZE,
				    "Hangup on packet socket");
				return PCAP_ERROR;
			}
			if ((fds[0].revents & POLLERR) &&
			    socket_error(p, pending_socket_error(p)) < 0)
				return PCAP_ERROR;
			if (fds[1].revents & POLLIN) {
				uint64_t value;

				if (read(pr->breakloop_fd, &value,
				    sizeof(value)) == -1 && errno != EAGAIN) {
					libpcap_fmt_errmsg_for_errno(
					    libpcap_errbuf(p), PCAP_ERRBUF_SIZE,
					    errno, "Error reading from event FD");
					return PCAP_ERROR;
				}
				if (libpcap_check_break_loop(p))
					return PCAP_ERROR_BREAK;
			}
		}
		if (pr->netdown && check_netdown(p) < 0)
			return PCAP_ERROR;
		if (pr->poll_timeout == 0 || pr->wait_once)
			return 0;
		/*
		 * A poll() timeout is no read timeout: as with stock, the
		 * packet buffer timer starts with the first packet (a V3
		 * block's retire timer), so with no traffic a blocking read
		 * keeps waiting, in immediate mode too.
		 */
	}
}

static int
direction_wanted(pcap_t *p, const struct sockaddr_ll *sll)
{
	const struct pcap_ring *pr = libpcap_priv(p);

	if (sll->sll_pkttype == PACKET_OUTGOING) {
		/* Loopback shows each packet again as incoming. */
		if (sll->sll_ifindex == pr->lo_ifindex)
			return 0;
		return libpcap_get_direction(p) != PCAP_D_IN;
	}
	return libpcap_get_direction(p) != PCAP_D_OUT;
}

/*
 * Hand one packet to the callback the way stock pcap-linux does: userland
 * filter while the kernel's cannot be trusted, direction, VLAN tag put
 * back where the kernel took it out, snapshot length; with copy, from a
 * copy so that the slot can go back to the kernel.  1 if delivered, 0 if
 * not wanted.
 */
static int
deliver(pcap_t *p, const struct ring_packet *pkt, pcap_handler callback,
    u_char *user, int copy)
{
	struct pcap_ring *pr = libpcap_priv(p);
	struct pcap_pkthdr h;
	u_char *bp = pkt->data;

	if ((pr->filter_in_userland || pr->rx.filter_slots_left > 0) &&
	    libpcap_get_filter(p) != NULL &&
	    libpcap_filter_with_aux_data(libpcap_get_filter(p), bp, pkt->len,
	    pkt->caplen, pkt->vlan_valid, pkt->vlan_tci & 0x0fff) == 0)
		return 0;
	if (!direction_wanted(p, pkt->sll))
		return 0;

	h.ts.tv_sec = pkt->sec;
	h.ts.tv_usec =
	    libpcap_get_tstamp_precision(p) == PCAP_TSTAMP_PRECISION_NANO ?
	    pkt->nsec : pkt->nsec / 1000;
	h.caplen = pkt->caplen;
	h.len = pkt->len;

	/* PACKET_RESERVE left room for the tag in front of the frame. */
	if (pkt->vlan_valid && pr->vlan_offset != -1 &&
	    pkt->caplen >= (unsigned int)pr->vlan_offset) {
		uint16_t tag[2];

		bp -= RING_VLAN_TAG_LEN;
		memmove(bp, bp + RING_VLAN_TAG_LEN, pr->vlan_offset);
		tag[0] = htons(pkt->vlan_tpid);
		tag[1] = htons(pkt->vlan_tci);
		memcpy(bp + pr->vlan_offset, tag, sizeof(tag));
		h.caplen += RING_VLAN_TAG_LEN;
		h.len += RING_VLAN_TAG_LEN;
	}
	if (h.caplen > (bpf_u_int32)libpcap_get_snapshot(p))
		h.caplen = libpcap_get_snapshot(p);
	if (copy) {
		memcpy(pr->oneshot_buffer, bp, h.caplen);
		bp = pr->oneshot_buffer;
	}

	callback(user, &h, bp);
	return 1;
}

static int
corrupt_ring(pcap_t *p)
{
	struct pcap_ring *pr = libpcap_priv(p);

	snprintf(libpcap_errbuf(p), PCAP_ERRBUF_SIZE,
	    "%s: corrupted frame on kernel ring: packet runs past its %u-byte slot",
	    pr->ifname, pr->rx.slot_size);
	return PCAP_ERROR;
}

int
pcap_ring_read(pcap_t *p, int max_packets, pcap_handler callback,
    u_char *user)
{
	struct pcap_ring *pr = libpcap_priv(p);
	struct ring_packet pkt;
	int n, ret, copy, delivered;
	/* pcap_next_ex() and pcap_next() use the packet after the callback. */
	int oneshot = libpcap_is_oneshot(p, callback);

	if (libpcap_count_is_unlimited(max_packets))
		max_packets = INT_MAX;
	pcap_ring_grow_check(p);
again:
	ret = ring_rx_next(&pr->rx, &pkt);
	if (ret == 0 && pr->grow.draining) {
		/* The previous ring is empty: the larger one takes over. */
		if ((ret = pcap_ring_grow_finish(p)) < 0)
			return ret;
		ret = ring_rx_next(&pr->rx, &pkt);
	}
	if (ret == 0) {
		ret = wait_for_packets(p);
		if (ret != 0)
			return ret;
		ret = ring_rx_next(&pr->rx, &pkt);
		if (ret == 0) {
			/* Without a timeout, return only with a packet. */
			if (pr->timeout == 0)
				goto again;
			return 0;
		}
	}
	if (ret < 0)
		return corrupt_ring(p);
	/* Stock's V3 reader delivers nothing after a pending break, its V2 one a packet. */
	if (pr->rx.version == TPACKET_V3 && libpcap_check_break_loop(p))
		return PCAP_ERROR_BREAK;
	n = 0;
	do {
		copy = oneshot && ring_rx_caught_up(&pr->rx);
		delivered = deliver(p, &pkt, callback, user, copy);
		n += delivered;
		ring_rx_consume(&pr->rx, delivered && oneshot && !copy);
		/* A reader that never catches up never starts a new read. */
		if (pr->rx.next_packet == NULL)
			pcap_ring_grow_check(p);
		if (libpcap_check_break_loop(p))
			return PCAP_ERROR_BREAK;
	} while (n < max_packets && (ret = ring_rx_next(&pr->rx, &pkt)) == 1);
	if (ret < 0)
		return corrupt_ring(p);
	if (pr->rx.socket_error != 0) {
		ret = socket_error(p, pr->rx.socket_error);
		pr->rx.socket_error = 0;
		if (ret < 0)
			return ret;
	}
	/*
	 * Once the previous ring is empty, the descriptor must be the new
	 * socket's before the caller waits on it again.
	 */
	if (pr->grow.draining && ring_rx_drained(&pr->rx) &&
	    (ret = pcap_ring_grow_finish(p)) < 0)
		return ret;
	if (n == 0 && pr->timeout == 0)
		goto again;
	return n;
}
