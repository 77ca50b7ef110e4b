#!/bin/sh
# make check-layer-mutants: deliberately broken variants of the ring
# layers (pcap-ring-rx.c, pcap-ring-txring.c), one small sed edit each,
# each built into its unit test (test-rx-layer, test-tx-layer), which
# must then fail.  One line per mutant says "caught" (with the test's
# first failure) or "MISSED"; the script exits non-zero if any was missed
# or did not apply or build.  Needs neither root nor a network: the layer
# tests build the layer sources in.
#
# usage: check-layer-mutants.sh TOPSRCDIR INCLUDEDIR WORKDIR
# INCLUDEDIR holds the ring build's <pcap/pcap.h>; CC is the compiler.
# MUTANTS='name ...' runs only those.
set -u

top=$1 include=$2 work=$3
cc=${CC:-cc}
missed=0

rm -rf "$work"
mkdir -p "$work"

# mutant NAME FILE TEST SED-SCRIPT: FILE is the layer's source, or
# pcap-ring-layers.h (whose inline functions the source builds in).
mutant() {
	name=$1 file=$2 test=$3 edit=$4
	case " ${MUTANTS:-$name} " in *" $name "*) ;; *) return ;; esac
	case $test in
	test-rx-layer) source=$R ;;
	test-tx-layer) source=$T ;;
	esac
	# A copy of both trees, as the test includes the header by its path.
	dir=$work/$name
	mkdir -p "$dir/pcap-ring" "$dir/tests/unit"
	cp "$top/pcap-ring/pcap-ring-layers.h" "$top/pcap-ring/$source" \
	    "$dir/pcap-ring/"
	cp "$top/tests/unit/$test.c" "$top/tests/unit/layer-test.h" \
	    "$dir/tests/unit/"
	sed -e "$edit" "$top/pcap-ring/$file" > "$dir/pcap-ring/$file"
	if cmp -s "$top/pcap-ring/$file" "$dir/pcap-ring/$file"; then
		echo "BROKEN: $name: the edit no longer applies to $file"
		missed=$((missed + 1))
		return
	fi
	if ! $cc -std=gnu99 -O2 -g -I"$include" -o "$dir/$test" \
	    "$dir/tests/unit/$test.c" "$dir/pcap-ring/$source" \
	    > "$dir/build.log" 2>&1; then
		echo "BROKEN: $name: does not build (see $dir/build.log)"
		missed=$((missed + 1))
		return
	fi
	if "$dir/$test" > "$dir/test.log" 2>&1; then
		echo "MISSED: $name: $test passed (see $dir/test.log)"
		missed=$((missed + 1))
	else
		echo "caught: $name: $(grep -m1 '^FAIL' "$dir/test.log")"
	fi
}

R=pcap-ring-rx.c
T=pcap-ring-txring.c
L=pcap-ring-layers.h
# A block or frame is not handed back after its last packet.
mutant rx-no-handback $R test-rx-layer \
	'/^ring_rx_consume/,/^}/s/slot_release(rx, rx->slot);/(void)0;/'
# Only a block with nothing but TP_STATUS_USER is read: those the timer
# closed (TP_STATUS_BLK_TMO) or after drops (TP_STATUS_LOSING), and frames
# with a time stamp bit, are left.
mutant rx-user-status-only $R test-rx-layer \
	's/if (slot_status(rx, rx->slot) != TP_STATUS_KERNEL) {/if (slot_status(rx, rx->slot) == TP_STATUS_USER) {/; s/if (status == TP_STATUS_KERNEL)/if (status != TP_STATUS_USER)/'
# The block the kernel still has open is read before a larger ring took over.
mutant rx-open-block-read $R test-rx-layer \
	's/} else if (!rx->final) {/} else if (0) {/'
# Once final, the header of a block the kernel still has is read once,
# maybe halfway through the retire timer's opening of it.
mutant rx-final-header-unsettled $R test-rx-layer \
	's/\t\tv3_settled_header(rx, h1, \&h);/\t\tv3_read_header(h1, \&h);/'
# A block goes back while packets of it are unread.
mutant rx-handback-early $R test-rx-layer \
	's/rx->next_packet += h3->tp_next_offset;/slot_release(rx, rx->slot); rx->next_packet += h3->tp_next_offset;/'
# pcap_next_ex()'s packet is not kept until the next call.
mutant rx-hold-ignored $R test-rx-layer 's/if (hold) {/if (0) {/'
# An empty block is skipped but not handed back.
mutant rx-empty-block-kept $R test-rx-layer \
	'/if (rx->packets_left != 0)/,/next_slot(rx);/s/slot_release(rx, rx->slot);/(void)0;/'
# The next packet is the same one again.
mutant rx-v3-no-step $R test-rx-layer \
	's/rx->next_packet += h3->tp_next_offset;/rx->next_packet += 0;/'
# Caught up inside a block whose next packets are unread.
mutant rx-caught-up-in-block $R test-rx-layer \
	'/^ring_rx_caught_up/,/^}/s/if (rx->packets_left > 1)/if (0)/'
# Block sequence numbers unchecked.
mutant rx-no-seq-check $R test-rx-layer \
	's/^\tif (h.seq != rx->last_seq + 1)$/\tif (0)/'
# tp_next_offset unchecked.
mutant rx-no-next-offset-check $R test-rx-layer \
	's/if (rx->packets_left > 1 \&\& (h3->tp_next_offset < sizeof(\*h3) ||/if (0 \&\& (h3->tp_next_offset < sizeof(*h3) ||/'
# A packet checked against the block size from its own offset (the
# check before blk_len was used).
mutant rx-bound-by-slot-size $R test-rx-layer \
	's/room = (size_t)(rx->slot_end - rx->next_packet);/room = rx->slot_size;/'
# blk_len unchecked.
mutant rx-no-blk-len-check $R test-rx-layer \
	's/if (h.len > rx->slot_size)/if (0)/'
# The first packet's offset unchecked.
mutant rx-no-first-offset-check $R test-rx-layer \
	's/if (h.num_pkts != 0 \&\& (h.first < sizeof(\*bd) ||/if (0 \&\& (h.first < sizeof(*bd) ||/'
# A V2 frame running past its slot is read.
mutant rx-v2-no-bound $R test-rx-layer \
	's/if ((uint64_t)h2->tp_mac + h2->tp_snaplen > rx->slot_size)/if (0)/'

# Every waiting frame counted as sent after a kick.
mutant tx-reap-all $T test-tx-layer \
	's/if (status != TP_STATUS_SEND_REQUEST \&\& status != TP_STATUS_WRONG_FORMAT) {/if (1) {/'
# The kernel's prefix not followed: waiting frames counted as sent.
mutant tx-reap-no-prefix $T test-tx-layer \
	's/^		if (status == TP_STATUS_SEND_REQUEST ||$/		if (0 \&\&/'
# A frame the kernel still sends (TP_STATUS_SENDING) taken as free.
mutant tx-room-while-sending $L test-tx-layer \
	's/return ring_tx_status(tx->map.frames\[tx->head\]) == TP_STATUS_AVAILABLE;/return ring_tx_status(tx->map.frames[tx->head]) != TP_STATUS_SEND_REQUEST;/'
# A frame queued over whatever is at the head.
mutant tx-queue-no-room-check $L test-tx-layer \
	'/^ring_tx_queue/,/^}/{/if (!ring_tx_has_room(tx))/{N;d;}}'
# The frames behind a rejected one are not moved up: lost.
mutant tx-reject-no-move $T test-tx-layer \
	's/for (j = ring_tx_next(tx, i); j != tx->head;/for (j = tx->head; j != tx->head;/'
mutant tx-reject-uncounted $T test-tx-layer 's/tx->stat.tx_rejected++;/(void)0;/'
# A send queue's frames behind its rejected record still go out.
mutant tx-drop-behind-ignored $T test-tx-layer 's/if (drop_behind) {/if (0) {/'
mutant tx-drop-behind-still-queued $T test-tx-layer \
	's/tx->stat.tx_queued -= behind;/(void)behind;/'
mutant tx-reject-errno-lost $T test-tx-layer 's/rej->err = err;/rej->err = 0;/'
# The rejected frame named after the ring moved on.
mutant tx-reject-seq-after $T test-tx-layer \
	'/^ring_tx_kick/,/^}/s/reject_first(tx, drop_behind);/reject_first(tx, drop_behind); rej->seq = ring_tx_first_unsent_seq(tx);/'
mutant tx-kick-uncounted $T test-tx-layer 's/tx->stat.tx_kicks++;/(void)0;/'
mutant tx-bytes-off $T test-tx-layer \
	'/for (i = first_unsent(tx)/,/^}/s/tx->stat.tx_bytes += len;/tx->stat.tx_bytes += len + 1;/'
mutant tx-drop-uncounted $T test-tx-layer 's/tx->stat.tx_dropped += n;/(void)n;/'
# Taking frames back out does not wrap around the ring.
mutant tx-unqueue-no-wrap $T test-tx-layer \
	'/^unqueue/,/^}/s/tx->head = tx->head == 0 ? tx->frame_nr - 1 : tx->head - 1;/tx->head = tx->head == 0 ? 0 : tx->head - 1;/'

if [ "$missed" -ne 0 ]; then
	echo "check-layer-mutants: $missed mutant(s) missed or broken"
	exit 1
fi
echo "check-layer-mutants: every mutant caught"
