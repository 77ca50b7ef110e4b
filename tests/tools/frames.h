/*
 * Deterministic test frames shared by the generator and the checkers,
 * and what the test programs that send or capture them have in common.
 *
 * Frame i of a run is a function of i alone, so that a capture can be
 * checked against what was sent.  Addresses are from TEST-NET-2
 * (198.51.100.0/24, RFC 5737), used only inside the tests' own network
 * namespaces; nothing routes them.
 */
#ifndef frames_h
#define frames_h

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <pcap/pcap.h>

#define FRAME_MAGIC		0x50524e47u	/* "PRNG" */
#define FRAME_MIN_LEN		60
#define FRAME_MAX_LEN		9018

enum frame_mix {
	MIX_UDP,	/* untagged UDP only */
	MIX_ALL		/* UDP, TCP, 802.1Q and 802.1ad tagged, ARP */
};

/* Length of frame i for sizes in [min_len, max_len]. */
size_t	frame_len(uint32_t i, size_t min_len, size_t max_len);

/*
 * Write frame i into buf (FRAME_MAX_LEN bytes) with the given length, or
 * the shortest that holds its headers if that is longer; returns the length.
 */
size_t	frame_build(uint8_t *buf, uint32_t i, size_t len, enum frame_mix mix);

/*
 * The sequence number a frame carries, or -1 if it is not one of ours
 * (after tags are accounted for).  *intact is set when len is the length
 * the frame states (in its IPv4 header, or after the sequence number of
 * an ARP frame) and the payload pattern matches frame_build() for that
 * number up to caplen.
 */
int64_t	frame_seq(const uint8_t *buf, size_t caplen, size_t len, int *intact);

/*
 * The frames a program sends: first..first+count-1, of lengths in
 * [min_len, max_len], taken from its options -n COUNT, -f FIRST,
 * -l MIN-MAX and -m udp|all (FRAME_RUN_OPTIONS, for getopt()).
 */
struct frame_run {
	unsigned long first, count;
	size_t min_len, max_len;
	enum frame_mix mix;
};
#define FRAME_RUN_OPTIONS	"n:f:l:m:"
#define FRAME_RUN_DEFAULT	{ 0, 0, FRAME_MIN_LEN, 1514, MIX_ALL }

/*
 * Take option opt and its argument into run: 0, or -1 if opt is not one
 * of those or arg is not valid.
 */
int	frame_run_option(struct frame_run *run, int opt, const char *arg);

/* frame_build() frame i of run into buf, at its length; returns that length. */
size_t	frame_run_build(const struct frame_run *run, uint8_t *buf,
	    unsigned long i);

/*
 * pcap_create() for a program that only sends on ifname: short snapshots
 * in the smallest capture buffer.  It exits, naming prog, if that fails.
 */
pcap_t	*frame_sender_create(const char *prog, const char *ifname);

/* Milliseconds on clock. */
long long	clock_ms(clockid_t clock);

#endif
