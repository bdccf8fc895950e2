package tracing_test

import (
	"context"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
	"github.com/portside-dev/portside/tracing"
)

func TestDatabaseStatementsInATraceGetSpansWithTheirSQLAndNoValues(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		exp := tracetest.NewInMemoryExporter()
		tr, err := tracing.New(tracing.Options{Exporter: exp, SampleRatio: 1})
		if err != nil {
			t.Fatal(err)
		}
		if err := tr.Gorm(st.Gorm()); err != nil {
			t.Fatal(err)
		}
		// Outside a trace (background work that started none): no span, no root trace per row.
		var n int
		if err := st.DB(context.Background()).Raw("SELECT CAST(? AS INTEGER)", 41).Scan(&n).Error; err != nil {
			t.Fatal(err)
		}
		if got := exp.GetSpans(); len(got) != 0 {
			t.Fatalf("a statement outside any trace made spans: %v", got)
		}
		ctx, parent := tr.Provider().Tracer("test").Start(context.Background(), "request")
		if err := st.DB(ctx).Raw("SELECT CAST(? AS INTEGER)", 42).Scan(&n).Error; err != nil || n != 42 {
			t.Fatalf("%d, %v", n, err)
		}
		// A chain whose statement is reused: each call is a sibling under the request, not the
		// previous call's child.
		q := st.DB(ctx).Table("goose_db_version")
		var c1, c2 int64
		if err := q.Count(&c1).Error; err != nil {
			t.Fatal(err)
		}
		if err := q.Count(&c2).Error; err != nil {
			t.Fatal(err)
		}
		err = st.DB(ctx).Exec("SELECT * FROM no_such_table").Error
		if err == nil {
			t.Fatal("want an error from a missing table")
		}
		parent.End()

		spans := exp.GetSpans()
		if len(spans) != 5 {
			t.Fatalf("%d spans, want the request and 4 statements: %v", len(spans), spans.Snapshots())
		}
		wantSystem := "sqlite"
		if st.Dialect() == store.Postgres {
			wantSystem = "postgresql"
		}
		for _, s := range spans[:4] {
			if s.Parent.SpanID() != parent.SpanContext().SpanID() || s.SpanKind != trace.SpanKindClient {
				t.Errorf("span %s: parent %s kind %s; want the request's child, a client span", s.Name, s.Parent.SpanID(), s.SpanKind)
			}
			attrs := map[string]string{}
			for _, kv := range s.Attributes {
				attrs[string(kv.Key)] = kv.Value.Emit()
			}
			if attrs["db.system.name"] != wantSystem || attrs["db.query.text"] == "" {
				t.Errorf("span %s: attributes %v", s.Name, attrs)
			}
			if s.Name == "db.raw" && attrs["db.query.text"] != "" && strings.Contains(attrs["db.query.text"], "42") {
				t.Errorf("span %s carries a value: %q", s.Name, attrs["db.query.text"])
			}
		}
		if last := spans[3]; last.Status.Code != codes.Error || len(last.Events) == 0 {
			t.Errorf("the failed statement's span has status %v and %d events; want an error recorded", last.Status, len(last.Events))
		}
	})
}
