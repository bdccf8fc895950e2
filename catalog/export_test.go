package catalog

import (
	"context"

	"github.com/portside-dev/portside/catalog/backstage"
)

// CollectStream exposes collectStream to the external tests.
func CollectStream(ctx context.Context, snap Snapshot, maxErrors int, emit func([]*backstage.Entity, []string) error) (*Collected, error) {
	return collectStream(ctx, snap, maxErrors, emit)
}
