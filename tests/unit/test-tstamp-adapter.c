/*
 * Hardware time stamps are asked of the driver with SIOCSHWTSTAMP at
 * activation, and the outcome is stock's status code (run with both
 * libraries).  The bed's veth has no hardware clock, so this program
 * stands in for a driver: its own ioctl(), which libpcap's calls reach
 * before libc's, fails SIOCETHTOOL(ETHTOOL_GET_TS_INFO) for the bed's
 * interface (so that every time stamp type is offered, as for a driver
 * that does not say) and answers SIOCSHWTSTAMP with the error under test:
 * - EOPNOTSUPP or ERANGE: PCAP_WARNING_TSTAMP_TYPE_NOTSUP, and the
 *   handle captures with host time stamps;
 * - EPERM: PCAP_ERROR_PERM_DENIED, "... CAP_NET_ADMIN may be required";
 * - EINVAL: PCAP_ERROR, "SIOCSHWTSTAMP failed: Invalid argument";
 * - success: 0.
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>

#include "bed.h"

static int hwtstamp_errno;	/* SIOCSHWTSTAMP fails with it; 0 succeeds */
static int sender_fd;

static int
for_bed(const struct ifreq *ifr)
{
	return bed.veth_b != NULL && strcmp(ifr->ifr_name, bed.veth_b) == 0;
}

int
ioctl(int fd, unsigned long request, ...)
{
	struct ifreq *ifr;
	va_list ap;

	va_start(ap, request);
	ifr = va_arg(ap, struct ifreq *);
	va_end(ap);
	if (request == SIOCETHTOOL && for_bed(ifr) &&
	    ((struct ethtool_ts_info *)ifr->ifr_data)->cmd == ETHTOOL_GET_TS_INFO) {
		errno = EOPNOTSUPP;
		return -1;
	}
	if (request == SIOCSHWTSTAMP && for_bed(ifr)) {
		errno = hwtstamp_errno;
		return hwtstamp_errno == 0 ? 0 : -1;
	}
	return (int)syscall(SYS_ioctl, fd, request, ifr);
}

static void
adapter_tstamp(int err, int expected, const char *expected_text)
{
	char what[64];
	struct bed_tally t;
	pcap_t *p;
	int status;

	snprintf(what, sizeof(what), "SIOCSHWTSTAMP %s",
	    err == 0 ? "succeeding" : strerror(err));
	hwtstamp_errno = err;
	p = bed_create(bed.veth_b);
	CHECK(pcap_set_tstamp_type(p, PCAP_TSTAMP_ADAPTER) == 0,
	    "%s: pcap_set_tstamp_type(PCAP_TSTAMP_ADAPTER) refused", what);
	MUST(pcap_set_timeout(p, 100));
	status = pcap_activate(p);
	bed_check_claimed(p, what);
	CHECK(status == expected, "%s: pcap_activate returned %d (%s), stock's is %d (%s)",
	    what, status, pcap_statustostr(status), expected,
	    pcap_statustostr(expected));
	if (expected_text != NULL)
		CHECK(strcmp(pcap_geterr(p), expected_text) == 0,
		    "%s: error \"%s\", stock's is \"%s\"", what, pcap_geterr(p),
		    expected_text);
	if (status >= 0) {
		bed_tally_init(&t, 0, 5);
		bed_send(sender_fd, 0, 5, 60, 1514, MIX_ALL, NULL);
		bed_deadline(10, "capture with the time stamp type");
		while (t.frames + t.other < 5 &&
		    pcap_dispatch(p, -1, bed_tally_cb, (u_char *)&t) >= 0)
			continue;
		bed_deadline_clear();
		bed_tally_check(&t, what);
		bed_tally_free(&t);
	}
	if (bed_failures == 0)
		bed_ok("%s: status %d", what, status);
	pcap_close(p);
}

int
main(int argc, char **argv)
{
	bed_enter(argc, argv, "ring stock");
	sender_fd = bed_sender(bed.ns_a, bed.veth_a);
	adapter_tstamp(EOPNOTSUPP, PCAP_WARNING_TSTAMP_TYPE_NOTSUP, NULL);
	adapter_tstamp(ERANGE, PCAP_WARNING_TSTAMP_TYPE_NOTSUP, NULL);
	adapter_tstamp(EPERM, PCAP_ERROR_PERM_DENIED,
	    "Attempt to set hardware timestamp failed - CAP_NET_ADMIN may be required");
	adapter_tstamp(EINVAL, PCAP_ERROR, "SIOCSHWTSTAMP failed: Invalid argument");
	adapter_tstamp(0, 0, NULL);
	return bed_finish();
}
