package pgstore

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/comptoir/comptoir/build/testenv"
)

// TestParams: the store's binary parameters read back by PostgreSQL as the
// values encoded — scalars, arrays with NULLs, empty arrays and texts,
// times before and after 2000, the extremes of int8.
func TestParams(t *testing.T) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, testenv.Postgres(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	at := time.Date(2026, 12, 5, 9, 30, 1, 123456789, time.FixedZone("x", 3600))
	old := time.Date(1999, 12, 31, 23, 59, 59, 999999000, time.UTC)
	a, empty := "é\u00a0x", ""
	var p params
	p.text("")
	p.text("t-1")
	p.int8(math.MinInt64)
	p.time(at)
	p.texts([]string{"a", "", "ünï,\"q\""})
	p.texts(nil)
	p.textPtrs([]*string{&a, nil, &empty})
	p.pgTexts([]pgtype.Text{{String: "x", Valid: true}, {}, {String: "y"}})
	p.int8s([]int64{1, -1, math.MaxInt64})
	p.pgInt8s([]pgtype.Int8{{Int64: 3, Valid: true}, {Int64: 9}})
	p.int4s([]int32{1, -2, math.MaxInt32})
	p.times([]time.Time{at, old})
	p.times(nil)
	want := []string{"", "t-1", "-9223372036854775808", "2026-12-05 08:30:01.123456",
		`{a,"","ünï,\"q\""}`, "{}", "{é\u00a0x,NULL,\"\"}", "{x,NULL,NULL}",
		"{1,-1,9223372036854775807}", "{3,NULL}", "{1,-2,2147483647}",
		`{"2026-12-05 08:30:01.123456","1999-12-31 23:59:59.999999"}`, "{}"}
	q := `SELECT $1::text, $2::text, $3::int8::text, ($4::timestamptz AT TIME ZONE 'UTC')::text,
		$5::text[]::text, $6::text[]::text, $7::text[]::text, $8::text[]::text,
		$9::int8[]::text, $10::int8[]::text, $11::int4[]::text,
		(SELECT array_agg(t AT TIME ZONE 'UTC') FROM unnest($12::timestamptz[]) t)::text, $13::timestamptz[]::text`
	res := conn.PgConn().ExecParams(ctx, q, p.values(), p.oids, []int16{pgtype.BinaryFormatCode}, nil).Read()
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if len(res.Rows) != 1 || len(res.Rows[0]) != len(want) {
		t.Fatalf("%d rows, want 1 of %d columns", len(res.Rows), len(want))
	}
	for i, v := range res.Rows[0] {
		if string(v) != want[i] {
			t.Errorf("parameter %d read back %q, want %q", i+1, v, want[i])
		}
	}
}
