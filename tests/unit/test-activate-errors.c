/*
 * pcap_activate() failures with stock's codes and messages (run with both
 * libraries; the ring run leaves its messages in the bed's directory and
 * the stock run compares its own with them):
 * - a device that does not exist: PCAP_ERROR_NO_SUCH_DEVICE.  pcap-ring
 *   declines a name that is no interface at pcap_create(), so stock
 *   pcap-linux reports it in both runs (checked); when the device
 *   disappears between pcap_create() and pcap_activate(), pcap-ring has
 *   claimed it and must say the same;
 * - an interface that is down: PCAP_ERROR_IFACE_NOT_UP;
 * - an unprivileged user: PCAP_ERROR_PERM_DENIED, also when it asks for
 *   monitor mode (the socket comes first: tcpdump -I run as a user is
 *   told it lacks the privilege, not that the device lacks the mode);
 * - monitor mode asked of a device without it (pcap_set_rfmon()):
 *   PCAP_ERROR_RFMON_NOTSUP.
 */
#include <grp.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/wait.h>

#include "bed.h"

/*
 * CHECK the status, and that the message is what the other library
 * said for the same case (libraries run in the order ring, stock).
 */
static void
expect(const char *what, int status, int want, const char *msg)
{
	char path[512], other[PCAP_ERRBUF_SIZE + 1];
	FILE *f;
	size_t n;

	CHECK(status == want, "%s: pcap_activate %d (%s), want %d (%s)", what,
	    status, msg, want, pcap_statustostr(want));
	snprintf(path, sizeof(path), "%s/%s.%s", bed.tmp, what,
	    bed.ring ? "ring" : "stock");
	f = fopen(path, "w");
	if (f != NULL) {
		fputs(msg, f);
		fclose(f);
	}
	if (!bed.ring) {
		snprintf(path, sizeof(path), "%s/%s.ring", bed.tmp, what);
		f = fopen(path, "r");
		CHECK(f != NULL, "%s: the ring run left no message to compare with",
		    what);
		if (f != NULL) {
			n = fread(other, 1, sizeof(other) - 1, f);
			other[n] = '\0';
			fclose(f);
			CHECK(strcmp(other, msg) == 0,
			    "%s: stock says \"%s\", ring said \"%s\"", what,
			    msg, other);
		}
	}
	if (status == want)
		bed_ok("%s: %s: \"%s\"", what, pcap_statustostr(status), msg);
}

/*
 * Activate dev, in monitor mode if rfmon; the status, the message in msg,
 * and in *ring whether pcap-ring had the handle.
 */
static int
activate(const char *dev, int immediate, int rfmon, char *msg, int *ring)
{
	pcap_t *p = bed_create(dev);
	int status;

	MUST(pcap_set_immediate_mode(p, immediate));
	MUST(pcap_set_rfmon(p, rfmon));
	status = pcap_activate(p);
	snprintf(msg, PCAP_ERRBUF_SIZE, "%s", pcap_geterr(p));
	*ring = bed_ring_handle(p);
	pcap_close(p);
	return status;
}

/* CHECK that pcap-ring had the handle in the ring run. */
static void
check_ring(const char *what, int ring)
{
	CHECK(ring == bed.ring, "%s: the handle was %s's", what,
	    ring ? "pcap-ring" : "stock pcap-linux");
}

static void
no_such_device(int immediate)
{
	char what[64], veth[IFNAMSIZ];
	pcap_t *p;
	int status;

	snprintf(what, sizeof(what), "nonexistent-immediate%d", immediate);
	p = bed_create("prtnone0");
	MUST(pcap_set_immediate_mode(p, immediate));
	status = pcap_activate(p);
	expect(what, status, PCAP_ERROR_NO_SUCH_DEVICE, pcap_geterr(p));
	bed_check_declined(p, "prtnone0", "no such interface");
	pcap_close(p);

	/* Gone between create and activate: the module has claimed it. */
	snprintf(veth, sizeof(veth), "prtgone%d", (int)getpid() % 100000);
	if (bed_sh("ip link add %s type veth peer name %sp && ip link set %s up",
	    veth, veth, veth) != 0)
		bed_fatal("cannot make veth %s", veth);
	p = bed_create(veth);
	MUST(pcap_set_immediate_mode(p, immediate));
	bed_sh("ip link del %s", veth);
	status = pcap_activate(p);
	snprintf(what, sizeof(what), "deleted-before-activate-immediate%d",
	    immediate);
	expect(what, status, PCAP_ERROR_NO_SUCH_DEVICE, pcap_geterr(p));
	bed_check_claimed(p, what);
	pcap_close(p);
}

static void
interface_down(int immediate)
{
	char msg[PCAP_ERRBUF_SIZE], what[64], veth[IFNAMSIZ];
	int ring;

	snprintf(veth, sizeof(veth), "prtdown%d", (int)getpid() % 100000);
	if (bed_sh("ip link add %s type veth peer name %sp", veth, veth) != 0)
		bed_fatal("cannot make veth %s", veth);
	snprintf(what, sizeof(what), "down-immediate%d", immediate);
	expect(what, activate(veth, immediate, 0, msg, &ring),
	    PCAP_ERROR_IFACE_NOT_UP, msg);
	check_ring(what, ring);
	bed_sh("ip link del %s", veth);
}

static void
rfmon_unsupported(int immediate)
{
	char what[64];
	pcap_t *p = bed_create(bed.veth_b);

	snprintf(what, sizeof(what), "rfmon-immediate%d", immediate);
	MUST(pcap_set_immediate_mode(p, immediate));
	MUST(pcap_set_rfmon(p, 1));
	expect(what, pcap_activate(p), PCAP_ERROR_RFMON_NOTSUP, pcap_geterr(p));
	check_ring(what, bed_ring_handle(p));
	pcap_close(p);
}

/*
 * Activate as nobody in a child; its status, whether pcap-ring had the
 * handle, and the message come back by pipe.
 */
static void
unprivileged(int immediate, int rfmon)
{
	char msg[PCAP_ERRBUF_SIZE], what[64];
	int fds[2], status = 0, ring = 0, wstatus;
	pid_t pid;
	ssize_t n;

	if (pipe(fds) == -1)
		bed_fatal("pipe");
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		if (setgroups(0, NULL) == -1 || setgid(65534) == -1 ||
		    setuid(65534) == -1)
			_exit(77);
		status = activate(bed.veth_b, immediate, rfmon, msg, &ring);
		if (write(fds[1], &status, sizeof(status)) != sizeof(status) ||
		    write(fds[1], &ring, sizeof(ring)) != sizeof(ring) ||
		    write(fds[1], msg, strlen(msg) + 1) <= 0)
			_exit(1);
		_exit(0);
	}
	close(fds[1]);
	n = read(fds[0], &status, sizeof(status));
	if (n == sizeof(status) && read(fds[0], &ring, sizeof(ring)) != sizeof(ring))
		n = 0;
	memset(msg, 0, sizeof(msg));
	if (n == sizeof(status) && read(fds[0], msg, sizeof(msg) - 1) < 0)
		msg[0] = '\0';
	close(fds[0]);
	waitpid(pid, &wstatus, 0);
	if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 77) {
		bed_skip_case("cannot become nobody (uid 65534): the unprivileged activation cases");
		return;
	}
	CHECK(n == sizeof(status), "the unprivileged child reported nothing");
	snprintf(what, sizeof(what), "unprivileged%s-immediate%d",
	    rfmon ? "-rfmon" : "", immediate);
	expect(what, status, PCAP_ERROR_PERM_DENIED, msg);
	check_ring(what, ring);
}

int
main(int argc, char **argv)
{
	int immediate;

	bed_enter(argc, argv, "ring stock");
	for (immediate = 0; immediate <= 1; immediate++) {
		no_such_device(immediate);
		interface_down(immediate);
		rfmon_unsupported(immediate);
		unprivileged(immediate, 0);
		unprivileged(immediate, 1);
	}
	return bed_finish();
}
