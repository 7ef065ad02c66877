package network

import (
	"net/netip"
)

// The VPC is split into 16 equal slots: private subnets take slots 0-5 and
// public subnets slots 8-13, one per zone. The layout does not depend on the
// zone count, so adding a zone later never renumbers an existing subnet
// (which would replace it, and everything in it).
const (
	slotBits          = 4
	privateSlotOffset = 0
	publicSlotOffset  = 8
)

// privateRanges are where a VPC may live: RFC 1918 and the shared space
// AWS also accepts. A public range in a VPC breaks reachability of the
// real owners of those addresses.
var privateRanges = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"),
	netip.MustParsePrefix("100.64.0.0/10"),
}

func isPrivate(p netip.Prefix) bool {
	for _, r := range privateRanges {
		if r.Bits() <= p.Bits() && r.Contains(p.Addr()) {
			return true
		}
	}
	return false
}

// slot returns subnet slot i of the VPC.
func slot(vpc netip.Prefix, i int) netip.Prefix {
	size := vpc.Bits() + slotBits
	a := vpc.Addr().As4()
	v := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	v |= uint32(i) << (32 - size)
	return netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), size)
}

func privateSubnet(vpc netip.Prefix, zone int) netip.Prefix {
	return slot(vpc, privateSlotOffset+zone)
}

func publicSubnet(vpc netip.Prefix, zone int) netip.Prefix {
	return slot(vpc, publicSlotOffset+zone)
}
