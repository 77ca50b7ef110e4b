# VLAN-tagged traffic, incoming (tag taken out by the kernel, put back by
# libpcap with its TPID) and outgoing (tag in the frame), with and without
# filters, snapshot lengths that cut into the tag, and immediate mode.
# Sourced by t-vlan-rxvlan-on.sh and t-vlan-rxvlan-off.sh after they set
# the offload on VETH_B; frame kinds are described in t-tcpdump-filters.sh.
diff_cases tcpdump <<'CASES'
# name              | traffic              | options          | filter
vlan                | a:0:406              |                  | vlan
vlan-id             | a:0:406              |                  | vlan 100
not-vlan-tcp        | a:0:405              |                  | tcp and not vlan
vlan-snap-11        | a:0:406              | -s 11            | vlan
vlan-snap-12        | a:0:406              | -s 12            | vlan
vlan-snap-14        | a:0:406              | -s 14            | vlan
vlan-snap-64        | a:0:406              | -s 64            | vlan
vlan-immediate      | a:0:30               | --immediate-mode |
vlan-both-ways      | a:1000:200 b:0:206   |                  | vlan
CASES
echo "$DIFF_CASES cases identical"
