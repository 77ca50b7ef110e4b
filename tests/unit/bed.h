/*
 * Support for C tests that capture on the namespace test bed
 * (tests/lib/netns.sh): a veth pair VETH_A (in NS_A) - VETH_B (in NS_B).
 *
 * main() calls bed_enter() first.  Started without a bed (as
 * tests/run-tests.sh starts every test-* program), the program runs itself
 * again through tests/lib/bed-run.sh, which creates the bed and runs it in
 * NS_B once per library (ring, stock), so that one set of assertions
 * proves that both libraries behave alike.
 */
#ifndef bed_h
#define bed_h

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/resource.h>
#include <linux/if_packet.h>
#include <pcap/pcap.h>

#include "../tools/frames.h"
#include "../tools/must.h"

struct bed {
	const char *lib;	/* "ring" or "stock": the library loaded */
	int ring;		/* the ring library is loaded */
	const char *ns_a;
	const char *veth_a;	/* the peer, in NS_A */
	const char *veth_b;	/* the capture side, in this namespace */
	const char *tmp;	/* a directory removed with the bed */
	const char *self;	/* this program */
};
extern struct bed bed;
extern int bed_failures;

/* Count a failed expectation and go on; bed_finish() reports. */
#define CHECK(cond, ...) do { \
	if (!(cond)) { \
		bed_failures++; \
		printf("FAIL %s:%d [%s]: ", __FILE__, __LINE__, bed.lib); \
		printf(__VA_ARGS__); \
		printf("\n"); \
		fflush(stdout); \
	} \
} while (0)

void	bed_enter(int argc, char **argv, const char *libs);
/* Whether libpcap loaded pcap-ring.so (it loads plugins on first use). */
int	bed_plugin_loaded(void);
int	bed_finish(void);
void	bed_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void	bed_ok(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	bed_in_child(void (*one_case)(void), const char *what);
struct sock_filter;
void	bed_seccomp(struct sock_filter *code, unsigned short len);

/*
 * A case that cannot run here: its reason goes to tests/run-tests.sh,
 * which counts and lists it.
 */
void	bed_skip_case(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Whether what, which build-aux/install-deps.sh installs from package,
 * is here (the shell command test succeeds).  Under CI (CI set, and not
 * 0 or false) its absence counts as a failure.
 */
int	bed_have(const char *what, const char *package, const char *test);
int	bed_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
double	bed_now(void);
void	bed_sleep(double secs);
/* Wait up to secs for *count, which another thread raises, to reach n; 1 if it did. */
int	bed_wait_count(const unsigned long *count, unsigned long n, double secs);

/*
 * Fail the test (exit 1) if bed_deadline_clear() is not called within
 * secs: for calls that must return but might hang.
 */
void	bed_deadline(double secs, const char *what);
void	bed_deadline_clear(void);

/*
 * pcap_breakloop(p) from another thread, secs after bed_break_later();
 * bed_break_join() waits for that thread.
 */
struct bed_break {
	pcap_t *p;
	double secs;
	pthread_t tid;
};
void	bed_break_later(struct bed_break *b, pcap_t *p, double secs);
void	bed_break_join(struct bed_break *b);

/* Wait until both ends of the bed report their link up; 1 if they did. */
int	bed_wait_link_up(double secs);

/*
 * pcap_create() and pcap_activate() that must succeed; in the ring run
 * the handle must be pcap-ring's (bed_ring_handle()).
 */
pcap_t	*bed_create(const char *dev);
void	bed_activate(pcap_t *p);

/*
 * An activated handle on VETH_B, in immediate mode or not, with this
 * buffer size (0: the library's default) and timeout.
 */
pcap_t	*bed_open(int immediate, int buffer_size, int timeout_ms);
/* pcap_setnonblock(p, 1), which must succeed. */
void	bed_setnonblock(pcap_t *p);
/* bed_open(), not in immediate mode, then bed_setnonblock(). */
pcap_t	*bed_open_nonblocking(int buffer_size, int timeout_ms);

/*
 * Whether pcap-ring has the handle (activated or not), asked of the
 * module itself: pcap_tx_stats() exists only in the ring library, and
 * there it fails with PCAP_ERROR on handles the module left to stock
 * pcap-linux.  It is looked up with dlsym() so that the same program
 * runs under the stock library.  The handle's error message is kept.
 */
int	bed_ring_handle(pcap_t *p);

/* CHECK that p is pcap-ring's in the ring run. */
void	bed_check_claimed(pcap_t *p, const char *what);

/* Whether the module's trace (PCAP_RING_TRACE) has a line that ends in tail. */
int	bed_traced(const char *tail);

/*
 * CHECK that pcap-ring left dev to stock pcap-linux on purpose: in the
 * ring run, the module's trace (PCAP_RING_TRACE, set by lib/bed-run.sh)
 * must give reason.  For cases that test stock's own behaviour.
 */
void	bed_check_declined(pcap_t *p, const char *dev, const char *reason);

/*
 * A packet socket that sends on ifname in network namespace ns (NULL:
 * this one).  bed_send() sends frames first..first+n-1 (frames.h) with
 * lengths in [min_len, max_len]; dst, if not NULL, replaces the
 * destination MAC address.
 */
int	bed_sender(const char *ns, const char *ifname);
void	bed_send(int fd, uint32_t first, uint32_t n, size_t min_len,
	    size_t max_len, enum frame_mix mix, const uint8_t *dst);

/*
 * Test frames seen by a capture; other packets count as "other".  A frame
 * is bad unless its bytes, its length and its caplen (the smaller of its
 * length and snaplen) are what was sent.
 */
struct bed_tally {
	uint32_t base, expected;
	uint32_t snaplen;	/* the handle's; 262144 unless set after init */
	unsigned long packets;	/* everything delivered */
	unsigned long frames, dup, reorder, bad, other;
	int64_t last;
	unsigned char *seen;
	/*
	 * Frames sent from two CPUs: veth hands each to the receive backlog
	 * of the CPU that sent it, and the two backlogs may reach a packet
	 * socket out of order.  bed_tally_check() then only reports order.
	 */
	int any_order;
};
void	bed_tally_init(struct bed_tally *, uint32_t base, uint32_t expected);
void	bed_tally_free(struct bed_tally *);
void	bed_tally_packet(struct bed_tally *, const struct pcap_pkthdr *,
	    const u_char *);
/* A pcap_handler whose user argument is a struct bed_tally. */
void	bed_tally_cb(u_char *, const struct pcap_pkthdr *, const u_char *);
/* CHECK that frames base..base+expected-1 all arrived, once, in order (see any_order), intact. */
void	bed_tally_check(const struct bed_tally *, const char *what);

/*
 * A packet socket that receives everything on ifname in ns, whatever the
 * library under test does; bed_receive() tallies the frames it receives
 * (not those sent on its side) until t has them all or nothing came for
 * idle seconds.
 */
int	bed_receiver(const char *ns, const char *ifname);
void	bed_receive(int fd, struct bed_tally *t, double idle);

/*
 * pcap_tx_stats() and pcap_inject_flush() of the ring library; under
 * stock, -1 and 0 (nothing waits).
 */
int	bed_tx_stats(pcap_t *p, struct pcap_tx_stat *ts);
int	bed_inject_flush(pcap_t *p);

/*
 * Read a non-blocking handle as an event loop does: pcap_dispatch() only
 * once poll() says the selectable descriptor is readable, until *count
 * (if count is not NULL) reaches want or nothing came for idle seconds.
 * Packets behind a descriptor that never becomes readable stay unread.
 */
void	bed_drain(pcap_t *p, pcap_handler cb, u_char *user,
	    const unsigned long *count, unsigned long want, double idle);

/*
 * Send frames 0..BED_STAMPED_FRAMES-1 from sender_fd, 5 ms apart, read
 * them from two non-blocking handles on VETH_B, and count the frames both
 * stamped alike, to the microsecond.  CHECKs that both saw every frame.
 */
#define BED_STAMPED_FRAMES	20
unsigned int bed_stamps_alike(pcap_t *a, pcap_t *b, int sender_fd);

/*
 * Whether two microsecond handles stamp most frames apart: each packet
 * socket reads the clock as it takes the packet, unless some socket on
 * the machine has the kernel stamp every packet as it enters the stack.
 * If not, the case cannot tell whether a handle turns that on: skipped.
 */
int	bed_stamps_per_socket(int sender_fd);

/*
 * The last TPACKET_V3 capture ring asked of the kernel in this process,
 * and the interface its socket was bound to then (0: none), as the bed's
 * setsockopt() saw them: it comes before libc's for every caller, the
 * libraries and their plugins included, and passes each call on.
 */
struct bed_rx_ring {
	struct tpacket_req3 req;
	int ifindex;
};
extern struct bed_rx_ring bed_last_rx_ring;

/*
 * The ring and fanout calls of this process since the log was last
 * cleared, in order, as the bed's setsockopt() and dup3() saw them: 'R'
 * a capture ring, 'J' a join (PACKET_FANOUT), 'j' one the kernel refused,
 * 'P' the group's program set (PACKET_FANOUT_DATA), 'S' a growth step's
 * switch (the new socket dup3()'d onto the capture socket's number).
 * Later calls are left out once calls[] is full.
 */
struct bed_fanout_log {
	char calls[128];
	unsigned int n;
};
extern struct bed_fanout_log bed_fanout_log;

/*
 * Once armed, the first join (PACKET_FANOUT) that thread `thread` (with
 * any_thread, any thread: a growth step's worker) makes after `skip`
 * others sets `paused` and waits `secs` before the kernel gets it, so
 * that another thread can act in the middle of a growth step; then it
 * fails with fail_errno instead if that is not 0.
 */
struct bed_join_pause {
	pthread_t thread;
	int any_thread;
	double secs;
	int fail_errno;
	int skip;
	int armed, paused;	/* __atomic */
};
extern struct bed_join_pause bed_join_pause;

/* Descriptors this process has open. */
int	bed_count_fds(void);

/* Bytes of packet-socket rings (capture and TX) mapped into this process. */
unsigned long	bed_ring_mapping_bytes(void);

/*
 * A process short of descriptors: bed_descriptors_leave() lets it open
 * only n more (RLIMIT_NOFILE, and every free number below it taken),
 * bed_descriptors_restore() undoes that.
 */
struct bed_fd_limit {
	struct rlimit old;
	int *fill;
	int nfill;
};
void	bed_descriptors_leave(struct bed_fd_limit *, int n);
void	bed_descriptors_restore(struct bed_fd_limit *);

#endif
