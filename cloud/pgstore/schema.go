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
// so that each run starts empty and leaves nothing behind.
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
	return WithSearchPath(dsn, name), drop, nil
}

// WithSearchPath returns dsn with its search_path set to schema.
func WithSearchPath(dsn, schema string) string {
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String()
	}
	return strings.TrimSpace(dsn) + " search_path=" + schema
}
