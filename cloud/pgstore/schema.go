package pgstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5"
)

// NewSchema creates a schema of a random name comptoir_test_... in the
// database of dsn, and returns a DSN whose search_path is that schema, and
// a function that drops it with all it holds. Tests and benchmarks use it
// so that each run starts empty and leaves nothing behind. The DSN's
// application_name is the schema's too, so that benchmarks find the
// server's backends that serve it (SchemaBackends).
func NewSchema(ctx context.Context, dsn string) (string, func() error, error) {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "comptoir_test_" + hex.EncodeToString(b)
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return "", nil, fmt.Errorf("pgstore: connect: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+name); err != nil {
		return "", nil, fmt.Errorf("pgstore: create schema: %w", err)
	}
	drop := func() error {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, "DROP SCHEMA "+name+" CASCADE")
		return err
	}
	return withParam(WithSearchPath(dsn, name), "application_name", name), drop, nil
}

// SchemaBackends returns the process ids of the server's backends
// connected with the application_name of dsn (a DSN NewSchema returned:
// those of the stores open on its schema, in any process), but the one
// that asks.
func SchemaBackends(ctx context.Context, dsn string) ([]int, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("pgstore: connect: %w", err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT pid FROM pg_stat_activity
		WHERE application_name = current_setting('application_name') AND pid <> pg_backend_pid()`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int])
}

// WithSearchPath returns dsn with its search_path set to schema.
func WithSearchPath(dsn, schema string) string { return withParam(dsn, "search_path", schema) }

// withParam returns dsn (a URL or keyword/value pairs) with the run-time
// parameter key set to value (a word: no quoting).
func withParam(dsn, key, value string) string {
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		q := u.Query()
		q.Set(key, value)
		u.RawQuery = q.Encode()
		return u.String()
	}
	return strings.TrimSpace(dsn) + " " + key + "=" + value
}
