package audit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/portside-dev/portside/audit"
	"github.com/portside-dev/portside/auth/principal"
	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/logs"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
)

var (
	admin = &principal.Principal{Username: "alice", Kind: principal.KindSession, Client: principal.ClientWeb, Admin: true}
	bob   = &principal.Principal{Username: "bob", Kind: principal.KindToken, Client: principal.ClientAPI, TokenID: 7}
)

// widgets is a table the tests change, standing for any domain's rows.
func widgets(t *testing.T, st *store.Store) {
	t.Helper()
	if err := st.Gorm().Exec("CREATE TABLE widgets (name TEXT NOT NULL)").Error; err != nil {
		t.Fatal(err)
	}
}

func addWidget(ctx context.Context, st *store.Store, name string) error {
	return st.InTx(ctx, func(ctx context.Context) error {
		if err := st.DB(ctx).Exec("INSERT INTO widgets (name) VALUES (?)", name).Error; err != nil {
			return err
		}
		return audit.Flush(ctx)
	})
}

func count(t *testing.T, st *store.Store, table string) int64 {
	t.Helper()
	var n int64
	if err := st.Gorm().Table(table).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func records(t *testing.T, l *audit.Log, f audit.Filter) []audit.Record {
	t.Helper()
	page, err := l.Query(principal.With(context.Background(), admin), f, audit.MaxPage, "")
	if err != nil {
		t.Fatal(err)
	}
	return page.Records
}

func TestAChangeAndItsRecordCommitTogether(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		widgets(t, st)
		l := audit.New(st, nil)
		ctx := logs.WithRequestID(principal.With(context.Background(), bob), "req-1")

		err := l.Do(ctx, audit.Entry{Action: "widget.add", Args: map[string]any{"name": "a"}}, func(ctx context.Context) error {
			return addWidget(ctx, st, "a")
		})
		if err != nil {
			t.Fatal(err)
		}
		got := records(t, l, audit.Filter{Action: "widget.add"})
		if len(got) != 1 || count(t, st, "widgets") != 1 {
			t.Fatalf("after one change: %d records, %d widgets; want 1 and 1", len(got), count(t, st, "widgets"))
		}
		r := got[0]
		if r.Actor != "bob" || r.ActorKind != "token:7" || r.Client != "api" || r.Outcome != audit.OK || r.RequestID != "req-1" ||
			string(r.Arguments) != `{"name":"a"}` {
			t.Errorf("record = %+v", r)
		}

		// The change fails after it flushed its record: both roll back, and the failure is recorded.
		err = l.Do(ctx, audit.Entry{Action: "widget.add"}, func(ctx context.Context) error {
			return st.InTx(ctx, func(ctx context.Context) error {
				if err := st.DB(ctx).Exec("INSERT INTO widgets (name) VALUES (?)", "b").Error; err != nil {
					return err
				}
				if err := audit.Flush(ctx); err != nil {
					return err
				}
				return errs.E(errs.Conflict, "widget b clashes")
			})
		})
		if !errs.Is(err, errs.Conflict) {
			t.Fatalf("a failed change returned %v, want its CONFLICT", err)
		}
		got = records(t, l, audit.Filter{Action: "widget.add"})
		if count(t, st, "widgets") != 1 || len(got) != 2 {
			t.Fatalf("after a failed change: %d widgets, %d records; want 1 and 2", count(t, st, "widgets"), len(got))
		}
		if got[0].Outcome != audit.Failed || got[0].Code != "CONFLICT" || got[0].Message != "widget b clashes" {
			t.Errorf("the failure's record = %+v", got[0])
		}
	})
}

func TestEveryActionHasExactlyOneRecord(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		l := audit.New(st, nil)
		ctx := principal.With(context.Background(), bob)
		for _, tc := range []struct {
			name    string
			fn      func(ctx context.Context) error
			outcome audit.Outcome
			code    string
		}{
			{"nothing to change", func(context.Context) error { return nil }, audit.OK, ""},
			{"flushed twice", func(ctx context.Context) error { _ = audit.Flush(ctx); return audit.Flush(ctx) }, audit.OK, ""},
			{"forbidden", func(context.Context) error { return errs.E(errs.Forbidden, "bob may not") }, audit.Denied, "FORBIDDEN"},
			{"unauthenticated", func(context.Context) error { return errs.E(errs.Unauthenticated, "who?") }, audit.Denied, "UNAUTHENTICATED"},
			{"invalid", func(context.Context) error { return errs.InvalidField("name", "empty") }, audit.Failed, "INVALID"},
		} {
			action := "test." + strings.ReplaceAll(tc.name, " ", "-")
			_ = l.Do(ctx, audit.Entry{Action: action}, tc.fn)
			got := records(t, l, audit.Filter{Action: action})
			if len(got) != 1 || got[0].Outcome != tc.outcome || got[0].Code != tc.code {
				t.Errorf("%s: records %+v, want one with outcome %s and code %q", tc.name, got, tc.outcome, tc.code)
			}
		}
		// An internal failure's record keeps no details (they may hold SQL or addresses).
		_ = l.Do(ctx, audit.Entry{Action: "test.internal"}, func(context.Context) error {
			return errs.Wrap(errs.Internal, errs.E(errs.Internal, "pq: relation secret_table"), "boom")
		})
		if got := records(t, l, audit.Filter{Action: "test.internal"}); len(got) != 1 || strings.Contains(got[0].Message, "secret_table") {
			t.Errorf("internal failure recorded as %+v", got)
		}
	})
}

func TestSecretArgumentsAreNeverStored(t *testing.T) {
	st := storetest.SQLite(t)
	l := audit.New(st, nil)
	ctx := principal.With(context.Background(), admin)
	args := map[string]any{
		"name": "ci", "token": "pst_abc", "clientSecret": "s3cret", "Password": "hunter2",
		"nested": map[string]any{"authorization": "Bearer x", "kept": 1},
	}
	if err := l.Do(ctx, audit.Entry{Action: "test.secrets", Args: args}, func(context.Context) error { return nil }); err != nil {
		t.Fatal(err)
	}
	got := records(t, l, audit.Filter{Action: "test.secrets"})
	if len(got) != 1 {
		t.Fatalf("%d records", len(got))
	}
	var stored map[string]any
	if err := json.Unmarshal(got[0].Arguments, &stored); err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"pst_abc", "s3cret", "hunter2", "Bearer x"} {
		if strings.Contains(string(got[0].Arguments), secret) {
			t.Errorf("stored arguments hold %q: %s", secret, got[0].Arguments)
		}
	}
	if stored["name"] != "ci" || stored["nested"].(map[string]any)["kept"] != float64(1) {
		t.Errorf("arguments that are not secret were lost: %s", got[0].Arguments)
	}
}

func TestPeopleReadOnlyTheirOwnRecordsAndAdminsReadAll(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		l := audit.New(st, nil)
		for _, p := range []*principal.Principal{admin, bob, bob} {
			_ = l.Do(principal.With(context.Background(), p), audit.Entry{Action: "test.read"}, func(context.Context) error { return nil })
		}
		asBob := principal.With(context.Background(), bob)
		page, err := l.Query(asBob, audit.Filter{}, 10, "")
		if err != nil || page.TotalCount != 2 {
			t.Fatalf("bob's own records: %+v, %v; want 2", page, err)
		}
		if _, err := l.Query(asBob, audit.Filter{Actor: "alice"}, 10, ""); !errs.Is(err, errs.Forbidden) {
			t.Errorf("bob reading alice's records: %v, want FORBIDDEN", err)
		}
		if _, err := l.Query(context.Background(), audit.Filter{}, 10, ""); err == nil {
			t.Error("anonymous read of the audit log succeeded")
		}
		if got := records(t, l, audit.Filter{}); len(got) != 3 {
			t.Errorf("admin sees %d records, want 3", len(got))
		}
	})
}

func TestPagesAreNewestFirstAndTheExportOldestFirst(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		l := audit.New(st, nil)
		ctx := principal.With(context.Background(), admin)
		for _, r := range []string{"r1", "r2", "r3"} {
			_ = l.Do(ctx, audit.Entry{Action: "test.page", Resource: r}, func(context.Context) error { return nil })
		}
		first, err := l.Query(ctx, audit.Filter{Action: "test.page"}, 2, "")
		if err != nil || len(first.Records) != 2 || !first.HasMore || first.TotalCount != 3 || first.Records[0].Resource != "r3" {
			t.Fatalf("first page: %+v, %v", first, err)
		}
		second, err := l.Query(ctx, audit.Filter{Action: "test.page"}, 2, first.EndCursor)
		if err != nil || len(second.Records) != 1 || second.HasMore || second.Records[0].Resource != "r1" {
			t.Fatalf("second page: %+v, %v", second, err)
		}
		if _, err := l.Query(ctx, audit.Filter{}, 2, "not-a-cursor"); errs.FieldOf(err) != "after" {
			t.Errorf("a bad cursor: %v, want INVALID naming after", err)
		}
		if _, err := l.Query(ctx, audit.Filter{}, audit.MaxPage+1, ""); errs.FieldOf(err) != "first" {
			t.Errorf("a page over the bound: %v, want INVALID naming first", err)
		}
		if _, err := l.Query(ctx, audit.Filter{Outcome: "maybe"}, 2, ""); errs.FieldOf(err) != "outcome" {
			t.Errorf("an unknown outcome: %v, want INVALID naming outcome", err)
		}

		var buf bytes.Buffer
		n, err := l.Export(ctx, audit.Filter{Action: "test.page"}, &buf)
		if err != nil || n != 3 {
			t.Fatalf("export: %d records, %v", n, err)
		}
		lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
		var firstLine struct{ Resource, Actor, Outcome string }
		if len(lines) != 3 || json.Unmarshal([]byte(lines[0]), &firstLine) != nil || firstLine.Resource != "r1" ||
			firstLine.Actor != "alice" || firstLine.Outcome != "ok" {
			t.Errorf("export lines: %q", lines)
		}
		future := time.Now().Add(time.Hour)
		if n, err := l.Export(ctx, audit.Filter{Since: &future}, &bytes.Buffer{}); err != nil || n != 0 {
			t.Errorf("export since the future: %d records, %v", n, err)
		}
	})
}

func TestBoundsAreRFC3339Times(t *testing.T) {
	if b, err := audit.ParseBound("since", ""); b != nil || err != nil {
		t.Errorf("empty bound = %v, %v; want none", b, err)
	}
	if b, err := audit.ParseBound("since", "2026-01-02T15:04:05Z"); err != nil || b.Year() != 2026 {
		t.Errorf("RFC 3339 bound = %v, %v", b, err)
	}
	if _, err := audit.ParseBound("until", "yesterday"); errs.FieldOf(err) != "until" || !strings.Contains(err.Error(), "yesterday") {
		t.Errorf("a bad bound: %v, want INVALID naming until and the value", err)
	}
}

// A refused request may carry a megabyte of input: its record keeps the size, not the input.
func TestLargeArgumentsAreRecordedByTheirSize(t *testing.T) {
	st := storetest.SQLite(t)
	l := audit.New(st, nil)
	ctx := principal.With(context.Background(), admin)
	big := strings.Repeat("read,", 100_000)
	_ = l.Do(ctx, audit.Entry{Action: "test.big", Args: map[string]any{"scopes": big}}, func(context.Context) error {
		return errs.InvalidField("scopes", "too many")
	})
	got := records(t, l, audit.Filter{Action: "test.big"})
	if len(got) != 1 || len(got[0].Arguments) > audit.MaxArgumentBytes || !strings.Contains(string(got[0].Arguments), `"truncated":true`) {
		t.Errorf("record of a large request: %d records, arguments %.200s", len(got), got[0].Arguments)
	}
}

func TestARecordIsWrittenWhateverTextItsCallerNamed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		l := audit.New(st, nil)
		ctx := principal.With(context.Background(), admin)
		long := strings.Repeat("x", 900_000)
		_ = l.Do(ctx, audit.Entry{Action: "test.text", Resource: "project pay\x00ments\xff"}, func(context.Context) error {
			return errs.E(errs.Unauthenticated, "the provider said: %s\x00%s", "access_denied", long)
		})
		got := records(t, l, audit.Filter{Action: "test.text"})
		if len(got) != 1 {
			t.Fatalf("%d records of an action naming a NUL and invalid UTF-8, want 1", len(got))
		}
		if got[0].Resource != "project pay\uFFFDments\uFFFD" {
			t.Errorf("resource kept as %q", got[0].Resource)
		}
		if len(got[0].Message) > audit.MaxMessageBytes || !strings.HasPrefix(got[0].Message, "the provider said: access_denied\uFFFDxxx") || !strings.HasSuffix(got[0].Message, "…") {
			t.Errorf("message of %d bytes kept as %d bytes: %.80q…", len(long), len(got[0].Message), got[0].Message)
		}
	})
}

func TestAFilterNoRecordCanMatchIsRefusedByName(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		l := audit.New(st, nil)
		ctx := principal.With(context.Background(), admin)
		for _, f := range []audit.Filter{{Actor: "\x00"}, {Action: "a\x00b"}, {Resource: "\xff\xfe"}} {
			_, err := l.Query(ctx, f, 10, "")
			if errs.CodeOf(err) != errs.Invalid {
				t.Errorf("Query(%+v) = %v, want INVALID", f, err)
			}
			if _, err := l.Export(ctx, f, &bytes.Buffer{}); errs.CodeOf(err) != errs.Invalid {
				t.Errorf("Export(%+v) = %v, want INVALID", f, err)
			}
		}
	})
}

// An action names what it turned out to apply to once it knows (the ID a creation gave): the
// record says it, whether the action then commits or fails; named after its record is written,
// nothing changes.
func TestAnActionNamesWhatItAppliedToInItsRecord(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		l := audit.New(st, nil)
		ctx := principal.With(context.Background(), bob)
		_ = l.Do(ctx, audit.Entry{Action: "test.create", Args: map[string]any{"name": "w"}}, func(ctx context.Context) error {
			audit.Name(ctx, "widget 7", map[string]any{"size": 3})
			return st.InTx(ctx, func(ctx context.Context) error { return audit.Flush(ctx) })
		})
		got := records(t, l, audit.Filter{Action: "test.create"})
		if len(got) != 1 || got[0].Resource != "widget 7" || string(got[0].Arguments) != `{"name":"w","size":3}` {
			t.Errorf("the creation's record: %+v", got)
		}
		_ = l.Do(ctx, audit.Entry{Action: "test.failed", Resource: "widget"}, func(ctx context.Context) error {
			audit.Name(ctx, "widget 8", nil)
			return errs.E(errs.Conflict, "widget 8 clashes")
		})
		if got := records(t, l, audit.Filter{Action: "test.failed"}); len(got) != 1 || got[0].Resource != "widget 8" || got[0].Outcome != audit.Failed {
			t.Errorf("the failure's record: %+v", got)
		}
		_ = l.Do(ctx, audit.Entry{Action: "test.late", Resource: "widget"}, func(ctx context.Context) error {
			if err := audit.Flush(ctx); err != nil {
				return err
			}
			audit.Name(ctx, "widget 9", nil)
			return nil
		})
		if got := records(t, l, audit.Filter{Action: "test.late"}); len(got) != 1 || got[0].Resource != "widget" {
			t.Errorf("named after its record was written: %+v", got)
		}
		audit.Name(ctx, "nothing", nil) // outside an action: nothing to name, no panic
	})
}
