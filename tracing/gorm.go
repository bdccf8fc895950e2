package tracing

import (
	"context"
	"errors"
	"fmt"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
	"gorm.io/gorm"
)

// maxQueryText bounds the SQL a database span carries: a bulk insert's statement runs to tens of
// kilobytes of placeholders.
const maxQueryText = 1024

// Gorm traces db's statements: a client span per query, insert, update, delete and raw statement,
// with the SQL as written (placeholders, never the values, which may hold secrets). Only
// statements made inside a trace get one (a request's, the companion's): background work that
// starts no trace of its own makes no root spans for every row it reads. Off, it does nothing.
//
// Callbacks rather than gorm.io/plugin/opentelemetry: the plugin's module brings ClickHouse,
// MySQL and OpenCensus requirements and older otel exporters into the module graph, for what
// these few callbacks do.
func (t *Tracing) Gorm(db *gorm.DB) error {
	if !t.Enabled() {
		return nil
	}
	tracer := t.tracer()
	system := semconv.DBSystemNameKey.String(db.Dialector.Name())
	if db.Dialector.Name() == "postgres" {
		system = semconv.DBSystemNamePostgreSQL
	}
	cb := db.Callback()
	// gorm's processors are of unexported types: each is named once here.
	register := []struct {
		op            string
		before, after func(name string, fn func(*gorm.DB)) error
	}{
		{"create", func(n string, fn func(*gorm.DB)) error { return cb.Create().Before("gorm:create").Register(n, fn) },
			func(n string, fn func(*gorm.DB)) error { return cb.Create().After("gorm:create").Register(n, fn) }},
		{"query", func(n string, fn func(*gorm.DB)) error { return cb.Query().Before("gorm:query").Register(n, fn) },
			func(n string, fn func(*gorm.DB)) error { return cb.Query().After("gorm:query").Register(n, fn) }},
		{"update", func(n string, fn func(*gorm.DB)) error { return cb.Update().Before("gorm:update").Register(n, fn) },
			func(n string, fn func(*gorm.DB)) error { return cb.Update().After("gorm:update").Register(n, fn) }},
		{"delete", func(n string, fn func(*gorm.DB)) error { return cb.Delete().Before("gorm:delete").Register(n, fn) },
			func(n string, fn func(*gorm.DB)) error { return cb.Delete().After("gorm:delete").Register(n, fn) }},
		{"row", func(n string, fn func(*gorm.DB)) error { return cb.Row().Before("gorm:row").Register(n, fn) },
			func(n string, fn func(*gorm.DB)) error { return cb.Row().After("gorm:row").Register(n, fn) }},
		{"raw", func(n string, fn func(*gorm.DB)) error { return cb.Raw().Before("gorm:raw").Register(n, fn) },
			func(n string, fn func(*gorm.DB)) error { return cb.Raw().After("gorm:raw").Register(n, fn) }},
	}
	for _, r := range register {
		op := r.op
		if err := r.before("tracing:before_"+op, func(tx *gorm.DB) { startDBSpan(tx, tracer, system, op) }); err != nil {
			return fmt.Errorf("tracing: gorm %s callback: %w", op, err)
		}
		if err := r.after("tracing:after_"+op, endDBSpan); err != nil {
			return fmt.Errorf("tracing: gorm %s callback: %w", op, err)
		}
	}
	return nil
}

// dbSpanKey is the context key of a statement's span, with the context it replaced.
type dbSpanKey struct{}

type dbSpan struct {
	span   trace.Span
	parent context.Context
}

func startDBSpan(tx *gorm.DB, tracer trace.Tracer, system attribute.KeyValue, op string) {
	ctx := tx.Statement.Context
	if ctx == nil || !trace.SpanFromContext(ctx).IsRecording() {
		return
	}
	name := "db." + op
	if tx.Statement.Table != "" {
		name += " " + tx.Statement.Table
	}
	sctx, span := tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(system, semconv.DBOperationName(op)))
	if tx.Statement.Table != "" {
		span.SetAttributes(semconv.DBCollectionName(tx.Statement.Table))
	}
	tx.Statement.Context = context.WithValue(sctx, dbSpanKey{}, dbSpan{span: span, parent: ctx})
}

func endDBSpan(tx *gorm.DB) {
	ctx := tx.Statement.Context
	if ctx == nil {
		return
	}
	s, ok := ctx.Value(dbSpanKey{}).(dbSpan)
	if !ok {
		return
	}
	// The statement may be reused for the next call of a chain: give it back its own context, so
	// that the next span is not this one's child.
	tx.Statement.Context = s.parent
	if q := tx.Statement.SQL.String(); q != "" {
		if len(q) > maxQueryText {
			q = q[:maxQueryText]
		}
		s.span.SetAttributes(semconv.DBQueryText(q))
	}
	if err := tx.Error; err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		s.span.RecordError(err)
		s.span.SetStatus(codes.Error, err.Error())
	}
	s.span.End()
}
