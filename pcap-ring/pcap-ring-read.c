/*
 * pcap-ring: the read operation, the glue between a pcap_t and the
 * capture ring reader of pcap-ring-rx.c.
 *
 * It waits with poll() only when the reader finds nothing: a reader that
 * polls while the sender is filling the ring spends its time on the
 * socket's lock in packet_poll().  Then it hands each packet to the
 * callback as stock pcap-linux does (userland filter, direction, VLAN tag,
 * snapshot length), and turns the socket's errors into stock's.
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

/* How often to look again while an interface that went down may be gone. */
static struct timeval netdown_timeout = { 0, 1000 };	/* never written */

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
	ring_sock_ifreq(&ifr, pr->ifname);
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
 * Wait until the kernel hands over a slot, the timeout expires,
 * pcap_breakloop() is called, or a growth step's worker is done.  0,
 * PCAP_ERROR or PCAP_ERROR_BREAK.
 */
static int
wait_for_packets(pcap_t *p)
{
	struct pcap_ring *pr = libpcap_priv(p);
	struct pollfd fds[3];
	int timeout, ret;

	fds[0].fd = libpcap_fd(p);
	fds[0].events = POLLIN;
	fds[1].fd = pr->breakloop_fd;
	fds[1].events = POLLIN;
	/* poll() skips a negative descriptor: most handles have no worker. */
	fds[2].fd = pr->grow.worker_fd;
	fds[2].events = POLLIN;
	for (;;) {
		timeout = pr->poll_timeout;
		if (pr->netdown && timeout != 0)
			timeout = 1;
		ret = poll(fds, 3, timeout);
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
			/* The old ring is final: the reader takes its open block. */
			if (fds[2].revents & POLLIN)
				return 0;
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
direction_wanted(const struct pcap_ring *pr, const struct sockaddr_ll *sll)
{
	if (sll->sll_pkttype == PACKET_OUTGOING) {
		/* Loopback shows each packet again as incoming. */
		if (sll->sll_ifindex == pr->lo_ifindex)
			return 0;
		return pr->direction != PCAP_D_IN;
	}
	return pr->direction != PCAP_D_OUT;
}

/*
 * Hand one packet to the callback the way stock pcap-linux does: userland
 * filter while the kernel's cannot be trusted, direction, VLAN tag put
 * back where the kernel took it out, snapshot length; with copy, from a
 * copy so that the slot can go back to the kernel.  1 if delivered, 0 if
 * not wanted.
 */
static int
deliver(pcap_t *p, struct pcap_ring *pr, const struct ring_packet *pkt,
    pcap_handler callback, u_char *user, int copy)
{
	struct pcap_pkthdr h;
	u_char *bp = pkt->data;

	if ((pr->filter_in_userland || pr->rx.filter_slots_left > 0) &&
	    libpcap_get_filter(p) != NULL &&
	    libpcap_filter_with_aux_data(libpcap_get_filter(p), bp, pkt->len,
	    pkt->caplen, pkt->vlan_valid, pkt->vlan_tci & 0x0fff) == 0)
		return 0;
	if (!direction_wanted(pr, pkt->sll))
		return 0;

	h.ts.tv_sec = pkt->sec;
	h.ts.tv_usec = pr->nano ? pkt->nsec : pkt->nsec / 1000;
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
	if (h.caplen > pr->snapshot)
		h.caplen = pr->snapshot;
	if (copy) {
		memcpy(pr->oneshot_buffer, bp, h.caplen);
		bp = pr->oneshot_buffer;
	}

	callback(user, &h, bp);
	return 1;
}

static int
corrupt_ring(pcap_t *p, const char *why)
{
	struct pcap_ring *pr = libpcap_priv(p);

	snprintf(libpcap_errbuf(p), PCAP_ERRBUF_SIZE, "%s: %.*s", pr->ifname,
	    (int)(PCAP_ERRBUF_SIZE - IFNAMSIZ - 3), why);
	return PCAP_ERROR;
}

int
pcap_ring_read(pcap_t *p, int max_packets, pcap_handler callback,
    u_char *user)
{
	struct pcap_ring *pr = libpcap_priv(p);
	struct ring_packet pkt;
	char why[PCAP_ERRBUF_SIZE];
	int n, ret, copy, delivered, picked = 0;
	/* pcap_next_ex() and pcap_next() use the packet after the callback. */
	int oneshot = libpcap_is_oneshot(p, callback);

	if (libpcap_count_is_unlimited(max_packets))
		max_packets = INT_MAX;
again:
	if (pcap_ring_grow_pending(&pr->grow))
		picked |= pcap_ring_grow_check(p);
	ret = ring_rx_next(&pr->rx, &pkt, why);
	if (ret == 0 && pr->rx.final) {
		/* The previous ring is empty: the larger one takes over. */
		if ((ret = pcap_ring_grow_finish(p)) < 0)
			return ret;
		ret = ring_rx_next(&pr->rx, &pkt, why);
	}
	/*
	 * A step's new socket, picked, may be all that woke the read (or a
	 * program's select()): nothing to wait for, as stock's socket would
	 * not have been readable; but without a timeout, stock's blocking
	 * read returns only with a packet.
	 */
	if (ret == 0 && picked && (pr->timeout != 0 || pr->wait_once))
		return 0;
	if (ret == 0) {
		ret = wait_for_packets(p);
		if (ret != 0)
			return ret;
		ret = ring_rx_next(&pr->rx, &pkt, why);
		if (ret == 0) {
			/*
			 * Without a timeout, return only with a packet; nor
			 * when the growth worker woke the read.
			 */
			if ((pr->timeout == 0 && !pr->wait_once) ||
			    pcap_ring_grow_ready(&pr->grow))
				goto again;
			return 0;
		}
	}
	if (ret < 0)
		return corrupt_ring(p, why);
	/* Stock's V3 reader delivers nothing after a pending break, its V2 one a packet. */
	if (pr->rx.version == TPACKET_V3 && libpcap_check_break_loop(p))
		return PCAP_ERROR_BREAK;
	n = 0;
	do {
		copy = oneshot && ring_rx_caught_up(&pr->rx);
		delivered = deliver(p, pr, &pkt, callback, user, copy);
		n += delivered;
		ring_rx_consume(&pr->rx, delivered && oneshot && !copy);
		/* A reader that never catches up never starts a new read. */
		if (pr->rx.next_packet == NULL &&
		    pcap_ring_grow_pending(&pr->grow))
			pcap_ring_grow_check(p);
		if (libpcap_check_break_loop(p))
			return PCAP_ERROR_BREAK;
	} while (n < max_packets && (ret = ring_rx_next(&pr->rx, &pkt, why)) == 1);
	if (ret < 0)
		return corrupt_ring(p, why);
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
	if (pr->rx.final && ring_rx_drained(&pr->rx) &&
	    (ret = pcap_ring_grow_finish(p)) < 0)
		return ret;
	/*
	 * Without a timeout, stock's V3 reader returns only with a packet;
	 * its V2 one (immediate mode) returns 0 when it rejected all it got.
	 */
	if (n == 0 && pr->rx.version == TPACKET_V3 && pr->timeout == 0 &&
	    !pr->wait_once)
		goto again;
	return n;
}
