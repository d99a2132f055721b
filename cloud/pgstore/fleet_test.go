package pgstore_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/comptoir/comptoir/cloud/pgstore"
	"github.com/comptoir/comptoir/cloud/storetest"
)

// BenchmarkStoreFleet measures the store as the ingest uses it
// (storetest.BenchFleet: 200 terminals' full batches of 256 deposits, 8
// at once, on a fresh schema), and reports beside the process's CPU an
// event that of the PostgreSQL backends serving the store (db_cpu_us/event,
// from their /proc stat): on a machine the two share, events/s is what
// both together allow.
func BenchmarkStoreFleet(b *testing.B) {
	u, err := url.Parse(freshSchema(b))
	if err != nil {
		b.Fatal(err)
	}
	app := fmt.Sprintf("bench-fleet-%d", time.Now().UnixNano())
	q := u.Query()
	q.Set("application_name", app)
	u.RawQuery = q.Encode()
	s, err := pgstore.Open(context.Background(), u.String())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	before := backendsCPU(b, s, app, nil)
	storetest.BenchFleet(b, s, 200, 256, 8)
	used := time.Duration(0)
	for pid, t := range backendsCPU(b, s, app, before) {
		used += t - before[pid]
	}
	b.ReportMetric(float64(used.Microseconds())/float64(b.N*200*256), "db_cpu_us/event")
}

// backendsCPU returns the CPU time (user + system) of each backend whose
// application_name is app, read from /proc (the server runs on this
// machine); backends of was that are gone are kept at their last reading.
func backendsCPU(b *testing.B, s *pgstore.Store, app string, was map[int]time.Duration) map[int]time.Duration {
	rows, err := s.Pool().Query(context.Background(), `SELECT pid FROM pg_stat_activity WHERE application_name = $1`, app)
	if err != nil {
		b.Fatal(err)
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		b.Fatal(err)
	}
	out := make(map[int]time.Duration, len(pids))
	for pid, t := range was {
		out[pid] = t
	}
	for _, pid := range pids {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			b.Skipf("the server's backends are not on this machine: %v", err)
		}
		f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
		utime, _ := strconv.ParseInt(f[11], 10, 64)
		stime, _ := strconv.ParseInt(f[12], 10, 64)
		out[int(pid)] = time.Duration(utime+stime) * 10 * time.Millisecond
	}
	return out
}
