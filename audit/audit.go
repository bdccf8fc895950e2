// Package audit is Portside's append-only record of who changed what: every mutation, login,
// logout, token creation and denial, written in the same transaction as the change it describes.
package audit

import (
	"context"
	"encoding/json"
	"log/slog"
	"maps"
	"regexp"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/portside-dev/portside/auth/principal"
	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/internal/text"
	"github.com/portside-dev/portside/logs"
	"github.com/portside-dev/portside/store"
)

// Outcome is how an audited action ended.
type Outcome string

// The outcomes.
const (
	OK     Outcome = "ok"     // the change was made (or there was nothing to change)
	Denied Outcome = "denied" // the caller was not allowed
	Failed Outcome = "failed" // the change was refused or failed; nothing was changed
)

// Entry describes an action about to happen.
type Entry struct {
	// Action is the auth.Action (or another dotted name) being taken.
	Action string
	// Resource names what it applies to ("location 3", "token 7"); "" when it creates one.
	Resource string
	// Args are the inputs worth keeping; values of keys that look secret are redacted.
	Args map[string]any
}

// Record is one audit record.
type Record struct {
	ID        int64
	At        time.Time
	Actor     string
	ActorKind string
	Client    string
	Action    string
	Resource  string
	Arguments json.RawMessage
	Outcome   Outcome
	// Code is the error code when the outcome is not OK.
	Code      string
	Message   string
	RequestID string
}

// Log writes and reads audit records.
type Log struct {
	st  *store.Store
	log *slog.Logger
	now func() time.Time
}

// New returns the audit log on st.
func New(st *store.Store, logger *slog.Logger) *Log {
	if logger == nil {
		logger = slog.Default()
	}
	return &Log{st: st, log: logger, now: time.Now}
}

type pendingKey struct{}

// pending is an audit record waiting for the change it describes.
type pending struct {
	log     *Log
	entry   Entry
	written bool
}

// Do runs fn as the audited action e and makes sure exactly one record describes it. A change
// that fn commits calls Flush inside its transaction, so the record commits with the change or not
// at all; when fn changes nothing that way (nothing to do), the record is written after it. When fn
// fails, its transaction rolled back, and the record says it failed or was denied, with the code.
func (l *Log) Do(ctx context.Context, e Entry, fn func(ctx context.Context) error) error {
	p := &pending{log: l, entry: e}
	err := fn(context.WithValue(ctx, pendingKey{}, p))
	switch {
	case err == nil && p.written:
		return nil
	case err == nil:
		if werr := l.write(ctx, p.entry, OK, nil); werr != nil {
			// The change is made; losing its record must not hide that, but must be loud.
			l.log.ErrorContext(ctx, "audit: record a finished action", "action", e.Action, "error", werr)
		}
		return nil
	default:
		l.failed(ctx, p.entry, err)
		return err
	}
}

// Name tells the record of the action ctx belongs to what the action turned out to apply to, once
// it knows (the ID a creation gave, the Slack user a link token named, the link it replaced):
// resource, unless "", replaces the entry's, and args are added to its arguments. It must come
// before Flush; outside an audited action, or after its record is written, it does nothing.
func Name(ctx context.Context, resource string, args map[string]any) {
	p, _ := ctx.Value(pendingKey{}).(*pending)
	if p == nil || p.written {
		return
	}
	if resource != "" {
		p.entry.Resource = resource
	}
	if len(args) > 0 {
		merged := make(map[string]any, len(p.entry.Args)+len(args))
		maps.Copy(merged, p.entry.Args)
		maps.Copy(merged, args)
		p.entry.Args = merged
	}
}

// failed records e as having failed with err, or been denied.
func (l *Log) failed(ctx context.Context, e Entry, err error) {
	outcome := Failed
	if c := errs.CodeOf(err); c == errs.Forbidden || c == errs.Unauthenticated {
		outcome = Denied
	}
	if werr := l.write(context.WithoutCancel(ctx), e, outcome, err); werr != nil {
		l.log.ErrorContext(ctx, "audit: record a failed action", "action", e.Action, "error", werr)
	}
}

type watchKey struct{}

// watch notes that a record was written under the context that carries it (Ensure).
type watch struct{ recorded atomic.Bool }

// Ensure runs fn, an action whose own code records it (calling Do), and records e as failed or
// denied when fn fails before any record was written under it: a GraphQL mutation that refused
// its input before reaching its service (an ID naming nothing of the kind asked) left no
// record, though every mutation must leave one.
func (l *Log) Ensure(ctx context.Context, e Entry, fn func(ctx context.Context) error) error {
	w := &watch{}
	err := fn(context.WithValue(ctx, watchKey{}, w))
	if err != nil && !w.recorded.Load() {
		l.failed(ctx, e, err)
	}
	return err
}

// Flush writes the pending record of the action ctx belongs to, in ctx's transaction, once. Code
// that makes a change calls it inside the transaction that commits the change; outside an audited
// action it does nothing (background work, tests of the domain alone).
func Flush(ctx context.Context) error {
	p, _ := ctx.Value(pendingKey{}).(*pending)
	if p == nil || p.written {
		return nil
	}
	if err := p.log.write(ctx, p.entry, OK, nil); err != nil {
		return err
	}
	p.written = true
	return nil
}

func (l *Log) write(ctx context.Context, e Entry, outcome Outcome, cause error) error {
	p := principal.From(ctx)
	row := recordRow{At: l.now().UTC(), Actor: p.Actor(), ActorKind: "anonymous", Client: "unknown",
		Action: e.Action, Resource: e.Resource, Outcome: string(outcome), RequestID: logs.RequestID(ctx)}
	if p != nil {
		row.ActorKind, row.Client = string(p.Kind), string(p.Client)
		if p.TokenID != 0 {
			row.ActorKind = "token:" + itoa(p.TokenID)
		}
	}
	args, err := json.Marshal(redact(e.Args))
	if err != nil {
		return errs.Wrap(errs.Internal, err, "audit: arguments of %s", e.Action)
	}
	if len(args) > MaxArgumentBytes {
		// A refused request may carry a megabyte of input; the record keeps that it was too large.
		args, _ = json.Marshal(map[string]any{"truncated": true, "bytes": len(args)})
	}
	row.Arguments = string(args)
	if cause != nil {
		row.Code, row.Message = string(errs.CodeOf(cause)), errs.PublicMessage(cause)
	}
	// What a caller named may be anything it sent (a resource, a provider's message): kept as
	// storable text within bounds, so that no input can keep its record from being written.
	row.Actor, row.Resource = text.Clean(row.Actor, maxNameBytes), text.Clean(row.Resource, maxNameBytes)
	row.Action, row.Message = text.Clean(row.Action, maxNameBytes), text.Clean(row.Message, MaxMessageBytes)
	if err := l.st.DB(ctx).Create(&row).Error; err != nil {
		return store.Translate(err, "audit record")
	}
	if w, ok := ctx.Value(watchKey{}).(*watch); ok {
		w.recorded.Store(true)
	}
	return nil
}

// MaxMessageBytes bounds a record's message (a refusal's), and maxNameBytes its actor, action
// and resource: longer ones are cut, ending in "…".
const (
	MaxMessageBytes = 4 << 10
	maxNameBytes    = 1 << 10
)

// MaxArgumentBytes bounds the arguments one record keeps (as JSON); larger ones are replaced by
// their size.
const MaxArgumentBytes = 8 << 10

// secretKey matches argument names whose values must never be stored.
var secretKey = regexp.MustCompile(`(?i)secret|password|passwd|token|credential|authorization|cookie|private`)

// redact copies args with secret-looking values replaced, recursively.
func redact(args map[string]any) map[string]any {
	if args == nil {
		return map[string]any{}
	}
	out := make(map[string]any, len(args))
	for k, v := range args {
		switch {
		case secretKey.MatchString(k):
			out[k] = "[redacted]"
		default:
			if m, ok := v.(map[string]any); ok {
				v = redact(m)
			}
			out[k] = v
		}
	}
	return out
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
