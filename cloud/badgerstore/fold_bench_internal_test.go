package badgerstore

import (
	"context"
	"fmt"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/cloud/storetest"
	"github.com/comptoir/comptoir/edge"
)

// foldDay returns the records of iteration i of BenchmarkFold: 256 new
// returns (batch i, 20 merchants, 3 carriers, 2 items), the drop-offs of
// batch i-1 (one in ten received in store, with grades), the handovers
// of batch i-2, and the partner's steps of batch i-3 (one in four at the
// warehouse, one in eight refunded), in records of 64 steps (a group's),
// each with its relay points' statements. A return's steps thus come in
// later folds than its creation, as at ingest: its facts are folded
// lately (insightLog.folded) or read from f/.
func foldDay(i int) []*insight {
	const batch = 256
	at := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	tracking := func(k, j int) string { return fmt.Sprintf("RF%09dFR", k*batch+j) }
	created := func(k, j int) time.Time { return at.Add(time.Duration(k)*time.Hour + time.Duration(j)*time.Second) }
	instore := []byte(`{"ra_id":"ra-1","resolution":"refund","items":[{"sku":"S1","qty":1,"disposition":"restock"},{"sku":"S2","qty":1,"disposition":"refurbish"}]}`)

	in := &insight{created: map[string]cloud.ReturnFacts{}}
	for j := range batch {
		r := cloud.Return{Merchant: fmt.Sprintf("m-%02d", j%20), Carrier: []string{"DEMO", "UPS", "DHL"}[j%3], CreatedAt: created(i, j),
			Items: []edge.Item{{SKU: fmt.Sprintf("S%d", j%40), Reason: edge.ReasonChangedMind}, {SKU: fmt.Sprintf("S%d", j%7), Reason: edge.ReasonWrongSize}}}
		in.created[tracking(i, j)] = cloud.NewReturnFacts(r)
	}
	out := []*insight{in}
	var steps []cloud.PendingStep
	if k := i - 1; k >= 0 {
		for j := range batch {
			st := cloud.PendingStep{Tracking: tracking(k, j), Status: cloud.StatusDeposited, At: created(k, j).Add(26 * time.Hour), Terminal: fmt.Sprintf("t-%d", j%8)}
			if j%10 == 9 {
				st.Status, st.Instore = cloud.StatusReceivedInStore, instore
			}
			steps = append(steps, st)
		}
	}
	if k := i - 2; k >= 0 {
		for j := range batch {
			steps = append(steps, cloud.PendingStep{Tracking: tracking(k, j), Status: cloud.StatusHandedOver, At: created(k, j).Add(30 * time.Hour), Terminal: fmt.Sprintf("t-%d", j%8)})
		}
	}
	if k := i - 3; k >= 0 {
		for j := 0; j < batch; j += 4 {
			steps = append(steps, cloud.PendingStep{Tracking: tracking(k, j), Status: cloud.StatusReceivedAtWarehouse, At: created(k, j).Add(72 * time.Hour)})
			if j%8 == 0 {
				steps = append(steps, cloud.PendingStep{Tracking: tracking(k, j), Status: cloud.StatusRefunded, At: created(k, j).Add(80 * time.Hour)})
			}
		}
	}
	for len(steps) > 0 {
		n := min(len(steps), 64)
		in := &insight{steps: steps[:n:n]}
		for _, st := range in.steps {
			if st.Terminal != "" {
				in.addStatement(string(statementKey(st.Terminal, st.At)), cloud.StatementCounts{Deposits: 1})
			}
		}
		out = append(out, in)
		steps = steps[n:]
	}
	return out
}

// BenchmarkFold times the fold alone (foldTo) of the records of
// foldDay, written with the timer stopped (BenchmarkStoreReturnSteps'
// window misses most of the fold, which runs in the background): ns/step,
// the process's CPU time a step (cpu_ns/step: the wall time holds the
// wait for the commit's sync; Badger's writes of the fold's keys, in its
// own goroutines, are in it, and so is what the records' writes left it
// to do), the CPU time of the fold's own thread a step (fold_cpu_ns/step,
// steadier: the goroutine is locked to its thread) and allocs/step, a new
// return counting as a step.
func BenchmarkFold(b *testing.B) {
	old := foldEvery
	foldEvery = time.Hour
	defer func() { foldEvery = old }()
	ctx := context.Background()
	s, err := OpenWith(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var steps int
	var mallocs uint64
	var cpu, own time.Duration
	var ms runtime.MemStats
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		for _, in := range foldDay(i) {
			in.log = s.log
			steps += in.items()
			err := s.updateOut(ctx, func(txn *badger.Txn, o *outTxn) error { o.insight = in; return in.flush(txn) })
			if err != nil {
				b.Fatal(err)
			}
		}
		runtime.ReadMemStats(&ms)
		m0, c0, t0 := ms.Mallocs, storetest.CPUTime(), threadCPUTime()
		b.StartTimer()
		if err := s.fold(ctx); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		cpu, own = cpu+storetest.CPUTime()-c0, own+threadCPUTime()-t0
		runtime.ReadMemStats(&ms)
		mallocs += ms.Mallocs - m0
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(steps), "ns/step")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(steps), "cpu_ns/step")
	b.ReportMetric(float64(own.Nanoseconds())/float64(steps), "fold_cpu_ns/step")
	b.ReportMetric(float64(mallocs)/float64(steps), "allocs/step")
}

// threadCPUTime returns the CPU time the calling thread has used.
func threadCPUTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(1, &ru) // RUSAGE_THREAD (Linux)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
