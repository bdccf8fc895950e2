package catalog

import (
	"context"
	"strings"
	"time"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/internal/proc"
)

// A refresh holds its location through a lease on the location's row: lease_owner names the
// holder, lease_until is when the lease lapses unless renewed. The holder renews it (a heartbeat)
// while it works, so a lease outlives its holder by at most leaseFor. A holder that died on the
// same host (its process is gone) is noticed at once and its lease taken over, so a crashed
// `portside catalog import` does not block the next one.
//
// lease_owner is "<host>/<pid>/<process start>/<process id>/<refresh id>": host is the hostname
// plus the PID namespace (two containers may share a hostname, never a namespace and a hostname
// with the same PIDs); process start tells a reused PID from the holder; the random parts tell
// processes and refreshes apart. An owner written in another form (by an older version) is
// respected until its lease_until.

// leaseFor is how long a lease lasts past its last heartbeat.
const leaseFor = 30 * time.Second

// leaseBeat is how often a refresh renews its lease.
const leaseBeat = 10 * time.Second

// owner is the lease_owner value for one refresh by service s of process p.
func owner(p proc.Identity, service, refresh string) string {
	return p.String() + "/" + service + "/" + refresh
}

// ownerGone reports whether the lease owner is a process on this host that no longer runs.
func ownerGone(owner string) bool {
	parts := strings.Split(owner, "/")
	if len(parts) != 5 {
		return false // an owner this version does not understand: wait for lease_until
	}
	p, ok := proc.Parse(strings.Join(parts[:3], "/"))
	return ok && p.Gone() // another host's is never known gone: wait for lease_until
}

// lease claims the location for this refresh, or says that another refresh holds it (in this
// process or another). The lease names this refresh alone, so only it can release or renew it.
// A lease whose holder is gone is taken over at once.
func (s *Service) lease(ctx context.Context, row *locationRow) (string, error) {
	now := s.now().UTC()
	holder := owner(proc.Self(), s.holder, holderID())
	until := now.Add(leaseFor)
	ok, err := s.claimLease(ctx, row.ID, holder, until, now)
	if err != nil || ok {
		return holder, err
	}
	owner, err := s.leaseOwner(ctx, row.ID)
	if err != nil {
		return "", err
	}
	if owner != "" && ownerGone(owner) {
		// Compare and swap: only if the dead holder still holds it, so two takers cannot both win.
		ok, err := s.takeOverLease(ctx, row.ID, owner, holder, until)
		if err != nil {
			return "", err
		}
		if ok {
			s.log.WarnContext(ctx, "catalog: took over the lease of a refresh whose process is gone",
				"location", row.ID, "previous_holder", owner)
			return holder, nil
		}
	}
	return "", errs.E(errs.Conflict, "location %d is being refreshed already; try again in a moment", row.ID)
}

// heartbeat renews the lease every s.beat until stop is called, so that the lease lapses soon
// after its holder dies, however long a live refresh takes.
func (s *Service) heartbeat(parent context.Context, id int64, holder string) (stop func()) {
	// A context of its own: the renewal commits at once, never inside a transaction the caller's
	// context may carry, and outlives the caller's cancellation until stop.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(s.beat)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			held, err := s.renewLease(ctx, id, holder, s.now().UTC().Add(leaseFor))
			switch {
			case err == errLeaseBusy:
				// A transaction holds the row or the table (the apply's own, which writes the
				// lease as it commits): the next beat tries again.
			case err != nil && ctx.Err() == nil:
				// A busy database (SQLite while an apply writes) is retried at the next beat.
				s.log.WarnContext(parent, "catalog: renew location lease", "location", id, "error", err)
			case err == nil && !held:
				s.log.WarnContext(parent, "catalog: location lease lost to another refresh", "location", id)
				return
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

func (s *Service) unlease(ctx context.Context, id int64, holder string) {
	if err := s.releaseLease(ctx, id, holder); err != nil {
		s.log.WarnContext(ctx, "catalog: release location lease", "location", id, "error", err)
	}
}
