package sources

import (
	"context"
	"net"
	"net/netip"
	"syscall"

	"github.com/portside-dev/portside/errs"
)

// Locations are read by the server, on behalf of whoever registered them. Addresses that reach the
// server itself or its infrastructure (loopback, link-local such as cloud metadata endpoints,
// unspecified, multicast) are refused unless the operator allows loopback for a development setup.
// Private networks stay reachable: that is where internal git servers live.

func forbiddenAddr(ip netip.Addr) bool {
	ip = ip.Unmap()
	return ip.IsLoopback() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsUnspecified() ||
		ip.IsMulticast() || ip.IsInterfaceLocalMulticast()
}

// guardDial is a net.Dialer Control hook: it runs on every connection, after name resolution and
// on each redirect, so neither DNS tricks nor redirects get past it.
func guardDial(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return errs.E(errs.Forbidden, "location address %s cannot be checked", address)
	}
	if forbiddenAddr(ap.Addr()) {
		return errs.E(errs.Forbidden, "location reads from %s are refused: loopback and link-local addresses are off limits (allow-loopback-locations)", ap.Addr())
	}
	return nil
}

// checkHost resolves host and refuses it when any of its addresses is off limits.
func checkHost(ctx context.Context, host string) error {
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return errs.Wrap(errs.Unavailable, err, "resolve %s", host)
	}
	for _, a := range addrs {
		if forbiddenAddr(a) {
			return errs.E(errs.Forbidden, "location host %s resolves to %s: loopback and link-local addresses are off limits (allow-loopback-locations)", host, a)
		}
	}
	return nil
}
