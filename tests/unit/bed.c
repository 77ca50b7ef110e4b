/*
 * Support for C tests on the namespace test bed; see bed.h.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <link.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/seccomp.h>

#include "bed.h"

struct bed bed = { .lib = "?" };
int bed_failures;

static char self_path[PATH_MAX];

void
bed_fatal(const char *fmt, ...)
{
	va_list ap;

	printf("FAIL [%s]: ", bed.lib);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	exit(1);
}

void
bed_ok(const char *fmt, ...)
{
	va_list ap;

	printf("ok [%s]: ", bed.lib);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

void
bed_skip_case(const char *fmt, ...)
{
	const char *path = getenv("TEST_SKIPS");
	char reason[512];
	va_list ap;
	FILE *f;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	printf("skipped [%s]: %s\n", bed.lib, reason);
	fflush(stdout);
	if (path != NULL && path[0] != '\0' && (f = fopen(path, "a")) != NULL) {
		fprintf(f, "%s\n", reason);
		fclose(f);
	}
}

static int
in_ci(void)
{
	const char *v = getenv("CI");

	return v != NULL && v[0] != '\0' && strcmp(v, "0") != 0 &&
	    strcmp(v, "false") != 0;
}

int
bed_have(const char *what, const char *package, const char *test)
{
	if (bed_sh("%s >/dev/null 2>&1", test) == 0)
		return 1;
	CHECK(!in_ci(), "%s is missing, though build-aux/install-deps.sh installs it (package %s) and this is CI",
	    what, package);
	return 0;
}

static const char *
env_or_die(const char *name)
{
	const char *v = getenv(name);

	if (v == NULL || v[0] == '\0')
		bed_fatal("%s is not set", name);
	return v;
}

typedef int (*tx_stats_fn)(pcap_t *, struct pcap_tx_stat *);

static tx_stats_fn
tx_stats_function(void)
{
	static tx_stats_fn fn;
	static int looked_up;

	if (!looked_up) {
		fn = (tx_stats_fn)dlsym(RTLD_DEFAULT, "pcap_tx_stats");
		looked_up = 1;
	}
	return fn;
}

/* Whether the object is the pcap-ring.so under test ($RING_PLUGIN). */
static int
find_ring_plugin(struct dl_phdr_info *info, size_t size, void *found)
{
	const char *want = getenv("RING_PLUGIN");
	const char *slash = strrchr(info->dlpi_name, '/');

	(void)size;
	if (want != NULL ? strcmp(info->dlpi_name, want) == 0 :
	    slash != NULL && strcmp(slash + 1, "pcap-ring.so") == 0)
		*(int *)found = 1;
	return 0;
}

int
bed_plugin_loaded(void)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *p;
	int found = 0;

	/* libpcap loads its plugins when it is first asked for a device. */
	p = pcap_create("lo", errbuf);
	if (p != NULL)
		pcap_close(p);
	dl_iterate_phdr(find_ring_plugin, &found);
	return found;
}

void
bed_enter(int argc, char **argv, const char *libs)
{
	const char *srcdir;
	char script[PATH_MAX];
	char **args;
	ssize_t n;
	int i;

	n = readlink("/proc/self/exe", self_path, sizeof(self_path) - 1);
	if (n <= 0)
		bed_fatal("readlink /proc/self/exe: %s", strerror(errno));
	self_path[n] = '\0';
	bed.self = self_path;

	if (getenv("BED_VETH_B") == NULL) {
		srcdir = getenv("TESTSRCDIR");
		if (srcdir == NULL) {
			printf("skipped: run through tests/run-tests.sh (TESTSRCDIR is not set)\n");
			exit(77);
		}
		snprintf(script, sizeof(script), "%s/lib/bed-run.sh", srcdir);
		args = calloc(argc + 4, sizeof(*args));
		if (args == NULL)
			bed_fatal("calloc");
		args[0] = "sh";
		args[1] = script;
		args[2] = (char *)libs;
		args[3] = self_path;
		for (i = 1; i < argc; i++)
			args[3 + i] = argv[i];
		execv("/bin/sh", args);
		bed_fatal("exec /bin/sh %s: %s", script, strerror(errno));
	}
	bed.lib = env_or_die("BED_LIB");
	bed.ns_a = env_or_die("BED_NS_A");
	bed.veth_a = env_or_die("BED_VETH_A");
	bed.veth_b = env_or_die("BED_VETH_B");
	bed.tmp = env_or_die("BED_TMP");
	bed.ring = bed_plugin_loaded();
	/* A test that ran one library twice would prove nothing. */
	if (bed.ring != (strcmp(bed.lib, "ring") == 0))
		bed_fatal("BED_LIB is %s but pcap-ring.so is %sloaded (%s)",
		    bed.lib, bed.ring ? "" : "not ", pcap_lib_version());
	if (bed.ring != (tx_stats_function() != NULL))
		bed_fatal("the %s library %s pcap_tx_stats()", bed.lib,
		    bed.ring ? "lacks" : "has");
	setvbuf(stdout, NULL, _IOLBF, 0);
}

int
bed_finish(void)
{
	if (bed_failures != 0) {
		printf("%d failures with the %s library\n", bed_failures,
		    bed.lib);
		return 1;
	}
	printf("all passed with the %s library\n", bed.lib);
	return 0;
}

/*
 * A case in a child process, whose state (a seccomp filter, the kernel's
 * answer the module keeps) the later cases must not inherit.  Its
 * failures and successes are reported by the child; the parent checks
 * that it ended well.
 */
void
bed_in_child(void (*one_case)(void), const char *what)
{
	pid_t pid;
	int status;

	fflush(stdout);
	pid = fork();
	if (pid == -1)
		bed_fatal("fork");
	if (pid == 0) {
		bed_failures = 0;	/* its own, not the cases' before */
		one_case();
		fflush(stdout);
		_exit(bed_failures != 0);
	}
	if (waitpid(pid, &status, 0) != pid)
		bed_fatal("waitpid: %s", strerror(errno));
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "%s: the child failed (status %#x)", what, status);
}

/*
 * This process's system calls go through filter code from now on, as a
 * sandbox's would (in a child: bed_in_child()).
 */
void
bed_seccomp(struct sock_filter *code, unsigned short len)
{
	struct sock_fprog prog = { len, code };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == -1)
		bed_fatal("seccomp: %s", strerror(errno));
}

int
bed_sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int status;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	fflush(stdout);
	status = system(cmd);
	if (status == -1 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

double
bed_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void
bed_sleep(double secs)
{
	struct timespec ts;

	ts.tv_sec = (time_t)secs;
	ts.tv_nsec = (long)((secs - ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

int
bed_wait_count(const unsigned long *count, unsigned long n, double secs)
{
	double end = bed_now() + secs;

	while (__atomic_load_n(count, __ATOMIC_ACQUIRE) < n) {
		if (bed_now() > end)
			return 0;
		bed_sleep(0.01);
	}
	return 1;
}

/* The watchdog: milliseconds on the monotonic clock, 0 for none. */
static long long deadline_ms;
static const char *deadline_what;

static long long
now_ms(void)
{
	return (long long)(bed_now() * 1000);
}

static void *
watchdog(void *arg)
{
	long long d;

	(void)arg;
	for (;;) {
		bed_sleep(0.05);
		d = __atomic_load_n(&deadline_ms, __ATOMIC_ACQUIRE);
		if (d != 0 && now_ms() > d) {
			printf("FAIL [%s]: %s did not finish in time\n", bed.lib,
			    deadline_what);
			fflush(stdout);
			_exit(1);
		}
	}
	return NULL;
}

void
bed_deadline(double secs, const char *what)
{
	static int started;
	pthread_t tid;
	sigset_t all, old;

	deadline_what = what;
	__atomic_store_n(&deadline_ms, now_ms() + (long long)(secs * 1000),
	    __ATOMIC_RELEASE);
	/* The watchdog takes no signals: the tests send their own. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	if (!started) {
		if (pthread_create(&tid, NULL, watchdog, NULL) != 0)
			bed_fatal("pthread_create");
		pthread_detach(tid);
		started = 1;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static void *
break_after(void *arg)
{
	struct bed_break *b = arg;

	bed_sleep(b->secs);
	pcap_breakloop(b->p);
	return NULL;
}

void
bed_break_later(struct bed_break *b, pcap_t *p, double secs)
{
	b->p = p;
	b->secs = secs;
	if (pthread_create(&b->tid, NULL, break_after, b) != 0)
		bed_fatal("pthread_create");
}

void
bed_break_join(struct bed_break *b)
{
	pthread_join(b->tid, NULL);
}

void
bed_deadline_clear(void)
{
	__atomic_store_n(&deadline_ms, 0, __ATOMIC_RELEASE);
}

pcap_t *
bed_create(const char *dev)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *p;

	p = pcap_create(dev, errbuf);
	if (p == NULL)
		bed_fatal("pcap_create(%s): %s", dev, errbuf);
	return p;
}

void
bed_activate(pcap_t *p)
{
	int status = pcap_activate(p);

	if (status < 0)
		bed_fatal("pcap_activate: %s (%s)", pcap_statustostr(status),
		    pcap_geterr(p));
	/* Otherwise the ring run would test stock pcap-linux twice. */
	if (bed.ring && !bed_ring_handle(p))
		bed_fatal("pcap-ring did not take the device: stock pcap-linux has the handle");
}

pcap_t *
bed_open(int immediate, int buffer_size, int timeout_ms)
{
	pcap_t *p = bed_create(bed.veth_b);

	MUST(pcap_set_immediate_mode(p, immediate));
	if (buffer_size != 0)
		MUST(pcap_set_buffer_size(p, buffer_size));
	MUST(pcap_set_timeout(p, timeout_ms));
	bed_activate(p);
	return p;
}

void
bed_setnonblock(pcap_t *p)
{
	char errbuf[PCAP_ERRBUF_SIZE];

	if (pcap_setnonblock(p, 1, errbuf) != 0)
		bed_fatal("pcap_setnonblock: %s", errbuf);
}

pcap_t *
bed_open_nonblocking(int buffer_size, int timeout_ms)
{
	pcap_t *p = bed_open(0, buffer_size, timeout_ms);

	bed_setnonblock(p);
	return p;
}

int
bed_ring_handle(pcap_t *p)
{
	tx_stats_fn tx_stats = tx_stats_function();
	char saved[PCAP_ERRBUF_SIZE];
	struct pcap_tx_stat ts;
	int ret;

	if (tx_stats == NULL)
		return 0;
	memcpy(saved, pcap_geterr(p), sizeof(saved));
	ret = tx_stats(p, &ts);
	memcpy(pcap_geterr(p), saved, sizeof(saved));
	return ret == 0 || ret == PCAP_ERROR_NOT_ACTIVATED;
}

void
bed_check_claimed(pcap_t *p, const char *what)
{
	CHECK(bed_ring_handle(p) == bed.ring,
	    "%s: the handle is %s's", what,
	    bed.ring ? "stock pcap-linux" : "pcap-ring");
}

int
bed_traced(const char *tail)
{
	const char *path = getenv("PCAP_RING_TRACE");
	char line[1024];
	size_t n, len = strlen(tail);
	int found = 0;
	FILE *f;

	if (path == NULL || (f = fopen(path, "r")) == NULL)
		return 0;
	while (!found && fgets(line, sizeof(line), f) != NULL) {
		n = strlen(line);
		found = n > len && strcmp(line + n - len, tail) == 0;
	}
	fclose(f);
	return found;
}

void
bed_check_declined(pcap_t *p, const char *dev, const char *reason)
{
	char tail[512];

	CHECK(!bed_ring_handle(p), "%s: pcap-ring took it, but should leave it to stock pcap-linux (%s)",
	    dev, reason);
	if (!bed.ring)
		return;
	snprintf(tail, sizeof(tail), "]: declined %s: %s\n", dev, reason);
	if (bed_traced(tail))
		bed_ok("%s: pcap-ring leaves it to stock pcap-linux: %s", dev,
		    reason);
	else
		CHECK(0, "%s: the module's trace (%s) does not say it declined %s: %s",
		    dev, getenv("PCAP_RING_TRACE"), dev, reason);
}

/* A packet socket of protocol (network order) bound to ifname in ns. */
static int
packet_socket(const char *ns, const char *ifname, int protocol)
{
	struct sockaddr_ll sll;
	char path[PATH_MAX];
	int here = -1, there, fd;

	if (ns != NULL) {
		here = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
		snprintf(path, sizeof(path), "/run/netns/%s", ns);
		there = open(path, O_RDONLY | O_CLOEXEC);
		if (here == -1 || there == -1 || setns(there, CLONE_NEWNET) == -1)
			bed_fatal("entering network namespace %s: %s", ns,
			    strerror(errno));
		close(there);
	}
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, protocol);
	if (fd == -1)
		bed_fatal("packet socket: %s", strerror(errno));
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = (uint16_t)protocol;
	sll.sll_ifindex = (int)if_nametoindex(ifname);
	if (sll.sll_ifindex == 0 ||
	    bind(fd, (struct sockaddr *)&sll, sizeof(sll)) == -1)
		bed_fatal("packet socket bind to %s: %s", ifname, strerror(errno));
	if (ns != NULL) {
		if (setns(here, CLONE_NEWNET) == -1)
			bed_fatal("leaving network namespace %s: %s", ns,
			    strerror(errno));
		close(here);
	}
	return fd;
}

int
bed_sender(const char *ns, const char *ifname)
{
	/* Protocol 0: the sender receives nothing. */
	return packet_socket(ns, ifname, 0);
}

int
bed_receiver(const char *ns, const char *ifname)
{
	int fd = packet_socket(ns, ifname, htons(ETH_P_ALL));
	int size = 64 * 1024 * 1024;

	/* Room for a burst while the receiving thread waits for a core. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) == -1)
		bed_fatal("SO_RCVBUFFORCE: %s", strerror(errno));
	return fd;
}

void
bed_receive(int fd, struct bed_tally *t, double idle)
{
	static uint8_t frame[FRAME_MAX_LEN];
	struct sockaddr_ll from;
	struct pcap_pkthdr h;
	socklen_t len;
	ssize_t n;
	struct pollfd pfd = { fd, POLLIN, 0 };

	memset(&h, 0, sizeof(h));
	while (t->frames < t->expected &&
	    poll(&pfd, 1, (int)(idle * 1000)) == 1) {
		len = sizeof(from);
		n = recvfrom(fd, frame, sizeof(frame), MSG_TRUNC,
		    (struct sockaddr *)&from, &len);
		if (n == -1)
			bed_fatal("recvfrom: %s", strerror(errno));
		/* What this side sends shows too. */
		if (from.sll_pkttype == PACKET_OUTGOING)
			continue;
		h.len = (bpf_u_int32)n;
		h.caplen = n > (ssize_t)sizeof(frame) ? sizeof(frame) : (bpf_u_int32)n;
		bed_tally_packet(t, &h, frame);
	}
}

int
bed_tx_stats(pcap_t *p, struct pcap_tx_stat *ts)
{
	tx_stats_fn tx_stats = tx_stats_function();

	return tx_stats == NULL ? -1 : tx_stats(p, ts);
}

int
bed_inject_flush(pcap_t *p)
{
	int (*flush)(pcap_t *) = (int (*)(pcap_t *))dlsym(RTLD_DEFAULT,
	    "pcap_inject_flush");

	return flush == NULL ? 0 : flush(p);
}

void
bed_send(int fd, uint32_t first, uint32_t n, size_t min_len, size_t max_len,
    enum frame_mix mix, const uint8_t *dst)
{
	static uint8_t frame[FRAME_MAX_LEN];
	uint32_t i;
	size_t len;

	for (i = first; i < first + n; i++) {
		len = frame_build(frame, i, frame_len(i, min_len, max_len), mix);
		if (dst != NULL)
			memcpy(frame, dst, 6);
		if (send(fd, frame, len, 0) != (ssize_t)len)
			bed_fatal("sending frame %u: %s", i, strerror(errno));
	}
}

void
bed_tally_init(struct bed_tally *t, uint32_t base, uint32_t expected)
{
	memset(t, 0, sizeof(*t));
	t->base = base;
	t->expected = expected;
	t->snaplen = 262144;
	t->last = -1;
	t->seen = calloc(expected ? expected : 1, 1);
	if (t->seen == NULL)
		bed_fatal("calloc");
}

void
bed_tally_free(struct bed_tally *t)
{
	free(t->seen);
	t->seen = NULL;
}

void
bed_tally_packet(struct bed_tally *t, const struct pcap_pkthdr *h,
    const u_char *bytes)
{
	int intact;
	int64_t seq = frame_seq(bytes, h->caplen, h->len, &intact);

	t->packets++;
	if (seq < t->base || seq >= (int64_t)t->base + t->expected) {
		t->other++;
		return;
	}
	if (!intact || h->caplen != (h->len < t->snaplen ? h->len : t->snaplen))
		t->bad++;
	if (t->seen[seq - t->base]++) {
		t->dup++;
		return;
	}
	if (seq < t->last)
		t->reorder++;
	t->last = seq;
	t->frames++;
}

void
bed_tally_cb(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	bed_tally_packet((struct bed_tally *)user, h, bytes);
}

void
bed_tally_check(const struct bed_tally *t, const char *what)
{
	int in_order = t->reorder == 0 || t->any_order;

	CHECK(t->frames == t->expected && t->dup == 0 && in_order &&
	    t->bad == 0,
	    "%s: frames %lu of %u, dup %lu, reorder %lu, bad %lu, other %lu",
	    what, t->frames, t->expected, t->dup, t->reorder, t->bad, t->other);
	if (t->frames == t->expected && t->dup == 0 && in_order &&
	    t->bad == 0)
		bed_ok("%s: %lu frames, %lu out of order, intact", what,
		    t->frames, t->reorder);
}

void
bed_drain(pcap_t *p, pcap_handler cb, u_char *user, const unsigned long *count,
    unsigned long want, double idle)
{
	struct pollfd pfd = { pcap_get_selectable_fd(p), POLLIN, 0 };
	double last = bed_now();
	int n;

	bed_deadline(60, "reading the capture");
	while ((count == NULL || *count < want) && bed_now() - last < idle) {
		if (poll(&pfd, 1, 10) <= 0)
			continue;
		n = pcap_dispatch(p, -1, cb, user);
		if (n < 0) {
			CHECK(0, "pcap_dispatch: %s", pcap_geterr(p));
			break;
		}
		if (n > 0)
			last = bed_now();
	}
	bed_deadline_clear();
}

struct bed_rx_ring bed_last_rx_ring;
struct bed_fanout_log bed_fanout_log;
struct bed_join_pause bed_join_pause;

/* Threads may log at once; the last byte of calls[] stays 0. */
static void
log_fanout_call(char call)
{
	unsigned int i = __atomic_fetch_add(&bed_fanout_log.n, 1,
	    __ATOMIC_RELAXED);

	if (i < sizeof(bed_fanout_log.calls) - 1)
		bed_fanout_log.calls[i] = call;
}

int
setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	static int (*next_setsockopt)(int, int, int, const void *, socklen_t);
	struct sockaddr_ll sll;
	socklen_t sll_len = sizeof(sll);
	int saved_errno = errno, ret;

	if (next_setsockopt == NULL)
		next_setsockopt = (int (*)(int, int, int, const void *,
		    socklen_t))dlsym(RTLD_NEXT, "setsockopt");
	if (level == SOL_PACKET && name == PACKET_RX_RING &&
	    len == sizeof(bed_last_rx_ring.req) &&
	    ((const struct tpacket_req3 *)val)->tp_block_nr != 0) {
		memcpy(&bed_last_rx_ring.req, val, sizeof(bed_last_rx_ring.req));
		memset(&sll, 0, sizeof(sll));
		bed_last_rx_ring.ifindex = getsockname(fd,
		    (struct sockaddr *)&sll, &sll_len) == 0 ? sll.sll_ifindex : 0;
		errno = saved_errno;
	}
	if (level == SOL_PACKET && name == PACKET_FANOUT &&
	    (bed_join_pause.any_thread ||
	    pthread_equal(pthread_self(), bed_join_pause.thread)) &&
	    __atomic_load_n(&bed_join_pause.armed, __ATOMIC_ACQUIRE) &&
	    bed_join_pause.skip-- <= 0 &&
	    __atomic_exchange_n(&bed_join_pause.armed, 0, __ATOMIC_ACQ_REL)) {
		bed_join_pause.skip = 0;
		__atomic_store_n(&bed_join_pause.paused, 1, __ATOMIC_RELEASE);
		bed_sleep(bed_join_pause.secs);
		if (bed_join_pause.fail_errno != 0) {
			errno = bed_join_pause.fail_errno;
			return -1;
		}
	}
	ret = next_setsockopt(fd, level, name, val, len);
	/*
	 * What the kernel took (ring setup retries smaller rings), and the
	 * joins it refused.
	 */
	if (ret == -1 && level == SOL_PACKET && name == PACKET_FANOUT)
		log_fanout_call('j');
	if (ret == 0 && level == SOL_PACKET) {
		if (name == PACKET_RX_RING &&
		    ((const struct tpacket_req3 *)val)->tp_block_nr != 0)
			log_fanout_call('R');
		else if (name == PACKET_FANOUT)
			log_fanout_call('J');
		else if (name == PACKET_FANOUT_DATA)
			log_fanout_call('P');
	}
	return ret;
}

/*
 * A growth switch dup3()s the new socket onto the capture number (and
 * may park the new socket's own number on the epoll set's file).
 */
int
dup3(int oldfd, int newfd, int flags)
{
	static int (*next_dup3)(int, int, int);
	struct stat st;
	int ret;

	if (next_dup3 == NULL)
		next_dup3 = (int (*)(int, int, int))dlsym(RTLD_NEXT, "dup3");
	ret = next_dup3(oldfd, newfd, flags);
	if (ret != -1 && fstat(newfd, &st) == 0 && S_ISSOCK(st.st_mode))
		log_fanout_call('S');
	return ret;
}

struct bed_stamps {
	int nano;		/* the handle's precision is nanoseconds */
	unsigned int n;
	int64_t ns[BED_STAMPED_FRAMES];
};

static void
record_stamp(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct bed_stamps *s = (struct bed_stamps *)user;
	int intact;
	int64_t seq = frame_seq(bytes, h->caplen, h->len, &intact);

	if (seq < 0 || seq >= BED_STAMPED_FRAMES)
		return;
	s->ns[seq] = (int64_t)h->ts.tv_sec * 1000000000 +
	    (s->nano ? h->ts.tv_usec : (int64_t)h->ts.tv_usec * 1000);
	s->n++;
}

unsigned int
bed_stamps_alike(pcap_t *a, pcap_t *b, int sender_fd)
{
	struct bed_stamps sa, sb;
	unsigned int alike = 0;
	uint32_t i;

	memset(&sa, 0, sizeof(sa));
	memset(&sb, 0, sizeof(sb));
	sa.nano = pcap_get_tstamp_precision(a) == PCAP_TSTAMP_PRECISION_NANO;
	sb.nano = pcap_get_tstamp_precision(b) == PCAP_TSTAMP_PRECISION_NANO;
	/*
	 * The first socket that asks for stamps at entry has the kernel turn
	 * them on from a work item, a moment later (net_enable_timestamp()).
	 */
	bed_sleep(0.05);
	for (i = 0; i < BED_STAMPED_FRAMES; i++) {
		bed_send(sender_fd, i, 1, 100, 100, MIX_UDP, NULL);
		bed_sleep(0.005);
	}
	bed_drain(a, record_stamp, (u_char *)&sa, NULL, 0, 0.3);
	bed_drain(b, record_stamp, (u_char *)&sb, NULL, 0, 0.3);
	CHECK(sa.n == BED_STAMPED_FRAMES && sb.n == BED_STAMPED_FRAMES,
	    "time stamps: %u and %u of %d frames captured", sa.n, sb.n,
	    BED_STAMPED_FRAMES);
	for (i = 0; i < BED_STAMPED_FRAMES; i++)
		alike += sa.ns[i] != 0 &&
		    sa.ns[i] / 1000 == sb.ns[i] / 1000;
	return alike;
}

int
bed_stamps_per_socket(int sender_fd)
{
	pcap_t *a = bed_open_nonblocking(2 * 1024 * 1024, 50);
	pcap_t *b = bed_open_nonblocking(2 * 1024 * 1024, 50);
	unsigned int alike = bed_stamps_alike(a, b, sender_fd);

	pcap_close(b);
	pcap_close(a);
	if (alike <= BED_STAMPED_FRAMES / 2)
		return 1;
	bed_skip_case("time stamps: two microsecond handles stamped %u of %d frames alike: a socket has the kernel stamp packets already",
	    alike, BED_STAMPED_FRAMES);
	return 0;
}

int
bed_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		bed_fatal("opendir /proc/self/fd");
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;	/* the directory's own */
}

unsigned long
bed_ring_mapping_bytes(void)
{
	unsigned long start, end, total = 0;
	char line[512];
	FILE *f = fopen("/proc/self/maps", "r");

	if (f == NULL)
		bed_fatal("/proc/self/maps");
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, "socket:[") != NULL &&
		    sscanf(line, "%lx-%lx", &start, &end) == 2)
			total += end - start;
	fclose(f);
	return total;
}

void
bed_descriptors_leave(struct bed_fd_limit *l, int n)
{
	struct rlimit lim;
	struct dirent *e;
	int highest = 0;
	DIR *d = opendir("/proc/self/fd");

	if (d == NULL)
		bed_fatal("/proc/self/fd: %s", strerror(errno));
	/* Not counting the directory's own descriptor, closed below. */
	while ((e = readdir(d)) != NULL)
		if (atoi(e->d_name) > highest && atoi(e->d_name) != dirfd(d))
			highest = atoi(e->d_name);
	closedir(d);
	if (getrlimit(RLIMIT_NOFILE, &l->old) == -1)
		bed_fatal("getrlimit: %s", strerror(errno));
	lim = l->old;
	lim.rlim_cur = (rlim_t)(highest + 1 + n);
	if (setrlimit(RLIMIT_NOFILE, &lim) == -1)
		bed_fatal("setrlimit: %s", strerror(errno));
	/* The free numbers below the highest one in use, taken. */
	l->fill = calloc((size_t)(highest + 1 + n), sizeof(int));
	if (l->fill == NULL)
		bed_fatal("calloc");
	l->nfill = 0;
	while ((l->fill[l->nfill] = open("/dev/null", O_RDONLY | O_CLOEXEC)) != -1)
		l->nfill++;
	if (errno != EMFILE)
		bed_fatal("taking the free descriptors: %s", strerror(errno));
	while (l->nfill > 0 && l->fill[l->nfill - 1] > highest)
		close(l->fill[--l->nfill]);
}

void
bed_descriptors_restore(struct bed_fd_limit *l)
{
	while (l->nfill > 0)
		close(l->fill[--l->nfill]);
	free(l->fill);
	(void)setrlimit(RLIMIT_NOFILE, &l->old);
}

int
bed_wait_link_up(double secs)
{
	double end = bed_now() + secs;

	while (bed_now() < end) {
		if (bed_sh("grep -qx up /sys/class/net/%s/operstate && "
		    "ip -n %s -o link show %s | grep -q 'state UP'",
		    bed.veth_b, bed.ns_a, bed.veth_a) == 0)
			return 1;
		bed_sleep(0.05);
	}
	return 0;
}
