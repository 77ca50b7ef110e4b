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
 *   PCAP_ERROR_RFMON_NOTSUP;
 * - an address space limit (ulimit -v): a program asking for no size
 *   gets stock's 2 MiB ring (pcap-ring's larger default gives way),
 *   captures, and keeps the room stock leaves it, whether or not the
 *   limit could have held 32 MiB; one asking for more than fits gets
 *   stock's PCAP_ERROR and text;
 * - the same under mlockall(MCL_FUTURE) with a memory lock limit
 *   (RLIMIT_MEMLOCK) that holds stock's ring, not 32 MiB.
 */
#include <grp.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/capability.h>

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

/* What an activation gave. */
struct activation {
	int status;
	int ring;		/* pcap-ring had the handle */
	unsigned long mapped;	/* bytes of ring mappings, when it worked */
	unsigned long captured;	/* of CAPTURED_FRAMES, intact, when it worked */
	unsigned long room;	/* address space left once it is open */
	char msg[PCAP_ERRBUF_SIZE];
};

/* Fewer than stock's immediate mode ring holds: 32 frames of 64 KiB. */
#define CAPTURED_FRAMES	20

/* The address space the process maps, in bytes. */
static unsigned long
vm_size(void)
{
	unsigned long kib = 0;
	char line[128];
	FILE *f = fopen("/proc/self/status", "r");

	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		sscanf(line, "VmSize: %lu kB", &kib);
	if (f != NULL)
		fclose(f);
	return kib * 1024;
}

/* What is left under RLIMIT_AS: unlimited, or what the handle left. */
static unsigned long
address_space_room(void)
{
	struct rlimit lim;

	if (getrlimit(RLIMIT_AS, &lim) == -1 || lim.rlim_cur == RLIM_INFINITY)
		return ULONG_MAX;
	return lim.rlim_cur - vm_size();
}

/* Send CAPTURED_FRAMES to the activated handle p and tally them. */
static void
capture(pcap_t *p, struct activation *a)
{
	struct bed_tally t;
	int sender_fd = bed_sender(bed.ns_a, bed.veth_a);

	bed_tally_init(&t, 0, CAPTURED_FRAMES);
	MUST(pcap_setnonblock(p, 1, a->msg));
	bed_send(sender_fd, 0, CAPTURED_FRAMES, 60, 1514, MIX_ALL, NULL);
	bed_drain(p, bed_tally_cb, (u_char *)&t, &t.frames, CAPTURED_FRAMES,
	    1.0);
	a->captured = t.frames - t.bad - t.dup;
	bed_tally_free(&t);
	close(sender_fd);
}

/*
 * Activate dev, in monitor mode if rfmon, with buffer_size unless 0; if
 * that works, capture through it.
 */
static void
activate(const char *dev, int immediate, int rfmon, int buffer_size,
    struct activation *a)
{
	pcap_t *p = bed_create(dev);

	MUST(pcap_set_immediate_mode(p, immediate));
	MUST(pcap_set_rfmon(p, rfmon));
	/* A block that retires: capture() reads a few frames. */
	MUST(pcap_set_timeout(p, 10));
	if (buffer_size != 0)
		MUST(pcap_set_buffer_size(p, buffer_size));
	a->status = pcap_activate(p);
	snprintf(a->msg, sizeof(a->msg), "%s", pcap_geterr(p));
	a->ring = bed_ring_handle(p);
	a->mapped = bed_ring_mapping_bytes();
	a->room = address_space_room();
	a->captured = 0;
	if (a->status == 0)
		capture(p, a);
	pcap_close(p);
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
	struct activation a;
	char what[64], veth[IFNAMSIZ];

	snprintf(veth, sizeof(veth), "prtdown%d", (int)getpid() % 100000);
	if (bed_sh("ip link add %s type veth peer name %sp", veth, veth) != 0)
		bed_fatal("cannot make veth %s", veth);
	snprintf(what, sizeof(what), "down-immediate%d", immediate);
	activate(veth, immediate, 0, 0, &a);
	expect(what, a.status, PCAP_ERROR_IFACE_NOT_UP, a.msg);
	check_ring(what, a.ring);
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
 * Activate the bed's interface in a child that first calls confine(); the
 * activation comes back by pipe.  0, or -1 when confine() failed.
 */
static int
activate_in_child(int immediate, int rfmon, int buffer_size,
    int (*confine)(void), struct activation *a)
{
	int fds[2], wstatus;
	pid_t pid;
	ssize_t n;

	if (pipe(fds) == -1)
		bed_fatal("pipe");
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		if (confine() == -1)
			_exit(77);
		activate(bed.veth_b, immediate, rfmon, buffer_size, a);
		_exit(write(fds[1], a, sizeof(*a)) == sizeof(*a) ? 0 : 1);
	}
	close(fds[1]);
	n = read(fds[0], a, sizeof(*a));
	close(fds[0]);
	waitpid(pid, &wstatus, 0);
	if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 77)
		return -1;
	if (n != sizeof(*a))
		bed_fatal("the activating child reported nothing");
	return 0;
}

static int
become_nobody(void)
{
	return setgroups(0, NULL) == -1 || setgid(65534) == -1 ||
	    setuid(65534) == -1 ? -1 : 0;
}

static void
unprivileged(int immediate, int rfmon)
{
	struct activation a;
	char what[64];

	if (activate_in_child(immediate, rfmon, 0, become_nobody, &a) == -1) {
		bed_skip_case("cannot become nobody (uid 65534): the unprivileged activation cases");
		return;
	}
	snprintf(what, sizeof(what), "unprivileged%s-immediate%d",
	    rfmon ? "-rfmon" : "", immediate);
	expect(what, a.status, PCAP_ERROR_PERM_DENIED, a.msg);
	check_ring(what, a.ring);
}

/*
 * Address space limits (ulimit -v) of what the process maps already and
 * some room: 24 MiB, which holds stock's 2 MiB ring and not 32 MiB, and
 * a sweep from 32 MiB, which holds a 32 MiB ring and little else.  Not
 * under a sanitizer, whose shadow memory takes terabytes of it.
 */
#define ROOM_STOCK_ONLY		(24UL * 1024 * 1024)
#define ROOM_SWEEP_FIRST	(32UL * 1024 * 1024)
#define ROOM_SWEEP_STEP		(128UL * 1024)
#define ROOM_SWEEP_STEPS	16
/*
 * What a handle under such a limit may take from the room: stock's
 * takes up to 4.3 MiB (immediate mode: a ring of 2 MiB and more, its
 * packet buffer).
 */
#define ROOM_HANDLE_TAKES	(5UL * 1024 * 1024)

static unsigned long address_room;

static int
limit_address_space(void)
{
	struct rlimit lim;
	unsigned long mapped = vm_size();

	if (mapped == 0 || mapped > 4UL * 1024 * 1024 * 1024)
		return -1;
	lim.rlim_cur = lim.rlim_max = mapped + address_room;
	return setrlimit(RLIMIT_AS, &lim);
}

/*
 * CHECK that an activation asking for no size under a limit captured
 * through stock's 2 MiB ring.
 */
static void
check_stock_ring(const char *what, int immediate, const struct activation *a)
{
	CHECK(a->status == 0, "%s, no buffer size asked: pcap_activate %d (%s)",
	    what, a->status, a->msg);
	check_ring(what, a->ring);
	/* Stock's immediate mode lays out its 2 MiB in larger frames. */
	if (!immediate)
		CHECK(a->mapped == 2 * 1024 * 1024,
		    "%s: a ring of %lu KiB mapped, not stock's 2048", what,
		    a->mapped / 1024);
	CHECK(a->captured == CAPTURED_FRAMES,
	    "%s: captured %lu of %d frames intact", what, a->captured,
	    CAPTURED_FRAMES);
}

/* A size asked for that the limit confine() sets does not hold: stock's error. */
static void
check_too_large(const char *what, int immediate, int buffer_size,
    int (*confine)(void))
{
	struct activation a;

	if (activate_in_child(immediate, 0, buffer_size, confine, &a) == -1)
		bed_fatal("%s: the limit worked once, not twice", what);
	expect(what, a.status, PCAP_ERROR, a.msg);
	check_ring(what, a.ring);
}

/*
 * Under such a limit a program that asks for no buffer size captures
 * with stock's 2 MiB ring and has the rest of the room for itself.
 */
static void
address_space_limit(int immediate)
{
	struct activation a;
	char what[96];
	int i;

	for (i = -1; i < ROOM_SWEEP_STEPS; i++) {
		address_room = i < 0 ? ROOM_STOCK_ONLY :
		    ROOM_SWEEP_FIRST + (unsigned long)i * ROOM_SWEEP_STEP;
		if (activate_in_child(immediate, 0, 0, limit_address_space,
		    &a) == -1) {
			bed_skip_case("address space limit: the process maps more than 4 GiB (a sanitizer build)");
			return;
		}
		snprintf(what, sizeof(what),
		    "address-space-limit-%luKiB-immediate%d",
		    address_room / 1024, immediate);
		check_stock_ring(what, immediate, &a);
		CHECK(a.room + ROOM_HANDLE_TAKES >= address_room,
		    "%s: the open handle left the program %lu KiB of its %lu",
		    what, a.room / 1024, address_room / 1024);
		if (a.status == 0)
			bed_ok("%s, no buffer size asked: %lu KiB of ring, %lu frames captured, %lu KiB left",
			    what, a.mapped / 1024, a.captured, a.room / 1024);
	}
	address_room = ROOM_STOCK_ONLY;
	snprintf(what, sizeof(what), "address-space-limit-256MiB-immediate%d",
	    immediate);
	check_too_large(what, immediate, 256 * 1024 * 1024,
	    limit_address_space);
}

/*
 * mlockall(MCL_FUTURE) without CAP_IPC_LOCK: every later mapping is
 * locked, and all must fit RLIMIT_MEMLOCK, here (the usual default) room
 * for stock's 2 MiB ring, not for 32 MiB.  The bed's watchdog thread
 * starts first: its 8 MiB stack would not fit.
 */
#define MEMLOCK_ROOM	(8UL * 1024 * 1024)

static int
lock_future_mappings(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct caps[_LINUX_CAPABILITY_U32S_3];
	struct rlimit lim = { MEMLOCK_ROOM, MEMLOCK_ROOM };
	uint32_t ipc_lock = 1U << (CAP_IPC_LOCK % 32);
	void *beyond;

	bed_deadline(30, "activating with future mappings locked");
	if (syscall(SYS_capget, &hdr, caps) == -1)
		return -1;
	caps[CAP_IPC_LOCK / 32].effective &= ~ipc_lock;
	caps[CAP_IPC_LOCK / 32].permitted &= ~ipc_lock;
	caps[CAP_IPC_LOCK / 32].inheritable &= ~ipc_lock;
	if (syscall(SYS_capset, &hdr, caps) == -1 ||
	    setrlimit(RLIMIT_MEMLOCK, &lim) == -1 ||
	    mlockall(MCL_FUTURE) == -1)
		return -1;
	/* A sanitizer's mlockall() does nothing: then this maps. */
	beyond = mmap(NULL, 2 * MEMLOCK_ROOM, PROT_READ,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (beyond != MAP_FAILED) {
		munmap(beyond, 2 * MEMLOCK_ROOM);
		return -1;
	}
	return 0;
}

/*
 * There a program that asks for no size captures with stock's 2 MiB: the
 * larger default's mapping fails and gives way.
 */
static void
memory_locked(int immediate)
{
	struct activation a;
	char what[64];

	if (activate_in_child(immediate, 0, 0, lock_future_mappings, &a) == -1) {
		bed_skip_case("mlockall(MCL_FUTURE) without CAP_IPC_LOCK: cannot drop the capability, or locking has no effect (a sanitizer build)");
		return;
	}
	snprintf(what, sizeof(what), "memory-locked-immediate%d", immediate);
	check_stock_ring(what, immediate, &a);
	if (a.status == 0)
		bed_ok("%s, no buffer size asked: %lu KiB of ring, %lu frames captured",
		    what, a.mapped / 1024, a.captured);
	snprintf(what, sizeof(what), "memory-locked-32MiB-immediate%d",
	    immediate);
	check_too_large(what, immediate, 32 * 1024 * 1024,
	    lock_future_mappings);
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
		address_space_limit(immediate);
		memory_locked(immediate);
	}
	return bed_finish();
}
