package store

import (
	"context"
	"database/sql"
	"sync"

	"gorm.io/gorm"
)

// tx is a transaction InTx opened, as its context carries it: the handle, and what is to happen
// when it commits.
type tx struct {
	db *gorm.DB
	// conn is the connection a PostgreSQL transaction runs on (see inConnTx); nil on SQLite.
	conn *sql.Conn

	mu sync.Mutex // a transaction's callers may hand its context to goroutines of their own
	// channels and payloads are the notifications NotifyOnCommit queued, in order.
	channels, payloads []string
	// after are the functions AfterCommit queued, in order.
	after []func()
}

type txKey struct{}

// txOf returns the transaction ctx carries, or nil.
func txOf(ctx context.Context) *tx {
	t, _ := ctx.Value(txKey{}).(*tx)
	return t
}

// run runs fn in the transaction and, when it succeeds, sends what it queued for the other
// sessions as the transaction's last statement (gorm commits once this returns nil).
func (t *tx) run(ctx context.Context, db *gorm.DB, fn func(ctx context.Context) error) error {
	t.db = db
	if err := fn(context.WithValue(ctx, txKey{}, t)); err != nil {
		return err
	}
	return t.notify(ctx)
}

// notifySQL sends notifications in order, in one statement: PostgreSQL delivers a transaction's
// notifications at its commit, in the order they were sent (and folds a repeat of the same
// channel and payload within it into one).
const notifySQL = "SELECT pg_notify(m.c, m.p) FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS m(c, p, i) ORDER BY m.i"

func (t *tx) notify(ctx context.Context) error {
	t.mu.Lock()
	channels, payloads := t.channels, t.payloads
	t.mu.Unlock()
	if len(channels) == 0 {
		return nil
	}
	// Straight to the driver: gorm would expand the arrays into lists of parameters.
	_, err := t.db.Statement.ConnPool.ExecContext(ctx, notifySQL, channels, payloads)
	return Translate(err, "notifications")
}

// committed runs what AfterCommit queued, once the transaction committed.
func (t *tx) committed() {
	t.mu.Lock()
	after := t.after
	t.after = nil
	t.mu.Unlock()
	for _, fn := range after {
		fn()
	}
}

// AfterCommit runs fn once ctx's transaction has committed (never when it rolls back), or at once
// when ctx carries none. It is for telling this process of a change, such as its subscribers, who
// must hear of it only when others can read it, and only if it happened. Inside a nested InTx, fn
// waits for the outermost one. fn must not use the transaction: it is over.
func AfterCommit(ctx context.Context, fn func()) {
	t := txOf(ctx)
	if t == nil {
		fn()
		return
	}
	t.mu.Lock()
	t.after = append(t.after, fn)
	t.mu.Unlock()
}

// NotifyOnCommit sends payload on channel with pg_notify in ctx's transaction, so that the
// sessions listening hear of it when, and only if, the transaction commits, in commit order:
// nothing can happen to this process between the change's commit and the message. It reports
// false, and keeps nothing, when ctx carries no PostgreSQL transaction.
func NotifyOnCommit(ctx context.Context, channel, payload string) bool {
	t := txOf(ctx)
	if t == nil || t.conn == nil {
		return false
	}
	t.mu.Lock()
	t.channels = append(t.channels, channel)
	t.payloads = append(t.payloads, payload)
	t.mu.Unlock()
	return true
}
