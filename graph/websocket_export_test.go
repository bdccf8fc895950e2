package graph

import "time"

// The bounds of sockets, for tests.
const (
	MaxSocketOperations = maxSocketOperations
	MaxUserSockets      = maxUserSockets
)

// ShortenSocketInitTimeout makes the handlers built until restore is called close a socket that
// sends no connection_init within d, for tests that need not wait the whole timeout.
func ShortenSocketInitTimeout(d time.Duration) (restore func()) {
	old := socketInitTimeout
	socketInitTimeout = d
	return func() { socketInitTimeout = old }
}
