package sources

import "github.com/portside-dev/portside/catalog"

// Short names for the catalog types every reader deals in.
type (
	catalogSpec = catalog.LocationSpec
	snapshot    = catalog.Snapshot
)

var (
	_ catalog.Reader = Embedded{}
	_ catalog.Reader = (*Files)(nil)
	_ catalog.Reader = (*URLs)(nil)
	_ catalog.Reader = (*Git)(nil)
)
