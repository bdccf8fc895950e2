package sources

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"syscall"
	"time"

	"github.com/portside-dev/portside/errs"
)

// Locations are read by the server, on behalf of whoever registered them. Addresses that reach the
// server itself or its infrastructure are refused:
//
//   - loopback (127.0.0.0/8, ::1), unless the operator allows it for a development setup
//     (allow-loopback-locations);
//   - link-local (169.254.0.0/16, where cloud metadata endpoints answer, and fe80::/10), always:
//     allowing loopback does not open them, and no setting does;
//   - unspecified (0.0.0.0/8, ::), multicast and broadcast, always.
//
// Private networks stay reachable: that is where internal git servers live.
//
// The rule holds for the address actually dialled, on every connection: URL locations, the files
// their placeholders ($text, $json, $yaml) and Location entities name, and every redirect hop go
// through one dialler that resolves the name, checks every address, and connects only to a checked
// one (so a DNS answer that changes between a check and the dial cannot slip through). Git runs as
// a subprocess; see Git for how its fetches are held to the same rule.

// Resolver looks host names up; *net.Resolver is one.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Guard applies the address rule. The zero value is the default policy.
type Guard struct {
	// AllowLoopback lets reads reach loopback addresses. Link-local addresses stay refused.
	AllowLoopback bool
	// Resolver looks names up; net.DefaultResolver when nil. Tests give names of their own.
	Resolver Resolver
	// Public, when set, says whether an address counts as public whatever its range: tests serve
	// on loopback and use it to tell the server they mean from one that must stay refused.
	Public func(netip.AddrPort) bool
}

func (g *Guard) resolver() Resolver {
	if g == nil || g.Resolver == nil {
		return net.DefaultResolver
	}
	return g.Resolver
}

// Check refuses an address the rule puts off limits.
func (g *Guard) Check(ap netip.AddrPort) error {
	ip := ap.Addr().Unmap()
	if g != nil && g.Public != nil && g.Public(netip.AddrPortFrom(ip, ap.Port())) {
		return nil
	}
	switch {
	case ip.IsLoopback():
		if g != nil && g.AllowLoopback {
			return nil
		}
		return errs.E(errs.Forbidden, "location reads from %s are refused: loopback addresses are off limits unless allow-loopback-locations is set", ip)
	case ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast():
		return errs.E(errs.Forbidden, "location reads from %s are refused: link-local addresses (cloud metadata endpoints) are always off limits", ip)
	case ip.IsUnspecified() || ip.IsMulticast() || ip.IsInterfaceLocalMulticast() || !ip.IsValid() ||
		(ip.Is4() && (ip.As4()[0] == 0 || ip == netip.AddrFrom4([4]byte{255, 255, 255, 255}))):
		return errs.E(errs.Forbidden, "location reads from %s are refused: not a unicast address", ip)
	}
	return nil
}

// Resolve looks host up and checks every address it has; it refuses the host when any is off
// limits (a name that also points inside is not trusted for its other addresses). An IP literal
// is checked as it is.
func (g *Guard) Resolve(ctx context.Context, host string, port uint16) ([]netip.AddrPort, error) {
	var addrs []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{ip.WithZone("")}
	} else {
		addrs, err = g.resolver().LookupNetIP(ctx, "ip", host)
		if err != nil {
			return nil, errs.Wrap(errs.Unavailable, err, "resolve %s", host)
		}
		if len(addrs) == 0 {
			return nil, errs.E(errs.Unavailable, "resolve %s: no addresses", host)
		}
	}
	out := make([]netip.AddrPort, len(addrs))
	for i, a := range addrs {
		out[i] = netip.AddrPortFrom(a.Unmap(), port)
		if err := g.Check(out[i]); err != nil {
			if host != a.String() {
				return nil, errs.E(errs.Forbidden, "location host %s resolves to %s: %s", host, a, errs.PublicMessage(err))
			}
			return nil, err
		}
	}
	return out, nil
}

// DialContext connects to address (host:port) through checked addresses only, trying each in
// turn. It is a net/http Transport's DialContext.
func (g *Guard) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	host, portText, err := net.SplitHostPort(address)
	if err != nil {
		return nil, errs.E(errs.Invalid, "location address %q is not host:port", address)
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil {
		return nil, errs.E(errs.Invalid, "location address %q has no valid port", address)
	}
	addrs, err := g.Resolve(ctx, host, uint16(port))
	if err != nil {
		return nil, err
	}
	// The Control hook checks again what the socket connects to, in case anything between here
	// and connect(2) changed the address.
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second, Control: g.control}
	var firstErr error
	for _, ap := range addrs {
		conn, err := d.DialContext(ctx, network, ap.String())
		if err == nil {
			return conn, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return nil, fmt.Errorf("dial %s: %w", address, firstErr)
}

func (g *Guard) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return errs.E(errs.Forbidden, "location address %s cannot be checked", address)
	}
	return g.Check(ap)
}
